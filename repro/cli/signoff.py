"""`repro signoff`: the release sign-off checklist, measured on the real image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repro.cli._options import (
    BuildArgsOption,
    DockerfileOption,
    EpochOption,
    SummaryOption,
    parse_build_args,
)
from repro.render.console import stderr, write_stdout


def signoff(
    context: Annotated[
        Path, typer.Argument(help="Build context (a directory, usually in a git work tree).")
    ] = Path("."),
    file: DockerfileOption = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Check this image (registry REF, OCI layout or tar) instead of building one.",
        ),
    ] = None,
    size_budget: Annotated[
        str | None,
        typer.Option("--size-budget", help="Fail when an image is larger, e.g. 200MB."),
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            "--release",
            help="Store the report with this recorded release; `repro publish` pushes it too.",
        ),
    ] = None,
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="Ed25519 private key (repro keygen): print the JSON report as an in-toto "
            "statement in a DSSE envelope.",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="md (a table for a release PR; also text, markdown), json, sarif (SARIF "
            "2.1.0) or github (workflow annotations).",
        ),
    ] = "md",
    json_output: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    summary: SummaryOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to FILE (atomically).")
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Do not fail on this check id. Repeatable."),
    ] = None,
    build_arg: BuildArgsOption = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Build or check only this platform.")
    ] = None,
    verification: Annotated[
        Path | None,
        typer.Option(
            "--verification", help="A `repro verify --json` record for the reproducible check."
        ),
    ] = None,
    epoch: EpochOption = "git",
) -> None:
    """Run the release sign-off checklist on the real image (built once, or --image).

    Exit 0 when every required check passes (warnings never fail), 1 when one fails,
    2 bad input, 3 engine or registry failure.
    """
    from repro.cli import _wiring
    from repro.errors import ExitCode, InputError
    from repro.fsutil import atomic_write_text
    from repro.project import parse_epoch
    from repro.render.findings import output_format as parse_format
    from repro.render.progress import build_progress
    from repro.render.signoff import signoff_json, signoff_markdown
    from repro.signoff.service import SignoffOptions, run_signoff
    from repro.signoff.units import parse_size

    fmt = parse_format(
        None if json_output and output_format == "md" else output_format,
        json_flag=json_output,
        allowed=("text", "markdown", "json", "sarif", "github"),
    )
    output_format = {"text": "md", "markdown": "md"}.get(fmt, fmt)
    if sign is not None and output_format != "json":
        raise InputError("--sign signs the JSON report", hint="Add --format json.")
    from repro.cli import _keys

    signing_key = _keys.signing_key(sign) if sign is not None else None  # before the build
    options = SignoffOptions(
        context=context,
        dockerfile=file,
        image=image,
        size_budget=parse_size(size_budget) if size_budget is not None else None,
        allow=tuple(allow or ()),
        build_args=parse_build_args(build_arg),
        platform=platform,
        verification=verification,
        epoch=parse_epoch(epoch),
    )
    config = _wiring.project_config(context)  # the context's project, not the cwd's
    with build_progress(stderr()) as (on_log, on_phase):
        report = run_signoff(
            options,
            config=config,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            opener=_wiring.image_opener(config),
            on_log=lambda line: on_log("build", line),
            on_phase=on_phase,
        )
    if output_format == "sarif":
        from repro.render.findings import sarif_text
        from repro.render.signoff import signoff_findings, signoff_rules

        text = sarif_text("signoff", signoff_rules(report), signoff_findings(report))
    elif output_format == "github":
        from repro.render.findings import github_annotations
        from repro.render.signoff import signoff_findings

        verdict = "PASS" if report.passed else "FAIL"
        text = github_annotations(signoff_findings(report)) + f"sign-off: {verdict}\n"
    else:
        text = signoff_json(report) if output_format == "json" else signoff_markdown(report)
    if summary is not None:
        from repro.render.lock import append_text

        append_text(summary, signoff_markdown(report))
    if signing_key is not None:
        from repro.signoff.service import sign_report

        text = sign_report(report, signing_key).decode("utf-8")
    if release is not None:
        from repro.release.service import attach_signoff

        stored = text if output_format == "json" or sign is not None else signoff_json(report)
        where = attach_signoff(context, release, report.image_digest, stored.encode("utf-8"))
        stderr().print(f"stored with release {release}: {where}", markup=False, highlight=False)
    if out is not None:
        atomic_write_text(out, text)
        stderr().print(f"wrote {out}", markup=False, highlight=False)
    else:
        write_stdout(text)
    if not report.passed:
        raise typer.Exit(int(ExitCode.NEGATIVE))
