"""Ctrl-C: the exit code, the one line, and the immediate exit every path shares (the CLI
while a command runs, and the entry point while Python is still loading repro)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

INTERRUPTED = 130  # 128 + SIGINT, as shells report it
INTERRUPTED_MESSAGE = "interrupted (Ctrl-C): stopped; nothing is left half-written"


def announce() -> None:
    """The one line, on stderr."""
    with contextlib.suppress(Exception):
        sys.stderr.write(INTERRUPTED_MESSAGE + "\n")


def exit_interrupted() -> None:
    """Exit 130 now. A normal exit would wait for every worker thread, and one blocked in
    a read (a registry that trickles) could hold it for minutes; the main thread has
    already unwound every finally block (temp dirs removed, atomic writes undone), so
    nothing those threads hold is worth waiting for. A second Ctrl-C meanwhile is
    ignored rather than shown as a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(INTERRUPTED)
