"""An image in a registry, read as a repro.oci BlobSource."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from typing import BinaryIO

from repro.jsonout import canonical_json
from repro.oci.mediatypes import OCI_INDEX
from repro.registry.client import NotFoundError, RegistryClient, RegistrySession, client_for


def _manifest_children(body: bytes) -> set[str]:
    """The digests an image index lists (fetched from /manifests/, not /blobs/); the body
    was validated by the client, so a list of descriptors when it has one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    manifests = document.get("manifests") if isinstance(document, dict) else None
    return {
        child["digest"]
        for child in (manifests if isinstance(manifests, list) else [])
        if isinstance(child, dict) and isinstance(child.get("digest"), str)
    }


class RegistryImage:
    """A repro.oci.BlobSource for ``registry/repository:tag`` or ``@sha256:...``.

    The reference is resolved once to the digest of the manifest or index it names;
    everything after is fetched by digest. ``index_bytes`` is a synthesised OCI layout
    index.json with that one descriptor, so the same image gives the same index whether
    it was named by tag or by digest. repro.oci verifies every blob read against its digest.
    """

    def __init__(self, client: RegistryClient, repository: str, reference: str) -> None:
        self.client = client
        self.repository = repository
        self.reference = reference
        separator = "@" if reference.startswith("sha256:") else ":"
        self._location = f"{client.registry}/{repository}{separator}{reference}"
        top = client.get_manifest(repository, reference)
        body = top.body or b""
        self.digest = top.digest
        self.media_type = top.media_type
        self._manifests: dict[str, bytes] = {top.digest: body}
        self._manifest_digests: set[str] = _manifest_children(body)
        self._lock = threading.Lock()
        descriptor = {"mediaType": self.media_type, "digest": top.digest, "size": len(body)}
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [descriptor],
        }
        self._index = canonical_json(index)

    @property
    def location(self) -> str:
        return self._location

    def index_bytes(self) -> bytes:
        return self._index

    def _manifest(self, digest: str) -> bytes:
        with self._lock:
            cached = self._manifests.get(digest)
        if cached is not None:
            return cached
        body = self.client.get_manifest(self.repository, digest).body or b""
        with self._lock:
            self._manifests[digest] = body
            self._manifest_digests |= _manifest_children(body)
        return body

    def _is_manifest(self, digest: str) -> bool:
        with self._lock:
            return digest in self._manifests or digest in self._manifest_digests

    def _manifest_or_missing(self, digest: str) -> bytes:
        """A digest /blobs/ does not know: a manifest (some registries keep them apart),
        else a blob the registry lost."""
        try:
            return self._manifest(digest)
        except NotFoundError:
            raise NotFoundError(
                f"{self._location}: blob {digest} is missing (HTTP 404: BLOB_UNKNOWN)",
                hint="the registry lacks a blob the manifest names; push the image again",
            ) from None

    def open_blob(self, digest: str) -> BinaryIO:
        if self._is_manifest(digest):
            return io.BytesIO(self._manifest(digest))
        stream = self.client.open_blob(self.repository, digest)
        if stream is None:
            return io.BytesIO(self._manifest_or_missing(digest))
        return stream

    def blob_size(self, digest: str) -> int:
        if self._is_manifest(digest):
            return len(self._manifest(digest))
        size = self.client.blob_size(self.repository, digest)
        if size is None:
            return len(self._manifest_or_missing(digest))
        return size


def open_registry_image(
    text: str,
    *,
    mirrors: Mapping[str, str] | None = None,
    session: RegistrySession | None = None,
) -> RegistryImage:
    """Resolve ``text`` (``host/name:tag`` or ``host/name@sha256:...``) to a RegistryImage.

    A digest in the reference wins over a tag. Raises InputError for a malformed
    reference, RegistryError (exit 3) when the registry cannot be reached.
    """
    from repro.dockerfile import parse_image_ref

    ref = parse_image_ref(text)
    client = client_for(ref.registry, mirrors=mirrors, session=session)
    reference = ref.digest or ref.tag or "latest"
    return RegistryImage(client, ref.repository, reference)
