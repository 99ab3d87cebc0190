"""Where blobs come from, and the one way this package reads them: verified."""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol, runtime_checkable

from repro.errors import InputError
from repro.jsonout import MAX_JSON_BYTES, load_object
from repro.oci.digests import CHUNK_SIZE, HashingReader, check_digest

# Manifests, indexes and configs are small; a bigger one is not a real image document.
MAX_DOCUMENT_BYTES = MAX_JSON_BYTES


@runtime_checkable
class BlobSource(Protocol):
    """An image's blobs by digest, plus its top-level index.json.

    ``location`` names the file or reference for error messages.
    """

    @property
    def location(self) -> str: ...

    def index_bytes(self) -> bytes: ...

    def open_blob(self, digest: str) -> BinaryIO: ...

    def blob_size(self, digest: str) -> int: ...


class ImageOpener(Protocol):
    """Opens an image argument (an image file or directory, or a registry reference)."""

    def open(self, text: str) -> BlobSource: ...


def blob_label(source: BlobSource, digest: str) -> str:
    return f"blob {digest} in {source.location}"


def open_verified(
    source: BlobSource, digest: str, *, declared_size: int | None = None
) -> HashingReader:
    """A stream of the blob that raises InputError at its end unless size and sha256 match.

    ``declared_size`` is the size its descriptor states; it beats the stored size, so a
    truncated blob reads as truncated rather than merely corrupted.
    """
    check_digest(digest, where=source.location)
    size = declared_size if declared_size is not None else source.blob_size(digest)
    return HashingReader(
        source.open_blob(digest),
        expected_digest=digest,
        expected_size=size,
        label=blob_label(source, digest),
    )


def read_verified(source: BlobSource, digest: str, *, declared_size: int | None = None) -> bytes:
    """The whole (small) blob, verified."""
    check_digest(digest, where=source.location)
    size = declared_size if declared_size is not None else source.blob_size(digest)
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(f"{blob_label(source, digest)} is too large for a JSON document")
    reader = open_verified(source, digest, declared_size=size)
    try:
        parts: list[bytes] = []
        while chunk := reader.read(CHUNK_SIZE):
            parts.append(chunk)
        reader.finish()
    finally:
        reader.close()
    return b"".join(parts)


def parse_json_document(data: bytes, *, what: str) -> dict[str, Any]:
    return load_object(data, what, error=InputError, max_bytes=MAX_DOCUMENT_BYTES)


def read_json_blob(
    source: BlobSource, digest: str, *, declared_size: int | None = None
) -> dict[str, Any]:
    data = read_verified(source, digest, declared_size=declared_size)
    return parse_json_document(data, what=blob_label(source, digest))
