"""ENTRYPOINT/CMD in exec form: the app is PID 1 and receives signals."""

from __future__ import annotations

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status

ID = "exec-form"
TITLE = "ENTRYPOINT/CMD in exec form (signals reach the app)"
FIX = 'Write it as JSON: CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:application"].'
SHELLS = frozenset({"/bin/sh", "sh", "/bin/bash", "bash"})


def _shell_form(command: object) -> bool:
    return (
        isinstance(command, list)
        and len(command) >= 2
        and command[0] in SHELLS
        and (command[1] == "-c")
    )


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    failed = False
    for facts in ctx.images:
        entrypoint = config_value(facts, "Entrypoint")
        cmd = config_value(facts, "Cmd")
        effective = ("Entrypoint", entrypoint) if entrypoint else ("Cmd", cmd)
        if not effective[1]:
            evidence.append(ctx.where(facts, "no ENTRYPOINT or CMD"))
            failed = True
        elif _shell_form(effective[1]):
            failed = True
            evidence.append(ctx.where(facts, f"config {effective[0]}: {effective[1]} (shell form)"))
        else:
            evidence.append(ctx.where(facts, f"config {effective[0]}: {effective[1]}"))
    for instruction in ctx.final_stage():
        if instruction.command in ("CMD", "ENTRYPOINT"):
            form = "exec" if instruction.arguments.text.lstrip().startswith("[") else "shell"
            evidence.append(f"{ctx.at(instruction)}: {instruction.command} in {form} form")
    if failed:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            FIX,
            "a shell is PID 1: signals do not reach the app",
        )
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="exec form")
