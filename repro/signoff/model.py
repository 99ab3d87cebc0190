"""What a sign-off produces: one result per check, and the report that holds them.

The report's record (``repro signoff --format json``, the predicate a signed report
carries; kind "signoff", schema_version from repro.jsonout) is serialised and parsed
here, by SignoffReport.to_json and SignoffReport.from_json:
  verdict            "pass" | "fail" (fail iff a check failed and is not waived)
  image              where the image came from (reference, OCI tar, or "built from CONTEXT")
  image_digest       the digest of the image that was checked
  dockerfile, context, commit, source_date_epoch   null when unknown
  size_budget_bytes  the budget the size check used, or null
  counts             {"pass", "fail", "warn", "skip", "waived"}
  checks             [{"id", "title", "status": "pass"|"fail"|"warn"|"skip", "summary",
                       "evidence": [str], "fix", "waived": reason|null}] in checklist order
  size               [{"platform", "compressed_bytes", "uncompressed_bytes", "wasted_bytes",
                       "efficiency", "layers": [{"index", "digest", "instruction",
                       "compressed_bytes", "uncompressed_bytes", "file_count", "wasted_bytes"}],
                       "wasted_files": [{"path", "layer", "bytes", "reason"}]}]
  masked_values      how many values that look secret the report shows masked, as
                     sha256:<8 hex>…(N chars) (repro.masking; SignoffReport.masked)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from repro.errors import InputError
from repro.jsonout import document
from repro.masking import count_masked, mask_text
from repro.records import Fields

KIND = "signoff"


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One checklist item. ``evidence`` says where: file:line, layer + path, or history."""

    id: str
    title: str
    status: Status
    evidence: tuple[str, ...] = ()
    fix: str = ""
    summary: str = ""
    waived: str | None = None  # the written reason a failure is accepted

    @property
    def blocking(self) -> bool:
        """A failure that is not waived: it makes the sign-off fail."""
        return self.status is Status.FAIL and self.waived is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix,
            "waived": self.waived,
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> CheckResult:
        fields = Fields(data, where, "a check")
        status = fields.text("status")
        if status not in {s.value for s in Status}:
            raise fields.wrong("status", "pass, fail, warn or skip")
        return cls(
            id=fields.text("id"),
            title=fields.text("title"),
            status=Status(status),
            evidence=tuple(fields.texts("evidence")),
            fix=fields.text("fix", allow_empty=True),
            summary=fields.text("summary", allow_empty=True),
            waived=fields.optional_text("waived"),
        )


def apply_waivers(
    results: tuple[CheckResult, ...], waivers: Mapping[str, str]
) -> tuple[CheckResult, ...]:
    """Attach each waiver's reason to its check (the status itself is never rewritten)."""
    return tuple(
        replace(result, waived=waivers[result.id]) if result.id in waivers else result
        for result in results
    )


@dataclass(frozen=True)
class LayerSize:
    index: int
    digest: str
    instruction: str | None
    compressed_bytes: int
    uncompressed_bytes: int  # the bytes of the files it holds
    file_count: int
    wasted_bytes: int  # of those, what a later layer overwrites or deletes


@dataclass(frozen=True)
class WastedFile:
    path: str
    layer: int
    size: int
    reason: str  # "overwritten in layer N" / "deleted in layer N"


