"""compare_images on the real engine outputs in fixtures/ (made by scripts/make-fixtures).

Each pair differs by one known cause; the comparison must name that cause and the
Dockerfile instruction that made the difference, and leave nothing unclassified.
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from repro.errors import InputError
from repro.oci import Comparison, compare_images, open_image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@dataclass(frozen=True)
class Expected:
    cause: str
    instruction: str | None  # the start of the instruction, as history records it
    path: str | None  # None: any path (names made afresh by each build)


# BuildKit's history records a RUN without its flags (here the --mount of busybox's /bin).
_BUSYBOX_RUN = "RUN"


EXPECTED: dict[str, Expected] = {
    "rewrite-timestamp": Expected("rewrite-timestamp", "COPY hello.txt /hello.txt", "/hello.txt"),
    "source-date-epoch": Expected(
        "source-date-epoch", "COPY hello.txt /hello.txt", "history[0].created"
    ),
    "checkout-umask": Expected("checkout-umask", "COPY hello.txt /hello.txt", "/hello.txt"),
    "time-older-than-epoch": Expected(
        "time-older-than-epoch", "COPY hello.txt /hello.txt", "/hello.txt"
    ),
    "compression-only": Expected("compression-only", "COPY tides.txt /tides.txt", "layers[0]"),
    "attestation-manifests": Expected("attestation-manifests", None, "attestations"),
    "base-not-pinned": Expected("base-not-pinned", "COPY base.txt /etc/base.txt", "/etc/base.txt"),
    "pyc-timestamp": Expected(
        "pyc-timestamp",
        "COPY /app/__pycache__ /app/__pycache__",
        "/app/__pycache__/tidal.cpython-311.pyc",
    ),
    "package-manager-state": Expected(
        "package-manager-state",
        "COPY /var/log/dpkg.log /var/log/dpkg.log",
        "/var/log/dpkg.log",
    ),
    "archive-timestamps": Expected(
        "archive-timestamps",
        "RUN cd / && echo 'high 06:12' > tides.txt && tar -czf tides.tar.gz tides.txt "
        "&& rm tides.txt && sleep 1",
        "/tides.tar.gz",
    ),
    "clock-in-content": Expected(
        "clock-in-content", "RUN date > /built-at && sleep 1", "/built-at"
    ),
    "random-content": Expected(
        "random-content",
        "RUN cat /proc/sys/kernel/random/uuid > /instance-token",
        "/instance-token",
    ),
    "entry-order": Expected("entry-order", None, "/high.txt"),
    "ssh-host-keys": Expected(
        "ssh-host-keys", f"{_BUSYBOX_RUN} mkdir -p /etc/ssh", "/etc/ssh/ssh_host_ed25519_key"
    ),
    "machine-id": Expected("machine-id", f"{_BUSYBOX_RUN} mkdir -p /etc", "/etc/machine-id"),
    "pip-cache": Expected(
        "pip-cache",
        f"{_BUSYBOX_RUN} mkdir -p /root/.cache/pip/selfcheck",
        "/root/.cache/pip/selfcheck/1f2e3d4c.json",
    ),
    "npm-cache": Expected("npm-cache", f"{_BUSYBOX_RUN} mkdir -p /root/.npm/_logs", None),
    "temp-files": Expected("temp-files", f"{_BUSYBOX_RUN} mkdir -p /tmp", None),
    "unordered-output": Expected("unordered-output", f"{_BUSYBOX_RUN} seq 1 200", "/index.txt"),
    "embedded-build-path": Expected(
        "embedded-build-path", f"{_BUSYBOX_RUN} mkdir -p /tmp", "/build-info"
    ),
    "build-host": Expected("build-host", f"{_BUSYBOX_RUN} mkdir -p /etc", "/etc/build-host"),
    "build-arg": Expected("build-arg", f"{_BUSYBOX_RUN} mkdir -p /etc", "/etc/timezone"),
}
# Which pair shows a cause, where it is not the pair of that name.
PAIR_OF = {"temp-files": "embedded-build-path"}


def compare_pair(name: str) -> Comparison:
    pair = FIXTURES / name
    return compare_images(open_image(pair / "a.tar"), open_image(pair / "b.tar"))


def test_every_cause_in_the_catalogue_has_a_fixture_pair() -> None:
    from repro.oci import RULES

    built = {path.name for path in FIXTURES.iterdir() if (path / "a.tar").is_file()}
    catalogue = {rule.id for rule in RULES} - {"follows-from-layers"}
    assert catalogue <= set(EXPECTED)
    assert {PAIR_OF.get(name, name) for name in EXPECTED} <= built


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pair_names_its_cause_and_instruction(name: str) -> None:
    expected = EXPECTED[name]
    comparison = compare_pair(PAIR_OF.get(name, name))
    assert comparison.verdict == "differs"
    named = [
        (d.instruction, d.path) for d in comparison.differences if d.cause_id == expected.cause
    ]
    assert named, [(d.path, d.cause_id) for d in comparison.differences]
    assert any(
        (expected.instruction is None and instruction is None)
        or (
            expected.instruction is not None
            and (instruction or "").startswith(expected.instruction)
        )
        for instruction, _ in named
    ), named
    if expected.path is not None:
        assert expected.path in [path for _, path in named]
    assert "unclassified" not in comparison.counts_by_cause


def _flip(path: Path, offset: int, bits: int) -> None:
    """XOR the byte at ``offset`` of ``path`` with ``bits``, in place."""
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ bits]))


def test_identical_pair_is_identical_once_every_blob_is_read() -> None:
    comparison = compare_pair("identical")
    assert comparison.verdict == "identical"
    assert comparison.bit_identical
    assert [p.platform for p in comparison.platforms] == ["linux/amd64"]
    blobs = comparison.blobs
    assert (blobs.count_a, blobs.bytes_a) == (blobs.count_b, blobs.bytes_b)
    assert blobs.count_a >= 3 and not blobs.trust_digests  # manifest, config, layers


def test_a_layer_corrupted_under_its_own_digest_is_not_identical(tmp_path: Path) -> None:
    copy = tmp_path / "b.tar"
    shutil.copyfile(FIXTURES / "identical" / "b.tar", copy)
    layer = _layer_member(copy)
    _flip(copy, layer.offset_data + layer.size - 1, 0x01)  # same size, same name, other bytes
    with pytest.raises(InputError) as caught:
        compare_images(open_image(FIXTURES / "identical" / "a.tar"), open_image(copy))
    digest = "sha256:" + layer.name.rsplit("/", 1)[1]
    assert f"blob {digest} in {copy} is corrupted" in caught.value.message
    # Trusting digests is a choice the caller makes, and the result says so.
    trusted = compare_images(
        open_image(FIXTURES / "identical" / "a.tar"), open_image(copy), trust_digests=True
    )
    assert trusted.verdict == "identical" and trusted.blobs.trust_digests


def test_json_of_two_runs_is_the_same() -> None:
    from repro.jsonout import dumps_stable

    first = dumps_stable(compare_pair("clock-in-content").to_json_dict())
    assert first == dumps_stable(compare_pair("clock-in-content").to_json_dict())


def _layer_member(tar_path: Path) -> tarfile.TarInfo:
    """The biggest blob of a fixture tar: its (only) layer."""
    with tarfile.open(tar_path) as archive:
        blobs = [m for m in archive.getmembers() if m.isfile() and m.name.startswith("blobs/")]
    return max(blobs, key=lambda m: m.size)


def test_corrupted_layer_blob_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "b.tar"
    shutil.copyfile(FIXTURES / "compression-only" / "b.tar", copy)
    layer = _layer_member(copy)
    _flip(copy, layer.offset_data + layer.size // 2, 0xFF)
    with pytest.raises(InputError) as caught:
        compare_images(open_image(FIXTURES / "compression-only" / "a.tar"), open_image(copy))
    digest = "sha256:" + layer.name.rsplit("/", 1)[1]
    assert digest in caught.value.message
    assert str(copy) in caught.value.message


def test_truncated_tar_names_the_blob_it_ends_in(tmp_path: Path) -> None:
    copy = tmp_path / "b.tar"
    shutil.copyfile(FIXTURES / "clock-in-content" / "b.tar", copy)
    layer = _layer_member(copy)
    with copy.open("r+b") as handle:
        handle.truncate(layer.offset_data + layer.size // 2)
    with pytest.raises(InputError) as caught:
        compare_images(open_image(FIXTURES / "clock-in-content" / "a.tar"), open_image(copy))
    assert "truncated" in caught.value.message
    assert "sha256:" + layer.name.rsplit("/", 1)[1] in caught.value.message


def test_truncated_layer_blob_in_a_layout_is_named(tmp_path: Path) -> None:
    layout = tmp_path / "b"
    with tarfile.open(FIXTURES / "clock-in-content" / "b.tar") as archive:
        archive.extractall(layout, filter="data")
    layer = _layer_member(FIXTURES / "clock-in-content" / "b.tar")
    blob = layout / layer.name
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[: layer.size // 2])
    with pytest.raises(InputError) as caught:
        compare_images(open_image(FIXTURES / "clock-in-content" / "a.tar"), open_image(layout))
    assert "truncated" in caught.value.message
    assert "sha256:" + layer.name.rsplit("/", 1)[1] in caught.value.message
