"""What cosign attaches to an image, in OCI terms, byte for byte as cosign 2.5 writes it.

Pure: bytes in, bytes and dataclasses out; the registry wing pushes and fetches.

**The attestation tag** (``cosign attest``, read by ``cosign verify-attestation``, ``cosign
tree``, Kyverno and the policy-controller): the tag ``sha256-<hex>.att`` in the image's
repository holds an OCI image manifest (go-containerregistry's ``mutate.Append`` on an
empty image) with one layer per attestation::

    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,
               "digest":"sha256:<config>"},
     "layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","size":544,
                "digest":"sha256:<envelope>",
                "annotations":{"dev.cosignproject.cosign/signature":"",
                               "predicateType":"<predicate type>"}}]}

  The layer blob is the DSSE envelope itself. The config is a zero-valued image config
  whose ``rootfs.diff_ids`` are the layer digests (a layer is uncompressed)::

    {"architecture":"","created":"0001-01-01T00:00:00Z",
     "history":[{"created":"0001-01-01T00:00:00Z"}, ...one per layer],
     "os":"","rootfs":{"type":"layers","diff_ids":["sha256:<envelope>", ...]},"config":{}}

  A new attestation is appended to the layers already there (``--replace`` drops those of
  the same predicate type first). cosign reads every layer, verifies each envelope with
  the key, checks that a subject's sha256 is the image digest, and keeps those whose
  statement's predicateType is the one ``--type`` names (``custom``, ``slsaprovenance1``...
  map to URIs; any other value is compared as a URI).

**The OCI 1.1 referrer** (``cosign attest --new-bundle-format``, read by ``cosign
verify-attestation --new-bundle-format``; ``cosign tree`` 2.5 does not list it): a manifest
whose ``subject`` is the image, holding a Sigstore bundle v0.3 around the envelope::

    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
               "digest":"sha256:44136f...","artifactType":"<bundle type>"},
     "layers":[{"mediaType":"<bundle type>","size":707,"digest":"sha256:<bundle>"}],
     "annotations":{"dev.sigstore.bundle.content":"dsse-envelope",
                    "dev.sigstore.bundle.predicateType":"<predicate type>",
                    "org.opencontainers.image.created":"<RFC 3339>"},
     "subject":{"mediaType":"<image media type>","size":<n>,"digest":"sha256:<image>"},
     "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.errors import InputError, VerdictError
from repro.jsonout import go_json, load_object
from repro.oci.artifacts import EMPTY_DESCRIPTOR, Descriptor, digest_of, parse_referrer
from repro.oci.mediatypes import DSSE_ENVELOPE, OCI_CONFIG, OCI_MANIFEST, SIGSTORE_BUNDLE_V03

ATTESTATION_SUFFIX = ".att"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_TYPE_ANNOTATION = "predicateType"
BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
BUNDLE_PREDICATE_TYPE_ANNOTATION = "dev.sigstore.bundle.predicateType"
CREATED_ANNOTATION = "org.opencontainers.image.created"
_ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time, which cosign leaves in place
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def attestation_tag(digest: str) -> str:
    """``sha256-<hex>.att``: where cosign keeps the attestations of the image ``digest``."""
    algorithm, _, hexdigest = digest.partition(":")
    if not algorithm or not hexdigest:
        raise InputError(f"{digest!r} is not a digest")
    return f"{algorithm}-{hexdigest}{ATTESTATION_SUFFIX}"


def _go_descriptor(descriptor: Descriptor) -> dict[str, Any]:
    """go-containerregistry's v1.Descriptor field order: mediaType, size, digest, annotations."""
    document: dict[str, Any] = {
        "mediaType": descriptor.media_type,
        "size": descriptor.size,
        "digest": descriptor.digest,
    }
    if descriptor.annotations:
        document["annotations"] = dict(sorted(descriptor.annotations.items()))
    if descriptor.artifact_type:
        document["artifactType"] = descriptor.artifact_type
    return document


# -- the .att image ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttestationLayer:
    """One attestation in the ``.att`` image: a DSSE envelope blob and its annotations."""

    descriptor: Descriptor

    @property
    def predicate_type(self) -> str | None:
        """What the layer's annotation says (cosign < 2.0 wrote none; the signed statement
        is the authority either way)."""
        return self.descriptor.annotations.get(PREDICATE_TYPE_ANNOTATION)

    @classmethod
    def of(cls, envelope: bytes, predicate_type: str) -> AttestationLayer:
        """The layer cosign writes for ``envelope`` (a DSSE envelope's bytes)."""
        return cls(
            Descriptor(
                media_type=DSSE_ENVELOPE,
                digest=digest_of(envelope),
                size=len(envelope),
                annotations={SIGNATURE_ANNOTATION: "", PREDICATE_TYPE_ANNOTATION: predicate_type},
            )
        )


