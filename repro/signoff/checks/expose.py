"""EXPOSE matches the port the app binds (from --bind/--port in ENTRYPOINT/CMD)."""

from __future__ import annotations

import re

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status

ID = "expose"
TITLE = "EXPOSE matches the port the app listens on"
FIX = "Make EXPOSE name the port the command binds (e.g. EXPOSE 8000 with --bind 0.0.0.0:8000)."
_BIND = re.compile(
    r"(?:--bind|-b|--listen|--host)[= ]\S*?:(\d{1,5})\b|(?:--port|-p)[= ](\d{1,5})\b"
)


def listening_ports(command: str) -> set[str]:
    return {a or b for a, b in _BIND.findall(command)}


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    status = Status.PASS
    for facts in ctx.images:
        exposed = {str(port).split("/")[0] for port in (config_value(facts, "ExposedPorts") or {})}
        words = [*(config_value(facts, "Entrypoint") or []), *(config_value(facts, "Cmd") or [])]
        ports = listening_ports(" ".join(map(str, words)))
        shown = f"EXPOSE {', '.join(sorted(exposed)) or '(none)'}; command binds " + (
            ", ".join(sorted(ports)) or "(no --bind/--port found)"
        )
        evidence.append(ctx.where(facts, shown))
        if exposed and ports and not ports <= exposed:
            status = Status.FAIL
        elif exposed != ports and status is Status.PASS:
            status = Status.WARN
    if status is Status.FAIL:
        return CheckResult(
            ID, TITLE, status, tuple(evidence), FIX, "EXPOSE and the bound port differ"
        )
    if status is Status.WARN:
        return CheckResult(
            ID,
            TITLE,
            status,
            tuple(evidence),
            FIX,
            "cannot confirm the exposed port from the command",
        )
    return CheckResult(ID, TITLE, status, tuple(evidence), summary="ports match")
