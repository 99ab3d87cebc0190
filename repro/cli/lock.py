"""`repro lock`: pin every base reference by digest and keep repro.lock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repro.cli._options import (
    JsonOption,
)
from repro.render.console import stderr, stdout


def lock(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATH...]",
            help="Dockerfiles or directories (default: the current directory). With "
            "--update, arguments that are not paths name the references to update.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if anything is unpinned.")
    ] = False,
    update: Annotated[
        bool, typer.Option("--update", help="Re-resolve pinned references (all, or REF...).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    json_output: JsonOption = False,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help="Record only these platforms (os/arch). Repeatable."),
    ] = None,
    source_policy: Annotated[
        Path | None,
        typer.Option("--source-policy", help="Also write a BuildKit source policy here."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching this glob. Repeatable."),
    ] = None,
) -> None:
    """Pin every image reference to its digest and record it in repro.lock."""
    import sys

    from repro.cli import _wiring
    from repro.errors import ExitCode, InputError
    from repro.lock.plan import Mode
    from repro.lock.service import LockRequest, normalise_platforms, run_lock, split_arguments
    from repro.render.lock import lock_json, lock_summary, lock_table, offender_lines

    if check and (update or dry_run):
        raise InputError("--check changes nothing; it cannot be combined with --update/--dry-run")
    cwd = Path.cwd()
    paths, refs = split_arguments(
        arguments or [], update=update, exists=lambda arg: (cwd / arg).exists()
    )
    mode = Mode.CHECK if check else Mode.UPDATE if update else Mode.LOCK
    request = LockRequest(
        paths=paths,
        mode=mode,
        update_refs=refs,
        dry_run=dry_run,
        platforms=normalise_platforms(platform or []),
        source_policy=source_policy,
        excludes=tuple(exclude or []),
    )
    resolver = _wiring.image_resolver(_wiring.project_config(cwd))
    outcome = run_lock(request, cwd=cwd, resolver=resolver)
    if json_output:
        sys.stdout.write(lock_json(outcome, resolver.counter.manifest_requests))
    else:
        console = stderr()
        for message in (*outcome.skipped, *outcome.plan.warnings):
            console.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)
        out = stdout()
        if outcome.diff:
            sys.stdout.write(outcome.diff)
            sys.stdout.flush()
        table = lock_table(outcome)
        if table is not None:
            out.print(table)
        for line in offender_lines(outcome):
            out.print(line, markup=False, highlight=False)
        out.print(lock_summary(outcome), markup=False, highlight=False)
    if outcome.plan.offenders:
        raise typer.Exit(int(ExitCode.NEGATIVE))
