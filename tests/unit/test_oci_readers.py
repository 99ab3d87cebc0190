"""The image readers (layout directory, OCI tar, docker save tar) and open_image: what
each reports of its blobs, and the message a user sees for what is not an image."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from repro.errors import InputError
from repro.oci import DockerArchiveTar, OciLayoutDir, OciTar, open_image
from repro.oci.blobsource import BlobSource, read_verified
from repro.oci.opening import _file_kind
from repro.oci.tarimage import TarMemberIndex
from repro.oci.tree import resolve_tree
from tests.unit.oci_factory import (
    LayerFiles,
    digest_of,
    layer_tar,
    tar_directory,
    write_docker_save,
    write_image,
)

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


# -- docker save tars --------------------------------------------------------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _tar(destination: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(destination, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return destination


def _config(diff_ids: object) -> bytes:
    return json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": diff_ids}}
    ).encode()


def test_a_docker_save_tar_is_presented_as_an_oci_index_and_manifest(tmp_path: Path) -> None:
    layers = [layer_tar(FILES), layer_tar({"etc/motd": (b"hi\n", {})})]
    diff_ids = [digest_of(layer) for layer in layers]
    config = _config(diff_ids)
    entry = {
        "Config": "./X-config.json",  # a leading ./ is not part of the member name
        "RepoTags": ["demo:1", "demo:latest"],
        "Layers": ["/one/layer.tar", "two/layer.tar"],
    }
    path = _tar(
        tmp_path / "saved.tar",
        {
            "manifest.json": json.dumps([entry]).encode(),
            "X-config.json": config,
            "one/layer.tar": layers[0],
            "two/layer.tar": layers[1],
        },
    )
    source = DockerArchiveTar(path)
    index = json.loads(source.index_bytes())
    [descriptor] = index.pop("manifests")
    assert index == {"schemaVersion": 2, "mediaType": OCI_INDEX}
    manifest_bytes = source.open_blob(descriptor["digest"]).read()
    assert descriptor == {
        "mediaType": OCI_MANIFEST,
        "digest": digest_of(manifest_bytes),
        "size": len(manifest_bytes),
        "annotations": {"io.containerd.image.name": "demo:1"},  # the first tag names it
    }
    assert source.blob_size(descriptor["digest"]) == len(manifest_bytes)
    assert json.loads(manifest_bytes) == {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": diff_ids[0],
                "size": len(layers[0]),
            },
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": diff_ids[1],
                "size": len(layers[1]),
            },
        ],
    }
    assert source.open_blob(digest_of(config)).read() == config
    assert source.open_blob(diff_ids[1]).read() == layers[1]
    with pytest.raises(InputError) as caught:
        source.open_blob(ABSENT)
    assert caught.value.message == f"blob {ABSENT} is missing from {path}"


@pytest.mark.parametrize("tags", [[], "demo:1", None])
def test_a_docker_save_image_without_a_tag_list_has_no_name(tmp_path: Path, tags: object) -> None:
    path = _tar(
        tmp_path / "saved.tar",
        {
            "manifest.json": json.dumps([{"Config": "c.json", "RepoTags": tags}]).encode(),
            "c.json": _config([]),
        },
    )
    [descriptor] = json.loads(DockerArchiveTar(path).index_bytes())["manifests"]
    assert "annotations" not in descriptor
    [image] = resolve_tree(DockerArchiveTar(path)).images.values()
    assert image.layers == ()  # no Layers: an image of no layers


def test_a_docker_save_layer_under_blobs_is_named_by_its_path(tmp_path: Path) -> None:
    layer = layer_tar(FILES)
    name = "blobs/sha256/" + digest_of(layer).removeprefix("sha256:")
    path = _tar(
        tmp_path / "saved.tar",
        {
            "manifest.json": json.dumps([{"Config": "c.json", "Layers": [name]}]).encode(),
            "c.json": _config([]),  # the diffIDs are not needed
            name: layer,
        },
    )
    [image] = resolve_tree(DockerArchiveTar(path)).images.values()
    assert [d.digest for d in image.layers] == [digest_of(layer)]


def test_two_docker_save_images_of_one_platform_are_numbered(tmp_path: Path) -> None:
    one, two = _config([]), _config([]) + b" "
    entries = [{"Config": "1.json"}, {"Config": "2.json"}]
    path = _tar(
        tmp_path / "saved.tar",
        {"manifest.json": json.dumps(entries).encode(), "1.json": one, "2.json": two},
    )
    tree = resolve_tree(DockerArchiveTar(path))
    assert list(tree.images) == ["linux/amd64", "linux/amd64#2"]
    assert tree.images["linux/amd64#2"].config.digest == digest_of(two)


ONE_LAYER = [{"Config": "c.json", "Layers": ["l.tar"]}]
NO_DIFF_ID = "{path}: layer l.tar has no diffID in its config"


@pytest.mark.parametrize(
    ("entries", "config", "message"),
    [
        ({}, None, "{path}: manifest.json lists no images"),
        ([], None, "{path}: manifest.json lists no images"),
        (["c.json"], None, "{path}: malformed manifest.json entry"),
        ([{"Config": 3}], None, "{path}: malformed manifest.json entry"),
        (
            [{"Config": "c.json", "Layers": "l.tar"}],
            _config([]),
            "{path}: manifest.json `Layers` is not a list",
        ),
        (ONE_LAYER, _config([]), NO_DIFF_ID),
        (ONE_LAYER, b"[]", NO_DIFF_ID),
        (ONE_LAYER, b'{"rootfs": []}', NO_DIFF_ID),
        (ONE_LAYER, b'{"rootfs": {"diff_ids": "x"}}', NO_DIFF_ID),
        (
            ONE_LAYER,
            _config(["sha256:00"]),
            "{path} config rootfs: unsupported or malformed digest 'sha256:00'",
        ),
        (
            [{"Config": "c.json", "Layers": ["blobs/sha256/00"]}],
            _config([]),
            "blobs/sha256/00: unsupported or malformed digest 'sha256:00'",
        ),
        (
            [{"Config": "c.json", "Layers": ["gone.tar"]}],
            _config([ABSENT]),
            "layer gone.tar is missing from {path}",
        ),
        ([{"Config": "./Xgone.json"}], None, "Xgone.json is missing from {path}"),
    ],
)
def test_a_malformed_docker_save_tar_says_what_is_wrong(
    tmp_path: Path, entries: object, config: bytes | None, message: str
) -> None:
    members = {"manifest.json": json.dumps(entries).encode(), "l.tar": layer_tar(FILES)}
    if config is not None:
        members["c.json"] = config
    path = _tar(tmp_path / "saved.tar", members)
    with pytest.raises(InputError) as caught:
        DockerArchiveTar(path)
    assert caught.value.message == message.format(path=path)


def test_the_second_layer_of_a_docker_save_needs_the_second_diff_id(tmp_path: Path) -> None:
    layers = {"1.tar": layer_tar(FILES), "2.tar": layer_tar({})}
    entry = {"Config": "c.json", "Layers": ["1.tar", "2.tar"]}
    members = {"manifest.json": json.dumps([entry]).encode(), **layers}
    only_first = _tar(
        tmp_path / "a.tar", {**members, "c.json": _config([digest_of(layers["1.tar"])])}
    )
    with pytest.raises(InputError, match=r"layer 2\.tar has no diffID in its config"):
        DockerArchiveTar(only_first)
    both = [digest_of(layers["1.tar"]), digest_of(layers["2.tar"])]
    full = _tar(tmp_path / "b.tar", {**members, "c.json": _config(both)})
    [image] = resolve_tree(DockerArchiveTar(full)).images.values()
    assert [d.digest for d in image.layers] == both


# -- tars cut short, oversized and compressed; layout directories -------------------------


def _header(name: str, size: int) -> bytes:
    """One ustar header that announces ``size`` bytes of content (none follow)."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def test_a_tar_member_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    limit = 32 << 20
    cut = tmp_path / "huge.tar"
    cut.write_bytes(_header("index.json", limit + 1))
    with pytest.raises(InputError) as caught:
        OciTar(cut).index_bytes()
    assert caught.value.message == f"index.json in {cut} is too large ({limit + 1} bytes)"
    # At the limit it is read, and found cut short.
    cut.write_bytes(_header("index.json", limit))
    with pytest.raises(InputError) as caught:
        OciTar(cut).index_bytes()
    assert caught.value.message == f"index.json in {cut} is truncated"


