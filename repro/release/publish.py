"""Signed statements beside an image, as cosign and the OCI 1.1 referrers API carry them;
and finding them again.

Each statement (an in-toto Statement in a DSSE envelope) is attached twice:

* as a layer of cosign's attestation image under the tag ``sha256-<hex>.att`` (what
  ``cosign verify-attestation``, ``cosign tree``, Kyverno and the policy-controller read);
* as an OCI 1.1 referrer holding a Sigstore bundle v0.3 around the same envelope (what
  ``cosign verify-attestation --new-bundle-format``, ``oras discover`` and every referrers
  API client list): through the referrers API where the registry has it, else the
  referrers tag schema.

Re-publishing replaces rather than piles up: an earlier layer (or, in the referrers tag,
an earlier referrer) of the same predicate type whose envelope verifies with the same key
and names the same image is replaced; what other signers attached is kept as found. A
referrers API lists every manifest with the subject, so there an earlier referrer stays
listed (repro deletes nothing); discovery picks the statement that matches.

Discovery reads the referrers (the API, else the tag), then the ``.att`` tag, lazily, and
checks every manifest and blob it reads against its descriptor.

The registry is the AttestationRegistry given (repro.registry.referrers in real use).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from repro.dockerfile import ImageRef
from repro.errors import InputError, VerdictError
from repro.jsonout import document
from repro.oci.artifacts import EMPTY_CONFIG, Descriptor, digest_of, parse_referrer
from repro.oci.cosign import (
    AttestationImage,
    AttestationLayer,
    attestation_image,
    attestation_tag,
    bundle_referrer,
    merge_attestations,
    parse_attestation_manifest,
    parse_bundle_referrer,
)
from repro.oci.mediatypes import DSSE_ENVELOPE, OCI_EMPTY, SIGSTORE_BUNDLE_V03
from repro.records import Fields
from repro.registry.model import ManifestResponse, PushedReferrer, ReferrerListing
from repro.release import attest
from repro.release.keys import VerifyingKey


class AttestationRegistry(Protocol):
    """The registry as attestations need it (repro.registry.referrers.ArtifactRegistry)."""

    def manifest(self, ref: ImageRef) -> ManifestResponse: ...

    def manifest_bytes(self, ref: ImageRef, digest: str) -> bytes: ...

    def blob(self, ref: ImageRef, digest: str) -> bytes: ...

    def referrers(self, ref: ImageRef, subject_digest: str) -> ReferrerListing: ...

    def push_referrer(
        self,
        ref: ImageRef,
        listing: ReferrerListing,
        manifest: bytes,
        blobs: Sequence[bytes],
        replaces: Sequence[str] = (),
    ) -> PushedReferrer: ...

    def attestation_manifest(self, ref: ImageRef, subject_digest: str) -> bytes | None: ...

    def put_attestations(
        self, ref: ImageRef, subject_digest: str, image: AttestationImage, blobs: Sequence[bytes]
    ) -> str: ...


@dataclass(frozen=True)
class SignedStatement:
    """A statement to publish: its envelope, and the key it verifies with (None: signed by
    someone repro has no key of, e.g. a stored sign-off; it is published as it is)."""

    predicate_type: str
    envelope: attest.Envelope
    key: VerifyingKey | None


@dataclass(frozen=True)
class PublishedStatement:
    predicate_type: str
    envelope: str  # the envelope's digest: the .att layer, and inside the bundle
    referrer: str  # the digest of the bundle referrer manifest
    listed_by: str  # "the referrers API" | "the referrers tag" (sha256-<hex> of the image)

    def to_json(self) -> dict[str, Any]:
        return {
            "predicate_type": self.predicate_type,
            "envelope": self.envelope,
            "referrer": self.referrer,
            "listed_by": self.listed_by,
        }


@dataclass(frozen=True)
class Publication:
    """Where a release's statements were attached to one image."""

    image: str  # registry/repository@digest
    attestation_tag: str  # cosign's sha256-<hex>.att, in the image's repository
    attestation_manifest: str  # the .att manifest's digest after publishing
    statements: tuple[PublishedStatement, ...]
    referrers_listed: int  # how many referrers the image has now

    @property
    def repository(self) -> str:
        return self.image.partition("@")[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "attestation_tag": self.attestation_tag,
            "attestation_manifest": self.attestation_manifest,
            "referrers_listed": self.referrers_listed,
            "statements": [statement.to_json() for statement in self.statements],
        }

    @classmethod
    def from_json(cls, raw: object, where: str) -> Publication:
        fields = Fields(raw, where, "a publication", hint=_REWRITE)
        statements = []
        for entry in fields.tables("statements"):
            item = Fields(entry, where, "a published statement", hint=_REWRITE)
            statements.append(
                PublishedStatement(
                    predicate_type=item.text("predicate_type"),
                    envelope=item.text("envelope"),
                    referrer=item.text("referrer"),
                    listed_by=item.text("listed_by"),
                )
            )
        return cls(
            image=fields.text("image"),
            attestation_tag=fields.text("attestation_tag"),
            attestation_manifest=fields.text("attestation_manifest"),
            statements=tuple(statements),
            referrers_listed=fields.integer("referrers_listed"),
        )


