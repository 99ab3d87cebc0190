"""The consoles every command writes to: results on stdout, diagnostics on stderr.

On a terminal, rich lays output out at the terminal's width (or COLUMNS). Without one
(a CI log, a pipe, a file) nothing is cut or wrapped mid-value: a CI log is read later,
in full, by someone who needs the whole digest or path. Lines are then as long as their
values, tables are plain aligned lines without a box, and digests are printed whole
(``whole_values``). rich is imported only when something is printed, so a command that
prints plain text starts faster.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

from repro.errors import ReproError
from repro.masking import mask_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

UNLIMITED_WIDTH = 1 << 14  # wider than any path or reference: effectively no wrapping


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def whole_values() -> bool:
    """True when stdout is not a terminal: print every digest, path and command whole."""
    return not _is_tty(sys.stdout)


class _TrimmedLines:
    """A text stream that drops the spaces rich pads lines with (no terminal to fill)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        text = self._pending + text
        lines = text.split("\n")
        self._pending = lines.pop()
        if lines:
            self._stream.write("\n".join(line.rstrip(" ") for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _console(stream: IO[str], *, stderr: bool) -> Console:
    from rich.console import Console

    if _is_tty(stream):
        return Console(stderr=stderr, no_color=_no_color(), soft_wrap=stderr)
    return Console(
        file=_TrimmedLines(stream),  # type: ignore[arg-type]
        width=UNLIMITED_WIDTH,
        no_color=_no_color(),
        soft_wrap=True,
    )


def stdout() -> Console:
    return _console(sys.stdout, stderr=False)


def stderr() -> Console:
    return _console(sys.stderr, stderr=True)


def new_table(**options: Any) -> Table:
    """A rich Table; without a terminal, plain aligned lines (no box) that never wrap."""
    from rich.table import Table

    if whole_values():
        options = {**options, "box": None, "show_edge": False, "pad_edge": False}
        options.pop("show_lines", None)
    return Table(**options)


def write_stdout(text: str) -> None:
    """Plain text to stdout, as is (JSON, SARIF, annotations, Markdown)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def write_stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def render_internal_error(error: BaseException, *, debug: bool) -> None:
    """An unexpected exception: its type and first line, and that it is a bug."""
    from rich.markup import escape

    console = stderr()
    lines = mask_text(str(error)).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    console.print(f"[bold red]error:[/] {escape(detail)}", markup=True, highlight=False)
    advice = (
        "please report it with the traceback above"
        if debug
        else ("rerun with --debug for the traceback")
    )
    console.print(f"this is a bug; {advice}", markup=False, highlight=False)


def render_error(error: ReproError) -> None:
    """The message, the build log's tail if any, and the hint; secrets masked."""
    from rich.markup import escape

    console = stderr()
    message = mask_text(error.message)
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    log_tail = getattr(error, "log_tail", "")
    if log_tail:
        console.print(mask_text(log_tail), markup=False, highlight=False)
    if error.hint:
        hint = mask_text(error.hint)
        console.print(f"[bold]hint:[/] {escape(hint)}", markup=True, highlight=False)


def report_failure(error: BaseException, *, debug: bool) -> int:
    """Print a failure the one way repro prints failures; its exit code.

    A ReproError is its message, hint and code; Ctrl-C is one line and 130; anything
    else is a bug: exit 4. ``debug`` adds the traceback.
    """
    import traceback

    from repro.errors import ExitCode
    from repro.interrupt import INTERRUPTED, INTERRUPTED_MESSAGE

    if debug:
        write_stderr_line(traceback.format_exc().rstrip())
    if isinstance(error, KeyboardInterrupt):
        write_stderr_line(INTERRUPTED_MESSAGE)
        return INTERRUPTED
    if isinstance(error, ReproError):
        render_error(error)
        return int(error.exit_code)
    render_internal_error(error, debug=debug)
    return int(ExitCode.INTERNAL)
