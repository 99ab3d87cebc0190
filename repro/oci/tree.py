"""Resolve an image: index.json -> (nested) indexes -> per-platform manifests -> config, layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.errors import InputError
from repro.oci import mediatypes
from repro.oci.blobsource import BlobSource, parse_json_document, read_json_blob
from repro.oci.digests import check_digest, sha256_digest

MAX_INDEX_DEPTH = 8
ATTESTATION_REFERENCE_TYPE = "attestation-manifest"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Attestation:
    """A BuildKit provenance/SBOM manifest (platform unknown/unknown) and what it describes."""

    digest: str
    refers_to: str | None
    size: int | None = None  # as its descriptor states


@dataclass(frozen=True)
class PlatformImage:
    platform: str
    manifest: Descriptor
    manifest_json: Mapping[str, Any]
    config: Descriptor
    config_json: Mapping[str, Any]
    layers: tuple[Descriptor, ...]

    @property
    def diff_ids(self) -> tuple[str | None, ...]:
        rootfs = self.config_json.get("rootfs")
        found = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        listed = found if isinstance(found, list) else []
        return tuple(str(listed[i]) if i < len(listed) else None for i in range(len(self.layers)))


@dataclass(frozen=True)
class ImageTree:
    index_digest: str  # sha256 of the top-level index.json bytes
    image_digest: str  # digest of the single image it names, else index_digest
    image_index: Mapping[str, Any] | None  # the first index document below index.json
    images: Mapping[str, PlatformImage]
    attestations: tuple[Attestation, ...]
    # digest -> size of every document read (and so verified) below index.json: nested
    # indexes, manifests and configs
    documents: Mapping[str, int] = field(default_factory=dict)


def read_index(source: BlobSource) -> tuple[str, dict[str, Any]]:
    raw = source.index_bytes()
    document = parse_json_document(raw, what=f"index.json in {source.location}")
    return sha256_digest(raw), document


def top_image_digest(index_digest: str, index: Mapping[str, Any], where: str) -> str:
    manifests = index.get("manifests")
    if isinstance(manifests, list) and len(manifests) == 1 and isinstance(manifests[0], dict):
        return check_digest(manifests[0].get("digest"), where=where)
    return index_digest


def parse_descriptor(raw: Any, *, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a descriptor is not a JSON object")
    size = raw.get("size")
    if not isinstance(size, int) or size < 0:
        raise InputError(f"{where}: descriptor {raw.get('digest')!r} has no valid size")
    annotations = raw.get("annotations")
    return Descriptor(
        media_type=str(raw.get("mediaType", "")),
        digest=check_digest(raw.get("digest"), where=where),
        size=size,
        annotations=dict(annotations) if isinstance(annotations, dict) else {},
        platform=platform_string(raw.get("platform")),
    )


def platform_string(raw: Any) -> str | None:
    """'os/arch[/variant]' from a descriptor platform or an image config, else None."""
    if not isinstance(raw, Mapping):
        return None
    system, arch = raw.get("os"), raw.get("architecture")
    if not isinstance(system, str) or not isinstance(arch, str):
        return None
    variant = raw.get("variant")
    return (
        f"{system}/{arch}/{variant}" if isinstance(variant, str) and variant else f"{system}/{arch}"
    )


def is_attestation(descriptor: Descriptor) -> bool:
    kind = descriptor.annotations.get("vnd.docker.reference.type")
    return kind == ATTESTATION_REFERENCE_TYPE or descriptor.platform == "unknown/unknown"


def platform_matches(candidate: str, wanted: str | None) -> bool:
    return wanted is None or candidate == wanted or candidate.startswith(wanted + "/")


def resolve_tree(source: BlobSource, *, platform: str | None = None) -> ImageTree:
    index_digest, index = read_index(source)
    where = f"index.json in {source.location}"
    walker = _Walker(source, platform)
    walker.walk_index(index, depth=0)
    return ImageTree(
        index_digest=index_digest,
        image_digest=top_image_digest(index_digest, index, where),
        image_index=walker.image_index,
        images=walker.images,
        attestations=tuple(walker.attestations),
        documents=dict(walker.documents),
    )


class _Walker:
    def __init__(self, source: BlobSource, platform: str | None) -> None:
        self.source = source
        self.platform = platform
        self.images: dict[str, PlatformImage] = {}
        self.attestations: list[Attestation] = []
        self.image_index: dict[str, Any] | None = None
        self.documents: dict[str, int] = {}

    def walk_index(self, index: Mapping[str, Any], *, depth: int) -> None:
        if depth > MAX_INDEX_DEPTH:
            raise InputError(f"{self.source.location}: image indexes nested too deeply")
        manifests = index.get("manifests")
        if not isinstance(manifests, list):
            raise InputError(f"{self.source.location}: an image index has no manifests list")
        for raw in manifests:
            descriptor = parse_descriptor(raw, where=self.source.location)
            if is_attestation(descriptor):
                refers_to = descriptor.annotations.get("vnd.docker.reference.digest")
                self.attestations.append(Attestation(descriptor.digest, refers_to, descriptor.size))
                continue
            if descriptor.platform is not None and not platform_matches(
                descriptor.platform, self.platform
            ):
                continue
            self._walk_descriptor(descriptor, depth=depth)

    def _walk_descriptor(self, descriptor: Descriptor, *, depth: int) -> None:
        document = read_json_blob(self.source, descriptor.digest, declared_size=descriptor.size)
        self.documents[descriptor.digest] = descriptor.size
        kind = mediatypes.document_kind(document, descriptor.media_type or None)
        if kind == "index":
            if self.image_index is None:
                self.image_index = document
            self.walk_index(document, depth=depth + 1)
        elif kind == "manifest":
            self._add_image(descriptor, document)
        # Anything else (artifacts, signatures) is not an image; it plays no part.

    def _add_image(self, descriptor: Descriptor, manifest: dict[str, Any]) -> None:
        where = f"manifest {descriptor.digest} in {self.source.location}"
        config = parse_descriptor(manifest.get("config"), where=where)
        raw_layers = manifest.get("layers")
        if not isinstance(raw_layers, list):
            raise InputError(f"{where}: no layers list")
        layers = tuple(parse_descriptor(layer, where=where) for layer in raw_layers)
        config_json = read_json_blob(self.source, config.digest, declared_size=config.size)
        self.documents[config.digest] = config.size
        platform = descriptor.platform or platform_string(config_json) or "unknown"
        if not platform_matches(platform, self.platform):
            return
        key, counter = platform, 1
        while key in self.images:  # two images for one platform (e.g. docker save a b)
            counter += 1
            key = f"{platform}#{counter}"
        self.images[key] = PlatformImage(
            platform=key,
            manifest=descriptor,
            manifest_json=manifest,
            config=config,
            config_json=config_json,
            layers=layers,
        )
