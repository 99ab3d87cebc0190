"""Walk the entries of one layer as a stream: path, header, size, whiteout. No extraction.

The reusable way to look *inside* an image's layers (size teardown, file scans): each
entry comes with its normalised absolute path and, when the caller asks for it, the
first bytes of a regular file's content. Whiteouts (``.wh.NAME``) are reported as the
path they delete; opaque markers (``.wh..wh..opq``) as the directory they empty. Blob
digest and diffID are verified at the end of the stream, as ``iter_layer_entries`` does.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Callable, Generator
from dataclasses import dataclass

from repro.oci.blobsource import BlobSource
from repro.oci.jsontypes import safe_text
from repro.oci.layerstream import TYPE_NAMES, iter_layer_tar
from repro.oci.tree import Descriptor

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# (path, size) -> how many bytes of the file's start to hand over (0: none).
PeekPolicy = Callable[[str, int], int]


@dataclass(frozen=True)
class LayerEntry:
    """One tar entry of a layer. ``path`` is absolute and normalised (``/a/b``).

    For a whiteout, ``path`` is what it deletes from the layers below; for an opaque
    marker, ``path`` is the directory whose lower contents it hides.
    """

    path: str
    kind: str  # "file", "directory", "symlink", "hardlink", ...
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str = ""
    is_whiteout: bool = False
    is_opaque: bool = False
    head: bytes | None = None  # the first bytes of the content, when the policy asked

    @property
    def is_file(self) -> bool:
        return self.kind == "file" and not (self.is_whiteout or self.is_opaque)


def normalise_path(name: str) -> str:
    """A tar member name as an absolute, normalised path inside the image."""
    cleaned = posixpath.normpath("/" + name.removeprefix("./").lstrip("/"))
    return "/" if cleaned in ("/", "//", ".") else cleaned


def entry_from_info(info: tarfile.TarInfo, head: bytes | None = None) -> LayerEntry:
    path = normalise_path(safe_text(info.name))
    directory, base = posixpath.split(path)
    kind = TYPE_NAMES.get(info.type, f"type {info.type!r}")
    whiteout = opaque = False
    linkname = safe_text(info.linkname or "")
    if base == OPAQUE_MARKER:
        path, opaque, head, linkname = directory or "/", True, None, ""
    elif base.startswith(WHITEOUT_PREFIX):
        path = posixpath.join(directory, base.removeprefix(WHITEOUT_PREFIX))
        whiteout, head, linkname = True, None, ""
    return LayerEntry(
        path=path,
        kind=kind,
        size=info.size,
        mode=info.mode,
        uid=info.uid,
        gid=info.gid,
        linkname=linkname,
        is_whiteout=whiteout,
        is_opaque=opaque,
        head=head,
    )


def _read_head(archive: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes:
    content = archive.extractfile(info)
    if content is None:
        return b""
    with content:
        return content.read(limit)


def walk_layer(
    source: BlobSource,
    layer: Descriptor,
    diff_id: str | None,
    *,
    peek: PeekPolicy | None = None,
) -> Generator[LayerEntry, None, None]:
    """Yield every entry of ``layer`` in tar order, in bounded memory.

    ``peek(path, size)`` says how many bytes of a regular file to read into ``head``;
    the rest of the content is skipped, never written anywhere.
    """

    def read(archive: tarfile.TarFile, info: tarfile.TarInfo) -> LayerEntry:
        head = None
        if peek is not None and info.isreg():
            limit = peek(normalise_path(safe_text(info.name)), info.size)
            if limit > 0:
                head = _read_head(archive, info, limit)
        return entry_from_info(info, head)

    return iter_layer_tar(source, layer, diff_id, read)
