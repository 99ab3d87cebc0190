"""The result of a comparison: frozen dataclasses and a stable JSON form.

JSON schema (kind "oci-comparison", schema_version COMPARISON_SCHEMA_VERSION):
  verdict            "identical" | "differs" (differences left after `ignore`)
  bit_identical      true iff the image digests are equal
  images_identical   bit_identical, or (attestations_apart) no difference in the image
  attestations_apart BuildKit attestation manifests were listed, not compared
  index_digest_a/b   sha256 of each side's top-level index.json
  image_digest_a/b   digest of the image index.json names (index_digest if it names several)
  attestations_a/b   [{"digest", "refers_to"}] provenance/SBOM manifests, sorted by digest
  platforms          [{"platform", "manifest_digest_a", "manifest_digest_b", "identical",
                       "difference_count", "layer_instructions"}] sorted by platform
  differences        [Difference.to_json_dict()] sorted by (platform, layer, path, field, ...);
                     each names its "group" (an index into groups), a file entry its "size",
                     a content change its "evidence" (ContentEvidence.to_json_dict())
  groups             [DifferenceGroup.to_json_dict()]: the differences of one layer and one
                     cause, with the fix made from what was seen there
  counts             {"total", "ignored", "by_cause": {cause_id: n}, "by_area": {area: n}}
  blobs              {"trust_digests": bool, "a": {"count", "bytes"}, "b": {...}}: the blobs
                     of each side read and checked against their digests (with
                     trust_digests, blobs whose digests are equal on both sides are not read)
  masked_values      how many differences had values that look secret, shown masked as
                     sha256:<8 hex>…(N chars) (repro.masking)

Version 2 added groups, each platform's layer_instructions, size, evidence and group to
each difference, blobs and masked_values.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from repro.jsonout import document
from repro.oci.jsontypes import JsonValue

COMPARISON_SCHEMA_VERSION = 2

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
class ContentEvidence:
    """Where two differing file contents differ, as far as their samples tell.

    Offsets count bytes from the start of the file. The samples hold the first
    ``sample_bytes`` bytes of each side and block checksums of the rest, so a difference
    there has an exact offset and bytes to show; one after them has a byte range.
    """

    size_a: int
    size_b: int
    first_offset: int | None  # the first differing byte, when within the sampled head
    first_range: tuple[int, int] | None  # else where the first difference lies, if known
    ranges: tuple[tuple[int, int], ...]  # the first differing byte ranges within the head
    more_ranges: bool  # more ranges differ within the head than ``ranges`` lists
    differs_after_sample: bool  # bytes after the head differ too
    sample_bytes: int
    window_offset: int  # where window_a/window_b start
    window_a: bytes
    window_b: bytes
    reordered_lines: bool  # the same lines, in another order
    temp_paths_a: tuple[str, ...] = ()  # temporary build directories each side mentions
    temp_paths_b: tuple[str, ...] = ()

    def confined_to(self, start: int, end: int) -> bool:
        """Every difference lies within bytes [start, end) and the sizes agree."""
        return (
            self.size_a == self.size_b
            and bool(self.ranges)
            and not self.more_ranges
            and not self.differs_after_sample
            and all(start <= low and high <= end for low, high in self.ranges)
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "size_a": self.size_a,
            "size_b": self.size_b,
            "first_difference": self.first_offset,
            "first_difference_within": list(self.first_range) if self.first_range else None,
            "differing_ranges": [list(r) for r in self.ranges],
            "more_differing_ranges": self.more_ranges,
            "differs_after_sample": self.differs_after_sample,
            "sample_bytes": self.sample_bytes,
            "a": window_json(self.window_offset, self.window_a),
            "b": window_json(self.window_offset, self.window_b),
            "reordered_lines": self.reordered_lines,
            "temp_paths_a": list(self.temp_paths_a),
            "temp_paths_b": list(self.temp_paths_b),
        }


def printable(data: bytes) -> str:
    """Bytes as text a terminal can show: printable ASCII as is, anything else as '.'."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


def window_json(offset: int, data: bytes) -> dict[str, Any]:
    return {"offset": offset, "hex": data.hex(" "), "text": printable(data)}


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
    size: int | None = None  # a file entry's size (the larger side's)
    evidence: ContentEvidence | None = None

    @property
    def group_key(self) -> tuple[str, int | None, str | None, str]:
        """Differences of one layer (instruction) and one cause form one group."""
        return (self.platform, self.layer, self.instruction, self.cause_id)

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

    def to_json_dict(self, group: int | None = None) -> dict[str, Any]:
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
            "size": self.size,
            "cause": {"id": self.cause_id, "title": self.cause_title, "fix": self.fix},
            "evidence": self.evidence.to_json_dict() if self.evidence else None,
            "group": group,
        }


class EditKind(StrEnum):
    """How a fix changes the instruction that made the layer (or its stage)."""

    APPEND_TO_RUN = "append-to-run"  # `RUN ... && <text>`
    INSERT_BEFORE_IN_RUN = "insert-before-in-run"  # `<text> && ` before the first `pattern`
    REPLACE_IN_RUN = "replace-in-run"  # every `pattern` in the RUN becomes `text`
    ADD_STAGE_ARG = "add-stage-arg"  # `ARG <text>` after the stage's FROM, unless declared
    SET_COPY_FLAG = "set-copy-flag"  # `COPY <text> ...` (a flag such as --chmod=0644)
    # The COPY goes through a stage of its own that runs `chmod -R <text>` on what it
    # copied, and copies it from there: one fix for files and directories alike.
    COPY_VIA_MODE_STAGE = "copy-via-mode-stage"
    # `ARG NAME` (no default) before the instruction becomes `ARG <text>` (NAME=value)
    SET_ARG_DEFAULT = "set-arg-default"