def test_a_missing_member_of_a_cut_tar_says_the_tar_is_truncated(tmp_path: Path) -> None:
    whole = _tar(tmp_path / "whole.tar", {"index.json": b" " * 600, "blobs/sha256/x": b"y"})
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: 512 + 300])  # inside index.json: no blob header
    index = TarMemberIndex(cut)
    assert index.truncated
    with pytest.raises(InputError) as caught:
        index.member("blobs/sha256/x", what="blob x")
    assert caught.value.message == f"blob x is missing from {cut} (the tar file is truncated)"
    with pytest.raises(InputError) as caught:
        TarMemberIndex(whole).member("nothing", what="the thing")
    assert caught.value.message == f"the thing is missing from {whole}"


def test_open_image_says_which_blob_a_cut_tar_ends_inside(tmp_path: Path) -> None:
    name = "blobs/sha256/" + "c" * 64
    whole = _tar(tmp_path / "whole.tar", {"oci-layout": b"{}", name: b"y" * 2000})
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: 512 * 3 + 700])
    with pytest.raises(InputError) as caught:
        open_image(cut)
    assert caught.value.message == (
        f"{cut} is truncated inside blob sha256:{'c' * 64}: "
        "index.json and manifest.json are missing"
    )
    other = _tar(tmp_path / "other.tar", {"oci-layout": b"{}", "notes/a.txt": b"y" * 2000})
    cut.write_bytes(other.read_bytes()[: 512 * 3 + 700])
    with pytest.raises(InputError, match=r"is truncated inside notes/a\.txt: index\.json"):
        open_image(cut)


