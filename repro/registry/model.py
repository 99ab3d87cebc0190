"""The registry wing's vocabulary: what to resolve and what a registry served (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from repro.oci.artifacts import Descriptor
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
    mirror: str | None = None  # the mirror that answered, when not the registry named

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


@dataclass(frozen=True)
class ManifestResponse:
    """A manifest as served: ``digest`` is the sha256 of ``body``, the bytes read."""

    digest: str
    media_type: str
    body: bytes | None
    endpoint: str = ""  # the host that served it (a mirror, or the registry named)
    platforms: Mapping[str, str] | None = None  # an index: os/arch[/variant] -> child digest


@dataclass(frozen=True)
class RegistryResponse:
    """An answer to RegistryClient.request: any status, the body read whole (bounded)."""

    status: int
    headers: Mapping[str, str]  # names lower-case
    body: bytes
    endpoint: str


@dataclass(frozen=True)
class PushedImage:
    """What a registry serves for a tag right after an image was pushed to it."""

    served_digest: str
    loopback: bool  # a local registry (no proxy can be rewriting what it stores)


@dataclass(frozen=True)
class ReferrerListing:
    """The manifests that refer to an image, as the registry lists them."""

    subject_digest: str
    api: bool  # listed by the referrers API; False: read from the referrers tag
    tag: str  # the referrers tag schema's ``<alg>-<hex>`` for the subject
    referrers: tuple[Descriptor, ...]  # artifactType and annotations as listed

    @property
    def source(self) -> str:
        return "the referrers API" if self.api else "the referrers tag"


@dataclass(frozen=True)
class PushedReferrer:
    """A manifest pushed with a subject, and how the registry lists it now."""

    digest: str
    api: bool  # the registry's referrers API lists it; False: listed in the referrers tag
    tag: str  # the referrers tag (written only when there is no API)
    listed: int  # how many referrers the listing holds now

    @property
    def source(self) -> str:
        return "the referrers API" if self.api else "the referrers tag"
