"""Size: per platform, total compressed and uncompressed bytes against the budget; waste."""

from __future__ import annotations

from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status
from repro.signoff.units import human_bytes

ID = "size"
TITLE = "Image size within budget (wasted bytes and efficiency)"
FIX = (
    "Start from a -slim base, build in a separate stage, and clean up in the same RUN that "
    "made the files (a later rm leaves them in the earlier layer)."
)
WASTE_WARN_RATIO = 0.95  # below this efficiency, waste is worth a warning
OFFENDERS_SHOWN = 5


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    over = wasteful = False
    for facts in ctx.images:
        size = facts.size
        line = (
            f"{human_bytes(size.uncompressed_bytes)} uncompressed, "
            f"{human_bytes(size.compressed_bytes)} compressed, {len(size.layers)} layers"
        )
        if ctx.size_budget is not None:
            over_budget = size.uncompressed_bytes > ctx.size_budget
            over = over or over_budget
            line += f"; budget {human_bytes(ctx.size_budget)}" + (
                " EXCEEDED" if over_budget else ""
            )
        evidence.append(ctx.where(facts, line))
        evidence.append(
            ctx.where(
                facts,
                f"wasted {human_bytes(size.wasted_bytes)} "
                f"(overwritten or deleted by later layers), "
                f"efficiency {size.efficiency:.1%}",
            )
        )
        wasteful = wasteful or size.efficiency < WASTE_WARN_RATIO
        for offender in size.offenders[:OFFENDERS_SHOWN]:
            evidence.append(
                ctx.where(
                    facts,
                    f"{facts.layer_label(offender.layer)}: {offender.path} "
                    f"{human_bytes(offender.size)}, {offender.reason}",
                )
            )
    if over:
        return CheckResult(ID, TITLE, Status.FAIL, tuple(evidence), FIX, "over the size budget")
    if ctx.size_budget is None:
        return CheckResult(
            ID,
            TITLE,
            Status.WARN,
            tuple(evidence),
            "Set a budget: --size-budget 200MB or [tool.repro.signoff] size-budget.",
            "no size budget set",
        )
    if wasteful:
        return CheckResult(
            ID,
            TITLE,
            Status.WARN,
            tuple(evidence),
            FIX,
            "within budget, but later layers waste space",
        )
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="within budget")
