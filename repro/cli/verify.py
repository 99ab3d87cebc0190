"""`repro verify`: build twice, independently, and prove bit-identity."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from repro.cli._options import (
    AttestOption,
    BuildArgsOption,
    BuildersOption,
    DockerfileOption,
    EpochOption,
    FormatOption,
    GitContextArgument,
    MaxDiffsOption,
    NoVaryOption,
    PlatformsOption,
    SbomGeneratorOption,
    SummaryOption,
    TargetOption,
    VaryOption,
    VerboseOption,
    build_options,
    parse_attest,
    parse_build_args,
    parse_variations,
)
from repro.errors import InputError
from repro.render.console import stderr, stdout, write_stdout

if TYPE_CHECKING:
    from repro.verify.model import VerifyResult


def verify(
    context: GitContextArgument = Path("."),
    file: DockerfileOption = None,
    target: TargetOption = None,
    platform: PlatformsOption = None,
    build_arg: BuildArgsOption = None,
    epoch: EpochOption = "git",
    builder: BuildersOption = None,
    keep: Annotated[
        Path | None, typer.Option("--keep", metavar="DIR", help="Keep both OCI tars here.")
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print the verification record as JSON (--format json)."),
    ] = False,
    output_format: FormatOption = None,
    summary: SummaryOption = None,
    require_locked: Annotated[
        bool | None,
        typer.Option(
            "--require-locked/--no-require-locked",
            help="Refuse unpinned bases (default: on when repro.lock exists).",
        ),
    ] = None,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Verify a work tree with uncommitted changes.")
    ] = False,
    no_rewrite_timestamp: Annotated[
        bool,
        typer.Option(
            "--no-rewrite-timestamp",
            help="Do not clamp file times (to demonstrate why it matters).",
        ),
    ] = False,
    attest: AttestOption = None,
    sbom_generator: SbomGeneratorOption = None,
    max_diffs: MaxDiffsOption = 50,
    verbose: VerboseOption = False,
    all_images: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Verify every image the project in CONTEXT builds: each Dockerfile, compose "
            "service with build: and bake target.",
        ),
    ] = False,
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image",
            help="Verify this image of the project (a name from the --all table, or a "
            "service or target name). Repeatable.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="With --all: skip paths matching this glob. Repeatable."),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", help="With --all: builds at once on each builder node."),
    ] = 2,
    vary: VaryOption = None,
    no_vary: NoVaryOption = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Print the Dockerfile change that fixes what differs, as a unified diff "
            "for `git apply` (the report goes to stderr).",
        ),
    ] = False,
) -> None:
    """Build twice, independently, and prove the images are bit-identical (or explain why not).

    With --all (or --image NAME), verify every image of the project in CONTEXT across the
    pool of --builder (repeatable; default [tool.repro] builders, else the current one),
    with one report.

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or build failure.
    """
    from repro.cli import _wiring
    from repro.cli import verify_project as project
    from repro.render.findings import output_format as parse_format

    fmt = parse_format(output_format, json_flag=json_output)
    if suggest and fmt == "json":
        raise InputError(
            "--suggest prints a diff and --json a record: choose one",
            hint="the record holds the diff too, under suggested_change",
        )
    if suggest and fmt != "text":
        raise InputError(f"--suggest prints a diff and --format {fmt} a report: choose one")
    if all_images or image:
        project.refuse_single_image_options(file, target, platform)
        given = [
            flag
            for flag, value in (("--suggest", suggest), ("--vary", vary), ("--no-vary", no_vary))
            if value
        ]
        if given:
            raise InputError(
                f"{', '.join(given)} cannot be combined with --all or --image yet: they apply "
                "to the verification of one image",
                hint="Verify that image alone with `repro verify CONTEXT -f FILE`.",
            )
        if fmt not in project.FORMATS or summary is not None:
            raise InputError(
                f"--all and --image report as {', '.join(project.FORMATS)}"
                + (", without --summary" if summary is not None else f", not {fmt}"),
                hint="verify one image (`repro verify CONTEXT -f FILE`) for Markdown or --summary",
            )
        from repro.project import parse_epoch
        from repro.project_verify.service import ProjectOptions

        whole_project = ProjectOptions(
            root=context,
            names=tuple(image or ()),
            excludes=tuple(exclude or ()),
            builders=tuple(builder or ()),
            builds_per_node=jobs,
            build_args=parse_build_args(build_arg),
            epoch=parse_epoch(epoch),
            keep=keep,
            allow_dirty=allow_dirty,
            require_locked=require_locked,
            rewrite_timestamp=not no_rewrite_timestamp,
            attest=parse_attest(attest, sbom_generator),
            sbom_generator=sbom_generator,
        )
        project.verify_project(
            whole_project, output_format=fmt, max_diffs=max_diffs, verbose=verbose
        )
        return
    from repro.errors import ExitCode
    from repro.project import parse_epoch
    from repro.render.progress import build_progress
    from repro.render.verify import suggestion_diff, verification_json, verification_summary
    from repro.verify.service import verify as run_verify

    policy = parse_epoch(epoch)
    options = build_options(
        context,
        file,
        target,
        platform,
        build_arg,
        builder,
        attest,
        sbom_generator,
        epoch=policy,
        keep=keep,
        allow_dirty=allow_dirty,
        require_locked=require_locked,
        rewrite_timestamp=not no_rewrite_timestamp,
        variations=parse_variations(vary, no_vary, context),
    )
    with build_progress(stderr()) as (on_log, on_phase):
        result = run_verify(
            options,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            on_log=on_log,
            on_phase=on_phase,
        )
    if fmt == "json":
        write_stdout(verification_json(result))
    elif suggest:
        # stdout is the patch alone, so that `repro verify --suggest > fix.diff` applies.
        stderr().print(
            verification_summary(result, max_diffs=max_diffs, verbose=verbose), soft_wrap=False
        )
        # as is: the exact unified diff, a blank context line with its one space
        write_stdout(suggestion_diff(result))
    elif fmt in ("sarif", "github"):
        _print_findings(result, fmt, file or context / "Dockerfile")
    elif fmt == "markdown":
        from repro.render.verify import verification_markdown

        write_stdout(verification_markdown(result))
    else:
        stdout().print(verification_summary(result, max_diffs=max_diffs, verbose=verbose))
    if summary is not None:
        from repro.render.lock import append_text
        from repro.render.verify import verification_markdown

        append_text(summary, verification_markdown(result))
    if not result.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def _print_findings(result: VerifyResult, fmt: str, dockerfile: Path) -> None:
    from repro.render.findings import github_annotations, sarif_text
    from repro.render.verify import VERIFY_RULES, instruction_lines, verify_findings

    try:
        lines = instruction_lines(dockerfile.read_bytes(), result.dockerfile)
    except OSError:
        lines = {}
    findings = verify_findings(result, lines)
    if fmt == "sarif":
        write_stdout(sarif_text("verify", VERIFY_RULES, findings))
    else:
        write_stdout(github_annotations(findings))
        verdict = "reproducible" if result.identical else "not reproducible"
        write_stdout(
            f"{verdict}: {result.comparison.image_digest_a} {result.comparison.image_digest_b}\n"
        )
