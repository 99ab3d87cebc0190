"""HEALTHCHECK present in the image config."""

from __future__ import annotations

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status

ID = "healthcheck"
TITLE = "HEALTHCHECK declared"
FIX = (
    'Add HEALTHCHECK --interval=30s --timeout=3s CMD ["python3", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\"]"
)


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    missing = False
    for facts in ctx.images:
        health = config_value(facts, "Healthcheck")
        test = health.get("Test") if isinstance(health, dict) else None
        if not test or test == ["NONE"]:
            missing = True
            evidence.append(ctx.where(facts, "config Healthcheck: none"))
        else:
            evidence.append(
                ctx.where(facts, f"config Healthcheck: {' '.join(map(str, test))[:90]}")
            )
    if missing:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            FIX,
            "orchestrators cannot tell when the app is healthy",
        )
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="healthcheck declared")
