"""OCI 1.1 artifacts and the referrers listing. Pure: bytes in, dataclasses and bytes out.

An artifact refers to an image through its manifest's ``subject`` descriptor. Registries
with the referrers API (distribution spec v1.1, ``GET /v2/<name>/referrers/<digest>``)
answer an OCI image index whose ``manifests`` describe every manifest whose subject is
``<digest>``: each descriptor carries the manifest's ``artifactType`` (or, when it has
none, its config's ``mediaType``) and its ``annotations``. ``?artifactType=<type>`` filters
that list; a registry that applied the filter says so in the ``OCI-Filters-Applied:
artifactType`` response header, and a client filters itself when the header is absent.
For a registry without the API, the client that pushes a referrer keeps the same index
under the tag ``<alg>-<hex>`` of the subject (the referrers tag schema).

Beware that writers disagree on the ``artifactType`` they list: go-containerregistry (so
cosign) lists a Sigstore bundle referrer under its config's ``application/vnd.oci.empty.v1+json``
in the fallback tag, although the manifest's own artifactType is the bundle type. A
reader that must find cosign's referrers looks at the manifests themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.errors import VerdictError
from repro.jsonout import canonical_json, load_object
from repro.oci.mediatypes import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST

EMPTY_CONFIG = b"{}"  # the empty JSON object the OCI empty descriptor names
REFERRERS_FILTER_HEADER = "OCI-Filters-Applied"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def referrers_tag(digest: str) -> str:
    """The referrers tag schema: ``<alg>-<hex>`` of the subject's digest."""
    return digest.replace(":", "-")


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor (the fields repro reads and writes)."""

    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type:
            document["artifactType"] = self.artifact_type
        if self.annotations:
            document["annotations"] = dict(sorted(self.annotations.items()))
        return document

    @classmethod
    def from_json(cls, raw: object, where: str) -> Descriptor:
        if not isinstance(raw, dict):
            raise VerdictError(f"{where}: a descriptor is not a JSON object")
        media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
        if not isinstance(media_type, str) or not isinstance(digest, str) or ":" not in digest:
            raise VerdictError(f"{where}: a descriptor has no mediaType or digest")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise VerdictError(f"{where}: descriptor {digest} has no valid size")
        artifact_type = raw.get("artifactType")
        annotations = raw.get("annotations")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            artifact_type=artifact_type if isinstance(artifact_type, str) else None,
            annotations={str(k): v for k, v in (annotations or {}).items() if isinstance(v, str)}
            if isinstance(annotations, dict)
            else {},
        )

    def check(self, data: bytes, where: str) -> bytes:
        """``data`` when it is the blob this descriptor names; a verdict when it is not (a
        registry that served other bytes than it was asked for)."""
        served = digest_of(data)
        if served != self.digest or len(data) != self.size:
            raise VerdictError(
                f"{where}: expected {self.digest} ({self.size} bytes), "
                f"the registry served {served} ({len(data)} bytes)"
            )
        return data


EMPTY_DESCRIPTOR = Descriptor(OCI_EMPTY, digest_of(EMPTY_CONFIG), len(EMPTY_CONFIG))


# -- artifact manifests ------------------------------------------------------------------


def artifact_manifest(
    *,
    artifact_type: str,
    layers: Sequence[Descriptor],
    subject: Descriptor,
    annotations: Mapping[str, str] | None = None,
    config: Descriptor = EMPTY_DESCRIPTOR,
) -> bytes:
    """An OCI 1.1 artifact manifest (canonical JSON) that refers to ``subject``."""
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": config.to_json(),
        "layers": [layer.to_json() for layer in layers],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_json(),
    }
    if annotations:
        document["annotations"] = dict(sorted(annotations.items()))
    return canonical_json(document)


@dataclass(frozen=True)
class Referrer:
    """A manifest that refers to an image: how the referrers API lists it, and what it holds."""

    descriptor: Descriptor  # as listed: artifactType (or config mediaType), annotations
    subject: str | None  # the digest its ``subject`` names
    layers: tuple[Descriptor, ...]
    manifest_artifact_type: str | None  # the manifest's own artifactType field


def parse_referrer(data: bytes, where: str = "the referrer manifest") -> Referrer:
    """A manifest as the referrers API would list it (its digest is of ``data`` itself)."""
    document = load_object(data, where)
    media_type = document.get("mediaType") or OCI_MANIFEST
    if media_type != OCI_MANIFEST:
        raise VerdictError(f"{where} is a {media_type}, not an OCI image manifest")
    config = Descriptor.from_json(document.get("config"), where)
    raw_layers = document.get("layers")
    layers = tuple(
        Descriptor.from_json(layer, where)
        for layer in (raw_layers if isinstance(raw_layers, list) else [])
    )
    own_type = document.get("artifactType")
    own_type = own_type if isinstance(own_type, str) and own_type else None
    annotations = document.get("annotations")
    subject = document.get("subject")
    subject_digest = subject.get("digest") if isinstance(subject, dict) else None
    return Referrer(
        descriptor=Descriptor(
            media_type=OCI_MANIFEST,
            digest=digest_of(data),
            size=len(data),
            artifact_type=own_type or config.media_type,
            annotations={k: v for k, v in annotations.items() if isinstance(v, str)}
            if isinstance(annotations, dict)
            else {},
        ),
        subject=subject_digest if isinstance(subject_digest, str) else None,
        layers=layers,
        manifest_artifact_type=own_type,
    )


# -- the referrers index -----------------------------------------------------------------


def referrers_index(descriptors: Iterable[Descriptor]) -> bytes:
    """The image index the referrers API answers (and the referrers tag holds)."""
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [descriptor.to_json() for descriptor in descriptors],
        }
    )


def parse_referrers_index(
    data: bytes, where: str = "the referrers index"
) -> tuple[Descriptor, ...]:
    document = load_object(data, where)
    media_type = document.get("mediaType", OCI_INDEX)
    if media_type != OCI_INDEX:
        raise VerdictError(f"{where} is a {media_type}, not an OCI image index")
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        raise VerdictError(f"{where} has no manifests list")
    return tuple(Descriptor.from_json(raw, where) for raw in manifests)


def of_artifact_type(
    descriptors: Iterable[Descriptor], artifact_type: str | None
) -> tuple[Descriptor, ...]:
    """The ``?artifactType=`` filter (None: no filter)."""
    if artifact_type is None:
        return tuple(descriptors)
    return tuple(d for d in descriptors if d.artifact_type == artifact_type)


def merge_referrers(
    listed: Iterable[Descriptor], added: Iterable[Descriptor], removed: Iterable[str] = ()
) -> tuple[Descriptor, ...]:
    """``listed`` without ``removed`` digests and without the ``added`` ones, then ``added``:
    the index to push to the referrers tag after pushing ``added``."""
    new = tuple(added)
    dropped = {d.digest for d in new} | set(removed)
    return tuple(d for d in listed if d.digest not in dropped) + new
