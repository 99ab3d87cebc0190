"""Build small synthetic OCI images on disk for the repro.oci tests (no engine needed)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from repro.oci import BlobSource

# path -> (content, tar header overrides: mtime, uid, gid, uname, gname, mode, type,
# linkname, devmajor, devminor, pax_headers)
LayerFiles = Mapping[str, tuple[bytes, Mapping[str, Any]]]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: LayerFiles) -> bytes:
    """An uncompressed PAX tar of ``files`` in the given order, with fixed defaults."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, (content, overrides) in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.mode = 0o644
            info.uname = info.gname = "root"
            for key, value in overrides.items():
                setattr(info, key, value)
            if info.isreg():
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
            else:
                info.size = 0
                archive.addfile(info)
    return buffer.getvalue()


def compress(data: bytes, compression: str, level: int = 6) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=level, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=level).compress(data)
    return data


LAYER_MEDIA_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}


@dataclass
class BuiltImage:
    path: Path
    index_digest: str
    manifest_digest: str
    config_digest: str
    layer_digests: list[str] = field(default_factory=list)
    diff_ids: list[str] = field(default_factory=list)
    attestation_digest: str | None = None


class _LayoutWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data: bytes) -> str:
        digest = digest_of(data)
        (self.root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
        return digest

    def json_blob(self, document: Mapping[str, Any]) -> tuple[str, int]:
        data = json.dumps(document, sort_keys=True).encode()
        return self.blob(data), len(data)


def default_instruction(position: int) -> str:
    return f"RUN /bin/sh -c step-{position} # buildkit"


def write_image(
    root: Path,
    layers: Sequence[LayerFiles | bytes],
    *,
    instructions: Sequence[str] | None = None,
    created: str = "2024-01-01T00:00:00Z",
    compression: str = "gzip",
    level: int = 6,
    labels: Mapping[str, str] | None = None,
    manifest_annotations: Mapping[str, str] | None = None,
    env: Sequence[str] = ("PATH=/usr/bin",),
    attestation: bytes | None = None,
    platform: tuple[str, str] = ("linux", "amd64"),
) -> BuiltImage:
    """Write an OCI layout at ``root``: layers (file dicts or raw tar bytes), config with one
    history entry per layer plus an ENV entry, a manifest, and an index naming it. With
    ``attestation`` the index is an image index that also lists an attestation manifest."""
    writer = _LayoutWriter(root)
    instructions = list(instructions or [default_instruction(i) for i in range(len(layers))])
    layer_descriptors, layer_digests, diff_ids = [], [], []
    for files in layers:
        tar_bytes = files if isinstance(files, bytes) else layer_tar(files)
        blob = compress(tar_bytes, compression, level)
        digest = writer.blob(blob)
        layer_digests.append(digest)
        diff_ids.append(digest_of(tar_bytes))
        layer_descriptors.append(
            {"mediaType": LAYER_MEDIA_TYPES[compression], "digest": digest, "size": len(blob)}
        )
    history: list[dict[str, Any]] = [
        {"created": created, "created_by": "ENV PATH=/usr/bin", "empty_layer": True}
    ]
    history += [{"created": created, "created_by": text} for text in instructions]
    config = {
        "created": created,
        "architecture": platform[1],
        "os": platform[0],
        "config": {"Env": list(env), "Labels": dict(labels or {})},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_digest, config_size = writer.json_blob(config)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": layer_descriptors,
    }
    if manifest_annotations:
        manifest["annotations"] = dict(manifest_annotations)
    manifest_digest, manifest_size = writer.json_blob(manifest)
    manifest_descriptor = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest,
        "size": manifest_size,
        "platform": {"os": platform[0], "architecture": platform[1]},
    }
    attestation_digest = None
    top: dict[str, Any] = manifest_descriptor
    if attestation is not None:
        statement_digest = writer.blob(attestation)
        attestation_manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": writer.blob(b"{}"),
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.in-toto+json",
                    "digest": statement_digest,
                    "size": len(attestation),
                }
            ],
        }
        attestation_digest, attestation_size = writer.json_blob(attestation_manifest)
        image_index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                manifest_descriptor,
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": attestation_digest,
                    "size": attestation_size,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {
                        "vnd.docker.reference.digest": manifest_digest,
                        "vnd.docker.reference.type": "attestation-manifest",
                    },
                },
            ],
        }
        index_digest, index_size = writer.json_blob(image_index)
        top = {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": index_digest,
            "size": index_size,
        }
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [top],
    }
    index_bytes = json.dumps(index, sort_keys=True).encode()
    (root / "index.json").write_bytes(index_bytes)
    return BuiltImage(
        root,
        digest_of(index_bytes),
        manifest_digest,
        config_digest,
        layer_digests,
        diff_ids,
        attestation_digest,
    )


