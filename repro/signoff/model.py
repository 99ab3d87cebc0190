"""What a sign-off produces: one result per check, and the report that holds them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum


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

    @property
    def passed(self) -> bool:
        return not any(check.blocking for check in self.checks)
