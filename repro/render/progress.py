"""Build progress: a live status line on a terminal, plain step lines in CI and pipes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

_STEP = re.compile(r"^#\d+ \[(?P<step>[^\]]+)\] (?P<what>.+)$")


@contextmanager
def build_progress(
    console: Console,
) -> Iterator[tuple[Callable[[str, str], None], Callable[[str], None]]]:
    """Yield (on_log, on_phase) callbacks for the build use cases."""
    seen: set[tuple[str, str]] = set()
    lock = threading.Lock()
    status = console.status("starting") if console.is_terminal else None

    def on_phase(text: str) -> None:
        with lock:
            if status is not None:
                status.update(text)
            console.print(f"[bold]==>[/] {text}", highlight=False)

    def on_log(build: str, line: str) -> None:
        match = _STEP.match(line)
        if match is None:
            return
        key = (build, line)
        with lock:
            if key in seen:  # plain progress repeats a step's header when its output resumes
                return
            seen.add(key)
            text = f"[{build}] {match['step']}: {match['what']}"
            if status is not None:
                status.update(text)
            else:
                console.print(f"    {text}", markup=False, highlight=False)

    if status is not None:
        with status:
            yield on_log, on_phase
    else:
        yield on_log, on_phase
