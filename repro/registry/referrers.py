"""What refers to an image: OCI 1.1 referrers and cosign's attestation tag, pushed, listed
and fetched back through the one registry client.

* Listing (``referrers``): the referrers API (``GET /v2/<name>/referrers/<digest>``,
  distribution spec v1.1) first. A registry without it answers 404; then the referrers
  tag schema is read instead: the OCI index under the tag ``<alg>-<hex>`` of the subject,
  which pushers keep up to date.
* Pushing a referrer (``push_referrer``): its blobs, then the manifest under its own
  digest. Where the API exists the registry indexes it itself; elsewhere the referrers tag
  is rewritten with the new descriptor merged in, keeping what others listed (less the
  digests the caller says it replaces).
* cosign's attestation tag ``sha256-<hex>.att`` (``attestation_manifest``,
  ``put_attestations``): a plain tag holding an image manifest (repro.oci.cosign).

Every manifest fetched by digest and every blob is checked against its digest by the
client. Deciding what to replace needs signatures verified: that is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Protocol

from repro.dockerfile import ImageRef
from repro.errors import VerdictError
from repro.oci.artifacts import (
    Descriptor,
    merge_referrers,
    parse_referrer,
    parse_referrers_index,
    referrers_index,
    referrers_tag,
)
from repro.oci.cosign import AttestationImage, attestation_tag
from repro.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from repro.registry.client import client_for, is_loopback
from repro.registry.model import ManifestResponse, PushedImage, PushedReferrer, ReferrerListing
from repro.registry.skopeo import push_oci_archive


class ManifestStore(Protocol):
    """The registry operations referrers need (what RegistryClient offers)."""

    @property
    def host(self) -> str: ...

    @property
    def plain_http(self) -> bool: ...

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse: ...

    def find_manifest(self, repository: str, reference: str) -> ManifestResponse | None: ...

    def resolve(self, repository: str, reference: str) -> ManifestResponse: ...

    def put_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> str: ...

    def push_blob(self, repository: str, data: bytes) -> str: ...

    def get_blob(self, repository: str, digest: str) -> bytes: ...

    def referrers(self, repository: str, digest: str) -> bytes | None: ...


def list_referrers(store: ManifestStore, repository: str, subject_digest: str) -> ReferrerListing:
    """The referrers of ``subject_digest``: the API's answer, else the referrers tag's."""
    tag = referrers_tag(subject_digest)
    answered = store.referrers(repository, subject_digest)
    if answered is not None:
        where = f"{store.host}/{repository}: the referrers of {subject_digest}"
        return ReferrerListing(subject_digest, True, tag, parse_referrers_index(answered, where))
    return ReferrerListing(subject_digest, False, tag, _tag_listing(store, repository, tag))


def _tag_listing(store: ManifestStore, repository: str, tag: str) -> tuple[Descriptor, ...]:
    found = store.find_manifest(repository, tag)
    if found is None:
        return ()
    return parse_referrers_index(found.body or b"", f"{store.host}/{repository}:{tag}")


def push_referrer(
    store: ManifestStore,
    repository: str,
    listing: ReferrerListing,
    manifest: bytes,
    blobs: Sequence[bytes],
    replaces: Collection[str] = (),
) -> PushedReferrer:
    """Push ``manifest`` (whose subject is ``listing.subject_digest``) and its ``blobs``;
    without the referrers API, list it in the referrers tag in place of ``replaces``."""
    where = f"the referrer for {store.host}/{repository}@{listing.subject_digest}"
    referrer = parse_referrer(manifest, where)
    if referrer.subject != listing.subject_digest:
        raise VerdictError(f"{where} names {referrer.subject} as its subject")
    for blob in blobs:
        store.push_blob(repository, blob)
    digest = store.put_manifest(repository, referrer.descriptor.digest, manifest, OCI_MANIFEST)
    if listing.api:
        # The registry lists it from now on; ask it, so the count is what it says.
        listed = list_referrers(store, repository, listing.subject_digest)
        return PushedReferrer(digest, True, listing.tag, len(listed.referrers))
    # Read the tag again just before writing it, to lose as little as possible of what
    # another pusher wrote meanwhile (the schema has no compare-and-swap).
    current = _tag_listing(store, repository, listing.tag)
    merged = merge_referrers(current, [referrer.descriptor], removed=replaces)
    store.put_manifest(repository, listing.tag, referrers_index(merged), OCI_INDEX)
    return PushedReferrer(digest, False, listing.tag, len(merged))


class ArtifactRegistry:
    """Push verified images, and what refers to them, by image reference.

    ``store_for(registry)`` gives the client for a registry; ``push_archive`` copies an OCI
    archive byte for byte (skopeo in real use).
    """

    def __init__(
        self,
        store_for: Callable[[str], ManifestStore],
        push_archive: Callable[[Path, str, bool], None] | None = None,
    ) -> None:
        self._store_for = store_for
        self._push_archive = push_archive or _skopeo_push

    def push_archive(self, archive: Path, ref: ImageRef) -> PushedImage:
        """Push every manifest of ``archive`` to ``ref``; what its tag serves afterwards."""
        store = self._store_for(ref.registry)
        self._push_archive(archive, f"{ref.name}:{ref.tag}", store.plain_http)
        served = store.resolve(ref.repository, ref.tag or "latest")
        return PushedImage(served.digest, is_loopback(store.host))

    def manifest(self, ref: ImageRef) -> ManifestResponse:
        return self._store_for(ref.registry).get_manifest(
            ref.repository, ref.digest or ref.tag or "latest"
        )

    def manifest_bytes(self, ref: ImageRef, digest: str) -> bytes:
        """The manifest ``digest`` in ``ref``'s repository (the client checks the digest)."""
        return self._store_for(ref.registry).get_manifest(ref.repository, digest).body or b""

    def blob(self, ref: ImageRef, digest: str) -> bytes:
        return self._store_for(ref.registry).get_blob(ref.repository, digest)

    def referrers(self, ref: ImageRef, subject_digest: str) -> ReferrerListing:
        return list_referrers(self._store_for(ref.registry), ref.repository, subject_digest)

    def push_referrer(
        self,
        ref: ImageRef,
        listing: ReferrerListing,
        manifest: bytes,
        blobs: Sequence[bytes],
        replaces: Collection[str] = (),
    ) -> PushedReferrer:
        return push_referrer(
            self._store_for(ref.registry), ref.repository, listing, manifest, blobs, replaces
        )

    def attestation_manifest(self, ref: ImageRef, subject_digest: str) -> bytes | None:
        """What cosign's ``.att`` tag of ``subject_digest`` holds, or None (no such tag)."""
        store = self._store_for(ref.registry)
        found = store.find_manifest(ref.repository, attestation_tag(subject_digest))
        return None if found is None else found.body or b""

    def put_attestations(
        self, ref: ImageRef, subject_digest: str, image: AttestationImage, blobs: Sequence[bytes]
    ) -> str:
        """Push the envelope ``blobs`` and the config, then ``image`` to the ``.att`` tag."""
        store = self._store_for(ref.registry)
        for blob in (*blobs, image.config):
            store.push_blob(ref.repository, blob)
        return store.put_manifest(
            ref.repository, attestation_tag(subject_digest), image.manifest, OCI_MANIFEST
        )


def _skopeo_push(archive: Path, reference: str, plain_http: bool) -> None:
    from repro.dockerfile import parse_image_ref

    access = client_for(parse_image_ref(reference).registry).skopeo_access()
    push_oci_archive(archive, reference, access)
