"""Edges the seed-17 mutation sample found untested (README: Mutation testing)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from repro.dockerfile.parser import parse_dockerfile
from repro.dockerfile.references import ReferenceKind, find_references
from repro.errors import InputError, LockfileError, VerdictError
from repro.lockfile import parse_lockfile, releases_of
from repro.oci import mediatypes
from repro.oci.cosign import parse_attestation_manifest
from repro.oci.opening import open_image
from repro.oci.tarimage import DockerArchiveTar
from repro.oci.tree import Attestation, resolve_tree
from repro.release.attest import PREDICATE_TYPE, STATEMENT_TYPE, statement_mismatches
from tests.unit.oci_factory import MemorySource


def _tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_heredoc_marker_with_a_backslash_escape_keeps_the_next_character() -> None:
    df = parse_dockerfile(b'FROM x\nRUN <<"a\\bc"\nhi\nabc\n')
    heredoc = df.instructions[-1].heredocs[0]
    assert (heredoc.name, heredoc.quoted, heredoc.body.start, heredoc.body.end) == (
        "abc",
        True,
        20,
        23,
    )


def test_arg_default_may_itself_contain_an_equals_sign() -> None:
    refs = find_references(parse_dockerfile(b"ARG IMG=a=b\nFROM $IMG\n"))
    assert [(r.raw, r.resolved, r.arg_name, r.line, r.column) for r in refs] == [
        ("a=b", "a=b", "IMG", 1, 9)
    ]


def test_syntax_directive_reference_is_not_via_an_arg() -> None:
    refs = find_references(parse_dockerfile(b"# syntax=docker/dockerfile:1\nFROM alpine\n"))
    syntax = refs[0]
    assert syntax.kind == ReferenceKind.SYNTAX
    assert (syntax.resolved, syntax.via_arg, syntax.arg_name) == (
        "docker/dockerfile:1",
        False,
        None,
    )


def test_release_that_is_a_table_without_source_text_points_at_line_one() -> None:
    lock = parse_lockfile("schema_version = 2\nrelease.x = 1\n")
    with pytest.raises(LockfileError) as caught:
        releases_of(lock)
    assert str(caught.value) == "repro.lock:1: `release` must be an array of release tables"


def test_attestation_manifest_descriptor_error_names_the_manifest() -> None:
    manifest = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [1]}
    with pytest.raises(VerdictError) as caught:
        parse_attestation_manifest(json.dumps(manifest).encode(), "reg/x:sha256-abc.att")
    assert str(caught.value) == "reg/x:sha256-abc.att: a descriptor is not a JSON object"


def test_fifo_is_refused_with_a_hint_to_write_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as caught:
        open_image(fifo)
    assert str(caught.value) == f"{fifo} is a pipe (FIFO), not an image file or directory"
    assert caught.value.hint == (
        "repro reads an image tar by seeking to each blob, which a stream cannot do: "
        "write it to a file first (e.g. `docker save -o image.tar IMAGE`, or "
        "`cat > image.tar`) and pass that file"
    )


def test_docker_save_with_a_cut_short_manifest_says_so(tmp_path: Path) -> None:
    path = _tar(tmp_path / "cut.tar", [("manifest.json", b"[" + b" " * 2000 + b"]")])
    with open(path, "r+b") as handle:
        handle.truncate(512 + 1000)
    with pytest.raises(InputError) as caught:
        DockerArchiveTar(path)
    assert str(caught.value) == f"manifest.json in {path} is truncated"


def test_docker_save_with_invalid_config_json_names_the_archive(tmp_path: Path) -> None:
    manifest = json.dumps([{"Config": "cfg.json", "Layers": []}]).encode()
    path = _tar(tmp_path / "bad.tar", [("manifest.json", manifest), ("cfg.json", b"{nope")])
    with pytest.raises(InputError) as caught:
        DockerArchiveTar(path)
    assert str(caught.value) == (
        f"cfg.json in the docker save archive {path} is not valid JSON: Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_statement_whose_subject_is_not_a_list_signed_no_digest() -> None:
    payload = json.dumps(
        {"_type": STATEMENT_TYPE, "predicateType": PREDICATE_TYPE, "subject": 5}
    ).encode()
    digest = "sha256:" + "a" * 64
    assert statement_mismatches(payload, digest, {}) == [
        f"subject digest: signed none, repro.lock has {digest}",
        "predicate: signed null, repro.lock has a table",
    ]


LAYER: dict[str, Any] = {
    "mediaType": mediatypes.OCI_LAYER_GZIP,
    "digest": "sha256:" + "1" * 64,
    "size": 7,
}


def _image(source: MemorySource, architecture: str) -> dict[str, Any]:
    """Store a config and a manifest for linux/``architecture``; the manifest's descriptor."""
    platform = {"os": "linux", "architecture": architecture}
    manifest = {
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, **source.put(platform)},
        "layers": [LAYER],
    }
    return {"mediaType": mediatypes.OCI_MANIFEST, **source.put(manifest), "platform": platform}


def test_images_listed_after_an_attestation_are_still_resolved() -> None:
    source = MemorySource()
    amd64, arm64 = _image(source, "amd64"), _image(source, "arm64")
    attestation = {
        "mediaType": mediatypes.OCI_MANIFEST,
        "digest": "sha256:" + "a" * 64,
        "size": 300,
        "platform": {"os": "unknown", "architecture": "unknown"},
    }
    source.set_index({"manifests": [amd64, attestation, arm64]})
    tree = resolve_tree(source)
    assert {key: image.manifest.digest for key, image in tree.images.items()} == {
        "linux/amd64": amd64["digest"],
        "linux/arm64": arm64["digest"],
    }
    assert tree.attestations == (Attestation("sha256:" + "a" * 64, None, 300),)


def test_a_manifest_descriptor_with_a_wrong_size_is_refused() -> None:
    source = MemorySource()
    amd64 = _image(source, "amd64")
    actual = amd64["size"]
    amd64["size"] = actual + 1
    source.set_index({"manifests": [amd64]})
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert str(caught.value) == (
        f"blob {amd64['digest']} in memory is truncated: {actual} of {actual + 1} bytes"
    )
