"""The real adapters, built from the project configuration, for the use cases to receive.

The only module that puts the wings (registry, build, git) and the use cases together:
the use cases declare what they need as Protocols; this gives them buildx, git and the
registry clients.
"""

from __future__ import annotations

from pathlib import Path

from repro.build.buildx import Buildx, probe_engine
from repro.config import ProjectConfig, load_config
from repro.doctor import EnvironmentProbe
from repro.environment import EngineFacts, RegistryStatus
from repro.git import Git, git_version
from repro.oci import open_image
from repro.oci.blobsource import BlobSource
from repro.project import ImageArgument, image_argument
from repro.registry.client import RegistryClient, client_for
from repro.registry.image import open_registry_image
from repro.registry.referrers import ArtifactRegistry
from repro.registry.resolver import ImageResolver


def project_config(start: Path | None = None) -> ProjectConfig:
    """The configuration nearest ``start`` (default: the current directory)."""
    return load_config(start if start is not None else Path.cwd())


def builder() -> Buildx:
    """buildx: the Builder and the EngineProbe."""
    return Buildx()


def source_control() -> Git:
    return Git()


def image_resolver(config: ProjectConfig) -> ImageResolver:
    return ImageResolver(mirrors=config.mirrors, insecure=config.insecure_registries)


def artifact_registry(config: ProjectConfig) -> ArtifactRegistry:
    return ArtifactRegistry(
        lambda registry: client_for(
            registry, mirrors=config.mirrors, insecure=config.insecure_registries
        )
    )


class ImageOpener:
    """An image argument as a BlobSource: an existing path, else a registry reference."""

    def __init__(self, config: ProjectConfig) -> None:
        self._config = config

    def open(self, text: str) -> BlobSource:
        if image_argument(text) is ImageArgument.PATH:
            return open_image(text)  # a missing path says "does not exist"
        return open_registry_image(
            text, mirrors=self._config.mirrors, insecure=self._config.insecure_registries
        )


def image_opener(config: ProjectConfig) -> ImageOpener:
    return ImageOpener(config)


class _Environment:
    def __init__(self, config: ProjectConfig) -> None:
        self._config = config

    def engine(self, builder: str | None) -> EngineFacts:
        return probe_engine(builder=builder)

    def git_version(self) -> str | None:
        return git_version()

    def registry(self, host: str) -> RegistryStatus:
        return RegistryClient(host, insecure=self._config.insecure_registries).ping()


def environment(config: ProjectConfig) -> EnvironmentProbe:
    """What `repro doctor` asks: the engine, git and each registry."""
    return _Environment(config)
