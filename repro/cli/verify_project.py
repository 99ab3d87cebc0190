"""`repro verify --all` / `--image NAME`: every image of a project, across a pool of builders.

Called by repro.cli.verify, which owns the options; this parses the pool, calls the use
case (repro.project_verify.service) and renders its report.
"""

from __future__ import annotations

from pathlib import Path

import typer

from repro.errors import InputError

FORMATS = ("text", "json")


def refuse_single_image_options(
    file: Path | None, target: str | None, platform: list[str] | None
) -> None:
    """-f, --target and --platform say how to build one image; a project's images say
    it themselves."""
    given = [
        flag
        for flag, value in (("--file", file), ("--target", target), ("--platform", platform))
        if value
    ]
    if given:
        raise InputError(
            f"{', '.join(given)} cannot be combined with --all or --image: each image of the "
            "project has its own (its compose service, bake target or Dockerfile says it)",
            hint="Verify one image with `repro verify CONTEXT -f FILE`, or drop the option.",
        )


def verify_project(
    *,
    root: Path,
    names: list[str],
    excludes: list[str],
    builders: list[str],
    builds_per_node: int,
    build_args: dict[str, str],
    epoch: str,
    keep: Path | None,
    allow_dirty: bool,
    require_locked: bool | None,
    rewrite_timestamp: bool,
    output_format: str,
    max_diffs: int,
) -> None:
    from repro.cli import _wiring
    from repro.project import parse_epoch
    from repro.project_verify.service import ProjectOptions
    from repro.project_verify.service import verify_project as run_project
    from repro.render.console import stderr, stdout
    from repro.render.progress import ProjectProgress
    from repro.render.project_verify import project_details, project_json, project_summary

    if builds_per_node < 1:
        raise InputError(f"--jobs must be at least 1, not {builds_per_node}")
    config = _wiring.project_config(root)
    options = ProjectOptions(
        root=root,
        names=tuple(names),
        excludes=tuple(excludes),
        builders=tuple(dict.fromkeys(builders or config.builders)),
        builds_per_node=builds_per_node,
        build_args=build_args,
        epoch=parse_epoch(epoch),
        keep=keep,
        allow_dirty=allow_dirty,
        require_locked=require_locked,
        rewrite_timestamp=rewrite_timestamp,
    )
    with ProjectProgress(stderr()) as progress:
        result = run_project(
            options,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            events=progress,
        )
    if output_format == "json":
        stdout().out(project_json(result), end="")
    else:
        out = stdout()
        out.print(project_summary(result), soft_wrap=True)
        details = project_details(result, max_diffs=max_diffs)
        if details is not None:
            out.print(details)
    code = int(result.verdict.exit_code)
    if code:
        raise typer.Exit(code)
