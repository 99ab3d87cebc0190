"""Render a SignoffReport: Markdown for a release PR, and JSON with a documented schema.

JSON schema (kind "signoff", schema_version from repro.jsonout):
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
Secrets in evidence are masked (all but 4 characters).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from repro.jsonout import document, dumps_stable
from repro.signoff.model import CheckResult, PlatformSize, SignoffReport, Status
from repro.signoff.units import human_bytes

SYMBOLS = {Status.PASS: "✅", Status.FAIL: "❌", Status.WARN: "⚠️", Status.SKIP: "⏭️"}
BAR_WIDTH = 30
INSTRUCTION_WIDTH = 48


def counts(report: SignoffReport) -> dict[str, int]:
    result = {status.value: 0 for status in Status}
    for check in report.checks:
        result[check.status.value] += 1
    result["waived"] = sum(1 for check in report.checks if check.waived is not None)
    return result


def _check_json(check: CheckResult) -> dict[str, Any]:
    return {
        "id": check.id,
        "title": check.title,
        "status": check.status.value,
        "summary": check.summary,
        "evidence": list(check.evidence),
        "fix": check.fix,
        "waived": check.waived,
    }


def _size_json(size: PlatformSize) -> dict[str, Any]:
    return {
        "platform": size.platform,
        "compressed_bytes": size.compressed_bytes,
        "uncompressed_bytes": size.uncompressed_bytes,
        "wasted_bytes": size.wasted_bytes,
        "efficiency": round(size.efficiency, 4),
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
            for layer in size.layers
        ],
        "wasted_files": [
            {"path": w.path, "layer": w.layer, "bytes": w.size, "reason": w.reason}
            for w in size.offenders
        ],
    }


def signoff_record(report: SignoffReport) -> dict[str, Any]:
    return document(
        "signoff",
        {
            "verdict": "pass" if report.passed else "fail",
            "image": report.image,
            "image_digest": report.image_digest,
            "dockerfile": report.dockerfile,
            "context": report.context,
            "commit": report.commit,
            "source_date_epoch": report.source_date_epoch,
            "size_budget_bytes": report.size_budget,
            "counts": counts(report),
            "checks": [_check_json(check) for check in report.checks],
            "size": [_size_json(size) for size in report.sizes],
        },
    )


def signoff_json(report: SignoffReport) -> str:
    return dumps_stable(signoff_record(report))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _bar(value: int, largest: int) -> str:
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * BAR_WIDTH * 8)
    full, rest = divmod(max(eighths, 1), 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])


def teardown(size: PlatformSize) -> str:
    """The per-layer teardown as a text bar chart (like docker history, with dive's waste)."""
    largest = max((layer.uncompressed_bytes for layer in size.layers), default=0)
    lines = [
        f"{size.platform}: {human_bytes(size.uncompressed_bytes)} uncompressed, "
        f"{human_bytes(size.compressed_bytes)} compressed, wasted "
        f"{human_bytes(size.wasted_bytes)}, efficiency {size.efficiency:.1%}",
        "",
    ]
    for layer in size.layers:
        instruction = (layer.instruction or "?").replace("\n", " ")
        if len(instruction) > INSTRUCTION_WIDTH:
            instruction = instruction[: INSTRUCTION_WIDTH - 1] + "…"
        wasted = f"  (wasted {human_bytes(layer.wasted_bytes)})" if layer.wasted_bytes else ""
        lines.append(
            f"{layer.index:>2} {instruction:<{INSTRUCTION_WIDTH}} "
            f"{human_bytes(layer.uncompressed_bytes):>9} "
            f"{_bar(layer.uncompressed_bytes, largest):<{BAR_WIDTH}}{wasted}".rstrip()
        )
    if size.offenders:
        lines += ["", "biggest wasted files:"]
        for offender in size.offenders:
            lines.append(
                f"  {human_bytes(offender.size):>9}  {offender.path}  "
                f"(layer {offender.layer}, {offender.reason})"
            )
    return "\n".join(lines)


def signoff_markdown(report: SignoffReport) -> str:
    tally = counts(report)
    verdict = "PASS" if report.passed else "FAIL"
    lines = [
        f"## Release sign-off: {verdict}",
        "",
        f"- image: `{report.image}` (`{report.image_digest}`)",
    ]
    if report.dockerfile:
        lines.append(f"- Dockerfile: `{report.dockerfile}`")
    if report.commit:
        lines.append(f"- commit: `{report.commit}`")
    if report.source_date_epoch is not None:
        when = datetime.fromtimestamp(report.source_date_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"- SOURCE_DATE_EPOCH: {report.source_date_epoch} ({when})")
    lines.append(
        f"- checks: {tally['pass']} passed, {tally['fail']} failed, {tally['warn']} warnings, "
        f"{tally['skip']} skipped, {tally['waived']} waived"
    )
    lines += ["", "| | Check | Status | Evidence | Fix |", "|---|---|---|---|---|"]
    for check in report.checks:
        status = check.status.value + (" (waived)" if check.waived else "")
        evidence = "<br>".join(_cell(item) for item in check.evidence) or _cell(check.summary)
        fix = "" if check.status is Status.PASS else _cell(check.fix)
        lines.append(
            f"| {SYMBOLS[check.status]} | `{check.id}` {_cell(check.title)} | {status} "
            f"| {evidence} | {fix} |"
        )
    waived = [check for check in report.checks if check.waived is not None]
    if waived:
        lines += ["", "### Waivers", ""]
        lines += [f"- `{check.id}` ({check.status.value}): {check.waived}" for check in waived]
    for size in report.sizes:
        lines += ["", f"### Size teardown ({size.platform})", "", "```text", teardown(size), "```"]
    return "\n".join(lines) + "\n"
