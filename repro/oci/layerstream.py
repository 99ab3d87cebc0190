"""Stream one layer blob as a sequence of small per-entry summaries.

Bounded memory: the blob is decompressed on the fly, file content is hashed in chunks
(and sampled on the way, see repro.oci.sample), and tarfile's member list is cleared as
we go. Entry names are data; nothing is extracted.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

import zstandard

from repro.errors import InputError
from repro.oci.blobsource import BlobSource, blob_label, open_verified
from repro.oci.digests import CHUNK_SIZE, HashingReader, Readable, buffered
from repro.oci.jsontypes import JsonValue, safe_text
from repro.oci.mediatypes import Compression, compression_from_magic
from repro.oci.sample import ContentSample, ContentSampler
from repro.oci.tree import Descriptor

T = TypeVar("T")

TYPE_NAMES: Mapping[bytes, str] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
    tarfile.LNKTYPE: "hardlink",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char device",
    tarfile.BLKTYPE: "block device",
    tarfile.DIRTYPE: "directory",
    tarfile.FIFOTYPE: "fifo",
}
# PAX records already shown as their own header field.
_PAX_AS_FIELDS = frozenset({"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"})
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")


@dataclass(frozen=True)
class EntrySummary:
    """What we keep of one tar entry: its header fields, a content hash and a bounded
    sample of the content (for evidence when the hashes differ), never the content."""

    name: str
    fields: Mapping[str, JsonValue]
    content_sha256: str | None
    sample: ContentSample | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        """The name as an absolute path inside the image, for display and ignore globs."""
        return "/" + self.name.removeprefix("./").lstrip("/")


def header_fields(info: tarfile.TarInfo) -> dict[str, JsonValue]:
    fields: dict[str, JsonValue] = {
        "type": TYPE_NAMES.get(info.type, f"type {info.type!r}"),
        "mode": f"{info.mode:04o}",
        "uid": info.uid,
        "gid": info.gid,
        "uname": safe_text(info.uname),
        "gname": safe_text(info.gname),
        "mtime": info.mtime,
        "size": info.size,
    }
    if info.issym() or info.islnk() or info.linkname:
        fields["linkname"] = safe_text(info.linkname)
    if info.ischr() or info.isblk():
        fields["devmajor"] = info.devmajor
        fields["devminor"] = info.devminor
    for key, value in sorted(info.pax_headers.items()):
        prefix = next((p for p in _XATTR_PREFIXES if key.startswith(p)), None)
        if prefix is not None:
            fields["xattr:" + safe_text(key.removeprefix(prefix))] = safe_text(value)
        elif key not in _PAX_AS_FIELDS:
            fields["pax:" + safe_text(key)] = safe_text(value)
    return fields


def _content_digest(archive: tarfile.TarFile, info: tarfile.TarInfo) -> tuple[str, ContentSample]:
    """The content's sha256 and its sample, from one read of the content."""
    sampler = ContentSampler(info.size)
    digest = hashlib.sha256()
    content = archive.extractfile(info)
    if content is not None:
        with content:
            while chunk := content.read(CHUNK_SIZE):
                digest.update(chunk)
                sampler.update(chunk)
    return "sha256:" + digest.hexdigest(), sampler.finish()


def forget_members(archive: tarfile.TarFile) -> None:
    """Drop tarfile's list of every member read so far: memory stays flat on huge tars."""
    archive.members.clear()  # type: ignore[attr-defined]  # undocumented, stable since 2.x


def _decompressed(stream: BinaryIO) -> Readable:
    head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
    compression = compression_from_magic(head)
    if compression is Compression.GZIP:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if compression is Compression.ZSTD:
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    return stream


def iter_layer_tar(
    source: BlobSource,
    layer: Descriptor,
    diff_id: str | None,
    read: Callable[[tarfile.TarFile, tarfile.TarInfo], T],
) -> Generator[T, None, None]:
    """Yield ``read(archive, entry)`` for every tar entry of ``layer``, streaming.

    ``read`` runs inside the error handling, so a corrupted or truncated blob met while it
    reads content is an InputError naming the blob. At the end the blob digest and the
    diffID are verified.
    """
    label = blob_label(source, layer.digest)
    raw = open_verified(source, layer.digest, declared_size=layer.size)
    try:
        uncompressed = HashingReader(
            _decompressed(buffered(raw)),
            expected_digest=diff_id,
            label=f"{label} (uncompressed, diffID {diff_id})",
        )
        with tarfile.open(fileobj=buffered(uncompressed), mode="r|") as archive:
            while (info := archive.next()) is not None:
                forget_members(archive)
                yield read(archive, info)
        uncompressed.finish()  # the tar end marker may come before the end of the stream
        raw.finish()
    except InputError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
        raise InputError(
            f"{label} cannot be read as a layer tar: {exc}",
            hint="the layer is corrupted or truncated; export the image again",
        ) from exc
    finally:
        raw.close()


def _summary(archive: tarfile.TarFile, info: tarfile.TarInfo) -> EntrySummary:
    if not info.isreg():
        return EntrySummary(safe_text(info.name), header_fields(info), None)
    content, sample = _content_digest(archive, info)
    return EntrySummary(safe_text(info.name), header_fields(info), content, sample)


def iter_layer_entries(
    source: BlobSource, layer: Descriptor, diff_id: str | None
) -> Generator[EntrySummary, None, None]:
    """Yield one summary per tar entry; at the end verify the blob digest and the diffID."""
    return iter_layer_tar(source, layer, diff_id, _summary)


def verify_layer(source: BlobSource, layer: Descriptor, diff_id: str | None) -> None:
    """Read the whole blob: its digest, and its uncompressed bytes against the diffID."""
    label = blob_label(source, layer.digest)
    raw = open_verified(source, layer.digest, declared_size=layer.size)
    try:
        uncompressed = HashingReader(
            _decompressed(buffered(raw)),
            expected_digest=diff_id,
            label=f"{label} (uncompressed, diffID {diff_id})",
        )
        uncompressed.finish()
        raw.finish()
    except InputError:
        raise
    except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
        raise InputError(
            f"{label} cannot be decompressed: {exc}",
            hint="the layer is corrupted or truncated; export the image again",
        ) from exc
    finally:
        raw.close()
