"""The streaming merge of two tar entry streams."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hypothesis import given
from hypothesis import strategies as st

from repro.oci.entrydiff import diff_entry_streams
from repro.oci.layerstream import EntrySummary


def _entry(name: str, content: str = "sha256:0", mtime: int = 0) -> EntrySummary:
    return EntrySummary(name, {"type": "file", "mtime": mtime}, content)


def _stream(entries: Sequence[EntrySummary]) -> Iterator[EntrySummary]:
    return iter(list(entries))


def test_same_entries_same_order_give_nothing() -> None:
    entries = [_entry("a"), _entry("b"), _entry("c")]
    assert diff_entry_streams(_stream(entries), _stream(entries)) == []


def test_inserted_entry_is_not_an_order_change() -> None:
    a = [_entry("x"), _entry("y"), _entry("z")]
    b = [_entry("x"), _entry("new"), _entry("y"), _entry("z")]
    [added] = diff_entry_streams(_stream(a), _stream(b))
    assert (added.path, added.kind, added.field) == ("/new", "added", "entry")


def test_swapped_entries_are_one_order_change() -> None:
    a = [_entry("x"), _entry("y"), _entry("z")]
    b = [_entry("y"), _entry("x"), _entry("z")]
    [order] = diff_entry_streams(_stream(a), _stream(b))
    assert order.field == "order"


def test_fields_and_content_are_compared() -> None:
    a = [_entry("x", content="sha256:1", mtime=1)]
    b = [_entry("x", content="sha256:2", mtime=2)]
    changes = diff_entry_streams(_stream(a), _stream(b))
    assert {(c.field, c.value_a, c.value_b) for c in changes} == {
        ("content", "sha256:1", "sha256:2"),
        ("mtime", 1, 2),
    }


def test_field_present_on_one_side_only() -> None:
    a = [EntrySummary("x", {"type": "file", "pax:comment": "hi"}, None)]
    b = [EntrySummary("x", {"type": "file"}, None)]
    [removed] = diff_entry_streams(_stream(a), _stream(b))
    assert (removed.field, removed.kind, removed.value_a) == ("pax:comment", "removed", "hi")


names = st.lists(st.text("abcdefgh", min_size=1, max_size=3), unique=True, max_size=12)


@given(names, names, st.randoms(use_true_random=False))
def test_merge_matches_set_semantics(left: list[str], right: list[str], rnd: object) -> None:
    a = [_entry(n) for n in left]
    b = [_entry(n) for n in right]
    changes = diff_entry_streams(_stream(a), _stream(b))
    removed = {c.path for c in changes if c.kind == "removed"}
    added = {c.path for c in changes if c.kind == "added"}
    assert removed == {"/" + n for n in set(left) - set(right)}
    assert added == {"/" + n for n in set(right) - set(left)}
    common_a = [n for n in left if n in set(right)]
    common_b = [n for n in right if n in set(left)]
    has_order_change = any(c.field == "order" for c in changes)
    assert has_order_change == (common_a != common_b)
