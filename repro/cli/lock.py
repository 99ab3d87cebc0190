"""`repro lock`: pin every base reference by digest and keep repro.lock.

``--check`` is hermetic: it reads the files and repro.lock and nothing else, so this
path imports neither the registry client nor rich (unless a terminal wants a table).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repro.cli._options import FormatOption, JsonOption, SummaryOption

if TYPE_CHECKING:
    from repro.config import ProjectConfig
    from repro.lock.service import LockRequest


def lock(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Dockerfiles, image files (compose, bake, Kubernetes, Helm values, GitHub "
            "workflows) or directories (default: the current directory). With "
            "--update, arguments that are not paths name the references to update.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Change nothing, ask no registry: exit 1 if a reference is unpinned, "
            "missing from repro.lock or pinned to another digest than repro.lock records.",
        ),
    ] = False,
    online: Annotated[
        bool,
        typer.Option(
            "--online", help="With --check: also ask the registries; moved tags are warnings."
        ),
    ] = False,
    outdated: Annotated[
        bool,
        typer.Option(
            "--outdated",
            help="List every pin whose tag now serves another digest (one request per "
            "tag); exit 1 when any moved.",
        ),
    ] = False,
    update: Annotated[
        bool, typer.Option("--update", help="Re-resolve pinned references (all, or REF...).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    json_output: JsonOption = False,
    output_format: FormatOption = None,
    summary: SummaryOption = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="OS/ARCH",
            help="Record only these platforms. Repeatable.",
        ),
    ] = None,
    source_policy: Annotated[
        Path | None,
        typer.Option(
            "--source-policy", metavar="FILE", help="Also write a BuildKit source policy here."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", metavar="GLOB", help="Skip paths matching GLOB. Repeatable."),
    ] = None,
    reparse: Annotated[
        bool,
        typer.Option(
            "--reparse",
            help="Parse every file, even one whose bytes match repro.lock's record of it.",
        ),
    ] = False,
) -> None:
    """Pin every image reference to its digest and record it in repro.lock.

    Exit 0 done or check passed, 1 check failed or (--outdated) a tag moved, 2 bad
    input, 3 registry unreachable.
    """
    from repro.config import load_config
    from repro.errors import ExitCode, InputError
    from repro.lock.model import Mode
    from repro.lock.service import LockRequest, normalise_platforms, split_arguments
    from repro.render.findings import output_format as parse_format

    writers = [name for name, given in (("--update", update), ("--dry-run", dry_run)) if given]
    if check and (outdated or writers):
        other = "--outdated" if outdated else " or ".join(writers)
        raise InputError(f"--check changes nothing; it cannot be combined with {other}")
    if outdated and writers:
        raise InputError(
            f"--outdated asks the registries and changes nothing; it cannot be combined with "
            f"{' or '.join(writers)}"
        )
    if online and not check:
        raise InputError("--online goes with --check", hint="repro lock --check --online")
    if summary is not None and not check:
        raise InputError("--summary goes with --check (the report of a verdict)")
    allowed = ("text", "json", "sarif", "github", "markdown") if check else ("text", "json")
    fmt = parse_format(output_format, json_flag=json_output, allowed=allowed)
    cwd = Path.cwd()
    paths, refs = split_arguments(
        arguments or [], update=update, exists=lambda arg: (cwd / arg).exists()
    )
    config = load_config(cwd)
    mode = Mode.CHECK if check else Mode.UPDATE if update else Mode.LOCK
    request = LockRequest(
        paths=paths,
        mode=mode,
        update_refs=refs,
        dry_run=dry_run,
        platforms=normalise_platforms(platform or []),
        source_policy=source_policy,
        excludes=(*config.exclude, *(exclude or [])),
        includes=config.include,
        allow_unpinnable=config.allow_unpinnable,
        reparse=reparse,
    )
    if check:
        if _report_check(request, cwd, fmt, summary, online=online, config=config):
            raise typer.Exit(int(ExitCode.NEGATIVE))
        return
    if outdated:
        if _report_outdated(request, cwd, fmt, config=config):
            raise typer.Exit(int(ExitCode.NEGATIVE))
        return
    _report_lock(request, cwd, fmt, config=config)


def _report_check(
    request: LockRequest,
    cwd: Path,
    fmt: str,
    summary: Path | None,
    *,
    online: bool,
    config: ProjectConfig,
) -> bool:
    """Run the check and print it; True when it failed. (repro.entry runs the plain
    hermetic case the same way, without typer.)"""
    from repro.lock.service import run_check
    from repro.render.lock import emit_check

    tags = None
    if online:
        from repro.cli import _wiring

        tags = _wiring.tag_digests(config)
    outcome = run_check(request, cwd=cwd, tags=tags)
    emit_check(outcome, fmt, summary, tags.counter.manifest_requests if tags is not None else 0)
    return bool(outcome.offenders)


def _report_outdated(request: LockRequest, cwd: Path, fmt: str, *, config: ProjectConfig) -> bool:
    from repro.cli import _wiring
    from repro.lock.service import run_outdated
    from repro.render import lock as render
    from repro.render.console import write_stdout

    tags = _wiring.tag_digests(config)
    outcome = run_outdated(request, cwd=cwd, tags=tags)
    requests = tags.counter.manifest_requests
    if fmt == "json":
        write_stdout(render.outdated_json(outcome, requests))
    else:
        write_stdout(render.outdated_text(outcome))
    return bool(outcome.outdated)


def _report_lock(request: LockRequest, cwd: Path, fmt: str, *, config: ProjectConfig) -> None:
    import sys

    from repro.cli import _wiring
    from repro.lock.service import run_lock
    from repro.render import lock as render
    from repro.render.console import write_stdout

    resolver = _wiring.image_resolver(config)
    outcome = run_lock(request, cwd=cwd, resolver=resolver)
    if fmt == "json":
        write_stdout(render.lock_json(outcome, resolver.counter.manifest_requests))
        return
    if outcome.recovered:
        render.warn([f"an interrupted repro lock was found and {outcome.recovered}"])
    render.warn((*outcome.skipped, *outcome.warnings))
    if outcome.diff:
        sys.stdout.write(outcome.diff)
        sys.stdout.flush()
    render.print_table(outcome)
    write_stdout(render.lock_summary(outcome) + "\n")
