"""The registry wing's vocabulary: what to resolve and what a registry served (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from repro.oci.mediatypes import INDEX_TYPES


@dataclass(frozen=True, order=True)
class ManifestKey:
    """What to resolve: a repository on a registry, at a tag or a digest."""

    registry: str  # as normalised, "docker.io" for Docker Hub
    repository: str
    reference: str  # a tag, or "sha256:..."

    @property
    def is_digest(self) -> bool:
        return ":" in self.reference

    def __str__(self) -> str:
        separator = "@" if self.is_digest else ":"
        return f"{self.registry}/{self.repository}{separator}{self.reference}"


@dataclass(frozen=True)
class Resolution:
    """What a registry served for a ManifestKey."""

    key: ManifestKey
    digest: str  # sha256 of the exact manifest bytes served
    media_type: str
    platforms: Mapping[str, str] | None  # for an index: os/arch[/variant] -> child digest
    endpoint: str  # the host that answered (a mirror, when one is configured)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


@dataclass(frozen=True)
class ManifestResponse:
    digest: str
    media_type: str
    body: bytes | None  # None for a HEAD that gave a digest


@dataclass(frozen=True)
class PushedImage:
    """What a registry serves for a tag right after an image was pushed to it."""

    served_digest: str
    loopback: bool  # a local registry (no proxy can be rewriting what it stores)


@dataclass(frozen=True)
class Artifact:
    """A small document to attach to an image: one layer in an OCI artifact manifest."""

    artifact_type: str
    layer_media_type: str
    data: bytes


@dataclass(frozen=True)
class Referrer:
    """An artifact manifest that refers to an image (its ``subject``)."""

    digest: str
    artifact_type: str | None
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Attachment:
    """What attaching artifacts to an image did."""

    pushed: tuple[Referrer, ...]  # one per artifact, in the order given
    referrers_tag: str  # the OCI referrers tag schema: ``sha256-<hex>`` of the image
    listed: int  # how many referrers that tag lists now


@dataclass(frozen=True)
class ReferrerListing:
    """The referrers an image has, found through its referrers tag."""

    subject_digest: str  # the image the reference names now
    referrers_tag: str
    referrers: tuple[Referrer, ...]
