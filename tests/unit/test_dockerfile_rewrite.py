"""Lossless rewriting: only the replaced spans change, for any Dockerfile layout."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.dockerfile import (
    Span,
    find_references,
    parse_dockerfile,
    parse_image_ref,
    rewrite,
)
from tests.unit.properties import examples

DIGEST = "sha256:" + "c" * 64
IMAGES = [
    "python:3.11",
    "alpine",
    "ghcr.io/org/app:1.2",
    "localhost:5000/x",
    "registry.example.com:5000/team/app:1.2",
    "nginx:1.25@sha256:" + "d" * 64,
]


def test_rewrite_replaces_spans_and_keeps_everything_else() -> None:
    data = b"FROM python:3.11\r\nCOPY --from=nginx / /\r\n"
    out = rewrite(data, [(Span(18 + 12, 18 + 17), b"nginx:1"), (Span(5, 16), b"python:3.12")])
    assert out == b"FROM python:3.12\r\nCOPY --from=nginx:1 / /\r\n"


def test_rewrite_accepts_identical_duplicates_and_rejects_overlaps() -> None:
    data = b"ARG BASE=alpine\n"
    assert rewrite(data, [(Span(9, 15), b"x"), (Span(9, 15), b"x")]) == b"ARG BASE=x\n"
    with pytest.raises(ValueError, match="overlap"):
        rewrite(data, [(Span(9, 15), b"x"), (Span(10, 12), b"y")])
    with pytest.raises(ValueError, match="overlap"):
        rewrite(data, [(Span(9, 15), b"x"), (Span(9, 15), b"y")])
    with pytest.raises(ValueError, match="outside"):
        rewrite(data, [(Span(9, 99), b"x")])


def test_pinning_a_global_arg_rewrites_the_arg_default() -> None:
    data = b"ARG BASE=python:3.11\nFROM ${BASE} AS a\nFROM ${BASE} AS b\n"
    found = find_references(parse_dockerfile(data))
    pins = [(ref.span, parse_image_ref(ref.resolved).pinned(DIGEST).encode()) for ref in found]
    assert rewrite(data, pins) == (
        f"ARG BASE=python:3.11@{DIGEST}\nFROM ${{BASE}} AS a\nFROM ${{BASE}} AS b\n".encode()
    )


@dataclass(frozen=True)
class Generated:
    data: bytes
    images: list[str]  # the references a correct finder returns, in file order


@st.composite
def dockerfiles(draw: st.DrawFn) -> Generated:
    """Dockerfiles mixing the layouts a lossless rewrite must survive."""
    escape = draw(st.sampled_from(["\\", "`"]))
    images: list[str] = []
    # (text, may the line carry trailing whitespace?)
    lines: list[tuple[str, bool]] = []

    def image() -> str:
        chosen = draw(st.sampled_from(IMAGES))
        images.append(chosen)
        return chosen

    if draw(st.booleans()):
        lines.append((f"# syntax={image()}", True))
    if escape == "`":
        lines.append(("# escape=`", True))
    lines.append((f"ARG BASE={image()}", True))
    lines.append(("FROM ${BASE} AS stage0", True))
    kinds = st.sampled_from(
        [
            "comment",
            "blank",
            "from",
            "from-continued",
            "copy",
            "copy-stage",
            "mount",
            "heredoc",
            "heredoc-chomp",
            "heredoc-quoted",
        ]
    )
    for index, kind in enumerate(draw(st.lists(kinds, max_size=8)), start=1):
        if kind == "comment":
            lines.append(("# FROM python:3.11 is a comment", True))
        elif kind == "blank":
            lines.append(("", True))
        elif kind == "from":
            lines.append((f"FROM --platform=linux/amd64 {image()} AS s{index}", True))
        elif kind == "from-continued":
            lines += [(f"from {escape}", True), ("  # inside the continuation", True)]
            lines += [("", False), (f"  {image()} {escape}", True), (f"  as s{index}", True)]
        elif kind == "copy":
            lines.append((f"COPY --link --from={image()} /a /b", True))
        elif kind == "copy-stage":
            lines.append(("COPY --from=STAGE0 /a /b", True))
        elif kind == "mount":
            lines.append(
                (f"RUN --mount=type=cache,target=/c --mount=from={image()} {escape}", True)
            )
            lines += [("  # why", True), ("  make", True)]
        elif kind == "heredoc":
            lines += [("RUN <<EOF", True), (f"FROM ubuntu {escape}", True), ("EOF", False)]
        elif kind == "heredoc-chomp":
            lines += [("RUN <<-EOT", True), ("\techo hi", True), ("\tEOT", False)]
        else:
            lines += [('COPY <<"EOF" /etc/motd', True), ("$HOME", True), ("EOF", False)]
    parts = ["\ufeff"] if draw(st.booleans()) else []
    for position, (text, may_trail) in enumerate(lines):
        trailing = draw(st.sampled_from(["", " ", "\t ", "  "])) if may_trail else ""
        last = position == len(lines) - 1
        newline = draw(st.sampled_from(["\n", "\r\n"] + ([""] if last else [])))
        parts.append(text + trailing + newline)
    return Generated("".join(parts).encode(), images)


@settings(max_examples=examples(300), deadline=None)
@given(dockerfiles())
def test_rewriting_references_changes_only_their_spans(generated: Generated) -> None:
    data = generated.data
    assert rewrite(data, []) == data
    found = find_references(parse_dockerfile(data))
    assert [ref.resolved for ref in found] == generated.images

    identity = [(ref.span, ref.span.slice(data)) for ref in found]
    assert rewrite(data, identity) == data

    pins = {ref.span: parse_image_ref(ref.resolved).pinned(DIGEST).encode() for ref in found}
    out = rewrite(data, list(pins.items()))
    # Walk the spans in order: the bytes between them are untouched.
    cursor_in, cursor_out = 0, 0
    for span in sorted(pins):
        gap = span.start - cursor_in
        assert out[cursor_out : cursor_out + gap] == data[cursor_in : span.start]
        cursor_out += gap
        assert out[cursor_out : cursor_out + len(pins[span])] == pins[span]
        cursor_out += len(pins[span])
        cursor_in = span.end
    assert out[cursor_out:] == data[cursor_in:]

    repinned = find_references(parse_dockerfile(out))
    assert len(repinned) == len(found)
    assert all(ref.resolved.endswith("@" + DIGEST) for ref in repinned)
    assert [parse_image_ref(ref.resolved).name for ref in repinned] == [
        parse_image_ref(ref.resolved).name for ref in found
    ]


def test_span_refuses_a_negative_start_or_an_end_before_its_start() -> None:
    for start, end in [(-1, 2), (5, 3), (-2, -3)]:
        with pytest.raises(ValueError) as raised:
            Span(start, end)
        assert str(raised.value) == f"invalid span [{start}, {end})"
    assert len(Span(3, 7)) == 4
    assert len(Span(4, 4)) == 0


def test_rewrite_at_the_very_end_and_of_adjacent_spans() -> None:
    data = b"FROM ab"
    assert rewrite(data, [(Span(5, 7), b"python")]) == b"FROM python"
    assert rewrite(data, [(Span(6, 7), b"y"), (Span(5, 6), b"x")]) == b"FROM xy"
    assert rewrite(data, [(Span(7, 7), b":1")]) == b"FROM ab:1"
    with pytest.raises(ValueError) as raised:
        rewrite(data, [(Span(5, 8), b"x")])
    assert str(raised.value) == "span [5, 8) is outside the data"
    with pytest.raises(ValueError) as raised:
        rewrite(data, [(Span(5, 7), b"x"), (Span(6, 7), b"y")])
    assert str(raised.value) == "replacements overlap: [5, 7) and [6, 7)"
