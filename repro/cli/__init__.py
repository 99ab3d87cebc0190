"""The command line: parse, call a use case, render. No logic of its own.

ReproGroup.invoke is the one place errors become exit codes: a ReproError prints its
message and hint and exits with its code; any other exception is a bug (exit 4); Ctrl-C
exits 130. ``--debug`` adds the traceback. Each command group lives in its own module;
the adapters the use cases receive are built in ``_wiring``.

``main`` builds only the command it is asked for (typer reads every command's signature
when it builds a group, which costs more than a hermetic ``lock --check`` itself); the
full ``app`` serves ``--help``, shell completion and the tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.exceptions import TyperException

from repro import __version__
from repro.cli import compare, doctor, lock, release, signoff, verify
from repro.interrupt import INTERRUPTED, announce, exit_interrupted
from repro.render.console import report_failure, write_stdout

_DEBUG_KEY = "repro.debug"
_announced: list[bool] = []  # the one line was printed (Ctrl-C inside a command)
__all__ = ["COMMANDS", "INTERRUPTED", "app", "build_app", "main"]


def _no_type(ctx: Any) -> None:
    return None


class ReproCommand(TyperCommand):
    """Help that reads as a command line: ``VERSION``, ``[CONTEXT]``, ``--epoch git|N``,
    never a Python type (``<list[str]>``, ``{version}``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                if param.metavar is None:
                    param.metavar = (param.name or "arg").upper()
                param.display_type_rich = _no_type  # type: ignore[method-assign]
            elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
                longest = max(param.opts, key=len).lstrip("-")
                param.metavar = longest.upper().replace("-", "_")

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.params:
            if not isinstance(param, TyperArgument):
                continue
            name = param.metavar or (param.name or "arg").upper()
            if not param.required and not name.startswith("["):
                name = f"[{name}]"
            if param.nargs != 1 and not name.endswith("..."):
                name += "..."
            pieces.append(name)
        return pieces


class ReproGroup(TyperGroup):
    """The single place where failures become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise  # usage errors (exit 2) and explicit exits are typer's to report
        except (Exception, KeyboardInterrupt) as error:
            # Every finally block below has run: temp dirs removed, atomic writes undone.
            if isinstance(error, KeyboardInterrupt):
                _announced.append(True)
            code = report_failure(error, debug=bool(ctx.meta.get(_DEBUG_KEY)))
            raise typer.Exit(code) from None


def _new_app() -> typer.Typer:
    return typer.Typer(
        cls=ReproGroup,
        name="repro",
        no_args_is_help=True,
        add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


def _version(value: bool) -> None:
    if value:
        write_stdout(f"repro {__version__}\n")
        raise typer.Exit(0)


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
COMMANDS: dict[str, Callable[..., Any]] = {
    "doctor": doctor.doctor,
    "compare": compare.compare,
    "verify": verify.verify,
    "lock": lock.lock,
    "release": release.release,
    "show": release.show,
    "which": release.which,
    "diff": release.diff_command,
    "rebuild": release.rebuild,
    "keygen": release.keygen,
    "sign": release.sign_command,
    "verify-release": release.verify_release,
    "publish": release.publish,
    "signoff": signoff.signoff,
}


def build_app(names: list[str] | None = None) -> typer.Typer:
    """The app with every command, or only ``names``."""
    built = _new_app()
    built.callback()(_main)
    for name, function in COMMANDS.items():
        if names is None or name in names:
            built.command(name, cls=ReproCommand)(function)
    return built


app = build_app()


def _invoked_command(arguments: list[str]) -> str | None:
    """The command a command line runs, when it names one; None for --help and friends."""
    for argument in arguments:
        if argument in ("--debug",):
            continue
        if argument.startswith("-"):
            return None  # --help, --version, --install-completion: the full app
        return argument if argument in COMMANDS else None
    return None


def main() -> None:
    """The entry point; builds only the command it runs. Typer turns a Ctrl-C outside a
    command (while it parses) into a silent exit 130: that one is announced here, so every
    interruption says so."""
    name = None if "_REPRO_COMPLETE" in os.environ else _invoked_command(sys.argv[1:])
    try:
        (build_app([name]) if name is not None else app)(prog_name="repro")
    except (SystemExit, KeyboardInterrupt) as done:
        if isinstance(done, SystemExit) and done.code != INTERRUPTED:
            raise
        if not _announced:
            announce()
        exit_interrupted()
