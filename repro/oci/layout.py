"""An OCI image layout directory: oci-layout, index.json, blobs/sha256/<hex>."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from repro.errors import InputError
from repro.jsonout import MAX_JSON_BYTES
from repro.oci.digests import digest_hex


class OciLayoutDir:
    """A BlobSource reading an OCI image layout directory in place."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not (self.path / "index.json").is_file():
            raise InputError(
                f"{self.path} is not an OCI image layout: index.json is missing",
                hint="export the image with: docker buildx build --output type=oci,tar=false",
            )

    @property
    def location(self) -> str:
        return str(self.path)

    def index_bytes(self) -> bytes:
        index = self.path / "index.json"
        size = index.stat().st_size
        if size > MAX_JSON_BYTES:
            raise InputError(f"{index} is too large for an image index ({size} bytes)")
        return index.read_bytes()

    def _blob_path(self, digest: str) -> Path:
        blob = self.path / "blobs" / "sha256" / digest_hex(digest)
        if not blob.is_file():  # is_file follows symlinks: a link to /dev/zero is no blob
            kind = "is not a regular file in" if blob.exists() else "is missing from"
            raise InputError(f"blob {digest} {kind} {self.path}")
        return blob

    def open_blob(self, digest: str) -> BinaryIO:
        return self._blob_path(digest).open("rb")

    def blob_size(self, digest: str) -> int:
        return self._blob_path(digest).stat().st_size
