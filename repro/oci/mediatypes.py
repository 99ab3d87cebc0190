"""Media types (the only place repro spells them): the OCI image spec and its Docker schema2
twins, the artifacts repro attaches to images, and layer compression."""

from __future__ import annotations

from enum import Enum
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# What a registry client accepts for /manifests/, indexes first.
MANIFEST_ACCEPT = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

# Artifacts: the empty config of an OCI artifact manifest, and what repro attaches.
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
IN_TOTO = "application/vnd.in-toto+json"  # a DSSE payload: an in-toto Statement
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
REPRO_SIGNOFF = "application/vnd.repro.signoff.v1+json"  # a sign-off report artifact
JSON = "application/json"
# A Sigstore bundle (v0.3) around one DSSE envelope: cosign's OCI 1.1 referrer form.
SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Compression(Enum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


def compression_from_magic(head: bytes) -> Compression:
    """Sniff the compression from a blob's first bytes (docker save layers carry no type)."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


def document_kind(document: dict[str, Any], declared: str | None) -> str:
    """'index' or 'manifest' for a JSON document, trusting its shape when the type is absent."""
    media_type = declared or document.get("mediaType")
    if media_type in INDEX_TYPES:
        return "index"
    if media_type in MANIFEST_TYPES:
        return "manifest"
    if "manifests" in document:
        return "index"
    if "layers" in document and "config" in document:
        return "manifest"
    return "unknown"
