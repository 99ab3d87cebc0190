"""The build wing's vocabulary: what to build (no I/O; use cases may name it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# BuildKit's own attestations a build can carry (buildx --provenance / --sbom).
ATTESTATIONS = ("provenance", "sbom")


@dataclass(frozen=True)
class BuildRequest:
    """One reproducible OCI build: no cache, fixed epoch; BuildKit's attestations only when
    ``attest`` names them (their timestamps and builder ids differ from build to build)."""

    context: Path
    dest: Path
    source_date_epoch: int
    dockerfile: Path | None = None
    target: str | None = None
    platforms: Sequence[str] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    rewrite_timestamp: bool = True
    builder: str | None = None
    host: str | None = None
    attest: tuple[str, ...] = ()  # of ATTESTATIONS
    sbom_generator: str | None = None  # the SBOM scanner image; None: BuildKit's default


@dataclass(frozen=True)
class BuilderStatus:
    """One builder of a pool (a buildx builder or a docker context), as buildx sees it."""

    name: str
    known: bool  # buildx lists a builder or docker context of this name
    up: bool  # at least one of its nodes answers
    driver: str = ""  # docker, docker-container, remote, kubernetes ("" when unknown)
    nodes: int = 0  # nodes that answer; each runs builds of its own
    detail: str = ""  # why it is down ("" when up)
