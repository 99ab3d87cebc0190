"""The CLI contract every command shares: version, help, exit codes, errors without tracebacks."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from repro import __version__
from repro.cli import app
from repro.errors import EnvironmentProblem, InputError, VerdictError
from tests.cli.expect import usage_error

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"repro {__version__}"


def test_help_lists_commands_and_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "doctor" in result.stdout
    assert "3 environment error" in " ".join(result.stdout.split())
    assert "4 internal error" in " ".join(result.stdout.split())


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    usage_error(result, "No such command 'no-such-command'")


def test_an_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["doctor", "--no-such-option"])
    usage_error(result, "No such option: --no-such-option")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (VerdictError("images differ"), 1),
        (InputError("Dockerfile not found", hint="pass -f"), 2),
        (EnvironmentProblem("registry localhost:5000 is unreachable"), 3),
    ],
)
def test_expected_failures_become_exit_codes_without_traceback(error: Exception, code: int) -> None:

    @app.command("raise-for-test", hidden=True)
    def _raise() -> None:
        raise error

    try:
        result = runner.invoke(app, ["raise-for-test"])
        assert result.exit_code == code
        assert "Traceback" not in result.output
        assert f"error: {error}" in result.output
        if isinstance(error, InputError) and error.hint:
            assert f"hint: {error.hint}" in result.output

        debug = runner.invoke(app, ["--debug", "raise-for-test"])
        assert debug.exit_code == code
        assert "Traceback" in debug.output
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "raise-for-test"
        ]


def test_error_text_in_square_brackets_is_printed_literally() -> None:
    @app.command("raise-brackets", hidden=True)
    def _raise() -> None:
        raise InputError("an [[image]] entry must be a table", hint="fix [tool.repro]")

    try:
        result = runner.invoke(app, ["raise-brackets"])
        assert result.exit_code == 2
        assert "an [[image]] entry must be a table" in result.output
        assert "fix [tool.repro]" in result.output
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "raise-brackets"
        ]


def _run_raising(error: BaseException, *args: str) -> Result:
    @app.command("raise-unexpected", hidden=True)
    def _raise() -> None:
        raise error

    try:
        return runner.invoke(app, [*args, "raise-unexpected"])
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "raise-unexpected"
        ]


def test_an_unexpected_exception_is_a_bug_with_exit_4_and_no_traceback() -> None:
    result = _run_raising(ValueError("the first line\nthe second line"))
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: ValueError: the first line",
        "this is a bug; rerun with --debug for the traceback",
    ]

    debug = _run_raising(ZeroDivisionError("division by zero"), "--debug")
    assert debug.exit_code == 4
    assert "Traceback" in debug.output and "ZeroDivisionError" in debug.output
    assert "error: ZeroDivisionError: division by zero" in debug.output


def test_ctrl_c_exits_130_with_one_line() -> None:
    result = _run_raising(KeyboardInterrupt())
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted (Ctrl-C): stopped; nothing is left half-written"
