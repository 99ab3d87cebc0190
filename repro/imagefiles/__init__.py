"""Image references in files other than Dockerfiles: find them, pin them by span (pure).

Compose files, buildx bake files (HCL and JSON), Kubernetes manifests, Helm values and
GitHub workflows. ``classify`` says which kind a file is (by name, see discover),
``scan_file`` finds its sites (bytes in, frozen dataclasses out: no processes, no
network), and ``pin_file`` writes digests into exactly the reference text, every other
byte kept. ``resolve_bake`` merges bake files and applies ``inherits``.
"""

from repro.imagefiles.bake import resolve_bake
from repro.imagefiles.discover import (
    DiscoveryRules,
    classify,
    kind_by_name,
    matches_any,
    may_be_image_file,
    worth_parsing,
)
from repro.imagefiles.model import (
    BakeDefinition,
    BakeTarget,
    ComposeBuild,
    FileKind,
    ImageFile,
    ImageSite,
    PinStyle,
    Problem,
    SiteKind,
)
from repro.imagefiles.scan import PinCheckFailed, pin_file, scan_file

__all__ = [
    "BakeDefinition",
    "BakeTarget",
    "ComposeBuild",
    "DiscoveryRules",
    "FileKind",
    "ImageFile",
    "ImageSite",
    "PinCheckFailed",
    "PinStyle",
    "Problem",
    "SiteKind",
    "classify",
    "kind_by_name",
    "matches_any",
    "may_be_image_file",
    "pin_file",
    "resolve_bake",
    "scan_file",
    "worth_parsing",
]
