"""Render a Comparison: the verdict line, then platform > layer > one line per cause.

Each group (a layer and a cause) is one line with its count, a few example paths and
the bytes involved, and its fix once; ``verbose`` lists every file and field under it.
Unclassified files show their evidence (where the contents first differ, in hex and
text). Platforms whose groups are the same are shown once, under all their names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from repro.oci import Comparison, Difference
from repro.oci.groups import group_differences
from repro.oci.jsontypes import JsonValue
from repro.oci.model import (
    AREA_FILE,
    UNCLASSIFIED_ID,
    ContentEvidence,
    DifferenceGroup,
    FixScope,
    printable,
)
from repro.render.console import whole_values
from repro.signoff.units import human_bytes

DERIVED_CAUSE = "follows-from-layers"
EXAMPLE_PATHS = 3
EVIDENCE_EXAMPLES = 3
WINDOW_SHOWN = 24  # bytes of evidence shown per side


def _short(value: JsonValue, limit: int = 80) -> str:
    """On a terminal, long values are cut to fit; in a log (no terminal) never."""
    text = "∅" if value is None else str(value)
    if whole_values() or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def short_digest(digest: str | None) -> str:
    """``sha256:`` and 12 hex digits: enough to tell digests apart on a terminal. Without
    one (a CI log) the digest is printed whole."""
    if digest is None:
        return "(missing)"
    if whole_values():
        return digest
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:12]}" if hexdigest else digest


def verdict_line(comparison: Comparison) -> Text:
    if comparison.bit_identical:
        return Text.assemble(("identical", "bold green"), f"  {comparison.image_digest_a}")
    if not comparison.differences:
        return Text.assemble(
            ("identical after ignores", "bold yellow"),
            f"  ({comparison.ignored_count} differences ignored)",
        )
    counts = {c: n for c, n in comparison.counts_by_cause.items() if c != DERIVED_CAUSE}
    total = sum(counts.values()) or len(comparison.differences)
    causes = ", ".join(f"{n} {cause}" for cause, n in counts.items())
    noun = "difference" if total == 1 else "differences"
    return Text.assemble(("differs", "bold red"), f"  {total} {noun} ({causes})")


def _layer_label(group: DifferenceGroup) -> str:
    if group.layer is None:
        areas = sorted({d.area for d in group.differences})
        return " and ".join(areas)
    instruction = f": {group.instruction}" if group.instruction else ""
    return f"layer {group.layer}{_short(instruction, 90)}"


def _diff_line(diff: Difference) -> Text:
    if diff.kind == "added":
        detail = f"only in B: {_short(diff.value_b)}"
    elif diff.kind == "removed":
        detail = f"only in A: {_short(diff.value_a)}"
    else:
        detail = f"A {_short(diff.value_a)}  vs  B {_short(diff.value_b)}"
    return Text.assemble((diff.field or diff.kind, "bold"), f": {detail}")


def _window(label: str, offset: int, data: bytes) -> str:
    shown = data[:WINDOW_SHOWN]
    return f"{label} @{offset}: {shown.hex(' ')}  |{printable(shown)}|"


def evidence_lines(evidence: ContentEvidence) -> list[str]:
    """Where two contents differ, for a person: offsets, bytes in hex and text."""
    lines: list[str] = []
    sizes = (
        f"{evidence.size_a} bytes"
        if evidence.size_a == evidence.size_b
        else f"A {evidence.size_a} vs B {evidence.size_b} bytes"
    )
    if evidence.first_offset is not None:
        lines.append(f"first difference at byte {evidence.first_offset} ({sizes})")
        lines.append(_window("A", evidence.window_offset, evidence.window_a))
        lines.append(_window("B", evidence.window_offset, evidence.window_b))
    elif evidence.first_range is not None:
        low, high = evidence.first_range
        lines.append(
            f"first difference within bytes {low}-{high} ({sizes}; the first "
            f"{evidence.sample_bytes} are the same)"
        )
    if evidence.reordered_lines:
        lines.append("the same lines, in another order")
    if evidence.temp_paths_a != evidence.temp_paths_b:
        lines.append(
            f"A names {', '.join(evidence.temp_paths_a) or 'no temporary directory'}; "
            f"B names {', '.join(evidence.temp_paths_b) or 'no temporary directory'}"
        )
    return lines


def _count_text(group: DifferenceGroup) -> str:
    paths = group.paths
    files = all(d.area == AREA_FILE for d in group.differences)
    count = len(paths) if files else len(group.differences)
    noun = (
        ("file" if count == 1 else "files")
        if files
        else ("difference" if count == 1 else "differences")
    )
    text = f"{count} {noun}"
    if files and group.total_bytes:
        text += f", {human_bytes(group.total_bytes)}"
    examples = ", ".join(path or "(whole)" for path in paths[:EXAMPLE_PATHS])
    more = f" (+{len(paths) - EXAMPLE_PATHS} more)" if len(paths) > EXAMPLE_PATHS else ""
    return f"{text}: {examples}{more}"


def _fix_text(group: DifferenceGroup) -> Text:
    style = "dim" if group.fix.scope is FixScope.FOLLOWS else ""
    return Text.assemble(("fix: ", "yellow"), (group.fix.text, style))


GroupNotes = Callable[[DifferenceGroup], Sequence[RenderableType]]


def _add_group(
    node: Tree, group: DifferenceGroup, *, verbose: bool, notes: GroupNotes | None = None
) -> None:
    line = Text.assemble(
        (group.cause_id, "bold yellow"), f"  {group.cause_title}. ", _count_text(group)
    )
    group_node = node.add(line)
    fix_node = group_node.add(_fix_text(group))
    for note in notes(group) if notes is not None else ():
        fix_node.add(note)
    if verbose:
        for path, diffs in groupby(group.differences, key=lambda d: d.path):
            path_node = group_node.add(Text(path or "(whole)", style="bold"))
            for diff in diffs:
                diff_node = path_node.add(_diff_line(diff))
                if diff.evidence is not None:
                    for text in evidence_lines(diff.evidence):
                        diff_node.add(Text(text, style="dim"))
        return
    if group.cause_id == UNCLASSIFIED_ID:
        with_evidence = [d for d in group.differences if d.evidence is not None]
        for diff in with_evidence[:EVIDENCE_EXAMPLES]:
            evidence = diff.evidence
            assert evidence is not None
            path_node = group_node.add(Text(diff.path, style="bold"))
            for text in evidence_lines(evidence):
                path_node.add(Text(text))
        for diff in [d for d in group.differences if d.evidence is None][:EVIDENCE_EXAMPLES]:
            group_node.add(Text.assemble((diff.path or "(whole)", "bold"), " ", _diff_line(diff)))


def _signature(groups: Sequence[DifferenceGroup]) -> tuple[object, ...]:
    return tuple((g.layer, g.instruction, g.cause_id, g.paths, g.fix) for g in groups)


def _platform_label(comparison: Comparison, platforms: Sequence[str]) -> str:
    label = ", ".join(p or "index" for p in platforms)
    known = {p.platform: p for p in comparison.platforms}
    if len(platforms) == 1 and platforms[0] in known:
        platform = known[platforms[0]]
        label += (
            f"  manifest A {short_digest(platform.manifest_digest_a)}"
            f"  B {short_digest(platform.manifest_digest_b)}"
        )
    return label


def differences_tree(
    comparison: Comparison,
    *,
    max_diffs: int | None = None,
    verbose: bool = False,
    notes: GroupNotes | None = None,
) -> RenderableType:
    """The report: ``max_diffs`` limits the groups shown, ``verbose`` lists every file;
    ``notes`` adds lines under a group's fix (verify: the Dockerfile change it makes)."""
    groups = comparison.groups or group_differences(comparison.differences)
    # Digests that change because a layer changed explain nothing: count them only.
    derived = sum(len(g.differences) for g in groups if g.cause_id == DERIVED_CAUSE)
    listed = [g for g in groups if g.cause_id != DERIVED_CAUSE]
    shown = listed if max_diffs is None else listed[:max_diffs]
    rest = len(listed) - len(shown)
    by_platform = {
        platform: list(members) for platform, members in groupby(shown, key=lambda g: g.platform)
    }
    merged: dict[tuple[object, ...], list[str]] = {}
    for platform, members in by_platform.items():
        merged.setdefault(_signature(members), []).append(platform)
    root = Tree(verdict_line(comparison))
    for platforms in merged.values():
        platform_node = root.add(Text(_platform_label(comparison, platforms), style="bold cyan"))
        for layer_label, layer_groups in groupby(by_platform[platforms[0]], key=_layer_label):
            layer_node = platform_node.add(Text(layer_label, style="magenta"))
            for group in layer_groups:
                _add_group(layer_node, group, verbose=verbose, notes=notes)
    parts: list[RenderableType] = [root, *checked_lines(comparison)]
    if derived:
        parts.append(Text(f"({derived} digests that follow from these differences are not listed)"))
    if rest:
        noun = "group" if rest == 1 else "groups"
        parts.append(
            Text(f"… and {rest} more {noun} of differences (raise --max-diffs or use --json)")
        )
    return Group(*parts)


def checked_lines(comparison: Comparison) -> list[Text]:
    """What was read to reach the verdict, and whether anything shown is masked."""
    blobs = comparison.blobs
    if blobs.trust_digests:
        lines = [
            Text(
                "digests trusted (--trust-digests): blobs with the same digest on both sides "
                "were not read",
                style="yellow",
            )
        ]
    else:
        lines = [
            Text(
                f"every blob read and checked against its digest: A {blobs.count_a} blobs "
                f"({human_bytes(blobs.bytes_a)}), B {blobs.count_b} blobs "
                f"({human_bytes(blobs.bytes_b)})",
                style="dim",
            )
        ]
    if comparison.masked_values:
        noun = "difference shows" if comparison.masked_values == 1 else "differences show"
        lines.append(
            Text(
                f"masked: {comparison.masked_values} {noun} values that look secret as "
                "sha256:<8 hex>…(length)",
                style="yellow",
            )
        )
    return lines
