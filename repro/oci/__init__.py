"""OCI image comparison core: bytes and streams in, frozen dataclasses out.

No subprocess, no network: blobs come from a BlobSource (layout dir, OCI tar, docker save
tar; a registry adapter can implement the same protocol). Every blob read is verified
against its digest. Rendering lives elsewhere.
"""

from __future__ import annotations

from repro.oci.blobsource import BlobSource
from repro.oci.causes import RULES, CauseContext, CauseRule, classify
from repro.oci.compare import compare_images
from repro.oci.layout import OciLayoutDir
from repro.oci.model import (
    AttestationRef,
    Comparison,
    Difference,
    PlatformComparison,
)
from repro.oci.opening import open_image
from repro.oci.tarimage import DockerArchiveTar, OciTar
from repro.oci.tree import Attestation, ImageTree, PlatformImage, resolve_tree

__all__ = [
    "RULES",
    "Attestation",
    "AttestationRef",
    "BlobSource",
    "CauseContext",
    "CauseRule",
    "Comparison",
    "Difference",
    "DockerArchiveTar",
    "ImageTree",
    "OciLayoutDir",
    "OciTar",
    "PlatformComparison",
    "PlatformImage",
    "classify",
    "compare_images",
    "open_image",
    "resolve_tree",
]
