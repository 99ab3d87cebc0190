"""Render a VerifyResult: the verification record (JSON), the human summary and the
suggested Dockerfile change (a unified diff for `git apply`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import groupby

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from repro.errors import ReproError
from repro.jsonout import dumps_stable
from repro.oci.model import DifferenceGroup, FixScope
from repro.render.compare import (
    DERIVED_CAUSE,
    GroupNotes,
    checked_lines,
    differences_tree,
    short_digest,
)
from repro.render.console import whole_values
from repro.render.findings import Finding, Rule
from repro.verify.model import VerifyResult
from repro.verify.suggest import SuggestedChange


def verification_json(result: VerifyResult) -> str:
    """The verification record (repro.verify.model), as stable JSON."""
    return dumps_stable(result.record().to_json())


def suggestion_diff(result: VerifyResult) -> str:
    """The suggested change as a unified diff (paths from the repository root, as
    `git apply` takes them); empty when there is nothing to change."""
    change = result.suggestion
    return change.unified_diff() if change is not None and change.changed else ""


def _variation_rows(result: VerifyResult, facts: Table, *, verbose: bool) -> None:
    if verbose:
        for variation in result.variations:
            facts.add_row(f"vary {variation.name}", f"A {variation.a}; B {variation.b}")
        for left_out in result.not_varied:
            facts.add_row(f"not {left_out.name}", left_out.instead)
        return
    if result.variations:
        facts.add_row(
            "varied",
            ", ".join(
                v.name if v.reaches_build else f"{v.name} (checkout only)"
                for v in result.variations
            ),
        )
    if result.not_varied:
        facts.add_row("not varied", "; ".join(f"{n.name} ({n.instead})" for n in result.not_varied))


def _change_notes(change: SuggestedChange) -> GroupNotes:
    """Under each fixable group's fix: the Dockerfile lines it becomes, once per change."""
    shown: set[int] = set()

    def notes(group: DifferenceGroup) -> Sequence[RenderableType]:
        lines: list[RenderableType] = []
        for index, suggestion in enumerate(change.suggestions):
            if group.key not in suggestion.groups:
                continue
            where = f"{change.path}:{suggestion.line}"
            if index in shown:
                lines.append(Text(f"{where}: in the change shown above", style="dim"))
                continue
            shown.add(index)
            lines.append(
                Text.assemble((f"{where} becomes: ", "green"), suggestion.replacement.strip())
            )
        if group.fix.scope is FixScope.DOCKERFILE:
            for unresolved in change.unresolved:
                if unresolved.group == group.key:
                    lines.append(Text(f"no change made: {unresolved.reason}", style="dim"))
        return lines

    return notes