def test_open_image_refuses_a_compressed_tar_as_not_uncompressed(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    plain = tar_directory(tmp_path / "layout", tmp_path / "image.tar")
    packed = tmp_path / "image.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(InputError) as caught:
        open_image(packed)
    assert caught.value.message.startswith(f"{packed} is not a readable uncompressed tar: ")
    assert caught.value.hint == (
        "pass an OCI layout tar (buildx --output type=oci) or a docker save tar"
    )


def test_an_image_reader_of_a_missing_or_wrong_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        OciTar(tmp_path / "gone.tar")
    assert caught.value.message == f"{tmp_path / 'gone.tar'} does not exist"
    saved = write_docker_save(tmp_path / "saved.tar", [FILES])
    with pytest.raises(InputError) as caught:
        OciTar(saved)
    assert caught.value.message == f"{saved} holds no index.json: not an OCI layout tar"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError) as caught:
        open_image(tmp_path / "file" / "image.tar")
    assert (
        caught.value.message == f"{tmp_path / 'file' / 'image.tar'} cannot be read: Not a directory"
    )


def test_a_layout_index_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    index = tmp_path / "layout" / "index.json"
    with index.open("r+b") as handle:
        handle.truncate((32 << 20) + 1)  # sparse: no 32 MiB written
    with pytest.raises(InputError) as caught:
        OciLayoutDir(tmp_path / "layout").index_bytes()
    assert caught.value.message == (
        f"{index} is too large for an image index ({(32 << 20) + 1} bytes)"
    )


def test_a_layout_blob_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    built = write_image(tmp_path / "layout", [FILES])
    blob = tmp_path / "layout" / "blobs" / "sha256" / built.config_digest.removeprefix("sha256:")
    blob.unlink()
    blob.symlink_to("/dev/zero")
    layout = OciLayoutDir(tmp_path / "layout")
    with pytest.raises(InputError) as caught:
        layout.open_blob(built.config_digest)
    assert caught.value.message == (
        f"blob {built.config_digest} is not a regular file in {tmp_path / 'layout'}"
    )
    with pytest.raises(InputError) as caught:
        layout.open_blob(ABSENT)
    assert caught.value.message == f"blob {ABSENT} is missing from {tmp_path / 'layout'}"
    with pytest.raises(InputError) as caught:
        OciLayoutDir(tmp_path)
    assert caught.value.message == f"{tmp_path} is not an OCI image layout: index.json is missing"
    assert caught.value.hint is not None and "type=oci,tar=false" in caught.value.hint


def test_a_tar_that_ends_where_its_last_member_ends_is_cut_but_not_inside_it(
    tmp_path: Path,
) -> None:
    # The last member's content is whole; only the padding and end blocks are missing.
    whole = _tar(tmp_path / "whole.tar", {"oci-layout": b"{}", "blobs/sha256/c": b"y" * 700})
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: 512 * 3 + 700])
    with pytest.raises(InputError) as caught:
        open_image(cut)
    assert caught.value.message == (f"{cut} is truncated: index.json and manifest.json are missing")
    assert caught.value.hint == "the image file is incomplete; export it again"


@pytest.mark.parametrize("size", [0, 1, 2, (1 << 20) + 1])
def test_a_tar_member_reads_whole_whatever_its_size(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    members = TarMemberIndex(_tar(tmp_path / "a.tar", {"m": data, "after": b"not this"}))
    with members.open("m", what="m") as stream:
        assert stream.read() == data
    assert members.read("m", what="m") == data


def test_an_absent_blob_of_an_oci_tar_is_named(tmp_path: Path) -> None:
    write_image(tmp_path / "layout", [FILES])
    source = OciTar(tar_directory(tmp_path / "layout", tmp_path / "oci.tar"))
    with pytest.raises(InputError) as caught:
        source.open_blob(ABSENT)
    assert caught.value.message == f"blob {ABSENT} is missing from {source.location}"
