"""Streaming a layer blob (repro.oci.layerstream, repro.oci.layerwalk): the header fields
of each kind of entry, gzip, zstd and uncompressed layers, and the digest and diffID
checks at the end of the stream."""

from __future__ import annotations

import gzip
import io
import tarfile
from typing import Any

import pytest
import zstandard

from repro.errors import InputError
from repro.oci.layerstream import iter_layer_entries, verify_layer
from repro.oci.layerwalk import walk_layer
from repro.oci.tree import Descriptor
from tests.unit.oci_factory import LayerFiles, MemorySource, compress, digest_of, layer_tar

OWNED = {"uid": 1000, "gid": 2000, "uname": "app", "gname": "staff", "mtime": 1700000000}


def _layer(data: bytes, media_type: str = "application/vnd.oci.image.layer.v1.tar") -> Any:
    source = MemorySource("image.tar")
    descriptor = source.put(data)
    return source, Descriptor(media_type, descriptor["digest"], descriptor["size"])


def _entries(files: LayerFiles, compression: str = "none") -> dict[str, Any]:
    tar = layer_tar(files)
    source, layer = _layer(compress(tar, compression))
    return {entry.path: entry for entry in iter_layer_entries(source, layer, digest_of(tar))}


def test_the_header_fields_of_a_file() -> None:
    [(path, entry)] = _entries({"./app/run.sh": (b"#!/bin/sh\n", {"mode": 0o755, **OWNED})}).items()
    assert path == "/app/run.sh"
    assert entry.name == "./app/run.sh"
    assert entry.fields == {
        "type": "file",
        "mode": "0755",
        "uid": 1000,
        "gid": 2000,
        "uname": "app",
        "gname": "staff",
        "mtime": 1700000000,
        "size": 10,
    }
    assert entry.content_sha256 == digest_of(b"#!/bin/sh\n")
    assert entry.sample is not None and entry.sample.head == b"#!/bin/sh\n"


def test_links_devices_and_directories_have_their_own_fields() -> None:
    entries = _entries(
        {
            "bin/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o1777}),
            "bin/sh": (b"", {"type": tarfile.SYMTYPE, "linkname": "busybox"}),
            "bin/dangling": (b"", {"type": tarfile.SYMTYPE, "linkname": ""}),
            "bin/ash": (b"", {"type": tarfile.LNKTYPE, "linkname": "bin/sh"}),
            "dev/null": (b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}),
            "dev/sda": (b"", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}),
            "run/fifo": (b"", {"type": tarfile.FIFOTYPE}),
            "etc/odd": (b"", {"type": b"Z"}),
            "etc/named": (b"x", {"linkname": "elsewhere"}),
        }
    )
    base = {"uid": 0, "gid": 0, "uname": "root", "gname": "root", "mtime": 0, "size": 0}
    assert entries["/bin"].fields == {**base, "type": "directory", "mode": "1777"}
    assert entries["/bin"].content_sha256 is None
    assert entries["/bin/sh"].fields == {
        **base, "type": "symlink", "mode": "0644", "linkname": "busybox"
    }  # fmt: skip
    # A symlink to nothing still shows its (empty) target.
    assert entries["/bin/dangling"].fields["linkname"] == ""
    assert entries["/bin/ash"].fields == {
        **base, "type": "hardlink", "mode": "0644", "linkname": "bin/sh"
    }  # fmt: skip
    assert entries["/dev/null"].fields == {
        **base, "type": "char device", "mode": "0644", "devmajor": 1, "devminor": 3
    }  # fmt: skip
    assert entries["/dev/sda"].fields == {
        **base, "type": "block device", "mode": "0644", "devmajor": 8, "devminor": 0
    }  # fmt: skip
    assert entries["/run/fifo"].fields == {**base, "type": "fifo", "mode": "0644"}
    assert entries["/etc/odd"].fields["type"] == "type b'Z'"
    # A regular file with a link name (a writer's oddity) shows it.
    assert entries["/etc/named"].fields["linkname"] == "elsewhere"
    assert entries["/etc/named"].fields["type"] == "file"


