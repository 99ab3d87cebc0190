"""Finding image references: kinds, ARG scoping, stages, scratch and exact spans."""

from __future__ import annotations

from repro.dockerfile import (
    ImageReference,
    ReferenceKind,
    Span,
    find_references,
    parse_dockerfile,
)


def refs(data: bytes, build_args: dict[str, str] | None = None) -> list[ImageReference]:
    return find_references(parse_dockerfile(data), build_args)


def resolved(data: bytes, build_args: dict[str, str] | None = None) -> list[str]:
    return [ref.resolved for ref in refs(data, build_args)]


def test_from_reference_with_platform_and_stage_name() -> None:
    data = b"FROM --platform=linux/arm64 python:3.11-slim AS build\n"
    (ref,) = refs(data)
    assert ref.kind is ReferenceKind.FROM
    assert ref.span.slice(data) == b"python:3.11-slim"
    assert (ref.raw, ref.resolved) == ("python:3.11-slim", "python:3.11-slim")
    assert (ref.line, ref.column) == (1, 29)
    assert (ref.platform, ref.stage) == ("linux/arm64", "build")
    assert not ref.via_arg
    assert ref.arg_name is None


def test_copy_from_and_add_from_references() -> None:
    data = (
        b"FROM a\n"
        b"COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n"
        b"ADD --from=ghcr.io/o/tools:2 /t /t\n"
    )
    copy_ref, add_ref = refs(data)[1:]
    assert copy_ref.kind is ReferenceKind.COPY_FROM
    assert copy_ref.span.slice(data) == b"nginx:1.25"
    assert (copy_ref.line, copy_ref.column) == (2, 13)
    assert add_ref.kind is ReferenceKind.COPY_FROM
    assert add_ref.resolved == "ghcr.io/o/tools:2"


def test_copy_from_quoted_value_span_excludes_quotes() -> None:
    data = b'FROM a\nCOPY --from="nginx:1.25" /a /b\n'
    ref = refs(data)[1]
    assert ref.span.slice(data) == b"nginx:1.25"


def test_mount_from_anywhere_in_options_and_several_mounts() -> None:
    data = (
        b"FROM a\n"
        b"RUN --mount=type=cache,target=/root/.cache "
        b"--mount=type=bind,target=/src,from=golang:1.22,source=/usr/local/go "
        b'--mount="from=rust:1.77,type=bind,target=/r" '
        b'--mount=type=bind,from="node:20",target=/n make\n'
    )
    mounts = refs(data)[1:]
    assert [ref.kind for ref in mounts] == [ReferenceKind.MOUNT_FROM] * 3
    assert [ref.span.slice(data) for ref in mounts] == [b"golang:1.22", b"rust:1.77", b"node:20"]
    assert all(ref.line == 2 for ref in mounts)


def test_mount_from_on_a_continued_line() -> None:
    data = (
        b"FROM a\n"
        b"RUN --mount=type=cache,target=/c \\\n"
        b"    # cache\n"
        b"    --mount=from=alpine:3,target=/x true\n"
    )
    ref = refs(data)[1]
    assert ref.span.slice(data) == b"alpine:3"
    assert (ref.line, ref.column) == (4, 18)
    assert ref.instruction_line == 2


def test_syntax_directive_reference() -> None:
    data = b"# syntax=docker/dockerfile:1.7\nFROM a\n"
    ref = refs(data)[0]
    assert ref.kind is ReferenceKind.SYNTAX
    assert ref.span.slice(data) == b"docker/dockerfile:1.7"
    assert (ref.line, ref.column) == (1, 10)


def test_syntax_only_recognised_before_any_instruction() -> None:
    assert resolved(b"FROM a\n# syntax=docker/dockerfile:1\n") == ["a"]
    assert resolved(b"\n# syntax=docker/dockerfile:1\nFROM a\n") == ["a"]
    assert resolved(b"# a comment\n# syntax=docker/dockerfile:1\nFROM a\n") == ["a"]
    assert resolved(b"# escape=`\n# syntax=docker/dockerfile:1\nFROM a\n") == [
        "docker/dockerfile:1",
        "a",
    ]


def test_global_arg_default_is_the_pin_site() -> None:
    data = b'ARG BASE="python:3.11"\nFROM ${BASE} AS build\nFROM $BASE\n'
    first, second = refs(data)
    for ref in (first, second):
        assert ref.span.slice(data) == b"python:3.11"
        assert ref.arg_name == "BASE"
        assert ref.via_arg
        assert (ref.line, ref.column) == (1, 11)
    assert (first.instruction_line, second.instruction_line) == (2, 3)
    assert first.raw == "python:3.11"


