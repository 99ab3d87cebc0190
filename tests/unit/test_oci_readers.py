"""The image readers (layout directory, OCI tar, docker save tar) and open_image: what
each reports of its blobs, and the message a user sees for what is not an image."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from repro.errors import InputError
from repro.oci import DockerArchiveTar, OciLayoutDir, OciTar, open_image
from repro.oci.blobsource import BlobSource, read_verified
from repro.oci.opening import _file_kind
from repro.oci.tree import resolve_tree
from tests.unit.oci_factory import LayerFiles, tar_directory, write_docker_save, write_image

FILES: LayerFiles = {"etc/hostname": (b"demo\n", {}), "bin/tool": (b"\x7fELF", {"mode": 0o755})}
ABSENT = "sha256:" + "ab" * 32


def _blob_sizes(source: BlobSource) -> dict[str, int]:
    """digest -> stored size of the manifest, config and layers of a one-image source."""
    [image] = resolve_tree(source).images.values()
    descriptors = [image.manifest, image.config, *image.layers]
    return {d.digest: d.size for d in descriptors}


def _sources(tmp_path: Path) -> dict[str, BlobSource]:
    write_image(tmp_path / "layout", [FILES, {"etc/motd": (b"hi\n" * 100, {})}])
    return {
        "layout": OciLayoutDir(tmp_path / "layout"),
        "oci-tar": OciTar(tar_directory(tmp_path / "layout", tmp_path / "oci.tar")),
        "docker-save": DockerArchiveTar(
            write_docker_save(tmp_path / "saved.tar", [FILES, {"etc/motd": (b"hi\n", {})}])
        ),
    }


@pytest.mark.parametrize("kind", ["layout", "oci-tar", "docker-save"])
def test_each_source_reports_the_stored_size_of_each_blob(tmp_path: Path, kind: str) -> None:
    source = _sources(tmp_path)[kind]
    sizes = _blob_sizes(source)
    assert len(sizes) == 4  # manifest, config, two layers
    for digest, size in sizes.items():
        assert source.blob_size(digest) == size
        # Read without a declared size, a blob is checked against its stored size.
        assert len(read_verified(source, digest)) == size


@pytest.mark.parametrize("kind", ["layout", "oci-tar", "docker-save"])
def test_the_size_of_an_absent_blob_is_an_input_error_naming_it(tmp_path: Path, kind: str) -> None:
    source = _sources(tmp_path)[kind]
    with pytest.raises(InputError) as caught:
        source.blob_size(ABSENT)
    assert caught.value.message == f"blob {ABSENT} is missing from {source.location}"


def test_open_image_names_a_pipe_and_says_to_write_it_to_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)  # no writer: opening it would block, so open_image must not
    with pytest.raises(InputError) as caught:
        open_image(fifo)
    assert caught.value.message == f"{fifo} is a pipe (FIFO), not an image file or directory"
    assert caught.value.hint is not None
    assert "docker save -o image.tar IMAGE" in caught.value.hint


def test_open_image_names_a_character_device(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        open_image("/dev/null")
    assert caught.value.message == (
        "/dev/null is a character device, not an image file or directory"
    )


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFIFO, "a pipe (FIFO)"),
        (stat.S_IFCHR, "a character device"),
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFLNK, "not a regular file"),
        (0, "not a regular file"),
    ],
)
def test_each_kind_of_special_file_is_named(mode: int, kind: str) -> None:
    assert _file_kind(mode | 0o600) == kind
