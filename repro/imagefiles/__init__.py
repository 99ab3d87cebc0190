"""Image references in files other than Dockerfiles: find them, pin them by span (pure).

Compose files, buildx bake files (HCL and JSON), Kubernetes manifests, Helm values and
GitHub workflows. ``classify`` says which kind a file is (by name, see discover),
``scan_file`` finds its sites (bytes in, frozen dataclasses out: no processes, no
network), and ``pin_file`` writes digests into exactly the reference text, every other
byte kept. ``resolve_bake`` merges bake files and applies ``inherits``.

Names are loaded on first use: `repro lock`'s discovery asks only the name rules
(``repro.imagefiles.discover``), and the hermetic check of files repro.lock already
describes never pays for PyYAML.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from repro.imagefiles.scan import PinCheckFailed, pin_file, pinned_file, scan_file

_HOMES = {
    "resolve_bake": "bake",
    "DiscoveryRules": "discover",
    "classify": "discover",
    "kind_by_name": "discover",
    "matches_any": "discover",
    "may_be_image_file": "discover",
    "worth_parsing": "discover",
    "BakeDefinition": "model",
    "BakeTarget": "model",
    "ComposeBuild": "model",
    "FileKind": "model",
    "ImageFile": "model",
    "ImageSite": "model",
    "PinStyle": "model",
    "Problem": "model",
    "SiteKind": "model",
    "PinCheckFailed": "scan",
    "pin_file": "scan",
    "pinned_file": "scan",
    "scan_file": "scan",
}

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
    "pinned_file",
    "resolve_bake",
    "scan_file",
    "worth_parsing",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'repro.imagefiles' has no attribute {name!r}")
    value = getattr(import_module(f"repro.imagefiles.{home}"), name)
    globals()[name] = value
    return value
