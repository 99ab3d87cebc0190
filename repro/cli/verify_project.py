"""`repro verify --all` / `--image NAME`: every image of a project, across a pool of builders.

Called by repro.cli.verify, which owns the options; this completes the pool from the
configuration, calls the use case (repro.project_verify.service) and renders its report.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from repro.errors import InputError

if TYPE_CHECKING:
    from repro.project_verify.model import ProjectResult
    from repro.project_verify.service import ProjectOptions

FORMATS = ("text", "json", "sarif", "github")


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
    options: ProjectOptions, *, output_format: str, max_diffs: int, verbose: bool = False
) -> None:
    """Run the project verification (the pool from [tool.repro] builders when no
    --builder is given), print the report, exit with the verdict's code."""
    from repro.cli import _wiring
    from repro.project_verify.service import verify_project as run_project
    from repro.render.console import stderr, stdout, write_stdout
    from repro.render.progress import ProjectProgress
    from repro.render.project_verify import project_details, project_json, project_summary

    if options.builds_per_node < 1:
        raise InputError(f"--jobs must be at least 1, not {options.builds_per_node}")
    builders = options.builders or _wiring.project_config(options.root).builders
    options = replace(options, builders=tuple(dict.fromkeys(builders)))
    with ProjectProgress(stderr()) as progress:
        result = run_project(
            options,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            events=progress,
        )
    if output_format == "json":
        write_stdout(project_json(result))
    elif output_format in ("sarif", "github"):
        _print_findings(result, options.root, output_format)
    else:
        out = stdout()
        out.print(project_summary(result), soft_wrap=True)
        details = project_details(result, max_diffs=max_diffs, verbose=verbose)
        if details is not None:
            out.print(details)
    code = int(result.verdict.exit_code)
    if code:
        raise typer.Exit(code)


def _print_findings(result: ProjectResult, root: Path, output_format: str) -> None:
    from repro.render.console import write_stdout
    from repro.render.findings import github_annotations, sarif_text
    from repro.render.project_verify import PROJECT_RULES, project_findings
    from repro.render.verify import instruction_lines

    def lines_of(dockerfile: str) -> dict[str, int]:
        try:
            return instruction_lines((root / dockerfile).read_bytes(), dockerfile)
        except OSError:
            return {}

    findings = project_findings(result, lines_of)
    if output_format == "sarif":
        write_stdout(sarif_text("verify", PROJECT_RULES, findings))
    else:
        write_stdout(github_annotations(findings))
        write_stdout(f"verify --all: {result.verdict.value}, {len(result.outcomes)} images\n")
