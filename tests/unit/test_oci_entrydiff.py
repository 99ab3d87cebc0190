"""The streaming merge of two tar entry streams."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from hypothesis import given
from hypothesis import strategies as st

from repro.oci.entrydiff import EntryChange, diff_entry_streams
from repro.oci.layerstream import EntrySummary
from repro.oci.sample import ContentSampler


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


def _sampled(name: str, content: bytes) -> EntrySummary:
    sampler = ContentSampler(len(content))
    sampler.update(content)
    sample = sampler.finish()
    digest = "sha256:" + content.hex()
    return EntrySummary(name, {"type": "file", "size": len(content)}, digest, sample)


def test_every_change_of_a_layer_in_order_with_sizes_and_entries_described() -> None:
    a = [
        EntrySummary("x", {"type": "file", "size": 9, "mtime": 1, "uid": 0}, "sha256:1"),
        EntrySummary("gone", {"type": "file", "size": 3}, "sha256:g"),
        EntrySummary("dir/", {"type": "dir", "size": "?"}, None),
    ]
    b = [
        EntrySummary("x", {"type": "file", "size": 5, "mtime": 2, "gid": 5}, "sha256:2"),
        EntrySummary("dir/", {"type": "dir", "size": "?"}, None),
        EntrySummary("new", {"type": "symlink"}, None),
    ]
    assert diff_entry_streams(_stream(a), _stream(b)) == [
        EntryChange("/x", "content", "changed", "sha256:1", "sha256:2", 9),
        EntryChange("/x", "gid", "added", None, 5, 9),
        EntryChange("/x", "mtime", "changed", 1, 2, 9),
        EntryChange("/x", "size", "changed", 9, 5, 9),  # the larger side's size
        EntryChange("/x", "uid", "removed", 0, None, 9),
        EntryChange("/gone", "entry", "removed",
                    {"type": "file", "size": 3, "sha256": "sha256:g"}, None, 3),
        EntryChange("/new", "entry", "added", None, {"type": "symlink"}, None),
    ]  # fmt: skip


def test_an_order_change_names_the_first_pair_out_of_order_and_both_positions() -> None:
    a = [_entry("x"), _entry("y"), _entry("z")]
    b = [_entry("y"), _entry("x"), _entry("z")]
    assert diff_entry_streams(_stream(a), _stream(b)) == [
        EntryChange("/x", "order", "changed", 0, 1)
    ]
    c = [_entry("z"), _entry("y"), _entry("x")]
    assert diff_entry_streams(_stream(a), _stream(c)) == [
        EntryChange("/z", "order", "changed", 2, 0)
    ]


def test_a_content_change_carries_evidence_when_both_sides_were_sampled() -> None:
    a, b = _sampled("f", b"hello world\n"), _sampled("f", b"hello World\n")
    [content] = diff_entry_streams(_stream([a]), _stream([b]))
    assert content.evidence is not None
    assert (content.evidence.first_offset, content.size) == (6, 12)
    unsampled = dataclasses.replace(b, sample=None)
    [content] = diff_entry_streams(_stream([a]), _stream([unsampled]))
    assert content.evidence is None
    [content] = diff_entry_streams(_stream([unsampled]), _stream([a]))
    assert content.evidence is None


def test_past_256_waiting_entries_the_next_ones_wait_without_their_sample() -> None:
    a = [_sampled(f"f{i:03}", b"a%d" % i) for i in range(300)]
    b = [_entry(f"g{i:03}") for i in range(300)]
    b += [_sampled(f"f{i:03}", b"b%d" % i) for i in range(300)]
    changes = diff_entry_streams(_stream(a), _stream(b))
    contents = [c for c in changes if c.field == "content"]
    assert len(contents) == 300
    assert [c.evidence is not None for c in contents] == [True] * 256 + [False] * 44
    # B's side waited too: the g entries are added, and nothing is out of order.
    assert sum(c.kind == "added" for c in changes) == 300
    assert not [c for c in changes if c.field == "order"]
