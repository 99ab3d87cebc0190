"""Blob sources: layout dir, OCI tar, docker save tar; verification of every blob read."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from repro.errors import InputError
from repro.oci import (
    DockerArchiveTar,
    OciLayoutDir,
    OciTar,
    compare_images,
    open_image,
    resolve_tree,
)
from repro.oci.blobsource import read_verified
from tests.unit.oci_factory import (
    LayerFiles,
    digest_of,
    tar_directory,
    write_docker_save,
    write_image,
)

FILES: LayerFiles = {"etc/hostname": (b"demo\n", {}), "bin/tool": (b"\x7fELF", {"mode": 0o755})}
OTHER: LayerFiles = {"etc/hostname": (b"other\n", {}), "bin/tool": (b"\x7fELF", {"mode": 0o755})}


def _blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.removeprefix("sha256:")


def test_open_image_picks_the_source_kind(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    assert isinstance(open_image(tmp_path / "layout"), OciLayoutDir)
    oci_tar = tar_directory(tmp_path / "layout", tmp_path / "image.tar")
    assert isinstance(open_image(oci_tar), OciTar)
    docker_tar = write_docker_save(tmp_path / "saved.tar", [FILES])
    assert isinstance(open_image(docker_tar), DockerArchiveTar)


def test_open_image_rejects_what_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        open_image(tmp_path / "missing.tar")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="neither"):
        open_image(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"index\.json is missing"):
        open_image(tmp_path / "empty")
    with tarfile.open(tmp_path / "other.tar", "w") as archive:
        archive.add(tmp_path / "notes.txt", arcname="notes.txt")
    with pytest.raises(InputError, match=r"neither index\.json nor manifest\.json"):
        open_image(tmp_path / "other.tar")


def test_oci_tar_compares_like_its_directory(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    a_tar = tar_directory(tmp_path / "a", tmp_path / "a.tar")
    b_tar = tar_directory(tmp_path / "b", tmp_path / "b.tar")
    from_dirs = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    from_tars = compare_images(open_image(a_tar), open_image(b_tar))
    assert from_tars.differences == from_dirs.differences
    assert any(d.path == "/etc/hostname" and d.field == "content" for d in from_tars.differences)


def test_oci_tar_with_dot_slash_names(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES])
    with tarfile.open(tmp_path / "a.tar", "w") as archive:
        for path in sorted((tmp_path / "a").rglob("*")):
            name = "./" + path.relative_to(tmp_path / "a").as_posix()
            archive.add(path, arcname=name, recursive=False)
    tree = resolve_tree(open_image(tmp_path / "a.tar"))
    assert list(tree.images) == ["linux/amd64"]


def test_docker_save_archive_is_presented_as_an_image(tmp_path: Path) -> None:
    write_docker_save(tmp_path / "a.tar", [FILES])
    write_docker_save(tmp_path / "b.tar", [OTHER])
    tree = resolve_tree(open_image(tmp_path / "a.tar"))
    [image] = tree.images.values()
    assert image.platform == "linux/amd64"
    assert len(image.layers) == 1
    result = compare_images(open_image(tmp_path / "a.tar"), open_image(tmp_path / "b.tar"))
    [content] = [d for d in result.differences if d.field == "content"]
    assert content.path == "/etc/hostname" and content.instruction == "RUN step-0"


def test_docker_save_with_index_json_is_read_as_oci(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    (tmp_path / "layout" / "manifest.json").write_text(json.dumps([{"Config": "x"}]))
    archive = tar_directory(tmp_path / "layout", tmp_path / "new-docker-save.tar")
    assert isinstance(open_image(archive), OciTar)


def test_docker_save_versus_oci_layout_is_compression_only(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    write_docker_save(tmp_path / "saved.tar", [FILES])
    result = compare_images(open_image(tmp_path / "layout"), open_image(tmp_path / "saved.tar"))
    layer_diffs = [d for d in result.differences if d.area == "layer"]
    assert [d.cause_id for d in layer_diffs] == ["compression-only"]


def test_corrupted_layer_blob_names_the_digest(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES], compression="none")
    write_image(tmp_path / "b", [OTHER], compression="none")
    layer = _blob_path(tmp_path / "a", built_a.layer_digests[0])
    data = bytearray(layer.read_bytes())
    data[520] ^= 0xFF  # inside the first file's content: the tar still parses
    layer.write_bytes(bytes(data))
    with pytest.raises(InputError, match=built_a.layer_digests[0]) as caught:
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    assert "corrupted" in caught.value.message
    assert str(tmp_path / "a") in caught.value.message


def test_corrupted_gzip_layer_names_the_digest(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    layer = _blob_path(tmp_path / "a", built_a.layer_digests[0])
    data = bytearray(layer.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layer.write_bytes(bytes(data))
    with pytest.raises(InputError, match=built_a.layer_digests[0]):
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_corrupted_config_names_the_digest(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    config = _blob_path(tmp_path / "a", built_a.config_digest)
    config.write_bytes(config.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(InputError, match=built_a.config_digest):
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_truncated_oci_tar_names_the_blob(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES], compression="none")
    write_image(tmp_path / "b", [OTHER], compression="none")
    archive = tar_directory(tmp_path / "a", tmp_path / "a.tar")
    # Put the layer blob last, then cut the file inside it.
    layer_name = "blobs/sha256/" + built_a.layer_digests[0].removeprefix("sha256:")
    with tarfile.open(tmp_path / "a.tar") as original, tarfile.open(tmp_path / "c.tar", "w") as out:
        members = sorted(original.getmembers(), key=lambda m: m.name == layer_name)
        for member in members:
            out.addfile(member, original.extractfile(member) if member.isreg() else None)
    data = (tmp_path / "c.tar").read_bytes()
    with tarfile.open(tmp_path / "c.tar") as reread:
        offset = reread.getmember(layer_name).offset_data
    (tmp_path / "c.tar").write_bytes(data[: offset + 700])
    archive = tmp_path / "c.tar"
    with pytest.raises(InputError, match=built_a.layer_digests[0]) as caught:
        compare_images(open_image(archive), OciLayoutDir(tmp_path / "b"))
    assert "truncated" in caught.value.message or "cannot be read" in caught.value.message


def test_truncated_layout_blob_is_reported_as_truncated(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    layer = _blob_path(tmp_path / "a", built_a.layer_digests[0])
    layer.write_bytes(layer.read_bytes()[:-10])
    with pytest.raises(InputError, match=built_a.layer_digests[0]):
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_missing_blob_is_an_input_error(tmp_path: Path) -> None:
    built_a = write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    _blob_path(tmp_path / "a", built_a.manifest_digest).unlink()
    with pytest.raises(InputError, match=f"{built_a.manifest_digest} is missing"):
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_malicious_digest_is_rejected_before_touching_files(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES])
    source = OciLayoutDir(tmp_path / "a")
    with pytest.raises(InputError, match="malformed digest"):
        read_verified(source, "sha256:../../../etc/passwd")


def test_wrong_diff_id_in_config_is_an_input_error(tmp_path: Path) -> None:
    root = tmp_path / "a"
    built = write_image(root, [FILES])
    write_image(tmp_path / "b", [OTHER])
    # Rewrite the config with a wrong diffID and re-point the manifest and index at it.
    config = json.loads(_blob_path(root, built.config_digest).read_bytes())
    config["rootfs"]["diff_ids"] = [digest_of(b"not the layer")]
    config_bytes = json.dumps(config).encode()
    _blob_path(root, digest_of(config_bytes)).write_bytes(config_bytes)
    manifest = json.loads(_blob_path(root, built.manifest_digest).read_bytes())
    manifest["config"].update(digest=digest_of(config_bytes), size=len(config_bytes))
    manifest_bytes = json.dumps(manifest).encode()
    _blob_path(root, digest_of(manifest_bytes)).write_bytes(manifest_bytes)
    index = json.loads((root / "index.json").read_bytes())
    index["manifests"][0].update(digest=digest_of(manifest_bytes), size=len(manifest_bytes))
    (root / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="diffID"):
        compare_images(OciLayoutDir(root), OciLayoutDir(tmp_path / "b"))


def test_platform_not_found(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES])
    write_image(tmp_path / "b", [OTHER])
    with pytest.raises(InputError, match="linux/s390x"):
        compare_images(
            OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"), platform="linux/s390x"
        )


def test_attestations_are_skipped_but_recorded(tmp_path: Path) -> None:
    built = write_image(tmp_path / "a", [FILES], attestation=b"{}")
    tree = resolve_tree(OciLayoutDir(tmp_path / "a"))
    assert list(tree.images) == ["linux/amd64"]
    [attestation] = tree.attestations
    assert attestation.digest == built.attestation_digest
    assert attestation.refers_to == built.manifest_digest
    assert tree.image_index is not None


def test_malformed_docker_save_manifest_is_an_input_error(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "bad.tar", "w") as archive:
        (tmp_path / "manifest.json").write_text("{not json")
        archive.add(tmp_path / "manifest.json", arcname="manifest.json")
    with pytest.raises(
        InputError, match=r"manifest.json in the docker save archive .* not valid JSON"
    ):
        open_image(tmp_path / "bad.tar")
