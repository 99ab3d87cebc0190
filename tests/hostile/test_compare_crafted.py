"""Crafted OCI layouts and tars: JSON nested 100k deep, numbers Python refuses, documents
of the wrong shape or size, a layer corrupted under its own digest. Each is an input
error (exit 2) naming what is wrong, or the right verdict; never a crash or "identical"."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.hostile.crafted import (
    OCI_MANIFEST,
    assert_refused,
    json_bytes,
    nested,
    run,
    write_blob,
)
from tests.hostile.fixtures import Pair


def _manifest_descriptor(layout: Path) -> dict[str, object]:
    index = json.loads((layout / "index.json").read_text())
    descriptor: dict[str, object] = index["manifests"][0]
    return descriptor


def _replace_manifest(layout: Path, data: bytes) -> str:
    """Point index.json at ``data`` as its manifest (digest and size made to match)."""
    digest = write_blob(layout, data)
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(data)}],
    }
    (layout / "index.json").write_bytes(json_bytes(index))
    return digest


def _replace_config(layout: Path, data: bytes) -> str:
    manifest_digest = str(_manifest_descriptor(layout)["digest"])
    blob = layout / "blobs" / "sha256" / manifest_digest.removeprefix("sha256:")
    manifest = json.loads(blob.read_bytes())
    digest = write_blob(layout, data)
    manifest["config"].update(digest=digest, size=len(data))
    _replace_manifest(layout, json_bytes(manifest))
    return digest


INDEXES: dict[str, tuple[bytes, str]] = {
    "nested 100k deep": (nested(100_000).encode(), "nested too deeply"),
    "nested past the cap": (
        b'{"manifests": ' + nested(70).encode() + b"}",
        "nested too deeply",
    ),
    "NaN": (b'{"schemaVersion": NaN, "manifests": []}', "NaN is not a JSON number"),
    "a number of 5000 digits": (b'{"schemaVersion": ' + b"7" * 5000 + b"}", "not valid JSON"),
    "not an object": (b"[1, 2, 3]", "is not a JSON object"),
    "manifests a string": (b'{"manifests": "all of them"}', "has no manifests list"),
    "a descriptor a list": (b'{"manifests": [[1]]}', "a descriptor is not a JSON object"),
    "a size that is negative": (
        b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": -1}]}',
        "has no valid size",
    ),
    "a digest of another algorithm": (
        b'{"manifests": [{"digest": "md5:abc", "size": 1}]}',
        "unsupported or malformed digest",
    ),
    "not UTF-8": (b'{"manifests": ["\xff"]}', "not valid JSON"),
}


@pytest.mark.parametrize("case", list(INDEXES))
def test_a_crafted_index_json_is_an_input_error(case: str, identical_pair: Pair) -> None:
    content, message = INDEXES[case]
    (identical_pair.b / "index.json").write_bytes(content)
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b))
    assert_refused(outcome, 2, str(identical_pair.b), message)


def test_an_index_json_over_the_size_cap_is_refused_unread(identical_pair: Pair) -> None:
    with (identical_pair.b / "index.json").open("r+b") as handle:
        handle.truncate(40 << 20)  # sparse: 40 MiB of zeros
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b))
    assert_refused(outcome, 2, "index.json is too large for an image index")


def test_a_deep_manifest_blob_is_an_input_error(identical_pair: Pair) -> None:
    digest = _replace_manifest(identical_pair.b, b'{"layers": ' + nested(100_000).encode() + b"}")
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b))
    assert_refused(outcome, 2, f"blob {digest} in {identical_pair.b} is nested too deeply")


def test_a_deep_config_blob_is_an_input_error(identical_pair: Pair) -> None:
    digest = _replace_config(identical_pair.b, b'{"config": ' + nested(5000).encode() + b"}")
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b))
    assert_refused(outcome, 2, f"blob {digest} in {identical_pair.b} is nested too deeply")


def test_a_deep_docker_save_manifest_is_an_input_error(tmp_path: Path) -> None:
    archive_path = tmp_path / "saved.tar"
    data = nested(100_000).encode()
    with tarfile.open(archive_path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    outcome = run("compare", str(archive_path), str(archive_path))
    assert_refused(outcome, 2, "manifest.json in the docker save archive", "nested too deeply")


def _corrupt_layer(pair: Pair) -> Path:
    """Flip one bit of B's biggest layer in place: same size, same file name (digest)."""
    blobs = pair.b / "blobs" / "sha256"
    layer = max(blobs.iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0x01
    layer.write_bytes(bytes(data))
    return layer


def test_a_layer_corrupted_under_its_own_digest_is_not_identical(identical_pair: Pair) -> None:
    layer = _corrupt_layer(identical_pair)
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b))
    assert_refused(
        outcome, 2, f"blob sha256:{layer.name} in {identical_pair.b} is corrupted: its content"
    )
    assert "identical" not in outcome.stdout


def test_identical_says_every_blob_was_read_and_trusting_digests_says_so(
    identical_pair: Pair,
) -> None:
    checked = run("compare", str(identical_pair.a_tar), str(identical_pair.b_tar))
    assert checked.code == 0, checked.explain()
    assert "every blob read and checked against its digest: A 4 blobs" in checked.stdout
    _corrupt_layer(identical_pair)
    trusted = run("compare", "--trust-digests", str(identical_pair.a), str(identical_pair.b))
    assert trusted.code == 0, trusted.explain()
    flat = " ".join(trusted.stdout.split())
    assert "digests trusted (--trust-digests): blobs with the same digest on both sides" in flat
    as_json = run(
        "compare", "--trust-digests", "--json", str(identical_pair.a), str(identical_pair.b)
    )
    blobs = json.loads(as_json.stdout)["blobs"]
    assert blobs["trust_digests"] is True and blobs["b"]["count"] == 0