def test_arg_chain_pins_the_arg_that_spells_the_image() -> None:
    data = b"ARG IMAGE=alpine:3.19\nARG BASE=${IMAGE}\nFROM ${BASE}\n"
    (ref,) = refs(data)
    assert ref.arg_name == "IMAGE"
    assert ref.span.slice(data) == b"alpine:3.19"


def test_partial_substitution_pins_the_from_text() -> None:
    data = b"ARG VERSION=3.11\nFROM python:${VERSION}-slim\n"
    (ref,) = refs(data)
    assert ref.raw == "python:${VERSION}-slim"
    assert ref.resolved == "python:3.11-slim"
    assert ref.span.slice(data) == b"python:${VERSION}-slim"
    assert ref.via_arg
    assert ref.arg_name is None


def test_unknown_arg_is_skipped() -> None:
    assert resolved(b"ARG BASE\nFROM ${BASE}\nFROM alpine\n") == ["alpine"]
    assert resolved(b"FROM $NEVER_DECLARED\nFROM python:${TAG}\n") == []
    assert resolved(b"ARG V\nFROM python:${V#x}\n") == []


def test_build_args_override_defaults_and_fill_unknown_args() -> None:
    data = b"ARG BASE=python:3.11\nARG TAG\nFROM ${BASE}\nFROM alpine:${TAG}\n"
    overridden = refs(data, {"BASE": "python:3.12", "TAG": "3.19"})
    assert [ref.resolved for ref in overridden] == ["python:3.12", "alpine:3.19"]
    # The ARG default is not what gets built, so the FROM text is the pin site.
    assert overridden[0].span.slice(data) == b"${BASE}"
    assert overridden[0].arg_name is None
    assert resolved(b"FROM ${UNDECLARED}\n", {"UNDECLARED": "x"}) == []


def test_arg_after_from_does_not_feed_later_from() -> None:
    data = b"FROM alpine AS one\nARG BASE=python:3.11\nFROM ${BASE}\n"
    assert resolved(data) == ["alpine"]
    shadowed = b"ARG BASE=python:3.11\nFROM alpine\nARG BASE=debian\nFROM ${BASE}\n"
    assert resolved(shadowed) == ["alpine", "python:3.11"]


def test_default_and_alternative_forms() -> None:
    data = (
        b"ARG SET=3.12\nARG EMPTY=\nARG UNSET\n"
        b"FROM python:${UNSET:-3.10}\n"
        b"FROM python:${EMPTY:-3.9}\n"
        b"FROM python:${EMPTY-3.8}x\n"
        b"FROM python:${SET:-3.7}\n"
        b"FROM alpine${SET:+:3.19}\n"
        b"FROM alpine${UNSET:+:3.18}\n"
        b"FROM alpine:${UNSET:-${SET}}\n"
        b"FROM alpine:${SET:-$UNSET}\n"
    )
    assert resolved(data) == [
        "python:3.10",
        "python:3.9",
        "python:x",
        "python:3.12",
        "alpine:3.19",
        "alpine",
        "alpine:3.12",
        "alpine:3.12",
    ]


def test_stage_scoped_arg_feeds_copy_from() -> None:
    data = (
        b"ARG TOOLS=ghcr.io/o/tools:1\n"
        b"FROM alpine\n"
        b"COPY --from=${TOOLS} /a /a\n"  # global ARG not re-declared: unknown here
        b"ARG TOOLS\n"
        b"COPY --from=${TOOLS} /b /b\n"
        b"ARG OTHER=busybox:1\n"
        b"RUN --mount=from=$OTHER,target=/x true\n"
        b"ENV OTHER=changed\n"
        b"COPY --from=$OTHER /c /c\n"
    )
    found = refs(data)
    assert [ref.resolved for ref in found] == ["alpine", "ghcr.io/o/tools:1", "busybox:1"]
    assert found[1].arg_name == "TOOLS"
    assert found[1].span.slice(data) == b"ghcr.io/o/tools:1"
    assert found[2].span.slice(data) == b"busybox:1"


def test_stage_names_are_case_insensitive_and_not_references() -> None:
    data = (
        b"FROM golang:1.22 AS Builder\n"
        b"FROM builder AS second\n"
        b"COPY --from=BUILDER /a /b\n"
        b"RUN --mount=from=Second,target=/s true\n"
        b"COPY --from=later /c /d\n"
        b"FROM alpine AS later\n"
    )
    found = refs(data)
    assert [(ref.kind, ref.resolved) for ref in found] == [
        (ReferenceKind.FROM, "golang:1.22"),
        (ReferenceKind.COPY_FROM, "later"),
        (ReferenceKind.FROM, "alpine"),
    ]


