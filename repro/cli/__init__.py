"""The command line: parse, call a use case, render. No logic of its own.

ReproGroup.invoke is the one place errors become exit codes: a ReproError prints its
message and hint and exits with its code; any other exception is a bug (exit 4); Ctrl-C
exits 130. ``--debug`` adds the traceback. Each command group lives in its own module;
the adapters the use cases receive are built in ``_wiring``.
"""

from __future__ import annotations

import traceback
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from repro import __version__
from repro.cli import compare, doctor, lock, release, signoff, verify
from repro.errors import ExitCode, ReproError
from repro.interrupt import INTERRUPTED, INTERRUPTED_MESSAGE, announce, exit_interrupted
from repro.render.console import render_error, render_internal_error, stderr, stdout

_DEBUG_KEY = "repro.debug"
_announced: list[bool] = []  # the one line was printed (Ctrl-C inside a command)


class ReproGroup(TyperGroup):
    """The single place where failures become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise  # usage errors (exit 2) and explicit exits are typer's to report
        except ReproError as error:
            _traceback_if_debug(ctx)
            render_error(error)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            # Every finally block below has run: temp dirs removed, atomic writes undone.
            _traceback_if_debug(ctx)
            stderr().print(INTERRUPTED_MESSAGE, markup=False, highlight=False)
            _announced.append(True)
            raise typer.Exit(INTERRUPTED) from None
        except Exception as error:
            debug = _traceback_if_debug(ctx)
            render_internal_error(error, debug=debug)
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _traceback_if_debug(ctx: Any) -> bool:
    debug = bool(ctx.meta.get(_DEBUG_KEY))
    if debug:
        stderr().print(traceback.format_exc(), markup=False, highlight=False)
    return debug


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
    3 environment error (engine, registry, git), 4 internal error (a bug in repro).
    """
    ctx.meta[_DEBUG_KEY] = debug


# Registration order is the order `repro --help` lists the commands in.
app.command("doctor")(doctor.doctor)
app.command("compare")(compare.compare)
app.command("verify")(verify.verify)
app.command("lock")(lock.lock)
app.command("release")(release.release)
app.command("show")(release.show)
app.command("which")(release.which)
app.command("diff")(release.diff_command)
app.command("rebuild")(release.rebuild)
app.command("keygen")(release.keygen)
app.command("sign")(release.sign_command)
app.command("verify-release")(release.verify_release)
app.command("publish")(release.publish)
app.command("signoff")(signoff.signoff)


def main() -> None:
    """The entry point. Typer turns a Ctrl-C outside a command (while it parses) into a
    silent exit 130: that one is announced here, so every interruption says so."""
    try:
        app()
    except (SystemExit, KeyboardInterrupt) as done:
        if isinstance(done, SystemExit) and done.code != INTERRUPTED:
            raise
        if not _announced:
            announce()
        exit_interrupted()