PUBLICATIONS_KIND = "release-publications"
_REWRITE = "publish the release again with `repro publish VERSION --to REF --key KEY`"


@dataclass(frozen=True)
class Publications:
    """The record of where a release was published: one entry per image repository."""

    version: str
    published: tuple[Publication, ...] = ()

    def with_publication(self, publication: Publication) -> Publications:
        kept = tuple(p for p in self.published if p.repository != publication.repository)
        ordered = sorted((*kept, publication), key=lambda p: p.image)
        return Publications(self.version, tuple(ordered))

    def to_json(self) -> dict[str, Any]:
        return document(
            PUBLICATIONS_KIND,
            {"version": self.version, "published": [p.to_json() for p in self.published]},
        )

    @classmethod
    def from_json(cls, raw: object, where: str) -> Publications:
        if not isinstance(raw, dict) or raw.get("kind") != PUBLICATIONS_KIND:
            raise InputError(f"{where} is not a record of publications", hint=_REWRITE)
        fields = Fields(raw, where, "the record", hint=_REWRITE)
        return cls(
            version=fields.text("version"),
            published=tuple(
                Publication.from_json(entry, where) for entry in fields.tables("published")
            ),
        )


# -- publishing --------------------------------------------------------------------------


def _subject_descriptor(subject: ManifestResponse) -> Descriptor:
    return Descriptor(subject.media_type, subject.digest, len(subject.body or b""))


def _ours(envelope_bytes: bytes, statement: SignedStatement, digest: str, where: str) -> bool:
    """Whether ``envelope_bytes`` is an earlier statement of the same kind by the same key
    about the same image (so publishing ``statement`` replaces it)."""
    if statement.key is None:
        return False
    try:
        attest.verify_attestation(
            attest.parse_envelope(envelope_bytes, where),
            statement.key,
            digest=digest,
            predicate_type=statement.predicate_type,
        )
    except VerdictError:
        return False  # another signer's, another image's, or not an envelope: kept
    return True


def _attach_to_att_tag(
    registry: AttestationRegistry,
    ref: ImageRef,
    digest: str,
    statements: Sequence[SignedStatement],
) -> AttestationImage:
    tag = attestation_tag(digest)
    found = registry.attestation_manifest(ref, digest)
    existing = parse_attestation_manifest(found, f"{ref.name}:{tag}") if found else ()
    blobs = [statement.envelope.compact() for statement in statements]
    added = [
        AttestationLayer.of(blob, statement.predicate_type)
        for blob, statement in zip(blobs, statements, strict=True)
    ]
    new_digests = {layer.descriptor.digest for layer in added}
    removed = []
    for layer in existing:
        if layer.descriptor.digest in new_digests:
            continue
        same_type = [s for s in statements if layer.predicate_type in (None, s.predicate_type)]
        if not same_type:
            continue
        where = f"{ref.name}:{tag} layer {layer.descriptor.digest}"
        data = layer.descriptor.check(registry.blob(ref, layer.descriptor.digest), where)
        if any(_ours(data, statement, digest, where) for statement in same_type):
            removed.append(layer.descriptor.digest)
    image = attestation_image(merge_attestations(existing, added, removed))
    registry.put_attestations(ref, digest, image, blobs)
    return image


