"""Render releases: what was recorded, what shipped, which release a digest is in, diffs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from repro.jsonout import document, dumps_stable
from repro.masking import mask_json, mask_mapping, mask_text
from repro.release import attest, slsa
from repro.release.publish import Publications
from repro.release.record import DigestHit, ReleaseDiff
from repro.release.service import (
    PublishOutcome,
    RebuildOutcome,
    ReleaseCheck,
    ReleaseOutcome,
    ReleaseView,
    StatementStatus,
)
from repro.render.compare import differences_tree, short_digest
from repro.render.console import whole_values
from repro.render.verify import verification_summary
from repro.signoff.units import human_bytes


def signed_size(delta: int) -> str:
    return ("+" if delta >= 0 else "-") + human_bytes(abs(delta))


def _epoch(epoch: int) -> str:
    return f"{epoch} ({datetime.fromtimestamp(epoch, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')})"


def _facts() -> Table:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    return facts


def release_summary(
    outcome: ReleaseOutcome, *, max_diffs: int | None, verbose: bool = False
) -> RenderableType:
    parts: list[RenderableType] = [
        verification_summary(outcome.result, max_diffs=max_diffs, verbose=verbose)
    ]
    release = outcome.release
    if release is None:
        parts.append(Text("nothing recorded: a release must be reproducible", style="bold red"))
        return Group(*parts)
    verb = "replaced" if outcome.replaced else "recorded"
    parts.append(
        Text(f"{verb} release {release.version} in {outcome.lockfile}", style="bold green")
    )
    if release.repository:
        parts.append(Text(f"pushed {release.repository} ({release.digest}), checked"))
    for path in outcome.signed:
        parts.append(Text(f"signed: {path}"))
    if outcome.publication is not None:
        parts.append(publish_view(outcome.publication))
    return Group(*parts)


STATEMENT_LABELS = {
    attest.PREDICATE_TYPE: "release statement",
    slsa.PREDICATE_TYPE: "SLSA provenance v1",
    attest.SIGNOFF_PREDICATE_TYPE: "sign-off report",
}


def _label(predicate_type: str) -> str:
    return STATEMENT_LABELS.get(predicate_type, predicate_type)


def _status_text(status: StatementStatus, root: Path) -> str:
    if not status.present:
        return "not signed"
    signer = f"signed by {status.keyid}" if status.keyid else "unsigned"
    if status.verified is None:
        detail = "; ".join(status.problems) or "not checked (pass --pubkey)"
    elif status.verified:
        detail = "verifies, and matches repro.lock"
    else:
        detail = "DOES NOT VERIFY: " + mask_text("; ".join(status.problems))
    where = status.path.relative_to(root) if status.path.is_relative_to(root) else status.path
    return f"{signer}\n{detail}\n{where}"


def _statements_table(view: ReleaseView) -> Table:
    table = _facts()
    for status in view.statements:
        table.add_row(f"  {_label(status.predicate_type)}", _status_text(status, view.root))
    return table


def _published_parts(publications: Publications) -> list[RenderableType]:
    if not publications.published:
        return [Text("published nowhere yet (repro publish VERSION --to REF --key KEY)")]
    parts: list[RenderableType] = []
    for publication in publications.published:
        name, _, digest = publication.image.partition("@")
        parts.append(Text(f"published beside {name}@{short_digest(digest)}", style="bold cyan"))
        table = _facts()
        tag = publication.attestation_tag
        shown = f"{tag[:19]}…{tag.removesuffix('.att')[-4:]}.att"
        table.add_row("  cosign", f"tag {shown}")
        for statement in publication.statements:
            table.add_row(
                f"  {_label(statement.predicate_type)}",
                f"referrer {short_digest(statement.referrer)} in {statement.listed_by}",
            )
        parts.append(table)
    return parts


def show_view(view: ReleaseView) -> RenderableType:
    release = view.release
    facts = _facts()
    facts.add_row("release", release.version)
    facts.add_row("commit", release.commit + (f" (tag {release.tag})" if release.tag else ""))
    if release.source:
        facts.add_row("source", release.source)
    facts.add_row("image", release.digest)
    if release.repository:
        facts.add_row("pushed to", release.repository)
    facts.add_row("SOURCE_DATE_EPOCH", _epoch(release.source_date_epoch))
    sha = release.dockerfile_sha256 if whole_values() else f"{release.dockerfile_sha256[:12]}…"
    facts.add_row("dockerfile", f"{release.dockerfile} (sha256:{sha})")
    facts.add_row("context", release.context)
    args = ", ".join(f"{k}={v}" for k, v in mask_mapping(release.build_args).items())
    facts.add_row("build args", args or "none")
    facts.add_row("target", release.target or "(last stage)")
    facts.add_row("platforms", ", ".join(release.platforms) or "(builder default)")
    facts.add_row("built with", f"BuildKit {release.buildkit}, buildx {release.buildx}")
    if release.attest:
        facts.add_row("attestations", ", ".join(release.attest) + " (BuildKit's, in the image)")
    for build in release.builds:
        facts.add_row(f"build {build.name}", f"{short_digest(build.digest)} on {build.builder}")
    if release.started_at:
        facts.add_row("started at", release.started_at)
    facts.add_row("verified at", release.verified_at)
    if release.variations:
        facts.add_row("varied", ", ".join(release.variations))
    parts: list[RenderableType] = [facts, Text("statements", style="bold cyan")]
    parts.append(_statements_table(view))
    parts.extend(_published_parts(view.publications))
    parts.append(Text("bases", style="bold cyan"))
    parts.extend(Text(f"  {base.reference}\n    {base.digest}") for base in release.bases)
    if not release.bases:
        parts.append(Text("  none pinned"))
    for image in release.images:
        parts.append(
            Text(
                f"{image.platform}  manifest {image.manifest}\n"
                f"  config {image.config}  size {human_bytes(image.size)}",
                style="bold cyan",
            )
        )
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("#", justify="right")
        table.add_column("layer")
        table.add_column("size", justify="right")
        table.add_column("instruction", overflow="fold")
        for position, layer in enumerate(image.layers, start=1):
            table.add_row(
                str(position),
                short_digest(layer.digest),
                human_bytes(layer.size),
                mask_text(layer.instruction or "(unknown)"),
            )
        parts.append(table)
    return Group(*parts)


def _status_json(status: StatementStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "predicate_type": status.predicate_type,
        "path": str(status.path),
        "present": status.present,
        "keyid": status.keyid,
        "verified": status.verified,
        "problems": [mask_text(problem) for problem in status.problems],
    }


def show_json(view: ReleaseView) -> str:
    return dumps_stable(
        document(
            "release",
            {
                "release": mask_json(view.release.to_toml()),
                "signature": _status_json(view.signature),
                "statements": [_status_json(status) for status in view.statements],
                "published": view.publications.to_json()["published"],
            },
        )
    )


def which_view(hits: tuple[DigestHit, ...]) -> RenderableType:
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("release", "platform", "what", "digest"):
        table.add_column(column)
    table.add_column("instruction", overflow="fold")
    for hit in hits:
        what = f"layer {hit.layer}" if hit.kind == "layer" else hit.kind
        table.add_row(
            hit.version,
            hit.platform or "(all)",
            what,
            short_digest(hit.digest),
            mask_text(hit.instruction or ""),
        )
    return Group(Text(hits[0].digest, style="bold"), table)


def which_json(hits: tuple[DigestHit, ...]) -> str:
    return dumps_stable(
        document(
            "release-digest",
            {
                "digest": hits[0].digest,
                "found": [
                    {
                        "release": h.version,
                        "platform": h.platform,
                        "kind": h.kind,
                        "layer": h.layer,
                        "instruction": mask_text(h.instruction) if h.instruction else None,
                    }
                    for h in hits
                ],
            },
        )
    )


def diff_view(diff: ReleaseDiff) -> RenderableType:
    old, new = diff.old, diff.new
    parts: list[RenderableType] = [
        Text(f"{old.version} -> {new.version}", style="bold"),
        Text(f"image\n    {old.digest}\n -> {new.digest}"),
        Text("bases", style="bold cyan"),
    ]
    if not diff.bases:
        parts.append(Text("  unchanged"))
    for base in diff.bases:
        parts.append(
            Text(f"  {base.reference}\n    {base.old or '(none)'}\n -> {base.new or '(none)'}")
        )
    parts.append(Text(f"commits ({old.commit[:12]}..{new.commit[:12]})", style="bold cyan"))
    parts.extend(Text(f"  {line}") for line in diff.commits or ("(none)",))
    for platform in diff.platforms:
        size = (
            f"{human_bytes(platform.old_size)} -> {human_bytes(platform.new_size)} "
            f"({signed_size(platform.new_size - platform.old_size)})"
            if platform.old_size is not None and platform.new_size is not None
            else "only in one release"
        )
        parts.append(Text(f"{platform.platform}  size {size}", style="bold cyan"))
        for change in platform.changes:
            layer = change.new or change.old
            instruction = layer.instruction if layer and layer.instruction else "(unknown)"
            if change.kind == "changed" and change.old and change.new:
                detail = (
                    f"{short_digest(change.old.digest)} -> {short_digest(change.new.digest)}, "
                    f"{signed_size(change.new.size - change.old.size)}"
                )
                if change.old.instruction != change.new.instruction:
                    instruction = f"{change.old.instruction} -> {change.new.instruction}"
            else:
                detail = f"{short_digest(layer.digest if layer else None)}"
                if layer:
                    detail += f", {human_bytes(layer.size)}"
            parts.append(
                Text(f"  {change.kind:<8} layer {change.position}  {mask_text(instruction)}")
            )
            parts.append(Text(f"           {detail}"))
        parts.append(
            Text(f"  {platform.unchanged} layer{'' if platform.unchanged == 1 else 's'} unchanged")
        )
    return Group(*parts)


def diff_json(diff: ReleaseDiff) -> str:
    def layer(value: Any) -> dict[str, Any] | None:
        return None if value is None else mask_json(value.to_toml())

    return dumps_stable(
        document(
            "release-diff",
            {
                "old": {"version": diff.old.version, "digest": diff.old.digest},
                "new": {"version": diff.new.version, "digest": diff.new.digest},
                "bases": [
                    {"reference": b.reference, "old": b.old, "new": b.new} for b in diff.bases
                ],
                "commits": list(diff.commits),
                "platforms": [
                    {
                        "platform": p.platform,
                        "old_size": p.old_size,
                        "new_size": p.new_size,
                        "unchanged": p.unchanged,
                        "layers": [
                            {
                                "kind": c.kind,
                                "position": c.position,
                                "old": layer(c.old),
                                "new": layer(c.new),
                            }
                            for c in p.changes
                        ],
                    }
                    for p in diff.platforms
                ],
            },
        )
    )


def rebuild_view(
    outcome: RebuildOutcome, *, max_diffs: int | None, verbose: bool = False
) -> RenderableType:
    facts = _facts()
    release = outcome.release
    facts.add_row("release", release.version)
    facts.add_row("commit", release.commit)
    facts.add_row("SOURCE_DATE_EPOCH", _epoch(release.source_date_epoch))
    facts.add_row("expected", f"{outcome.expected_digest} ({outcome.against or 'repro.lock'})")
    facts.add_row("rebuilt", outcome.rebuilt_digest)
    parts: list[RenderableType] = [facts]
    if outcome.identical:
        parts.append(
            Text(
                f"✔ identical: the rebuild of {release.version} matches "
                f"{outcome.against or 'the recorded digests'}",
                style="bold green",
            )
        )
        return Group(*parts)
    parts.append(Text(f"✘ differs: the rebuild of {release.version} does not match"))
    parts.extend(Text(f"  {mask_text(problem)}") for problem in outcome.problems)
    if outcome.comparison is not None:
        parts.append(Text(f"A = {outcome.against}, B = the rebuild", style="bold"))
        parts.append(differences_tree(outcome.comparison, max_diffs=max_diffs, verbose=verbose))
    return Group(*parts)


def check_view(check: ReleaseCheck) -> RenderableType:
    facts = _facts()
    facts.add_row("release", check.release.version)
    facts.add_row("image", check.release.digest)
    facts.add_row("statement", check.source)
    facts.add_row("signature", f"verifies with {check.keyid}")
    for other in check.others:
        found = f"{other.detail}: {other.where}" if other.where else other.detail
        facts.add_row(_label(other.predicate_type), found)
    if check.ok:
        return Group(
            facts,
            Text(
                "✔ the signed statement matches repro.lock (subject, predicate)",
                style="bold green",
            ),
        )
    lines = [Text("✘ the signed statement does not match repro.lock:", style="bold red")]
    lines.extend(Text(f"  {mask_text(problem)}") for problem in check.problems)
    return Group(facts, *lines)


def publish_view(outcome: PublishOutcome) -> RenderableType:
    publication = outcome.publication
    facts = _facts()
    facts.add_row("release", outcome.release.version)
    facts.add_row("subject", publication.image)
    facts.add_row("cosign tag", publication.attestation_tag)
    for statement in publication.statements:
        facts.add_row(
            _label(statement.predicate_type),
            f".att layer {short_digest(statement.envelope)}, "
            f"referrer {short_digest(statement.referrer)}",
        )
    listed_by = sorted({statement.listed_by for statement in publication.statements})
    facts.add_row(
        "referrers",
        f"{publication.referrers_listed} listed for the image by {', '.join(listed_by)}",
    )
    facts.add_row("recorded in", str(outcome.record))
    parts: list[RenderableType] = [facts]
    parts.extend(Text(note, style="yellow") for note in outcome.skipped)
    count = len(publication.statements)
    parts.append(
        Text(
            f"✔ published {count} signed statement{'' if count == 1 else 's'}",
            style="bold green",
        )
    )
    return Group(*parts)
