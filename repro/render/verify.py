"""Render a VerifyResult: the verification record (JSON) and the human summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from repro.jsonout import document, dumps_stable
from repro.render.compare import differences_tree, short_digest
from repro.verify.service import VerifyResult


def verification_record(result: VerifyResult) -> dict[str, Any]:
    """The record a release stores: everything needed to say what was verified, and how."""
    comparison = result.comparison
    return document(
        "verification",
        {
            "verdict": "identical" if result.identical else "differs",
            "commit": result.commit,
            "source_date_epoch": result.epoch,
            "dockerfile": result.dockerfile,
            "dockerfile_sha256": result.dockerfile_sha256,
            "build_args": dict(result.build_args),
            "target": result.target,
            "platforms": list(result.platforms),
            "builds": [
                {
                    "name": b.name,
                    "builder": b.builder or "default",
                    "source": b.source,
                    "seconds": b.seconds,
                }
                for b in result.builds
            ],
            "image_digest_a": comparison.image_digest_a,
            "image_digest_b": comparison.image_digest_b,
            "manifests": [
                {
                    "platform": p.platform,
                    "digest_a": p.manifest_digest_a,
                    "digest_b": p.manifest_digest_b,
                }
                for p in sorted(comparison.platforms, key=lambda p: p.platform)
            ],
            "comparison": comparison.to_json_dict(),
        },
    )


def verification_json(result: VerifyResult) -> str:
    return dumps_stable(verification_record(result))


def verification_summary(result: VerifyResult, *, max_diffs: int | None) -> RenderableType:
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
    verdict = (
        Text("✔ reproducible: both builds are bit-identical", style="bold green")
        if result.identical
        else Text("✘ not reproducible: the builds differ", style="bold red")
    )
    parts: list[RenderableType] = [facts, verdict]
    if not result.identical:
        parts.append(differences_tree(comparison, max_diffs=max_diffs))
    return Group(*parts)
