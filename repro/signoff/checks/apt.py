"""apt hygiene: --no-install-recommends and list cleanup in the same RUN; no apt caches."""

from __future__ import annotations

import re

from repro.oci.history import clean_created_by
from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status
from repro.signoff.units import human_bytes

ID = "apt-hygiene"
TITLE = "apt: --no-install-recommends, lists removed in the same RUN, no caches shipped"
FIX = (
    "RUN apt-get update && apt-get install -y --no-install-recommends PKG "
    "&& rm -rf /var/lib/apt/lists/*  (one RUN; or use a cache mount for /var/lib/apt)"
)
_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b")
_CLEANUP = re.compile(r"rm\s+-[a-zA-Z]*\s+[^&;|]*/var/lib/apt/lists")


def _is_cache(path: str) -> bool:
    if path.startswith("/var/lib/apt/lists/"):
        rest = path.removeprefix("/var/lib/apt/lists/")
        return rest not in ("lock", "partial", "auxfiles") and not rest.startswith("partial/")
    return path.startswith("/var/cache/apt/") and path.endswith((".deb", ".bin"))


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    steps = 0
    mounts = any(
        "/var/lib/apt" in (flag.value or "")
        for ins in ctx.final_stage()
        if ins.command == "RUN"
        for flag in ins.flags_named("mount")
    )
    for facts in ctx.images:
        history = facts.config.get("history")
        for position, item in enumerate(history if isinstance(history, list) else []):
            created_by = item.get("created_by") if isinstance(item, dict) else None
            if not isinstance(created_by, str) or not _INSTALL.search(created_by):
                continue
            steps += 1
            text = clean_created_by(created_by)
            where = ctx.line_of(text) or f"history[{position}]"
            if "--no-install-recommends" not in created_by:
                evidence.append(
                    ctx.where(facts, f"{where}: apt install without --no-install-recommends")
                )
            if not _CLEANUP.search(created_by) and not mounts:
                evidence.append(
                    ctx.where(facts, f"{where}: /var/lib/apt/lists not removed in the same RUN")
                )
        cached = [
            (path, file)
            for path, file in facts.files.items()
            if file.kind == "file" and _is_cache(path)
        ]
        if cached:
            total = sum(file.size for _, file in cached)
            first = min(cached)
            evidence.append(
                ctx.where(
                    facts,
                    f"{facts.layer_label(first[1].layer)}: {len(cached)} apt list/cache files "
                    f"({human_bytes(total)}), e.g. {first[0]}",
                )
            )
    if evidence:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            FIX,
            "apt installs leave recommends or caches behind",
        )
    summary = (
        f"{steps} apt install step(s), each clean"
        if steps
        else "no apt install in the history; no apt lists or caches in the image"
    )
    return CheckResult(ID, TITLE, Status.PASS, summary=summary)