def verification_summary(
    result: VerifyResult, *, max_diffs: int | None, verbose: bool = False
) -> RenderableType:
    epoch_text = datetime.fromtimestamp(result.epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("commit", result.commit)
    facts.add_row("SOURCE_DATE_EPOCH", f"{result.epoch} ({epoch_text})")
    sha = result.dockerfile_sha256 if whole_values() else f"{result.dockerfile_sha256[:12]}…"
    facts.add_row("dockerfile", f"{result.dockerfile} (sha256:{sha})")
    for build in result.builds:
        facts.add_row(
            f"build {build.name}",
            f"{build.source} on {build.builder or 'default'}, {build.seconds}s",
        )
    _variation_rows(result, facts, verbose=verbose)
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
        change = result.suggestion
        notes = _change_notes(change) if change is not None else None
        parts.append(
            differences_tree(comparison, max_diffs=max_diffs, verbose=verbose, notes=notes)
        )
        if change is not None and change.changed:
            parts.append(Text("(`repro verify --suggest` prints the change as a diff)"))
        if result.suggestion_problem:
            parts.append(Text(f"no change suggested: {result.suggestion_problem}"))
    else:
        parts.extend(checked_lines(comparison))
    return Group(*parts)


# -- CI formats: findings located at the Dockerfile instruction that made each layer --------

VERIFY_RULES = (
    Rule(
        "verify/differs",
        "The two builds differ here (not reproducible)",
        "Follow the cause's fix; `repro verify` again proves it.",
    ),
)


def _normalised(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def instruction_lines(data: bytes, path: str = "Dockerfile") -> dict[str, int]:
    """Normalised instruction text -> its first line, to place a layer's difference."""
    from repro.dockerfile import parse_dockerfile

    lines: dict[str, int] = {}
    try:
        parsed = parse_dockerfile(data, path)
    except ReproError:
        return lines
    for instruction in parsed.instructions:
        raw = instruction.span.slice(data).decode("utf-8", "surrogateescape")
        keyword, _, rest = _normalised(raw).partition(" ")
        lines.setdefault(f"{keyword.upper()} {rest}".strip(), instruction.line)
        if instruction.command == "FROM":
            lines["FROM"] = instruction.line  # the last FROM: the stage that ships
    return lines


def _line_for(instruction: str | None, lines: Mapping[str, int]) -> int:
    if instruction:
        text = _normalised(instruction)
        if text in lines:
            return lines[text]
        for written, line in lines.items():
            if written.startswith(text[:40]) or text.startswith(written):
                return line
    return lines.get("FROM", 1)


def verify_findings(result: VerifyResult, lines: Mapping[str, int]) -> list[Finding]:
    """One finding per differing path (per layer and platform), with its cause and fix."""
    findings: list[Finding] = []
    comparison = result.comparison
    listed = [d for d in comparison.differences if d.cause_id != DERIVED_CAUSE]
    for (platform, layer, instruction, path), group in groupby(
        listed, key=lambda d: (d.platform, d.layer, d.instruction, d.path)
    ):
        entries = list(group)
        where = f"layer {layer} ({instruction})" if layer is not None else entries[0].area
        fields = "; ".join(f"{d.field or d.kind}: A {d.value_a} vs B {d.value_b}" for d in entries)
        causes = "; ".join(
            sorted({f"cause {d.cause_id}: {d.cause_title}. fix: {d.fix}" for d in entries})
        )
        findings.append(
            Finding(
                rule="verify/differs",
                level="error",
                message=f"{platform or 'index'} {where}: {path or '(whole)'} differs ({fields}); "
                f"{causes}",
                file=result.dockerfile,
                line=_line_for(instruction, lines),
                title=f"not reproducible: {path or where}",
            )
        )
    return findings


def verification_markdown(result: VerifyResult) -> str:
    comparison = result.comparison
    verdict = "reproducible" if result.identical else "NOT reproducible"
    lines = [
        f"### repro verify: {verdict}",
        "",
        f"- commit: `{result.commit}`",
        f"- SOURCE_DATE_EPOCH: {result.epoch}",
        f"- Dockerfile: `{result.dockerfile}` (`sha256:{result.dockerfile_sha256}`)",
        f"- image A: `{comparison.image_digest_a}`",
        f"- image B: `{comparison.image_digest_b}`",
    ]
    for build in result.builds:
        lines.append(
            f"- build {build.name}: {build.source} on {build.builder or 'default'}, "
            f"{build.seconds}s"
        )
    listed = [d for d in comparison.differences if d.cause_id != DERIVED_CAUSE]
    if listed:
        lines += [
            "",
            "| platform | layer | path | difference | cause and fix |",
            "|---|---|---|---|---|",
        ]
        for diff in listed:
            layer = f"{diff.layer}: `{diff.instruction}`" if diff.layer is not None else diff.area
            lines.append(
                f"| {diff.platform or 'index'} | {_cell(layer)} | `{_cell(diff.path)}` "
                f"| {_cell(diff.field or diff.kind)}: A `{_cell(str(diff.value_a))}` vs B "
                f"`{_cell(str(diff.value_b))}` | {_cell(diff.cause_id)}: {_cell(diff.fix)} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
