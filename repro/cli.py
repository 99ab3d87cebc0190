"""The command line: parse, call the core, render. No logic of its own.

Every expected failure is a ReproError, caught once in ReproGroup.invoke and turned
into a message, a hint and the error's exit code. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from repro import __version__
from repro.errors import ReproError
from repro.render.console import render_error, stderr, stdout

_DEBUG_KEY = "repro.debug"


class ReproGroup(TyperGroup):
    """The single place where expected failures become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReproError as error:
            if ctx.meta.get(_DEBUG_KEY):
                stderr().print(traceback.format_exc(), markup=False, highlight=False)
            render_error(error)
            raise typer.Exit(int(error.exit_code)) from None


app = typer.Typer(
    cls=ReproGroup,
    name="repro",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        stdout().print(f"repro {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """repro: reproducible-build verifier for container images.

    Pin bases, build twice, compare byte for byte, record and sign releases.

    Exit codes: 0 success or identical, 1 negative verdict, 2 usage or input error,
    3 environment error (engine, registry, git).
    """
    ctx.meta[_DEBUG_KEY] = debug


@app.command()
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    registry: Annotated[
        list[str] | None,
        typer.Option("--registry", help="Also check this registry (host[:port]). Repeatable."),
    ] = None,
    builder: Annotated[
        str | None, typer.Option("--builder", help="The buildx builder to inspect.")
    ] = None,
) -> None:
    """Check the engine, buildx, BuildKit, git and the configured registries."""
    from repro.build.buildx import probe_engine
    from repro.config import load_config
    from repro.doctor import diagnose
    from repro.errors import EngineError, ExitCode
    from repro.git import git_version
    from repro.registry import RegistryClient
    from repro.render.doctor import doctor_json, doctor_table

    config = load_config(Path.cwd())
    try:
        engine: Any = probe_engine(builder=builder)
    except EngineError as error:
        engine = error
    hosts = sorted({*config.registries, *(registry or [])})
    statuses = [RegistryClient(host, insecure=config.insecure_registries).ping() for host in hosts]
    report = diagnose(engine, git_version(), statuses)
    if json_output:
        stdout().out(doctor_json(report), end="")
    else:
        stdout().print(doctor_table(report))
    if not report.healthy:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))


@app.command()
def compare(
    image_a: Annotated[
        str, typer.Argument(metavar="A", help="OCI layout dir, OCI/docker-save tar.")
    ],
    image_b: Annotated[str, typer.Argument(metavar="B", help="The image to compare A with.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON.")
    ] = False,
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Drop differences at paths matching GLOB.")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Compare only this platform (os/arch).")
    ] = None,
) -> None:
    """Compare two images byte for byte and explain every difference.

    Exit 0 identical, 1 differs, 2 bad input (missing, corrupted or truncated image).
    """
    from repro.errors import ExitCode
    from repro.jsonout import dumps_stable
    from repro.oci import compare_images, open_image
    from repro.render.compare import differences_tree

    comparison = compare_images(
        open_image(image_a), open_image(image_b), platform=platform, ignore=tuple(ignore or ())
    )
    if json_output:
        stdout().out(dumps_stable(comparison.to_json_dict()), end="")
    else:
        stdout().print(differences_tree(comparison, max_diffs=max_diffs))
    if comparison.verdict != "identical":
        raise typer.Exit(int(ExitCode.NEGATIVE))


@app.command()
def verify(
    context: Annotated[
        Path, typer.Argument(help="Build context (a directory in a git work tree).")
    ] = Path("."),
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The Dockerfile.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Build this stage.")] = None,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", help="Target platform. Repeatable.")
    ] = None,
    build_arg: Annotated[
        list[str] | None, typer.Option("--build-arg", help="KEY=VALUE. Repeatable.")
    ] = None,
    epoch: Annotated[
        str,
        typer.Option("--epoch", help="SOURCE_DATE_EPOCH: a number, or 'git' for the commit time."),
    ] = "git",
    builder: Annotated[
        list[str] | None,
        typer.Option(
            "--builder", help="buildx builder; give two to build A and B concurrently on each."
        ),
    ] = None,
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
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
) -> None:
    """Build twice, independently, and prove the images are bit-identical (or explain why not).

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or build failure.
    """
    from repro.errors import ExitCode, InputError
    from repro.render.progress import build_progress
    from repro.render.verify import verification_json, verification_summary
    from repro.verify import VerifyOptions
    from repro.verify import verify as run_verify

    if epoch != "git" and not epoch.isdigit():
        raise InputError(f"--epoch must be a number of seconds or 'git', not {epoch!r}")
    if len(builder or []) > 2:
        raise InputError("--builder can be given at most twice (one builder per build)")
    options = VerifyOptions(
        context=context,
        dockerfile=file,
        target=target,
        platforms=tuple(platform or ()),
        build_args=_parse_build_args(build_arg or []),
        epoch=None if epoch == "git" else int(epoch),
        builders=tuple(builder or ()),
        keep=keep,
        allow_dirty=allow_dirty,
        require_locked=require_locked,
        rewrite_timestamp=not no_rewrite_timestamp,
    )
    with build_progress(stderr()) as (on_log, on_phase):
        result = run_verify(options, on_log=on_log, on_phase=on_phase)
    if json_output:
        stdout().out(verification_json(result), end="")
    else:
        stdout().print(verification_summary(result, max_diffs=max_diffs))
    if not result.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def _parse_build_args(pairs: list[str]) -> dict[str, str]:
    from repro.errors import InputError

    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--build-arg needs KEY=VALUE, got {pair!r}")
        parsed[key] = value
    return parsed


@app.command()
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
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
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

    from repro.config import load_config
    from repro.errors import ExitCode, InputError
    from repro.lock.plan import Mode
    from repro.lock.service import LockRequest, normalise_platforms, run_lock, split_arguments
    from repro.registry import ImageResolver
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
    config = load_config(cwd)
    resolver = ImageResolver(mirrors=config.mirrors, insecure=config.insecure_registries)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