def _replaced_referrers(
    registry: AttestationRegistry,
    ref: ImageRef,
    listing: ReferrerListing,
    statement: SignedStatement,
) -> list[str]:
    """The referrers in the referrers tag that publishing ``statement`` replaces."""
    if listing.api:
        return []  # the API lists what exists; repro deletes nothing
    replaced = []
    for descriptor in listing.referrers:
        if descriptor.artifact_type not in (SIGSTORE_BUNDLE_V03, OCI_EMPTY, None):
            continue  # ggcr (cosign) lists its bundles as the empty type: open those too
        envelope = _bundle_envelope(registry, ref, listing.subject_digest, descriptor)
        if envelope is None:
            continue
        where = f"{ref.name}@{descriptor.digest}"
        if _ours(envelope, statement, listing.subject_digest, where):
            replaced.append(descriptor.digest)
    return replaced


def publish_statements(
    registry: AttestationRegistry,
    ref: ImageRef,
    subject: ManifestResponse,
    statements: Sequence[SignedStatement],
    *,
    created: str,
) -> Publication:
    """Attach ``statements`` to the image ``subject`` (served for ``ref``), both ways.

    ``created`` goes into each referrer's ``org.opencontainers.image.created`` (a recorded
    time, so that publishing the same statements again pushes the same manifests).
    """
    digest = subject.digest
    image = _attach_to_att_tag(registry, ref, digest, statements)
    listing = registry.referrers(ref, digest)
    published = []
    listed = len(listing.referrers)
    for statement in statements:
        bundle = attest.bundle(statement.envelope, statement.key)
        manifest = bundle_referrer(
            bundle,
            predicate_type=statement.predicate_type,
            subject=_subject_descriptor(subject),
            created=created,
        )
        replaces = _replaced_referrers(registry, ref, listing, statement)
        pushed = registry.push_referrer(ref, listing, manifest, [EMPTY_CONFIG, bundle], replaces)
        listed = pushed.listed
        published.append(
            PublishedStatement(
                predicate_type=statement.predicate_type,
                envelope=digest_of(statement.envelope.compact()),
                referrer=pushed.digest,
                listed_by=pushed.source,
            )
        )
    return Publication(
        image=f"{ref.name}@{digest}",
        attestation_tag=attestation_tag(digest),
        attestation_manifest=image.digest,
        statements=tuple(published),
        referrers_listed=listed,
    )


# -- discovery ---------------------------------------------------------------------------


def _bundle_envelope(
    registry: AttestationRegistry, ref: ImageRef, digest: str, descriptor: Descriptor
) -> bytes | None:
    """The envelope a listed referrer holds (a Sigstore bundle, or the DSSE layer repro
    wrote before bundles), or None when it holds something else or refers elsewhere.

    A manifest or blob that is not what its descriptor names is a verdict: the registry
    (or whoever wrote the referrers tag) served other bytes than listed.
    """
    where = f"{ref.name}@{descriptor.digest}"
    data = descriptor.check(registry.manifest_bytes(ref, descriptor.digest), where)
    try:
        referrer = parse_referrer(data, where)
        found = parse_bundle_referrer(data, where)
    except VerdictError:
        return None  # not an image manifest: some other kind of referrer
    if referrer.subject != digest:
        return None
    if found is not None:
        blob = found.layer.check(registry.blob(ref, found.layer.digest), where)
        try:
            return attest.parse_bundle(blob, where).compact()
        except VerdictError:
            return blob  # not a bundle after all: find_attestation says what it is
    for layer in referrer.layers:
        if layer.media_type == DSSE_ENVELOPE:
            return layer.check(registry.blob(ref, layer.digest), where)
    return None


def published_envelopes(
    registry: AttestationRegistry, ref: ImageRef, digest: str
) -> Iterator[tuple[str, bytes]]:
    """Every envelope attached to the image ``digest``, named by where it was found: the
    referrers (API first, else the referrers tag), then cosign's ``.att`` layers."""
    seen: set[str] = set()  # an envelope published both ways is tried once
    listing = registry.referrers(ref, digest)
    for descriptor in listing.referrers:
        envelope = _bundle_envelope(registry, ref, digest, descriptor)
        if envelope is not None and digest_of(envelope) not in seen:
            seen.add(digest_of(envelope))
            yield f"{ref.name}@{descriptor.digest} (from {listing.source})", envelope
    tag = attestation_tag(digest)
    found = registry.attestation_manifest(ref, digest)
    if found is None:
        return
    for layer in parse_attestation_manifest(found, f"{ref.name}:{tag}"):
        if layer.descriptor.digest in seen:
            continue
        where = f"{ref.name}:{tag} layer {layer.descriptor.digest}"
        yield where, layer.descriptor.check(registry.blob(ref, layer.descriptor.digest), where)
