"""The result of a comparison: frozen dataclasses and a stable JSON form.

JSON schema (kind "oci-comparison", schema_version from repro.jsonout):
  verdict            "identical" | "differs" (differences left after `ignore`)
  bit_identical      true iff the image digests are equal
  index_digest_a/b   sha256 of each side's top-level index.json
  image_digest_a/b   digest of the image index.json names (index_digest if it names several)
  attestations_a/b   [{"digest", "refers_to"}] provenance/SBOM manifests, sorted by digest
  platforms          [{"platform", "manifest_digest_a", "manifest_digest_b", "identical",
                       "difference_count"}] sorted by platform
  differences        [Difference.to_json_dict()] sorted by (platform, layer, path, field, ...)
  counts             {"total", "ignored", "by_cause": {cause_id: n}, "by_area": {area: n}}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from repro.jsonout import document
from repro.oci.jsontypes import JsonValue

VERDICT_IDENTICAL = "identical"
VERDICT_DIFFERS = "differs"

# Where a difference lives; `path` is a JSON path for the first four, a file path for "file".
AREA_INDEX = "index"
AREA_MANIFEST = "manifest"
AREA_CONFIG = "config"
AREA_LAYER = "layer"
AREA_FILE = "file"

UNCLASSIFIED_ID = "unclassified"
UNCLASSIFIED_TITLE = "Unclassified difference"
UNCLASSIFIED_FIX = (
    "No known cause; inspect the file and the instruction that wrote it, "
    "and make that step deterministic."
)


@dataclass(frozen=True)
class Difference:
    platform: str  # "" for differences of the index itself
    area: str
    layer: int | None
    instruction: str | None  # the Dockerfile instruction that made the layer
    path: str
    field: str
    kind: str  # "changed" | "added" (only in B) | "removed" (only in A)
    value_a: JsonValue
    value_b: JsonValue
    cause_id: str = UNCLASSIFIED_ID
    cause_title: str = UNCLASSIFIED_TITLE
    fix: str = UNCLASSIFIED_FIX

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.platform,
            self.layer is not None,
            self.layer if self.layer is not None else 0,
            self.path,
            self.field,
            self.area,
            self.kind,
            _stable(self.value_a),
            _stable(self.value_b),
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "area": self.area,
            "layer": self.layer,
            "instruction": self.instruction,
            "path": self.path,
            "field": self.field,
            "kind": self.kind,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "cause": {"id": self.cause_id, "title": self.cause_title, "fix": self.fix},
        }


@dataclass(frozen=True)
class PlatformComparison:
    platform: str
    manifest_digest_a: str | None  # None: the platform is missing on that side
    manifest_digest_b: str | None
    differences: tuple[Difference, ...]

    @property
    def identical(self) -> bool:
        return self.manifest_digest_a is not None and (
            self.manifest_digest_a == self.manifest_digest_b
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "manifest_digest_a": self.manifest_digest_a,
            "manifest_digest_b": self.manifest_digest_b,
            "identical": self.identical,
            "difference_count": len(self.differences),
        }


@dataclass(frozen=True)
class AttestationRef:
    digest: str
    refers_to: str | None


@dataclass(frozen=True)
class Comparison:
    index_digest_a: str
    index_digest_b: str
    image_digest_a: str
    image_digest_b: str
    platforms: tuple[PlatformComparison, ...]
    differences: tuple[Difference, ...]  # all of them, sorted; index-level ones have platform ""
    attestations_a: tuple[AttestationRef, ...] = ()
    attestations_b: tuple[AttestationRef, ...] = ()
    ignored_count: int = 0

    @property
    def bit_identical(self) -> bool:
        return self.image_digest_a == self.image_digest_b

    @property
    def verdict(self) -> str:
        return VERDICT_IDENTICAL if not self.differences else VERDICT_DIFFERS

    @property
    def counts_by_cause(self) -> dict[str, int]:
        return dict(sorted(Counter(d.cause_id for d in self.differences).items()))

    @property
    def counts_by_area(self) -> dict[str, int]:
        return dict(sorted(Counter(d.area for d in self.differences).items()))

    def to_json_dict(self) -> dict[str, Any]:
        return document(
            "oci-comparison",
            {
                "verdict": self.verdict,
                "bit_identical": self.bit_identical,
                "index_digest_a": self.index_digest_a,
                "index_digest_b": self.index_digest_b,
                "image_digest_a": self.image_digest_a,
                "image_digest_b": self.image_digest_b,
                "attestations_a": _attestations_json(self.attestations_a),
                "attestations_b": _attestations_json(self.attestations_b),
                "platforms": [p.to_json_dict() for p in sorted_platforms(self.platforms)],
                "differences": [d.to_json_dict() for d in sort_differences(self.differences)],
                "counts": {
                    "total": len(self.differences),
                    "ignored": self.ignored_count,
                    "by_cause": self.counts_by_cause,
                    "by_area": self.counts_by_area,
                },
            },
        )


def sort_differences(differences: Iterable[Difference]) -> tuple[Difference, ...]:
    return tuple(sorted(differences, key=Difference.sort_key))


def sorted_platforms(platforms: Iterable[PlatformComparison]) -> tuple[PlatformComparison, ...]:
    return tuple(sorted(platforms, key=lambda p: p.platform))


def _attestations_json(attestations: tuple[AttestationRef, ...]) -> list[dict[str, Any]]:
    ordered = sorted(attestations, key=lambda a: (a.digest, a.refers_to or ""))
    return [{"digest": a.digest, "refers_to": a.refers_to} for a in ordered]


def _stable(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True)
