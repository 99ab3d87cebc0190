"""Render a `repro lock` outcome: a table for people, stable JSON for machines."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from repro.jsonout import document, dumps_stable
from repro.lock.plan import OFFENCES, Action, Mode, PlannedRef
from repro.lock.service import LockOutcome

_STYLE = {
    Action.PINNED: "green",
    Action.UPDATED: "green",
    Action.KEPT: "dim",
    Action.OK: "green",
    Action.DRIFTED: "yellow",
    Action.UNPINNABLE: "yellow",
}


def short(digest: str | None) -> str:
    if digest is None:
        return "-"
    algorithm, _, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:12]}"


def _digest_cell(ref: PlannedRef) -> str:
    if ref.action in (Action.UPDATED,) and ref.old_digest != ref.new_digest:
        return f"{short(ref.old_digest)} -> {short(ref.new_digest)}"
    return short(ref.new_digest)


FULL_TABLE_LIMIT = 50  # above this, quiet rows (ok, kept) are counted, not listed


def listed(outcome: LockOutcome) -> list[PlannedRef]:
    """The rows worth a line: all of a small project, only what needs attention of a big one."""
    references = list(outcome.plan.references)
    if len(references) <= FULL_TABLE_LIMIT:
        return references
    return [ref for ref in references if ref.action not in (Action.OK, Action.KEPT)]


def lock_table(outcome: LockOutcome) -> Table | None:
    title = "repro lock --check" if outcome.plan.mode is Mode.CHECK else "repro lock"
    if outcome.dry_run:
        title += " --dry-run"
    table = Table(title=title, title_justify="left")
    table.add_column("file:line", no_wrap=True)
    table.add_column("reference", overflow="fold")
    table.add_column("digest", no_wrap=True)
    table.add_column("action")
    rows = listed(outcome)
    if not rows:
        return None
    for ref in rows:
        style = "bold red" if ref.action in OFFENCES else _STYLE.get(ref.action, "")
        action = Text(ref.action.value, style=style)
        if ref.message and ref.action in (Action.DRIFTED, Action.UNPINNABLE):
            action.append(f"\n{ref.message}", style="italic")
        name = ref.written.partition("@")[0]  # the digest has its own column
        table.add_row(f"{ref.file}:{ref.line}", name, _digest_cell(ref), action)
    return table


def lock_summary(outcome: LockOutcome) -> str:
    plan = outcome.plan
    total = len(plan.references)
    files = len(outcome.files_scanned)
    if plan.mode is Mode.CHECK:
        offenders = plan.offenders
        if not offenders:
            return f"ok: {total} references in {files} files are pinned and agree with repro.lock"
        return f"check failed: {len(offenders)} of {total} references in {files} files"
    counts: dict[str, int] = {}
    for ref in plan.references:
        counts[ref.action.value] = counts.get(ref.action.value, 0) + 1
    tally = ", ".join(f"{counts[name]} {name}" for name in sorted(counts))
    if outcome.dry_run:
        changed = len(plan.changes) + (1 if outcome.lockfile_changed else 0)
        return f"dry run: {tally}; {changed} files would change, nothing written"
    written = ", ".join(outcome.written) if outcome.written else "nothing changed"
    if len(outcome.written) > 10:
        written = f"{len(outcome.written)} files"
    return f"{tally} in {files} files; written: {written}"


def offender_lines(outcome: LockOutcome) -> list[str]:
    return [f"{ref.file}:{ref.line}: {ref.message}" for ref in outcome.plan.offenders]


def lock_json(outcome: LockOutcome, manifest_requests: int | None = None) -> str:
    plan = outcome.plan
    body: dict[str, Any] = {
        "mode": plan.mode.value,
        "dry_run": outcome.dry_run,
        "lockfile": str(outcome.lockfile_path),
        "lockfile_changed": outcome.lockfile_changed,
        "files": list(outcome.files_scanned),
        "skipped": list(outcome.skipped),
        "warnings": list(plan.warnings),
        "written": list(outcome.written),
        "references": [
            {
                "file": ref.file,
                "line": ref.line,
                "column": ref.column,
                "kind": ref.kind.value,
                "reference": ref.written,
                "key": ref.key,
                "action": ref.action.value,
                "old_digest": ref.old_digest,
                "new_digest": ref.new_digest,
                "message": ref.message,
            }
            for ref in plan.references
        ],
    }
    if plan.mode is Mode.CHECK:
        body["ok"] = not plan.offenders
    if outcome.dry_run:
        body["diff"] = outcome.diff
    if manifest_requests is not None:
        body["manifest_requests"] = manifest_requests
    return dumps_stable(document("lock", body))