def test_pax_records_become_fields_unless_they_are_header_fields() -> None:
    pax = {
        "SCHILY.xattr.security.capability": "cap",
        "LIBARCHIVE.xattr.user.tag": "tag",
        "SCHILY.fflags": "nodump",
        "comment": "made by hand",
        "mtime": "1700000000.5",
        "uname": "app",
        "gid": "2000",
    }
    [entry] = _entries({"app/x": (b"x", {"pax_headers": pax})}).values()
    extra = {key: value for key, value in entry.fields.items() if ":" in key}
    assert extra == {
        "xattr:security.capability": "cap",
        "xattr:user.tag": "tag",
        "pax:SCHILY.fflags": "nodump",
        "pax:comment": "made by hand",
    }
    # The PAX values are the header fields' values.
    assert (entry.fields["uname"], entry.fields["gid"]) == ("app", 2000)
    long_name = "app/" + "d" * 120 + "/file"
    [long] = _entries({long_name: (b"x", {"linkname": "l" * 120})}).values()
    assert long.path == "/" + long_name
    assert not [key for key in long.fields if key.startswith("pax:")]


def test_names_that_are_not_utf8_are_shown_with_escapes() -> None:
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as archive:  # fmt: skip
        info = tarfile.TarInfo("app/caf\udce9")
        info.uname = "us\udcffer"
        archive.addfile(info, io.BytesIO())
    source, layer = _layer(tar.getvalue())
    [entry] = iter_layer_entries(source, layer, None)
    assert entry.name == "app/caf\\xe9"
    assert entry.fields["uname"] == "us\\xffer"


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_each_compression_streams_the_same_entries(compression: str) -> None:
    files: LayerFiles = {"a": (b"A" * 5000, {}), "b/c": (b"C", {"mode": 0o600})}
    entries = _entries(files, compression)
    assert list(entries) == ["/a", "/b/c"]
    assert entries["/a"].content_sha256 == digest_of(b"A" * 5000)
    assert entries["/b/c"].fields["mode"] == "0600"


def test_a_zstd_layer_of_several_frames_is_read_to_its_end() -> None:
    tar = layer_tar({"a": (b"A" * 3000, {}), "b": (b"B" * 3000, {})})
    frames = zstandard.ZstdCompressor().compress(tar[:2048])
    frames += zstandard.ZstdCompressor().compress(tar[2048:])
    source, layer = _layer(frames)
    assert [e.path for e in iter_layer_entries(source, layer, digest_of(tar))] == ["/a", "/b"]
    verify_layer(source, layer, digest_of(tar))


def test_bytes_after_the_tar_end_marker_count_towards_the_diff_id() -> None:
    tar = layer_tar({"a": (b"A", {})}) + b"\0" * 4096  # writers pad past the end marker
    source, layer = _layer(gzip.compress(tar, mtime=0))
    assert [e.path for e in iter_layer_entries(source, layer, digest_of(tar))] == ["/a"]
    without_padding = digest_of(tar[:-4096])
    with pytest.raises(InputError) as caught:
        list(iter_layer_entries(source, layer, without_padding))
    assert caught.value.message == (
        f"blob {layer.digest} in image.tar (uncompressed, diffID {without_padding}) is "
        f"corrupted: its content hashes to {digest_of(tar)}"
    )


@pytest.mark.parametrize("check", ["stream", "verify"])
def test_a_wrong_diff_id_names_the_blob_and_the_diff_id(check: str) -> None:
    tar = layer_tar({"a": (b"A", {})})
    source, layer = _layer(compress(tar, "zstd"))
    wrong = digest_of(b"another layer")
    with pytest.raises(InputError) as caught:
        if check == "stream":
            list(iter_layer_entries(source, layer, wrong))
        else:
            verify_layer(source, layer, wrong)
    assert caught.value.message == (
        f"blob {layer.digest} in image.tar (uncompressed, diffID {wrong}) is corrupted: "
        f"its content hashes to {digest_of(tar)}"
    )
    assert caught.value.hint == "the image file was modified or damaged; export it again"


def test_a_blob_whose_bytes_differ_where_decompression_cannot_see_is_corrupted() -> None:
    # gzip's header mtime is not part of the data: only the blob digest tells.
    tar = layer_tar({"a": (b"A", {})})
    blob = gzip.compress(tar, mtime=0)
    source, layer = _layer(blob)
    source.blobs[layer.digest] = gzip.compress(tar, mtime=1)
    for read in (lambda: list(iter_layer_entries(source, layer, digest_of(tar))),
                 lambda: verify_layer(source, layer, digest_of(tar))):  # fmt: skip
        with pytest.raises(InputError) as caught:
            read()
        assert caught.value.message == (
            f"blob {layer.digest} in image.tar is corrupted: its content hashes to "
            f"{digest_of(gzip.compress(tar, mtime=1))}"
        )


