"""Render a Comparison: a verdict line, then platform > layer (instruction) > entry > field."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from repro.oci import Comparison, Difference
from repro.oci.jsontypes import JsonValue


def _short(value: JsonValue, limit: int = 80) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


DERIVED_CAUSE = "follows-from-layers"


def short_digest(digest: str | None) -> str:
    """``sha256:`` and 12 hex digits: enough to tell digests apart on a terminal."""
    if digest is None:
        return "(missing)"
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


def _layer_label(diff: Difference) -> str:
    if diff.layer is None:
        return diff.area
    instruction = f": {diff.instruction}" if diff.instruction else ""
    return f"layer {diff.layer}{_short(instruction, 90)}"


def _diff_line(diff: Difference) -> Text:
    if diff.kind == "added":
        detail = f"only in B: {_short(diff.value_b)}"
    elif diff.kind == "removed":
        detail = f"only in A: {_short(diff.value_a)}"
    else:
        detail = f"A {_short(diff.value_a)}  vs  B {_short(diff.value_b)}"
    return Text.assemble((diff.field or diff.kind, "bold"), f": {detail}")


def differences_tree(comparison: Comparison, *, max_diffs: int | None = None) -> RenderableType:
    # Digests that change because a layer changed explain nothing: count them, don't list them.
    derived = [d for d in comparison.differences if d.cause_id == DERIVED_CAUSE]
    listed = [d for d in comparison.differences if d.cause_id != DERIVED_CAUSE]
    shown: Iterable[Difference] = listed
    rest = 0
    if max_diffs is not None and len(listed) > max_diffs:
        shown = listed[:max_diffs]
        rest = len(listed) - max_diffs
    root = Tree(verdict_line(comparison))
    digests = {p.platform: p for p in comparison.platforms}
    for platform, by_platform in groupby(shown, key=lambda d: d.platform):
        label = platform or "index"
        known = digests.get(platform)
        if known is not None:
            label += (
                f"  manifest A {short_digest(known.manifest_digest_a)}"
                f"  B {short_digest(known.manifest_digest_b)}"
            )
        platform_node = root.add(Text(label, style="bold cyan"))
        for layer_label, by_layer in groupby(by_platform, key=_layer_label):
            layer_node = platform_node.add(Text(layer_label, style="magenta"))
            for path, by_path in groupby(by_layer, key=lambda d: d.path):
                entries = list(by_path)
                path_node = layer_node.add(Text(path or "(whole)", style="bold"))
                for diff in entries:
                    path_node.add(_diff_line(diff))
                causes = {(d.cause_id, d.cause_title, d.fix) for d in entries}
                for cause_id, title, fix in sorted(causes):
                    path_node.add(
                        Text.assemble(
                            ("cause ", "yellow"), f"{cause_id}: {title}. ", ("fix: ", "yellow"), fix
                        )
                    )
    parts: list[RenderableType] = [root]
    if derived:
        parts.append(
            Text(f"({len(derived)} digests that follow from these differences are not listed)")
        )
    if rest:
        noun = "difference" if rest == 1 else "differences"
        parts.append(Text(f"… and {rest} more {noun} (raise --max-diffs or use --json)"))
    return Group(*parts)