@dataclass(frozen=True)
class PlatformSize:
    platform: str
    compressed_bytes: int
    uncompressed_bytes: int
    wasted_bytes: int
    layers: tuple[LayerSize, ...]
    offenders: tuple[WastedFile, ...]  # the biggest wasted files, largest first

    @property
    def efficiency(self) -> float:
        """Like dive: 1 - wasted / total (1.0 for an empty image)."""
        if self.uncompressed_bytes == 0:
            return 1.0
        return 1.0 - self.wasted_bytes / self.uncompressed_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "compressed_bytes": self.compressed_bytes,
            "uncompressed_bytes": self.uncompressed_bytes,
            "wasted_bytes": self.wasted_bytes,
            "efficiency": round(self.efficiency, 4),
            "layers": [
                {
                    "index": layer.index,
                    "digest": layer.digest,
                    "instruction": layer.instruction,
                    "compressed_bytes": layer.compressed_bytes,
                    "uncompressed_bytes": layer.uncompressed_bytes,
                    "file_count": layer.file_count,
                    "wasted_bytes": layer.wasted_bytes,
                }
                for layer in self.layers
            ],
            "wasted_files": [
                {"path": w.path, "layer": w.layer, "bytes": w.size, "reason": w.reason}
                for w in self.offenders
            ],
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> PlatformSize:
        fields = Fields(data, where, "a size")
        layers = []
        for entry in fields.tables("layers"):
            layer = Fields(entry, where, "a layer")
            layers.append(
                LayerSize(
                    index=layer.integer("index"),
                    digest=layer.text("digest"),
                    instruction=layer.optional_text("instruction"),
                    compressed_bytes=layer.integer("compressed_bytes"),
                    uncompressed_bytes=layer.integer("uncompressed_bytes"),
                    file_count=layer.integer("file_count"),
                    wasted_bytes=layer.integer("wasted_bytes"),
                )
            )
        offenders = []
        for entry in fields.tables("wasted_files"):
            wasted = Fields(entry, where, "a wasted file")
            offenders.append(
                WastedFile(
                    path=wasted.text("path"),
                    layer=wasted.integer("layer"),
                    size=wasted.integer("bytes"),
                    reason=wasted.text("reason"),
                )
            )
        return cls(
            platform=fields.text("platform"),
            compressed_bytes=fields.integer("compressed_bytes"),
            uncompressed_bytes=fields.integer("uncompressed_bytes"),
            wasted_bytes=fields.integer("wasted_bytes"),
            layers=tuple(layers),
            offenders=tuple(offenders),
        )


@dataclass(frozen=True)
class SignoffReport:
    dockerfile: str | None
    context: str | None
    image: str  # where the image came from (a reference, a tar, or "built")
    image_digest: str
    commit: str | None
    source_date_epoch: int | None
    size_budget: int | None
    checks: tuple[CheckResult, ...]
    sizes: tuple[PlatformSize, ...] = field(default_factory=tuple)
    masked_values: int = 0

    def masked(self) -> SignoffReport:
        """This report with every value that looks secret masked, in every field that can
        carry image or build data (evidence, summaries, layer instructions), and counted:
        every format and the signed predicate are made from the result."""
        checks = tuple(
            replace(
                check,
                summary=mask_text(check.summary),
                evidence=tuple(mask_text(item) for item in check.evidence),
            )
            for check in self.checks
        )
        sizes = tuple(
            replace(
                size,
                layers=tuple(
                    replace(layer, instruction=mask_text(layer.instruction))
                    if layer.instruction
                    else layer
                    for layer in size.layers
                ),
            )
            for size in self.sizes
        )
        shown = [
            *(text for check in checks for text in (check.summary, *check.evidence)),
            *(layer.instruction or "" for size in sizes for layer in size.layers),
        ]
        count = sum(count_masked(text) for text in shown)
        return replace(self, checks=checks, sizes=sizes, masked_values=count)

    @property
    def passed(self) -> bool:
        return not any(check.blocking for check in self.checks)

    def counts(self) -> dict[str, int]:
        """How many checks have each status, and how many are waived."""
        result = {status.value: 0 for status in Status}
        for check in self.checks:
            result[check.status.value] += 1
        result["waived"] = sum(1 for check in self.checks if check.waived is not None)
        return result

    def to_json(self) -> dict[str, Any]:
        """The report's record (see the module docstring)."""
        return document(
            KIND,
            {
                "verdict": "pass" if self.passed else "fail",
                "image": self.image,
                "image_digest": self.image_digest,
                "dockerfile": self.dockerfile,
                "context": self.context,
                "commit": self.commit,
                "source_date_epoch": self.source_date_epoch,
                "size_budget_bytes": self.size_budget,
                "counts": self.counts(),
                "checks": [check.to_json() for check in self.checks],
                "size": [size.to_json() for size in self.sizes],
                "masked_values": self.masked_values,
            },
        )

    @classmethod
    def from_json(cls, data: object, source: str) -> SignoffReport:
        """Parse a report record; InputError (exit 2) names what is wrong."""
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError(f"{source} is not a `repro signoff --format json` report")
        fields = Fields(data, source, "the report")
        return cls(
            dockerfile=fields.optional_text("dockerfile"),
            context=fields.optional_text("context"),
            image=fields.text("image"),
            image_digest=fields.text("image_digest"),
            commit=fields.optional_text("commit"),
            source_date_epoch=fields.optional_epoch("source_date_epoch"),
            size_budget=fields.optional_integer("size_budget_bytes"),
            checks=tuple(CheckResult.from_json(entry, source) for entry in fields.tables("checks")),
            sizes=tuple(PlatformSize.from_json(entry, source) for entry in fields.tables("size")),
            masked_values=fields.integer("masked_values") if "masked_values" in data else 0,
        )
