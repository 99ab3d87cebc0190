"""Prove a real process opens no socket: a ``sitecustomize`` that audits every one.

``guarded_env(directory, log)`` returns an environment whose Python processes load a
``sitecustomize`` (through PYTHONPATH) that installs an audit hook: every
``socket.__new__``, ``socket.connect`` and ``socket.getaddrinfo`` is appended to ``log``
(one line each) and, with ``refuse=True``, refused with an OSError. Audit events come
from the interpreter itself, so no code path can open a socket unseen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_SITECUSTOMIZE = """\
import os, sys

_LOG = os.environ.get("REPRO_NETGUARD_LOG")
_REFUSE = os.environ.get("REPRO_NETGUARD_REFUSE") == "1"
_EVENTS = ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.bind")


def _audit(event, args):
    if event not in _EVENTS or not _LOG:
        return
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{event} {args!r}\\n")
    if _REFUSE:
        raise OSError(f"netguard: {event} refused")


sys.addaudithook(_audit)
"""


def guarded_env(
    directory: Path, log: Path, *, refuse: bool = True, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = dict(base if base is not None else os.environ)
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(directory) + (os.pathsep + existing if existing else "")
    env["REPRO_NETGUARD_LOG"] = str(log)
    env["REPRO_NETGUARD_REFUSE"] = "1" if refuse else "0"
    return env


def socket_events(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []
