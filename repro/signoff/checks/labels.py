"""OCI labels: source, revision, version, and created == SOURCE_DATE_EPOCH (RFC 3339)."""

from __future__ import annotations

from datetime import UTC, datetime

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status

ID = "oci-labels"
TITLE = "OCI labels: source, revision, version, created = SOURCE_DATE_EPOCH"
PREFIX = "org.opencontainers.image."
REQUIRED = ("source", "revision", "version", "created")
FIX = (
    "Declare ARG VERSION/REVISION/CREATED and LABEL org.opencontainers.image.{source,revision,"
    "version,created}; build with --build-arg REVISION=$(git rev-parse HEAD) and "
    "CREATED=$(date -u -d @$SOURCE_DATE_EPOCH +%Y-%m-%dT%H:%M:%SZ)."
)


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_instant(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return a == b


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    problems = False
    for facts in ctx.images:
        labels = config_value(facts, "Labels") or {}
        missing = [name for name in REQUIRED if not labels.get(PREFIX + name)]
        if missing:
            problems = True
            evidence.append(ctx.where(facts, "missing " + ", ".join(PREFIX + n for n in missing)))
        created = labels.get(PREFIX + "created")
        config_created = facts.config.get("created")
        expected = (
            rfc3339(ctx.source_date_epoch)
            if ctx.source_date_epoch is not None
            else config_created
            if isinstance(config_created, str)
            else None
        )
        if created and expected and not _same_instant(str(created), expected):
            problems = True
            evidence.append(
                ctx.where(facts, f"{PREFIX}created {created} != SOURCE_DATE_EPOCH {expected}")
            )
        for name in REQUIRED:
            if labels.get(PREFIX + name) and name != "created":
                evidence.append(ctx.where(facts, f"{PREFIX}{name}={labels[PREFIX + name]}"))
    if problems:
        return CheckResult(
            ID, TITLE, Status.WARN, tuple(evidence), FIX, "OCI labels missing or inconsistent"
        )
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="labels present")