def test_a_layer_that_does_not_decompress_is_an_input_error_naming_it() -> None:
    tar = layer_tar({"a": (b"A" * 10000, {})})
    blob = bytearray(gzip.compress(tar, mtime=0))
    blob[len(blob) // 2] ^= 0xFF
    source, layer = _layer(bytes(blob))
    with pytest.raises(InputError) as caught:
        list(iter_layer_entries(source, layer, None))
    assert caught.value.message.startswith(
        f"blob {layer.digest} in image.tar cannot be read as a layer tar: "
    )
    assert caught.value.hint == "the layer is corrupted or truncated; export the image again"
    with pytest.raises(InputError) as caught:
        verify_layer(source, layer, None)
    assert caught.value.message.startswith(
        f"blob {layer.digest} in image.tar cannot be decompressed: "
    )
    assert caught.value.hint == "the layer is corrupted or truncated; export the image again"


def test_a_layer_that_is_not_a_tar_is_an_input_error_naming_it() -> None:
    source, layer = _layer(b"x" * 1000)
    with pytest.raises(InputError, match=r"cannot be read as a layer tar: "):
        list(iter_layer_entries(source, layer, None))


# -- walking a layer ----------------------------------------------------------------------


def test_walking_a_layer_reports_paths_kinds_owners_and_whiteouts() -> None:
    tar = layer_tar(
        {
            "./": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
            "etc/.wh..wh..opq": (b"", {}),
            ".wh..wh..opq": (b"", {}),
            "etc/.wh.passwd": (b"", {}),
            "etc/hosts": (b"127.0.0.1 localhost\n", {"uid": 5, "gid": 6, "mode": 0o600}),
            "etc/link": (b"", {"type": tarfile.SYMTYPE, "linkname": "hosts"}),
            "etc/.wh.old-link": (b"", {"type": tarfile.SYMTYPE, "linkname": "x"}),
        }
    )
    source, layer = _layer(gzip.compress(tar, mtime=0))
    asked: list[tuple[str, int]] = []

    def peek(path: str, size: int) -> int:
        asked.append((path, size))
        return 9 if path == "/etc/hosts" else 0

    entries = list(walk_layer(source, layer, digest_of(tar), peek=peek))
    assert [(e.path, e.kind, e.is_whiteout, e.is_opaque) for e in entries] == [
        ("/", "directory", False, False),
        ("/etc", "file", False, True),
        ("/", "file", False, True),
        ("/etc/passwd", "file", True, False),
        ("/etc/hosts", "file", False, False),
        ("/etc/link", "symlink", False, False),
        ("/etc/old-link", "symlink", True, False),
    ]
    hosts, link, old_link = entries[4], entries[5], entries[6]
    assert (hosts.size, hosts.mode, hosts.uid, hosts.gid) == (20, 0o600, 5, 6)
    assert hosts.head == b"127.0.0.1"
    assert hosts.is_file and not entries[1].is_file and not entries[3].is_file
    assert (link.linkname, old_link.linkname) == ("hosts", "")
    assert [e.head for e in entries if e is not hosts] == [None] * 6
    # Only regular files are offered to the policy, with their paths and sizes.
    assert asked == [
        ("/etc/.wh..wh..opq", 0),
        ("/.wh..wh..opq", 0),
        ("/etc/.wh.passwd", 0),
        ("/etc/hosts", 20),
    ]


def test_walking_without_a_policy_reads_no_content() -> None:
    tar = layer_tar({"a": (b"content", {})})
    source, layer = _layer(tar)
    [entry] = walk_layer(source, layer, digest_of(tar))
    assert (entry.path, entry.head, entry.is_file) == ("/a", None, True)


@pytest.mark.parametrize("check", ["stream", "verify"])
def test_a_layer_is_read_at_the_size_its_descriptor_declares(check: str) -> None:
    tar = layer_tar({"a": (b"A", {})})
    source, stored = _layer(tar)
    layer = Descriptor(stored.media_type, stored.digest, stored.size + 1)
    with pytest.raises(InputError) as caught:
        if check == "stream":
            list(iter_layer_entries(source, layer, digest_of(tar)))
        else:
            verify_layer(source, layer, digest_of(tar))
    assert caught.value.message == (
        f"blob {layer.digest} in image.tar is truncated: {len(tar)} of {len(tar) + 1} bytes"
    )
