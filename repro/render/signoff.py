"""Render a SignoffReport: Markdown for a release PR, and its JSON record.

The JSON record is SignoffReport.to_json (schema in repro.signoff.model).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from repro.jsonout import dumps_stable
from repro.render.findings import Finding, Rule
from repro.signoff.model import PlatformSize, SignoffReport, Status
from repro.signoff.units import human_bytes

SYMBOLS = {Status.PASS: "✅", Status.FAIL: "❌", Status.WARN: "⚠️", Status.SKIP: "⏭️"}
BAR_WIDTH = 30
INSTRUCTION_WIDTH = 48


def signoff_json(report: SignoffReport) -> str:
    return dumps_stable(report.to_json())


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
    tally = report.counts()
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
    if report.masked_values:
        lines.append(
            f"- masked: {report.masked_values} values that look secret are shown as "
            "`sha256:<8 hex>…(length)`, in every format of this report"
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


# -- CI formats ------------------------------------------------------------------------------

SIGNOFF_RULE_PREFIX = "signoff/"
_LOCATED = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+)(?::(?P<column>\d+))?: ")


def signoff_rules(report: SignoffReport) -> list[Rule]:
    return [Rule(SIGNOFF_RULE_PREFIX + check.id, check.title, check.fix) for check in report.checks]


def signoff_findings(report: SignoffReport) -> list[Finding]:
    """A failed check is an error (a waived one a note), a warning a warning; each
    evidence item that names file:line is a finding there, else the Dockerfile's line 1."""
    findings: list[Finding] = []
    default_file = report.dockerfile or "Dockerfile"
    for check in report.checks:
        if check.status is Status.FAIL:
            level = "note" if check.waived is not None else "error"
        elif check.status is Status.WARN:
            level = "warning"
        else:
            continue
        fix = f" (fix: {check.fix})" if check.fix else ""
        located = [(item, _LOCATED.match(item)) for item in check.evidence]
        placed = [(item, match) for item, match in located if match is not None]
        if not placed:
            evidence = "; ".join(check.evidence) or check.summary
            findings.append(
                Finding(
                    rule=SIGNOFF_RULE_PREFIX + check.id,
                    level=level,
                    message=f"{check.title}: {evidence}{fix}",
                    file=default_file,
                    line=1,
                    title=f"sign-off: {check.id}",
                )
            )
            continue
        for item, match in placed:
            findings.append(
                Finding(
                    rule=SIGNOFF_RULE_PREFIX + check.id,
                    level=level,
                    message=f"{check.title}: {item[match.end() :]}{fix}",
                    file=match["file"],
                    line=int(match["line"]),
                    column=int(match["column"]) if match["column"] else None,
                    title=f"sign-off: {check.id}",
                )
            )
    return findings
