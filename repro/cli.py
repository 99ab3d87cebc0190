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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
