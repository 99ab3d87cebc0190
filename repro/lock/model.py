"""Values shared by the lock core and the registry adapter (no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


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
        return self.media_type in INDEX_MEDIA_TYPES