@dataclass(frozen=True)
class AttestationImage:
    """The manifest and config to push (the layer blobs are the envelopes)."""

    manifest: bytes
    config: bytes
    layers: tuple[AttestationLayer, ...]

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(OCI_CONFIG, digest_of(self.config), len(self.config))


def attestation_image(layers: Sequence[AttestationLayer]) -> AttestationImage:
    """The ``.att`` image holding ``layers`` in order, as go-containerregistry serialises it."""
    if not layers:
        raise InputError("an attestation image needs at least one attestation")
    config = go_json(
        {
            "architecture": "",
            "created": _ZERO_TIME,
            "history": [{"created": _ZERO_TIME} for _ in layers],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [layer.descriptor.digest for layer in layers]},
            "config": {},
        }
    )
    manifest = go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _go_descriptor(Descriptor(OCI_CONFIG, digest_of(config), len(config))),
            "layers": [_go_descriptor(layer.descriptor) for layer in layers],
        }
    )
    return AttestationImage(manifest, config, tuple(layers))


def parse_attestation_manifest(
    data: bytes, where: str = "the attestation manifest"
) -> tuple[AttestationLayer, ...]:
    """The DSSE layers of a ``.att`` manifest (OCI, or Docker schema 2 as cosign writes with
    COSIGN_DOCKER_MEDIA_TYPES); layers of other media types are not attestations."""
    document = load_object(data, where)
    media_type = document.get("mediaType")
    if media_type not in (OCI_MANIFEST, _DOCKER_MANIFEST):
        raise VerdictError(f"{where} is a {media_type!r}, not an image manifest")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise VerdictError(f"{where} has no layers")
    found = []
    for raw in layers:
        descriptor = Descriptor.from_json(raw, where)
        if descriptor.media_type == DSSE_ENVELOPE:
            found.append(AttestationLayer(descriptor))
    return tuple(found)


def merge_attestations(
    existing: Iterable[AttestationLayer],
    added: Iterable[AttestationLayer],
    removed: Iterable[str] = (),
) -> tuple[AttestationLayer, ...]:
    """The layers of the ``.att`` image after adding ``added``: what was there (kept with
    its annotations as found) less the ``removed`` digests and exact duplicates, then the
    new ones. Deciding what to remove (repro's own earlier statement of the same type, say)
    needs the envelopes verified, so the caller does it."""
    new = tuple(added)
    dropped = {layer.descriptor.digest for layer in new} | set(removed)
    return tuple(layer for layer in existing if layer.descriptor.digest not in dropped) + new


# -- the OCI 1.1 Sigstore bundle referrer ------------------------------------------------


def bundle_referrer(
    bundle: bytes, *, predicate_type: str, subject: Descriptor, created: str
) -> bytes:
    """The referrer manifest ``cosign attest --new-bundle-format`` writes for ``bundle``
    (``created``: RFC 3339 UTC; cosign puts the time of signing, repro a recorded time so
    that the manifest is a function of the release). Push ``{}`` as the config blob."""
    annotations = {
        BUNDLE_CONTENT_ANNOTATION: "dsse-envelope",
        BUNDLE_PREDICATE_TYPE_ANNOTATION: predicate_type,
        CREATED_ANNOTATION: created,
    }
    return go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _go_descriptor(
                Descriptor(
                    EMPTY_DESCRIPTOR.media_type,
                    EMPTY_DESCRIPTOR.digest,
                    EMPTY_DESCRIPTOR.size,
                    artifact_type=SIGSTORE_BUNDLE_V03,
                )
            ),
            "layers": [
                _go_descriptor(Descriptor(SIGSTORE_BUNDLE_V03, digest_of(bundle), len(bundle)))
            ],
            "annotations": dict(sorted(annotations.items())),
            "subject": _go_descriptor(Descriptor(subject.media_type, subject.digest, subject.size)),
            "artifactType": SIGSTORE_BUNDLE_V03,
        }
    )


@dataclass(frozen=True)
class BundleReferrer:
    layer: Descriptor  # the bundle blob
    predicate_type: str | None  # the annotation; the signed statement is the authority
    subject: str | None
    annotations: Mapping[str, str] = field(default_factory=dict)


def parse_bundle_referrer(data: bytes, where: str = "the referrer") -> BundleReferrer | None:
    """The Sigstore bundle a referrer manifest holds, or None when it holds something else
    (a referrer listing mixes every kind of artifact)."""
    referrer = parse_referrer(data, where)
    bundles = [layer for layer in referrer.layers if layer.media_type == SIGSTORE_BUNDLE_V03]
    if not bundles:
        return None
    annotations = referrer.descriptor.annotations
    return BundleReferrer(
        layer=bundles[0],
        predicate_type=annotations.get(BUNDLE_PREDICATE_TYPE_ANNOTATION),
        subject=referrer.subject,
        annotations=annotations,
    )
