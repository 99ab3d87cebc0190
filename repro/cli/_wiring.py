"""The real adapters, built from the project configuration, for the use cases to receive.

The only module that puts the wings (registry, build, git) and the use cases together:
the use cases declare what they need as Protocols; this gives them buildx, git and the
registry clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repro.config import ProjectConfig, load_config
from repro.doctor import EnvironmentProbe
from repro.environment import EngineFacts, RegistryStatus
from repro.git import Git, git_version
from repro.project import ImageArgument, image_argument
from repro.registry.client import (
    ClientSettings,
    RegistrySession,
    RequestCounter,
    hosts_of,
    timeout_from_environment,
)
from repro.registry.model import ManifestKey
from repro.registry.resolver import ImageResolver
from repro.registry.tls import TrustSettings

if TYPE_CHECKING:
    # Imported where used: python_on_whales costs a third of a second, the OCI core a
    # tenth, and `repro lock` needs neither.
    from repro.build.buildx import Buildx
    from repro.oci.blobsource import BlobSource
    from repro.registry.referrers import ArtifactRegistry


def project_config(start: Path | None = None) -> ProjectConfig:
    """The configuration nearest ``start`` (default: the current directory)."""
    return load_config(start if start is not None else Path.cwd())


def builder() -> Buildx:
    """buildx: the Builder and the EngineProbe."""
    from repro.build.buildx import Buildx

    return Buildx()


def source_control() -> Git:
    return Git()


def registry_session(config: ProjectConfig) -> RegistrySession:
    """Trust (OS store, certs.d, ca-files, REPRO_CA_FILE), credentials (docker and
    containers auth files) and deadlines for every registry request of this run."""
    settings = ClientSettings(
        timeout=timeout_from_environment(config.registry_timeout),
        insecure=config.insecure_registries,
    )
    return RegistrySession(settings=settings, trust=TrustSettings(ca_files=config.ca_files))


def image_resolver(config: ProjectConfig) -> ImageResolver:
    return ImageResolver(mirrors=config.mirrors, session=registry_session(config))


class TagDigests:
    """`--outdated` and `--check --online`: what each tag serves now, one manifest
    request per unique tag (the resolver's GET, hashed), nothing else fetched."""

    def __init__(self, config: ProjectConfig) -> None:
        self._resolver = image_resolver(config)

    @property
    def counter(self) -> RequestCounter:
        return self._resolver.counter

    def served_digests(self, keys: Sequence[ManifestKey]) -> dict[ManifestKey, str]:
        resolved = self._resolver.resolve_all(keys)
        return {key: resolution.digest for key, resolution in resolved.items()}


def tag_digests(config: ProjectConfig) -> TagDigests:
    return TagDigests(config)


def artifact_registry(config: ProjectConfig) -> ArtifactRegistry:
    """Pushes, publications and the reads that check them go to the registry named,
    never a mirror (a mirror would not have what was just pushed)."""
    from repro.registry.referrers import ArtifactRegistry
    from repro.registry.skopeo import push_oci_archive

    session = registry_session(config)

    def push(archive: Path, reference: str, _plain_http: bool) -> None:
        from repro.dockerfile import parse_image_ref

        client = session.client(parse_image_ref(reference).registry)
        push_oci_archive(archive, reference, client.skopeo_access())

    return ArtifactRegistry(session.client, push_archive=push)


class ImageOpener:
    """An image argument as a BlobSource: an existing path, else a registry reference."""

    def __init__(self, config: ProjectConfig) -> None:
        self._config = config

    def open(self, text: str) -> BlobSource:
        from repro.oci import open_image
        from repro.registry.image import open_registry_image

        if image_argument(text) is ImageArgument.PATH:
            return open_image(text)  # a missing path says "does not exist"
        return open_registry_image(
            text, mirrors=self._config.mirrors, session=registry_session(self._config)
        )


def image_opener(config: ProjectConfig) -> ImageOpener:
    return ImageOpener(config)


class _Environment:
    def __init__(self, config: ProjectConfig) -> None:
        self._config = config
        self._session = registry_session(config)

    def engine(self, builder: str | None) -> EngineFacts:
        from repro.build.buildx import probe_engine

        return probe_engine(builder=builder)

    def git_version(self) -> str | None:
        return git_version()

    def registry(self, host: str) -> RegistryStatus:
        return self._session.client(host).diagnose()


def environment(config: ProjectConfig) -> EnvironmentProbe:
    """What `repro doctor` asks: the engine, git and each registry."""
    return _Environment(config)


def registry_hosts(config: ProjectConfig, extra: list[str]) -> list[str]:
    """The registries `repro doctor` checks: configured, asked for, and their mirrors."""
    return hosts_of([*config.registries, *extra], config.mirrors)
