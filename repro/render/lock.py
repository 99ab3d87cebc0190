"""Render `repro lock`: a table for people, stable JSON, SARIF, annotations and Markdown.

The check's text output is built without rich when there is no terminal (plain aligned
lines), so the hermetic check imports nothing heavy on its way to a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repro.jsonout import document, dumps_stable
from repro.lock.model import OFFENCES, Action, Mode, PlannedRef
from repro.render.findings import Finding, Rule

if TYPE_CHECKING:
    from rich.table import Table

    from repro.lock.service import CheckOutcome, LockOutcome, OutdatedOutcome

_STYLE = {
    Action.PINNED: "green",
    Action.UPDATED: "green",
    Action.RECORDED: "green",
    Action.KEPT: "dim",
    Action.OK: "green",
    Action.ALLOWED: "dim",
    Action.DRIFTED: "yellow",
    Action.UNPINNABLE: "yellow",
}
_EXPLAINED = (Action.DRIFTED, Action.UNPINNABLE, Action.RECORDED, Action.ALLOWED)
FULL_TABLE_LIMIT = 50  # above this, quiet rows (ok, kept) are counted, not listed


def short(digest: str | None, *, whole: bool = False) -> str:
    if digest is None:
        return "-"
    if whole:
        return digest
    algorithm, _, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:12]}"


def _digest_cell(ref: PlannedRef, whole: bool) -> str:
    if ref.action is Action.UPDATED and ref.old_digest != ref.new_digest:
        return f"{short(ref.old_digest, whole=whole)} -> {short(ref.new_digest, whole=whole)}"
    return short(ref.new_digest, whole=whole)


def listed(references: Sequence[PlannedRef]) -> list[PlannedRef]:
    """The rows worth a line: all of a small project, only what needs attention of a big one."""
    if len(references) <= FULL_TABLE_LIMIT:
        return list(references)
    return [ref for ref in references if ref.action not in (Action.OK, Action.KEPT)]


def _title(outcome: LockOutcome | CheckOutcome) -> str:
    if outcome.mode is Mode.CHECK:
        return "repro lock --check"
    return "repro lock" + (" --dry-run" if getattr(outcome, "dry_run", False) else "")


def _rows(outcome: LockOutcome | CheckOutcome, whole: bool) -> list[tuple[str, str, str, str]]:
    rows = []
    for ref in listed(outcome.references):
        action = ref.action.value
        if ref.message and ref.action in _EXPLAINED:
            action += f": {ref.message}" if whole else f"\n{ref.message}"
        name = ref.written.partition("@")[0]  # the digest has its own column
        rows.append((f"{ref.file}:{ref.line}", name, _digest_cell(ref, whole), action))
    return rows


HEADER = ("file:line", "reference", "digest", "action")


def plain_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned columns without a box, one line per row, nothing cut: for CI logs."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [title]
    for row in [header, *rows]:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines) + "\n"


def lock_plain_table(outcome: LockOutcome | CheckOutcome) -> str | None:
    rows = _rows(outcome, whole=True)
    return plain_table(_title(outcome), HEADER, rows) if rows else None


def lock_table(outcome: LockOutcome | CheckOutcome) -> Table | None:
    from rich.table import Table
    from rich.text import Text

    rows = listed(outcome.references)
    if not rows:
        return None
    table = Table(title=_title(outcome), title_justify="left")
    table.add_column("file:line", no_wrap=True)
    table.add_column("reference", overflow="fold")
    table.add_column("digest", no_wrap=True)
    table.add_column("action")
    for ref in rows:
        style = "bold red" if ref.action in OFFENCES else _STYLE.get(ref.action, "")
        action = Text(ref.action.value, style=style)
        if ref.message and ref.action in _EXPLAINED:
            action.append(f"\n{ref.message}", style="italic")
        name = ref.written.partition("@")[0]
        table.add_row(f"{ref.file}:{ref.line}", name, _digest_cell(ref, False), action)
    return table


# How the kinds of files read are said in a summary (repro.lock.scan's kind names).
_KIND_NAMES = {
    "dockerfile": ("Dockerfile", "Dockerfiles"),
    "compose": ("compose file", "compose files"),
    "bake-hcl": ("bake file", "bake files"),
    "bake-json": ("bake JSON file", "bake JSON files"),
    "kubernetes": ("Kubernetes manifest", "Kubernetes manifests"),
    "helm-values": ("Helm values file", "Helm values files"),
    "workflow": ("workflow", "workflows"),
}


def files_said(outcome: LockOutcome | CheckOutcome | OutdatedOutcome) -> str:
    """``9 files``, and of which kinds when there is more than Dockerfiles."""
    files = len(outcome.files_scanned)
    said = f"{files} files"
    if not outcome.kinds or [kind for kind, _ in outcome.kinds] == ["dockerfile"]:
        return said
    order = list(_KIND_NAMES)
    parts = []
    for kind, count in sorted(
        outcome.kinds, key=lambda item: order.index(item[0]) if item[0] in order else len(order)
    ):
        one, many = _KIND_NAMES.get(kind, (kind, kind))
        parts.append(f"{count} {one if count == 1 else many}")
    return f"{said} ({', '.join(parts)})"


def check_summary(outcome: CheckOutcome) -> str:
    total = len(outcome.references)
    files = files_said(outcome)
    offenders = outcome.offenders
    if not offenders:
        allowed = sum(1 for ref in outcome.references if ref.action is Action.ALLOWED)
        extra = f" ({allowed} unpinnable, allowed)" if allowed else ""
        return f"ok: {total} references in {files} are pinned and agree with repro.lock{extra}"
    return f"check failed: {len(offenders)} of {total} references in {files}"


def lock_summary(outcome: LockOutcome) -> str:
    counts: dict[str, int] = {}
    for ref in outcome.references:
        counts[ref.action.value] = counts.get(ref.action.value, 0) + 1
    tally = ", ".join(f"{counts[name]} {name}" for name in sorted(counts)) or "no references"
    files = files_said(outcome)
    if outcome.dry_run:
        changed = len(outcome.plan.changes) + (1 if outcome.lockfile_changed else 0)
        return f"dry run: {tally}; {changed} files would change, nothing written"
    written = ", ".join(outcome.written) if outcome.written else "nothing changed"
    if len(outcome.written) > 10:
        written = f"{len(outcome.written)} files"
    return f"{tally} in {files}; written: {written}"


def offender_lines(outcome: CheckOutcome) -> list[str]:
    return [
        f"{ref.file}:{ref.line}: {ref.message}" + (f"; fix: {ref.fix}" if ref.fix else "")
        for ref in outcome.offenders
    ]


def _reference_json(ref: PlannedRef) -> dict[str, Any]:
    return {
        "file": ref.file,
        "line": ref.line,
        "column": ref.column,
        "kind": ref.kind,
        "reference": ref.written,
        "key": ref.key,
        "action": ref.action.value,
        "old_digest": ref.old_digest,
        "new_digest": ref.new_digest,
        "message": ref.message,
        "fix": ref.fix,
    }


def lock_json(outcome: LockOutcome, manifest_requests: int | None = None) -> str:
    body: dict[str, Any] = {
        "mode": outcome.mode.value,
        "dry_run": outcome.dry_run,
        "lockfile": str(outcome.lockfile_path),
        "lockfile_changed": outcome.lockfile_changed,
        "files": list(outcome.files_scanned),
        "files_by_kind": dict(outcome.kinds),
        "skipped": list(outcome.skipped),
        "warnings": list(outcome.warnings),
        "written": list(outcome.written),
        "recovered": outcome.recovered,
        "references": [_reference_json(ref) for ref in outcome.references],
    }
    if outcome.dry_run:
        body["diff"] = outcome.diff
    if manifest_requests is not None:
        body["manifest_requests"] = manifest_requests
    return dumps_stable(document("lock", body))


def check_json(outcome: CheckOutcome, manifest_requests: int | None = None) -> str:
    body: dict[str, Any] = {
        "mode": "check",
        "ok": not outcome.offenders,
        "online": outcome.online,
        "lockfile": str(outcome.lockfile_path),
        "files": list(outcome.files_scanned),
        "files_by_kind": dict(outcome.kinds),
        "files_from_record": outcome.reused,
        "skipped": list(outcome.skipped),
        "warnings": list(outcome.warnings),
        "references": [_reference_json(ref) for ref in outcome.references],
        "moved": [_reference_json(ref) for ref in outcome.result.moved],
    }
    if manifest_requests is not None:
        body["manifest_requests"] = manifest_requests
    return dumps_stable(document("lock-check", body))


LOCK_RULES = (
    Rule("lock/unpinned", "Image reference not pinned to a digest", "Run `repro lock`."),
    Rule(
        "lock/not-in-lockfile",
        "Pinned image reference missing from repro.lock",
        "Run `repro lock` to record the pin.",
    ),
    Rule(
        "lock/lockfile-mismatch",
        "Pinned digest differs from repro.lock",
        "Run `repro lock` to record the new pin, or restore the pin repro.lock has.",
    ),
    Rule(
        "lock/unpinnable",
        "Image reference repro cannot pin (no literal value)",
        "Give the ARG a default naming the image, or list it in [tool.repro] allow-unpinnable.",
    ),
    Rule(
        "lock/tag-moved",
        "The tag now serves another digest (a warning: the pin still holds)",
        "Run `repro lock --update` to move the pin.",
    ),
)


def check_findings(outcome: CheckOutcome) -> list[Finding]:
    findings = [
        Finding(
            rule=f"lock/{ref.action.value}",
            level="error",
            message=ref.message + (f" (fix: {ref.fix})" if ref.fix else ""),
            file=ref.file,
            line=ref.line,
            column=ref.column,
            title=f"repro lock --check: {ref.action.value}",
        )
        for ref in outcome.offenders
    ]
    findings.extend(
        Finding(
            rule="lock/tag-moved",
            level="warning",
            message=ref.message,
            file=ref.file,
            line=ref.line,
            column=ref.column,
            title="repro lock --check: tag moved",
        )
        for ref in outcome.result.moved
    )
    return findings


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def check_markdown(outcome: CheckOutcome) -> str:
    verdict = "PASS" if not outcome.offenders else "FAIL"
    lines = [f"### repro lock --check: {verdict}", "", check_summary(outcome), ""]
    problems = list(outcome.offenders) + list(outcome.result.moved)
    if problems:
        lines += ["| file:line | reference | problem | fix |", "|---|---|---|---|"]
        for ref in problems:
            lines.append(
                f"| `{ref.file}:{ref.line}` | `{_cell(ref.written)}` | {ref.action.value}: "
                f"{_cell(ref.message)} | {_cell(ref.fix)} |"
            )
        lines.append("")
    return "\n".join(lines)


def outdated_text(outcome: OutdatedOutcome) -> str:
    lines: list[str] = []
    for pin in outcome.outdated:
        age = f", locked {pin.age_days} days ago" if pin.age_days is not None else ""
        lines.append(f"{pin.tag}{age}")
        lines.append(f"  old {pin.old_digest}")
        lines.append(f"  new {pin.new_digest}")
        lines.extend(f"  at  {site}" for site in pin.sites)
    moved = len(outcome.outdated)
    lines.append(
        f"{moved} of {outcome.tags_asked} pinned tags moved"
        if moved
        else f"up to date: {outcome.tags_asked} pinned tags serve the pinned digests "
        f"({outcome.pins} pins in {files_said(outcome)})"
    )
    if moved:
        lines.append("run `repro lock --update` to move the pins")
    return "\n".join(lines) + "\n"


def outdated_json(outcome: OutdatedOutcome, manifest_requests: int | None = None) -> str:
    body: dict[str, Any] = {
        "ok": not outcome.outdated,
        "files": list(outcome.files_scanned),
        "files_by_kind": dict(outcome.kinds),
        "tags": outcome.tags_asked,
        "pins": outcome.pins,
        "outdated": [
            {
                "tag": pin.tag,
                "old_digest": pin.old_digest,
                "new_digest": pin.new_digest,
                "sites": list(pin.sites),
                "locked_at": pin.locked_at,
                "age_days": pin.age_days,
            }
            for pin in outcome.outdated
        ],
    }
    if manifest_requests is not None:
        body["manifest_requests"] = manifest_requests
    return dumps_stable(document("lock-outdated", body))


# -- printing (the CLI and the fast entry point share these) ------------------------------


def warn(messages: Sequence[str]) -> None:
    from repro.render.console import write_stderr_line

    for message in messages:
        write_stderr_line(f"warning: {message}")


def print_table(outcome: LockOutcome | CheckOutcome) -> None:
    from repro.render.console import stdout, whole_values, write_stdout

    if whole_values():
        table = lock_plain_table(outcome)
        if table is not None:
            write_stdout(table)
        return
    rich_table = lock_table(outcome)
    if rich_table is not None:
        stdout().print(rich_table)


def emit_check(
    outcome: CheckOutcome, fmt: str, summary: Path | None = None, manifest_requests: int = 0
) -> None:
    """Print a check in ``fmt``; ``summary`` also gets the Markdown report appended."""
    from repro.render.console import write_stdout

    if fmt == "json":
        write_stdout(check_json(outcome, manifest_requests))
    elif fmt == "sarif":
        from repro.render.findings import sarif_text

        write_stdout(sarif_text("lock-check", LOCK_RULES, check_findings(outcome)))
    elif fmt == "github":
        from repro.render.findings import github_annotations

        write_stdout(github_annotations(check_findings(outcome)))
        warn(outcome.skipped)
        write_stdout(check_summary(outcome) + "\n")
    elif fmt == "markdown":
        write_stdout(check_markdown(outcome))
    else:
        warn((*outcome.skipped, *outcome.warnings))
        print_table(outcome)
        write_stdout(
            "".join(line + "\n" for line in [*offender_lines(outcome), check_summary(outcome)])
        )
    if summary is not None:
        append_text(summary, check_markdown(outcome))


def append_text(path: Path, text: str) -> None:
    """Append to a report file such as $GITHUB_STEP_SUMMARY (it collects several steps)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
