"""Render a VerifyResult: the verification record (JSON) and the human summary."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from repro.jsonout import dumps_stable
from repro.render.compare import differences_tree, short_digest
from repro.verify.model import VerifyResult


def verification_json(result: VerifyResult) -> str:
    """The verification record (repro.verify.model), as stable JSON."""
    return dumps_stable(result.record().to_json())


def verification_summary(
    result: VerifyResult, *, max_diffs: int | None, verbose: bool = False
) -> RenderableType:
    epoch_text = datetime.fromtimestamp(result.epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("commit", result.commit)
    facts.add_row("SOURCE_DATE_EPOCH", f"{result.epoch} ({epoch_text})")
    facts.add_row("dockerfile", f"{result.dockerfile} (sha256:{result.dockerfile_sha256[:12]}…)")
    for build in result.builds:
        facts.add_row(
            f"build {build.name}",
            f"{build.source} on {build.builder or 'default'}, {build.seconds}s",
        )
    comparison = result.comparison
    facts.add_row("image A", comparison.image_digest_a)
    facts.add_row("image B", comparison.image_digest_b)
    for platform in sorted(comparison.platforms, key=lambda p: p.platform):
        same = platform.manifest_digest_a == platform.manifest_digest_b
        facts.add_row(
            f"  {platform.platform}",
            str(platform.manifest_digest_a)
            if same
            else f"A {short_digest(platform.manifest_digest_a)}  "
            f"B {short_digest(platform.manifest_digest_b)}",
        )
    if result.attest:
        for side, refs in (("A", comparison.attestations_a), ("B", comparison.attestations_b)):
            facts.add_row(
                f"attestations {side}",
                ", ".join(short_digest(ref.digest) for ref in refs) or "none",
            )
    if not result.identical:
        verdict = Text("✘ not reproducible: the builds differ", style="bold red")
    elif result.attest and not comparison.bit_identical:
        verdict = Text(
            "✔ reproducible: both images are bit-identical; their BuildKit attestations "
            f"({', '.join(result.attest)}) differ, as they record build times and builders",
            style="bold green",
        )
    else:
        verdict = Text("✔ reproducible: both builds are bit-identical", style="bold green")
    parts: list[RenderableType] = [facts, verdict]
    if not result.identical:
        parts.append(differences_tree(comparison, max_diffs=max_diffs, verbose=verbose))
    return Group(*parts)