def test_numeric_stage_indexes_are_skipped() -> None:
    data = b"FROM a\nFROM b\nCOPY --from=0 /a /b\nRUN --mount=from=1,target=/x true\n"
    assert resolved(data) == ["a", "b"]


def test_scratch_is_skipped() -> None:
    data = b"ARG BASE=scratch\nFROM scratch\nFROM ${BASE}\nCOPY --from=scratch / /\n"
    assert resolved(data) == []


def test_stage_name_through_arg_is_skipped() -> None:
    data = b"ARG FROM_STAGE=build\nFROM alpine AS build\nFROM ${FROM_STAGE}\n"
    assert resolved(data) == ["alpine"]


def test_onbuild_and_heredoc_contents_are_not_references() -> None:
    data = b"FROM a\nONBUILD COPY --from=nginx / /\nRUN <<EOF\nFROM python\nEOF\n"
    assert resolved(data) == ["a"]


def test_references_in_a_backtick_crlf_bom_file() -> None:
    data = (
        b"\xef\xbb\xbf# syntax=docker/dockerfile:1\r\n# escape=`\r\n"
        b"FROM `\r\n  # note\r\n  mcr.microsoft.com/windows/nanoserver:ltsc2022 AS base\r\n"
        b"COPY --from=python:3.11 C:\\ C:\\\r\n"
    )
    found = refs(data)
    assert [ref.span.slice(data) for ref in found] == [
        b"docker/dockerfile:1",
        b"mcr.microsoft.com/windows/nanoserver:ltsc2022",
        b"python:3.11",
    ]
    assert [(ref.line, ref.column) for ref in found] == [(1, 10), (5, 3), (6, 13)]


def test_arg_declarations_split_into_words_like_the_shell() -> None:
    # In single quotes the escape is literal; outside, it takes one character with it.
    data = b"ARG A='x\\' B=alpine:1\nARG C=x\\y D=busybox:1\nFROM $B\nFROM $D\n"
    assert [(ref.resolved, ref.arg_name, ref.line) for ref in refs(data)] == [
        ("alpine:1", "B", 1),
        ("busybox:1", "D", 2),
    ]


def test_unresolved_from_lines_are_listed_as_written_saying_why() -> None:
    data = (
        b"ARG BASE\nARG V=1\nFROM ${BASE} AS a\nFROM python:${V#x}\nFROM $BASE:$TAG\nFROM alpine\n"
    )
    found = find_references(parse_dockerfile(data), include_unresolved=True)

    def unresolved(
        raw: str, start: int, line: int, why: str, stage: str | None = None
    ) -> ImageReference:
        return ImageReference(
            kind=ReferenceKind.FROM,
            raw=raw,
            resolved=raw,
            span=Span(start, start + len(raw)),
            line=line,
            column=6,
            via_arg=True,
            arg_name=None,
            instruction_line=line,
            stage=stage,
            unresolved=why,
        )

    assert found[:3] == [
        unresolved("${BASE}", 22, 3, "ARG BASE has no default", stage="a"),
        unresolved("python:${V#x}", 40, 4, "its value cannot be worked out from the Dockerfile"),
        unresolved("$BASE:$TAG", 59, 5, "ARG BASE has no default; $TAG is not defined"),
    ]
    assert (found[3].resolved, found[3].unresolved, found[3].via_arg) == ("alpine", None, False)


def test_unresolved_from_lines_expand_with_the_files_escape() -> None:
    # With ` as the escape, `} is a literal brace: the expansion never closes.
    data = b"# escape=`\nFROM x${UNSET:-`}\n"
    (ref,) = find_references(parse_dockerfile(data), include_unresolved=True)
    assert (ref.raw, ref.unresolved) == ("x${UNSET:-`}", "$UNSET is not defined")


def test_env_in_a_stage_makes_the_names_it_sets_unknown() -> None:
    data = (
        b"FROM alpine\n"
        b"ARG A=busybox:1 B=nginx:1 C=redis:7\n"
        b"ENV A=x\\ B=y\n"  # one word: sets A only
        b"ENV C=x=y\n"  # the name ends at the first =
        b"COPY --from=$B /b /b\n"
        b"COPY --from=$C /c /c\n"
        b"ARG D=golang:1\n"
        b"ENV D changed\n"  # the legacy form: the first word is the name
        b"COPY --from=$D /d /d\n"
        b"ARG E=node:20\n"
        b"ENV changed E\n"
        b"COPY --from=$E /e /e\n"
    )
    assert [(ref.resolved, ref.line) for ref in refs(data)] == [
        ("alpine", 1),
        ("nginx:1", 2),
        ("node:20", 10),
    ]
