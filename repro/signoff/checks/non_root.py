"""Runs as non-root: the config User is set and is not root/0."""

from __future__ import annotations

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status

ID = "non-root"
TITLE = "Runs as a non-root user"
FIX = "Add `USER 10001:10001` (a numeric uid) to the final stage, after files are in place."
ROOT_NAMES = frozenset({"", "root", "0"})


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    failed = False
    users = [i for i in ctx.final_stage() if i.command == "USER"]
    for facts in ctx.images:
        user = str(config_value(facts, "User") or "")
        name = user.split(":", 1)[0]
        if name in ROOT_NAMES:
            failed = True
            shown = repr(user) if user else "not set (root)"
            evidence.append(ctx.where(facts, f"config User: {shown}"))
        else:
            evidence.append(ctx.where(facts, f"config User: {user}"))
    if users:
        evidence.append(f"{ctx.at(users[-1])}: USER {users[-1].arguments.text}")
    elif ctx.dockerfile is not None:
        evidence.append(f"{ctx.dockerfile.path}: no USER in the final stage")
    if failed:
        return CheckResult(
            ID, TITLE, Status.FAIL, tuple(evidence), FIX, "the container runs as root"
        )
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="non-root user")
