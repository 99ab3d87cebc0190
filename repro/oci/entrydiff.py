"""Compare two streams of tar entry summaries with a streaming merge.

Entries are matched by name. While both tars list the same names in the same order
nothing is held; an entry seen on one side only waits in a small summary dict until its
partner shows up (out of order) or the stream ends (added/removed). Order is checked in
O(1) memory: a new pair is out of order iff an earlier pair lies beyond it on either side.
A content change carries evidence from the two content samples; past MAX_SAMPLED_WAITING
waiting entries, further ones wait without their sample, so memory stays bounded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from repro.oci.jsontypes import JsonValue
from repro.oci.layerstream import EntrySummary
from repro.oci.model import ContentEvidence
from repro.oci.sample import content_evidence

CONTENT_FIELD = "content"
ENTRY_FIELD = "entry"
ORDER_FIELD = "order"
MAX_SAMPLED_WAITING = 256


@dataclass(frozen=True)
class EntryChange:
    """One difference inside a layer: kind is 'changed', 'added' (only in B) or 'removed'."""

    path: str
    field: str
    kind: str
    value_a: JsonValue
    value_b: JsonValue
    size: int | None = None  # the entry's size (the larger side's)
    evidence: ContentEvidence | None = None


def entry_size(*entries: EntrySummary | None) -> int | None:
    sizes = [e.fields.get("size") for e in entries if e is not None]
    known = [size for size in sizes if isinstance(size, int)]
    return max(known) if known else None


def describe_entry(entry: EntrySummary) -> dict[str, JsonValue]:
    described: dict[str, JsonValue] = dict(entry.fields)
    if entry.content_sha256 is not None:
        described["sha256"] = entry.content_sha256
    return described


def compare_entries(a: EntrySummary, b: EntrySummary) -> list[EntryChange]:
    changes: list[EntryChange] = []
    size = entry_size(a, b)
    if a.content_sha256 != b.content_sha256:
        evidence = (
            content_evidence(a.sample, b.sample)
            if a.sample is not None and b.sample is not None
            else None
        )
        changes.append(
            EntryChange(
                a.path,
                CONTENT_FIELD,
                "changed",
                a.content_sha256,
                b.content_sha256,
                size,
                evidence,
            )
        )
    for name in sorted(set(a.fields) | set(b.fields)):
        in_a, in_b = name in a.fields, name in b.fields
        value_a, value_b = a.fields.get(name), b.fields.get(name)
        if in_a and in_b and value_a == value_b:
            continue
        kind = "changed" if in_a and in_b else ("removed" if in_a else "added")
        changes.append(EntryChange(a.path, name, kind, value_a, value_b, size))
    return changes


def _waiting(entry: EntrySummary, waiting: dict[str, tuple[int, EntrySummary]]) -> EntrySummary:
    """``entry`` as it may wait for its partner: without its sample once many wait."""
    if entry.sample is not None and len(waiting) >= MAX_SAMPLED_WAITING:
        return dataclasses.replace(entry, sample=None)
    return entry


def diff_entry_streams(
    entries_a: Iterator[EntrySummary], entries_b: Iterator[EntrySummary]
) -> list[EntryChange]:
    changes: list[EntryChange] = []
    waiting_a: dict[str, tuple[int, EntrySummary]] = {}
    waiting_b: dict[str, tuple[int, EntrySummary]] = {}
    furthest_a = furthest_b = -1
    first_misordered: EntryChange | None = None

    def pair(position_a: int, a: EntrySummary, position_b: int, b: EntrySummary) -> None:
        nonlocal furthest_a, furthest_b, first_misordered
        if first_misordered is None and (position_a < furthest_a or position_b < furthest_b):
            first_misordered = EntryChange(a.path, ORDER_FIELD, "changed", position_a, position_b)
        furthest_a, furthest_b = max(furthest_a, position_a), max(furthest_b, position_b)
        changes.extend(compare_entries(a, b))

    position_a = position_b = 0
    next_a, next_b = next(entries_a, None), next(entries_b, None)
    while next_a is not None or next_b is not None:
        if next_a is not None:
            partner = waiting_b.pop(next_a.name, None)
            if partner is None:
                waiting_a.setdefault(next_a.name, (position_a, _waiting(next_a, waiting_a)))
            else:
                pair(position_a, next_a, *partner)
            position_a, next_a = position_a + 1, next(entries_a, None)
        if next_b is not None:
            partner = waiting_a.pop(next_b.name, None)
            if partner is None:
                waiting_b.setdefault(next_b.name, (position_b, _waiting(next_b, waiting_b)))
            else:
                pair(*partner, position_b, next_b)
            position_b, next_b = position_b + 1, next(entries_b, None)

    for _, removed in waiting_a.values():
        changes.append(
            EntryChange(
                removed.path,
                ENTRY_FIELD,
                "removed",
                describe_entry(removed),
                None,
                entry_size(removed),
            )
        )
    for _, added in waiting_b.values():
        changes.append(
            EntryChange(
                added.path, ENTRY_FIELD, "added", None, describe_entry(added), entry_size(added)
            )
        )
    if first_misordered is not None:
        changes.append(first_misordered)
    return changes
