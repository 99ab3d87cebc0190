"""`repro verify`: build twice, independently, and prove bit-identity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repro.cli._options import (
    AttestOption,
    BuildArgsOption,
    BuildersOption,
    DockerfileOption,
    EpochOption,
    GitContextArgument,
    MaxDiffsOption,
    PlatformsOption,
    SbomGeneratorOption,
    TargetOption,
    VerboseOption,
    build_options,
)
from repro.render.console import stderr, stdout


def verify(
    context: GitContextArgument = Path("."),
    file: DockerfileOption = None,
    target: TargetOption = None,
    platform: PlatformsOption = None,
    build_arg: BuildArgsOption = None,
    epoch: EpochOption = "git",
    builder: BuildersOption = None,
    keep: Annotated[Path | None, typer.Option("--keep", help="Keep both OCI tars here.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the verification record as JSON.")
    ] = False,
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
) -> None:
    """Build twice, independently, and prove the images are bit-identical (or explain why not).

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or build failure.
    """
    from repro.cli import _wiring
    from repro.errors import ExitCode
    from repro.project import parse_epoch
    from repro.render.progress import build_progress
    from repro.render.verify import verification_json, verification_summary
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
    )
    with build_progress(stderr()) as (on_log, on_phase):
        result = run_verify(
            options,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            on_log=on_log,
            on_phase=on_phase,
        )
    if json_output:
        stdout().out(verification_json(result), end="")
    else:
        stdout().print(verification_summary(result, max_diffs=max_diffs, verbose=verbose))
    if not result.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))
