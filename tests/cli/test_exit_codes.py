"""The exit-code contract, class by class: every error in repro/errors.py, raised inside a
command, leaves through the CLI with the code its category documents, its message and
no traceback; anything else is a bug (4); Ctrl-C is 130; Click's usage errors are 2 with
Click's usage text, which repro's own errors never print."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner, Result

from repro import errors
from repro.cli import app

runner = CliRunner()

# The documented code of every class (errors.py's docstring): add a class, add it here.
DOCUMENTED: dict[type[errors.ReproError], int] = {
    errors.ReproError: 2,
    errors.VerdictError: 1,
    errors.InputError: 2,
    errors.DockerfileSyntaxError: 2,
    errors.LockfileError: 2,
    errors.EnvironmentProblem: 3,
    errors.EngineError: 3,
    errors.BuildFailed: 3,
    errors.RegistryError: 3,
    errors.AuthError: 3,
    errors.GitError: 3,
}


def _every_error_class() -> Iterator[type[errors.ReproError]]:
    pending: list[type[errors.ReproError]] = [errors.ReproError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def _instance(cls: type[errors.ReproError]) -> errors.ReproError:
    if issubclass(cls, errors.DockerfileSyntaxError):
        return cls("unknown instruction FORM", path="Dockerfile", line=3, column=1)
    if issubclass(cls, errors.BuildFailed):
        return cls("process did not complete successfully", log_tail="#5 ERROR: exit 1")
    return cls(f"a {cls.__name__} for the contract test", hint="the hint for it")


def _run_raising(error: BaseException) -> Result:
    @app.command("raise-contract", hidden=True)
    def _raise() -> None:
        raise error

    try:
        return runner.invoke(app, ["raise-contract"])
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "raise-contract"
        ]


def test_every_error_class_has_a_documented_code() -> None:
    defined = {cls for cls in _every_error_class() if cls.__module__ == errors.__name__}
    assert defined == set(DOCUMENTED)


@pytest.mark.parametrize("cls", list(DOCUMENTED), ids=lambda cls: str(cls.__name__))
def test_each_error_class_exits_with_its_code_and_message(cls: type[errors.ReproError]) -> None:
    error = _instance(cls)
    assert int(error.exit_code) == DOCUMENTED[cls]
    result = _run_raising(error)
    assert result.exit_code == DOCUMENTED[cls], result.output
    lines = result.output.splitlines()
    assert lines[0] == f"error: {error.message}"
    assert "Traceback" not in result.output and "Usage:" not in result.output
    assert "this is a bug" not in result.output
    if error.hint:
        assert f"hint: {error.hint}" in lines
    if isinstance(error, errors.BuildFailed):
        assert "#5 ERROR: exit 1" in lines


@pytest.mark.parametrize("error", [ValueError("bad"), RecursionError("deep"), OSError(29, "x")])
def test_anything_else_is_a_bug_with_exit_4(error: Exception) -> None:
    result = _run_raising(error)
    assert result.exit_code == 4
    assert result.output.splitlines() == [
        f"error: {type(error).__name__}: {error}",
        "this is a bug; rerun with --debug for the traceback",
    ]


def test_a_verdict_is_the_only_exit_1() -> None:
    codes = {cls: int(cls.exit_code) for cls in DOCUMENTED}
    assert [cls for cls, code in codes.items() if code == 1] == [errors.VerdictError]


def test_ctrl_c_is_130() -> None:
    result = _run_raising(KeyboardInterrupt())
    assert result.exit_code == 130
    assert "Traceback" not in result.output


def test_click_usage_errors_are_2_with_usage_text_that_repro_errors_never_have() -> None:
    result = runner.invoke(app, ["compare", "only-one-image"])
    assert result.exit_code == 2
    assert "Usage:" in result.output and "Missing argument 'B'" in result.output
    assert "error: " not in result.output  # Click writes "Error:", repro "error:"


def test_ctrl_c_while_python_loads_the_cli_is_an_interruption_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from repro import __main__ as entry
    from repro import interrupt

    def loading() -> Callable[[], None]:
        raise KeyboardInterrupt  # Ctrl-C lands while the CLI modules are imported

    def exit_now() -> None:
        raise SystemExit(interrupt.INTERRUPTED)  # os._exit would end pytest itself

    monkeypatch.setattr(interrupt, "exit_interrupted", exit_now)
    with pytest.raises(SystemExit) as exited:
        entry.run(loading)
    assert exited.value.code == 130
    assert capsys.readouterr().err == interrupt.INTERRUPTED_MESSAGE + "\n"
