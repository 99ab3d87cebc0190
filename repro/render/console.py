"""The consoles every command writes to: results on stdout, diagnostics on stderr."""

from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape

from repro.errors import ReproError


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def stdout() -> Console:
    return Console(no_color=_no_color())


def stderr() -> Console:
    return Console(stderr=True, no_color=_no_color(), soft_wrap=True)


def render_error(error: ReproError) -> None:
    console = stderr()
    console.print(f"[bold red]error:[/] {escape(error.message)}", markup=True, highlight=False)
    log_tail = getattr(error, "log_tail", "")
    if log_tail:
        console.print(log_tail, markup=False, highlight=False)
    if error.hint:
        console.print(f"[bold]hint:[/] {escape(error.hint)}", markup=True, highlight=False)
