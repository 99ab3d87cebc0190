"""Facts about the environment (engine, builder, registries) and the pure rules that judge them.

The adapters (repro.build.buildx, repro.registry.client) gather these facts; everything
here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# rewrite-timestamp (tar mtimes clamped to SOURCE_DATE_EPOCH) first shipped in BuildKit 0.13.
MIN_BUILDKIT = (0, 13)

# Docker Engine vendors BuildKit for its built-in "docker" builder; distribution builds
# (Debian's docker.io among them) report it as "v0.0.0+unknown". Which BuildKit each engine
# release vendors, from moby's vendor.mod:
ENGINE_TO_BUILDKIT: dict[tuple[int, int], tuple[int, int]] = {
    (24, 0): (0, 11),
    (25, 0): (0, 12),
    (26, 0): (0, 13),
    (26, 1): (0, 13),
    (27, 0): (0, 14),
    (27, 1): (0, 15),
    (27, 2): (0, 15),
    (27, 3): (0, 16),
    (27, 4): (0, 17),
    (27, 5): (0, 18),
    (28, 0): (0, 20),
    (28, 1): (0, 21),
    (28, 2): (0, 22),
    (28, 3): (0, 23),
    (28, 4): (0, 24),
    (28, 5): (0, 25),
}

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The first ``major.minor[.patch]`` in ``text``; None when there is none or it is 0.0.0."""
    match = _VERSION.search(text)
    if match is None:
        return None
    version = (int(match[1]), int(match[2]), int(match[3] or 0))
    return None if version == (0, 0, 0) else version


@dataclass(frozen=True)
class BuilderFacts:
    name: str
    driver: str
    buildkit_reported: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class EngineFacts:
    server_version: str
    api_version: str
    client_version: str
    buildx_version: str
    containerd_snapshotter: bool
    builder: BuilderFacts


@dataclass(frozen=True)
class BuildKitVersion:
    version: tuple[int, int, int] | None
    inferred: bool  # True when taken from the engine version, not reported by BuildKit

    @property
    def text(self) -> str:
        if self.version is None:
            return "unknown"
        major, minor, patch = self.version
        return (
            f"{major}.{minor}.x (bundled with the engine)"
            if self.inferred
            else (f"{major}.{minor}.{patch}")
        )

    @property
    def supports_rewrite_timestamp(self) -> bool:
        return self.version is not None and self.version[:2] >= MIN_BUILDKIT


def buildkit_version(facts: EngineFacts) -> BuildKitVersion:
    """BuildKit's own version when it reports one, else what the engine is known to vendor."""
    reported = parse_version(facts.builder.buildkit_reported)
    if reported is not None:
        return BuildKitVersion(reported, inferred=False)
    if facts.builder.driver == "docker":
        engine = parse_version(facts.server_version)
        if engine is not None:
            known = ENGINE_TO_BUILDKIT.get(engine[:2])
            if known is None and engine[:2] > max(ENGINE_TO_BUILDKIT):
                known = ENGINE_TO_BUILDKIT[max(ENGINE_TO_BUILDKIT)]  # newer engines only move up
            if known is not None:
                return BuildKitVersion((*known, 0), inferred=True)
    return BuildKitVersion(None, inferred=False)


@dataclass(frozen=True)
class RegistryFinding:
    """One thing `repro doctor` learnt about a registry: its TLS, or its auth."""

    aspect: str  # "tls" | "auth"
    ok: bool | None  # None: works, but worth a look (a warning)
    detail: str  # never a secret
    fix: str | None = None


@dataclass(frozen=True)
class RegistryStatus:
    host: str
    reachable: bool
    detail: str
    findings: tuple[RegistryFinding, ...] = ()
    fix: str | None = None
