"""The consoles every command writes to: results on stdout, diagnostics on stderr."""

from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape

from repro.errors import ReproError
from repro.masking import mask_text


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def stdout() -> Console:
    return Console(no_color=_no_color())


def stderr() -> Console:
    return Console(stderr=True, no_color=_no_color(), soft_wrap=True)


def render_internal_error(error: BaseException, *, debug: bool) -> None:
    """An unexpected exception: its type and first line, and that it is a bug."""
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
    console = stderr()
    message = mask_text(error.message)
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
    log_tail = getattr(error, "log_tail", "")
    if log_tail:
        console.print(mask_text(log_tail), markup=False, highlight=False)
    if error.hint:
        hint = mask_text(error.hint)
        console.print(f"[bold]hint:[/] {escape(hint)}", markup=True, highlight=False)