class FixScope(StrEnum):
    DOCKERFILE = "dockerfile"  # edits to the Dockerfile make the layer reproducible
    BUILD = "build"  # a build option, not the Dockerfile (repro verify sets most)
    FOLLOWS = "follows"  # nothing of its own: fixing another group fixes this one
    MANUAL = "manual"  # no mechanical change is known: the text says what to do


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    text: str
    pattern: str = ""  # a regular expression, for INSERT_BEFORE_IN_RUN and REPLACE_IN_RUN

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "text": self.text, "pattern": self.pattern or None}


@dataclass(frozen=True)
class Fix:
    """What to change, made from what was seen in one group.

    ``edits`` are the mechanical changes to the instruction that made the layer (a RUN
    edit on a ``COPY --from`` layer applies to the source stage's RUN; the first edit
    whose pattern is found there wins among alternatives); ``paths`` are the observed
    paths, by glob where a family was seen, that the fix covers.
    """

    cause_id: str
    scope: FixScope
    text: str
    edits: tuple[Edit, ...] = ()
    paths: tuple[str, ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "scope": str(self.scope),
            "text": self.text,
            "edits": [edit.to_json_dict() for edit in self.edits],
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class DifferenceGroup:
    """The differences of one platform, layer and cause: one line of the report."""

    platform: str
    layer: int | None
    instruction: str | None
    cause_id: str
    cause_title: str
    differences: tuple[Difference, ...]
    fix: Fix

    @property
    def key(self) -> tuple[str, int | None, str | None, str]:
        return (self.platform, self.layer, self.instruction, self.cause_id)

    @property
    def paths(self) -> tuple[str, ...]:
        """Each differing path once, in report order."""
        return tuple(dict.fromkeys(d.path for d in self.differences))

    @property
    def total_bytes(self) -> int:
        sizes: dict[str, int] = {}
        for diff in self.differences:
            if diff.size is not None:
                sizes[diff.path] = max(sizes.get(diff.path, 0), diff.size)
        return sum(sizes.values())

    def to_json_dict(self, examples: int = 3) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "layer": self.layer,
            "instruction": self.instruction,
            "cause": {"id": self.cause_id, "title": self.cause_title},
            "difference_count": len(self.differences),
            "path_count": len(self.paths),
            "example_paths": list(self.paths[:examples]),
            "total_bytes": self.total_bytes,
            "fix": self.fix.to_json_dict(),
        }


@dataclass(frozen=True)
class LayerInventory:
    """Files of one volatile family (a cause) present in a differing layer, on either side,
    whether or not they differed this time: a fix made from them covers the next build."""

    platform: str
    layer: int
    cause_id: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class PlatformComparison:
    platform: str
    manifest_digest_a: str | None  # None: the platform is missing on that side
    manifest_digest_b: str | None
    differences: tuple[Difference, ...]
    # The instruction that made each layer (A's history; B's where A has none).
    instructions: tuple[str | None, ...] = ()

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
            "layer_instructions": list(self.instructions),
        }


@dataclass(frozen=True)
class AttestationRef:
    digest: str
    refers_to: str | None


@dataclass(frozen=True)
class BlobsChecked:
    """What compare read of each side and checked against its digest."""

    trust_digests: bool = False  # --trust-digests: equal digests were taken on trust
    count_a: int = 0
    bytes_a: int = 0
    count_b: int = 0
    bytes_b: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "trust_digests": self.trust_digests,
            "a": {"count": self.count_a, "bytes": self.bytes_a},
            "b": {"count": self.count_b, "bytes": self.bytes_b},
        }


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
    groups: tuple[DifferenceGroup, ...] = ()  # the differences by layer and cause, in order
    # BuildKit's attestation manifests were listed, not compared (compare_images).
    attestations_apart: bool = False
    blobs: BlobsChecked = BlobsChecked()
    masked_values: int = 0

    @property
    def bit_identical(self) -> bool:
        return self.image_digest_a == self.image_digest_b

    @property
    def images_identical(self) -> bool:
        """The images are bit-identical: the whole index, or, with attestations apart,
        every platform manifest and the index less its attestation manifests."""
        if self.bit_identical:
            return True
        return self.attestations_apart and not self.differences

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
        group_of: Mapping[tuple[str, int | None, str | None, str], int] = {
            group.key: index for index, group in enumerate(self.groups)
        }
        return document(
            "oci-comparison",
            {
                "verdict": self.verdict,
                "bit_identical": self.bit_identical,
                "images_identical": self.images_identical,
                "attestations_apart": self.attestations_apart,
                "index_digest_a": self.index_digest_a,
                "index_digest_b": self.index_digest_b,
                "image_digest_a": self.image_digest_a,
                "image_digest_b": self.image_digest_b,
                "attestations_a": _attestations_json(self.attestations_a),
                "attestations_b": _attestations_json(self.attestations_b),
                "platforms": [p.to_json_dict() for p in sorted_platforms(self.platforms)],
                "differences": [
                    d.to_json_dict(group_of.get(d.group_key))
                    for d in sort_differences(self.differences)
                ],
                "groups": [group.to_json_dict() for group in self.groups],
                "counts": {
                    "total": len(self.differences),
                    "ignored": self.ignored_count,
                    "by_cause": self.counts_by_cause,
                    "by_area": self.counts_by_area,
                },
                "blobs": self.blobs.to_json_dict(),
                "masked_values": self.masked_values,
            },
            schema_version=COMPARISON_SCHEMA_VERSION,
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
