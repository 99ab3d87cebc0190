"""Assertions on how a command failed: exit 2 alone cannot tell repro's own input error
from Click's usage error (both exit 2), so each names the message it expects too."""

from __future__ import annotations

from typer.testing import Result


def _flat(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines


def input_error(result: Result, message: str) -> None:
    """repro refused its input: exit 2, ``error: ...message...``, no usage text."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Usage:" not in result.output, "a Click usage error, not repro's own"
    assert "error: " in result.output and message in _flat(result.output), result.output


def usage_error(result: Result, message: str) -> None:
    """Click refused the command line: exit 2, its usage text and ``message``."""
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output and message in _flat(result.output), result.output