def write_two_platform_image(
    root: Path,
    amd64: Sequence[LayerFiles],
    arm64: Sequence[LayerFiles],
    *,
    amd64_instructions: Sequence[str] | None = None,
) -> None:
    """An OCI layout at ``root`` whose index lists a linux/amd64 and a linux/arm64 image."""
    write_image(root, amd64, instructions=amd64_instructions)
    first = json.loads((root / "index.json").read_text())["manifests"]
    write_image(root, arm64, platform=("linux", "arm64"))
    second = json.loads((root / "index.json").read_text())["manifests"]
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": first + second,
    }
    (root / "index.json").write_text(json.dumps(index))


def rewrite_first_manifest(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the first manifest of the layout at ``root``, stored anew."""
    index = json.loads((root / "index.json").read_text())
    descriptor = index["manifests"][0]
    blob = root / "blobs" / "sha256" / descriptor["digest"].removeprefix("sha256:")
    manifest = json.loads(blob.read_bytes())
    change(manifest)
    data = json.dumps(manifest, sort_keys=True).encode()
    digest = digest_of(data)
    (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
    descriptor.update(digest=digest, size=len(data))
    (root / "index.json").write_text(json.dumps(index, sort_keys=True))


def tar_directory(directory: Path, destination: Path) -> Path:
    """Pack a layout directory as `buildx --output type=oci,dest=x.tar` does."""
    with tarfile.open(destination, "w") as archive:
        for path in sorted(directory.rglob("*")):
            archive.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    return destination


def write_docker_save(destination: Path, layers: Sequence[LayerFiles]) -> Path:
    """A legacy `docker save` tar: manifest.json, <config>.json, <id>/layer.tar."""
    tars = [layer_tar(files) for files in layers]
    diff_ids = [digest_of(t) for t in tars]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": default_instruction(i)} for i in range(len(tars))],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = digest_of(config_bytes).removeprefix("sha256:") + ".json"
    members: dict[str, bytes] = {config_name: config_bytes}
    layer_names = []
    for position, tar_bytes in enumerate(tars):
        name = f"layer{position}/layer.tar"
        members[name] = tar_bytes
        layer_names.append(name)
    manifest = [{"Config": config_name, "RepoTags": ["demo:latest"], "Layers": layer_names}]
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(destination, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return destination


class CountingSource:
    """A BlobSource wrapper that records which blobs were opened."""

    def __init__(self, inner: BlobSource) -> None:
        self.inner = inner
        self.opened: list[str] = []

    @property
    def location(self) -> str:
        return self.inner.location

    def index_bytes(self) -> bytes:
        return self.inner.index_bytes()

    def open_blob(self, digest: str) -> BinaryIO:
        self.opened.append(digest)
        return self.inner.open_blob(digest)

    def blob_size(self, digest: str) -> int:
        return self.inner.blob_size(digest)


class MemorySource:
    """A BlobSource held in memory: JSON documents (or bytes) stored under their digests."""

    def __init__(self, location: str = "memory") -> None:
        self.location = location
        self.blobs: dict[str, bytes] = {}
        self.index = b'{"manifests": []}'

    def put(self, value: Mapping[str, Any] | bytes) -> dict[str, Any]:
        """Store ``value`` (a document is written as JSON); its descriptor, without a type."""
        data = value if isinstance(value, bytes) else json.dumps(value).encode()
        digest = digest_of(data)
        self.blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    def set_index(self, document: Mapping[str, Any]) -> bytes:
        self.index = json.dumps(document).encode()
        return self.index

    def index_bytes(self) -> bytes:
        return self.index

    def open_blob(self, digest: str) -> BinaryIO:
        return io.BytesIO(self.blobs[digest])

    def blob_size(self, digest: str) -> int:
        return len(self.blobs[digest])
