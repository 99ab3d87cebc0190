"""Tokenizing Dockerfiles: instruction boundaries, directives, flags, heredocs, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.dockerfile import Span, parse_dockerfile, rewrite
from repro.errors import DockerfileSyntaxError


def test_instructions_keep_keyword_spelling_span_and_line() -> None:
    data = b"# comment\n\nfrom alpine:3.19 AS base\n  Run echo hi  \n"
    df = parse_dockerfile(data)
    keywords = [(i.keyword, i.command, i.line) for i in df.instructions]
    assert keywords == [("from", "FROM", 3), ("Run", "RUN", 4)]
    assert df.instructions[0].span.slice(data) == b"from alpine:3.19 AS base"
    assert df.instructions[1].span.slice(data) == b"Run echo hi  "
    assert df.instructions[1].arguments.text == "echo hi"
    assert [i.heredocs for i in df.instructions] == [(), ()]  # FROM never reads heredocs


def test_continuation_skips_comment_and_blank_lines_inside() -> None:
    data = (
        b"RUN apt-get update \\\n  # why we install curl\n\n  && apt-get install curl\nUSER app\n"
    )
    df = parse_dockerfile(data)
    run, user = df.instructions
    assert (run.line, run.end_line) == (1, 4)
    assert run.arguments.text == "apt-get update   && apt-get install curl"
    assert run.span.slice(data).endswith(b"install curl")
    assert user.line == 5


def test_crlf_and_bom_spans_are_byte_exact() -> None:
    data = b"\xef\xbb\xbfFROM alpine \\\r\n  AS base\r\nRUN true\r\n"
    df = parse_dockerfile(data)
    assert df.has_bom
    first, second = df.instructions
    assert first.span.start == 3
    assert first.span.slice(data) == b"FROM alpine \\\r\n  AS base"
    assert second.span.slice(data) == b"RUN true"
    assert df.position(first.span.start) == (1, 1)
    assert df.position(second.span.start) == (3, 1)


def test_escape_directive_switches_continuation_to_backtick() -> None:
    data = (
        b"# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir C:\\ `\n  && echo done\n"
    )
    df = parse_dockerfile(data)
    assert df.escape == "`"
    run = df.instructions[1]
    assert (run.line, run.end_line) == (3, 4)
    assert run.arguments.text == "dir C:\\   && echo done"


def test_directives_only_at_top_and_stop_at_first_other_line() -> None:
    df = parse_dockerfile(b"# syntax=docker/dockerfile:1\n#check=skip=all\n\n# escape=`\nFROM a\n")
    assert [(d.name, d.value) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1"),
        ("check", "skip=all"),
    ]
    assert df.escape == "\\"  # the escape line came after a blank line: just a comment
    after_comment = parse_dockerfile(b"# hello\n# syntax=docker/dockerfile:1\nFROM a\n")
    assert after_comment.directives == ()
    unknown_first = parse_dockerfile(b"# foo=bar\n# syntax=docker/dockerfile:1\nFROM a\n")
    assert unknown_first.directives == ()


def test_directive_value_span_points_at_value() -> None:
    data = b"#  Syntax = docker/dockerfile:1.7  \nFROM a\n"
    directive = parse_dockerfile(data).directives[0]
    assert directive.name == "syntax"
    assert directive.value_span.slice(data) == b"docker/dockerfile:1.7"


def test_flags_are_parsed_with_values_and_positions() -> None:
    data = b'FROM a\nCOPY --from=build --chown="app:app" --link /src /dst\n'
    copy = parse_dockerfile(data).instructions[1]
    assert [(f.name, f.value) for f in copy.flags] == [
        ("from", "build"),
        ("chown", "app:app"),
        ("link", None),
    ]
    chown = copy.flags[1]
    assert chown.span.slice(data) == b'--chown="app:app"'
    assert (chown.line, chown.column) == (2, 19)
    assert copy.arguments.text == "/src /dst"


def test_heredocs_consume_their_bodies() -> None:
    data = (
        b"FROM a\n"
        b"RUN <<EOF\nFROM not-an-instruction \\\nEOF\n"
        b"RUN <<-EOT bash\n\techo hi\n\tEOT\n"
        b'COPY <<"END" <<two /dst\n$HOME\nEND\nsecond\ntwo\n'
        b"USER app\n"
    )
    df = parse_dockerfile(data)
    assert [i.command for i in df.instructions] == ["FROM", "RUN", "RUN", "COPY", "USER"]
    run, chomped, copy = df.instructions[1:4]
    assert run.heredocs[0].name == "EOF"
    assert run.heredocs[0].body.slice(data) == b"FROM not-an-instruction \\\n"
    assert (run.line, run.end_line) == (2, 4)
    assert chomped.heredocs[0].chomp
    assert [(h.name, h.quoted) for h in copy.heredocs] == [("END", True), ("two", False)]
    assert copy.span.slice(data).endswith(b"second\ntwo")
    assert df.instructions[4].line == 13


def test_heredoc_terminator_with_crlf() -> None:
    data = b"FROM a\r\nRUN <<EOF\r\necho\r\nEOF\r\nUSER x\r\n"
    df = parse_dockerfile(data)
    assert [i.command for i in df.instructions] == ["FROM", "RUN", "USER"]


def test_quoted_heredoc_marker_is_not_a_heredoc() -> None:
    df = parse_dockerfile(b'FROM a\nRUN echo "<<EOF"\nUSER x\n')
    assert df.instructions[1].heredocs == ()
    assert len(df.instructions) == 3


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"\xef\xbb\xbf# syntax=x\r\n\r\nFROM a \\\r\n # c\r\n AS b  \r\n",
        b"# escape=`\nFROM a\nRUN <<EOF\nx `\nEOF\n",
        "FROM caf\u00e9\nRUN echo \u00e9\n".encode(),
        b"FROM a\nRUN echo \xff\xfe\n",
    ],
)
def test_rewrite_without_replacements_is_identity(data: bytes) -> None:
    parse_dockerfile(data)
    assert rewrite(data, []) == data


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        (b"# c\nFROM\n", 2, 1, "FROM requires an image"),
        (b"\xef\xbb\xbf  FROM --platform=linux/amd64\r\n", 1, 3, "FROM requires an image"),
        (b"FROM a b\n", 1, 8, "FROM requires either one or three arguments"),
        (b"FROM a IS b\n", 1, 8, "FROM expects AS before the stage name, found 'IS'"),
        (b"FROM --plat=linux/amd64 alpine\n", 1, 6, "unknown flag: --plat"),
        (b"FROM a\nCOPY --from /a /b\n", 2, 6, "missing a value on flag: --from"),
        (
            b"FROM a\nCOPY --link=maybe /a /b\n",
            2,
            6,
            "expecting boolean value for flag link, not: maybe",
        ),
        (b"FROM a\nRUN cat <<EOF\nhello\n", 2, 9, "unterminated heredoc 'EOF'"),
        (b"FROM a\nRUN <<-EOF\nhello\n  EOF\n", 2, 5, "unterminated heredoc 'EOF'"),
        (b"# escape=x\nFROM a\n", 1, 10, "invalid escape token 'x' does not match ` or \\"),
        (b"# syntax=a\n# syntax=b\nFROM a\n", 2, 1, "only one syntax parser directive can be used"),
    ],
)
def test_malformed_input_reports_line_and_column(
    data: bytes, line: int, column: int, message: str
) -> None:
    with pytest.raises(DockerfileSyntaxError) as caught:
        parse_dockerfile(data, path="ctx/Dockerfile")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert error.message == f"ctx/Dockerfile:{line}:{column}: {message}"
    assert error.path == "ctx/Dockerfile"


def test_flags_on_other_instructions_are_not_validated() -> None:
    df = parse_dockerfile(b"FROM a\nHEALTHCHECK --interval=5s CMD true\n")
    assert df.instructions[1].flags[0].name == "interval"


def test_allowed_flags_are_accepted() -> None:
    data = (
        b"FROM --platform=$BUILDPLATFORM a\n"
        b"ADD --keep-git-dir=true --checksum=sha256:00 --link=false https://x /y\n"
        b"COPY --parents --exclude=*.md --exclude=*.txt --chmod=644 . /z\n"
        b"RUN --mount=type=cache,target=/c --network=none --security=insecure true\n"
    )
    df = parse_dockerfile(data)
    assert [len(i.flags) for i in df.instructions] == [1, 3, 4, 3]


@pytest.mark.parametrize(
    ("data", "line", "column", "message"),
    [
        (
            b"FROM alpine\nRUN echo \\\n",
            2,
            10,
            "line continuation at end of file (the instruction ends there)",
        ),
        (
            b"FROM alpine\nRUN echo \\\n  # only a comment\n\n",
            2,
            10,
            "line continuation at end of file (the instruction ends there)",
        ),
        (
            "FROM a\nRUN echo \u00e9 \\".encode(),
            2,
            12,
            "line continuation at end of file (the instruction ends there)",
        ),
        (
            b"FROM a\nCOPY --keep-git-dir /a /b\n",
            2,
            6,
            "unknown flag --keep-git-dir on COPY: kept as written, not interpreted",
        ),
        (
            b"FROM a\nADD --foo=1 /a /b\n",
            2,
            5,
            "unknown flag --foo on ADD: kept as written, not interpreted",
        ),
        (
            b"FROM a\nRUN --device=/dev/fuse make\n",
            2,
            5,
            "unknown flag --device on RUN: kept as written, not interpreted",
        ),
        (
            b"FROM a\nCOPY --user=me foo /tmp/\n",
            2,
            6,
            "unknown flag --user on COPY: kept as written, not interpreted",
        ),
    ],
)
def test_what_buildkit_accepts_is_read_with_a_warning(
    data: bytes, line: int, column: int, message: str
) -> None:
    parsed = parse_dockerfile(data, "Dockerfile")
    [warning] = parsed.warnings
    assert (warning.line, warning.column) == (line, column)
    assert warning.message == message
    assert str(warning) == f"Dockerfile:{line}:{column}: {message}"
    assert parsed.instructions[-1].line == line


def test_flags_that_carry_references_stay_strict() -> None:
    for data, message in [
        (b"FROM --plat=linux/amd64 alpine\n", "unknown flag: --plat"),
        (b"FROM a\nCOPY --from /a /b\n", "missing a value on flag: --from"),
        (b"FROM a\nRUN --mount make\n", "missing a value on flag: --mount"),
    ]:
        with pytest.raises(DockerfileSyntaxError, match=message):
            parse_dockerfile(data, "Dockerfile")


BUILDKIT_TESTFILES = Path(__file__).resolve().parents[1] / "data" / "buildkit-parser"


def _result_commands(result: str) -> list[str]:
    """The instruction names of BuildKit's parser dump: one `(name ...)` per line."""
    return [line[1:].split()[0].split(")")[0].upper() for line in result.splitlines() if line]


@pytest.mark.parametrize("name", ["continue-at-eof", "env", "flags"])
def test_buildkit_parser_testfiles_parse_as_buildkit_parses_them(name: str) -> None:
    directory = BUILDKIT_TESTFILES / name
    parsed = parse_dockerfile((directory / "Dockerfile").read_bytes(), f"{name}/Dockerfile")
    commands = [instruction.command for instruction in parsed.instructions]
    assert commands == _result_commands((directory / "result").read_text())
    assert parsed.warnings, "each of these files needs a lenient reading"
    for warning in parsed.warnings:
        assert str(warning).startswith(f"{name}/Dockerfile:{warning.line}:")


def test_buildkit_flags_testfile_keeps_the_flags_it_does_not_know() -> None:
    directory = BUILDKIT_TESTFILES / "flags"
    parsed = parse_dockerfile((directory / "Dockerfile").read_bytes(), "flags/Dockerfile")
    copies = [i for i in parsed.instructions if i.command == "COPY"]
    assert [[f.name for f in c.flags] for c in copies] == [
        [],
        ["user"],
        ["doit"],
        ["user", "doit"],
        ["doit"],
        [],
    ]
    assert [w.line for w in parsed.warnings] == [3, 4, 5, 5, 6]


def test_flag_words_drop_quotes_and_take_escaped_characters_with_their_offsets() -> None:
    data = (
        b"FROM a\n"
        b'RUN --mount="type=secret,id=a b" --network=no\\ne make\n'
        b'COPY --chown=a\\"b --chmod= /s /d\n'
    )
    run, copy = parse_dockerfile(data).instructions[1:]
    assert [(f.name, f.value, f.span.slice(data)) for f in run.flags] == [
        ("mount", "type=secret,id=a b", b'--mount="type=secret,id=a b"'),
        ("network", "none", b"--network=no\\ne"),
    ]
    assert run.arguments.text == "make"
    mount, network = (f.located_value for f in run.flags)
    assert mount is not None and network is not None
    assert mount.span() == Span(20, 38)
    assert network.offsets == (50, 51, 53, 54)  # the backslash at 52 is not part of it
    assert [(f.name, f.value, f.span.slice(data)) for f in copy.flags] == [
        ("chown", 'a"b', b'--chown=a\\"b'),
        ("chmod", "", b"--chmod="),
    ]
    chown, chmod = (f.located_value for f in copy.flags)
    assert chown is not None and chmod is not None
    assert chown.offsets == (74, 76, 77)
    assert chmod.span() == Span(87, 87)  # an empty value sits just after its "="
    assert copy.arguments.text == "/s /d"


def test_a_backslash_ending_a_flag_in_a_backtick_file_is_dropped() -> None:
    data = b'# escape=`\nFROM a\nRUN --network=none\\\nRUN --network=a\\"\n'
    run, escaped_quote = parse_dockerfile(data).instructions[1:]
    (network,) = run.flags
    assert (network.value, network.span.slice(data)) == ("none", b"--network=none\\")
    assert network.located_value is not None
    assert network.located_value.span() == Span(32, 36)
    assert escaped_quote.flags[0].value == 'a"'  # the last character, taken literally


def test_directives_may_be_indented_and_escape_may_be_a_backslash() -> None:
    data = b"  # syntax=docker/dockerfile:1\n\t# escape=\\\nFROM a\n"
    df = parse_dockerfile(data)
    assert [(d.name, d.value, d.span.slice(data), d.line) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1", b"# syntax=docker/dockerfile:1", 1),
        ("escape", "\\", b"# escape=\\", 2),
    ]
    assert df.escape == "\\"
    with pytest.raises(DockerfileSyntaxError) as caught:
        parse_dockerfile(b"# syntax=a\n  # syntax=b\nFROM a\n")
    assert (caught.value.line, caught.value.column) == (2, 3)
    assert str(caught.value) == "Dockerfile:2:3: only one syntax parser directive can be used"


def test_the_default_path_names_the_file_in_warnings_and_errors() -> None:
    df = parse_dockerfile(b"FROM a\nADD --foo=1 /a /b\n")
    assert df.path == "Dockerfile"
    assert [str(w) for w in df.warnings] == [
        "Dockerfile:2:5: unknown flag --foo on ADD: kept as written, not interpreted"
    ]
    assert parse_dockerfile(b"FROM a\n", "ctx/app.Dockerfile").path == "ctx/app.Dockerfile"
    with pytest.raises(DockerfileSyntaxError) as caught:
        parse_dockerfile(b"FROM\n")
    assert caught.value.path == "Dockerfile"


def test_a_heredoc_marker_takes_a_backslash_escape_even_in_a_backtick_file() -> None:
    data = b"# escape=`\nFROM a\nRUN <<EO\\ \nbody\nEO \nUSER x\n"
    run, user = parse_dockerfile(data).instructions[1:]
    (heredoc,) = run.heredocs
    assert (heredoc.name, heredoc.body.slice(data)) == ("EO ", b"body\n")
    assert (run.line, run.end_line, user.line) == (3, 5, 6)


def test_the_package_loads_each_name_from_its_module_on_first_use() -> None:
    import repro.dockerfile as package
    from repro.dockerfile import parser, span

    assert package.__getattr__("Span") is span.Span
    assert vars(package)["Span"] is span.Span
    assert package.__getattr__("parse_dockerfile") is parser.parse_dockerfile
    with pytest.raises(AttributeError) as raised:
        package.__getattr__("nothing_here")
    assert str(raised.value) == "module 'repro.dockerfile' has no attribute 'nothing_here'"


@pytest.mark.parametrize(
    ("data", "commands"),
    [
        # Only spaces and tabs may follow the escape of a continuation.
        (b"FROM a \\ \t\n  AS b\nUSER x\n", ["FROM", "USER"]),
        (b"FROM a\nRUN echo \\\x0c\nUSER x\n", ["FROM", "RUN", "USER"]),
        (b"FROM a\nRUN echo \\X\nUSER x\n", ["FROM", "RUN", "USER"]),
        (b"FROM a\nRUN echo \\X \\\nUSER x\n", ["FROM", "RUN"]),
    ],
)
def test_a_continuation_is_the_escape_then_only_spaces_and_tabs(
    data: bytes, commands: list[str]
) -> None:
    assert [i.command for i in parse_dockerfile(data).instructions] == commands


def test_a_continuation_left_open_at_the_end_says_so_exactly() -> None:
    (warning,) = parse_dockerfile(b"FROM alpine \\\n").warnings
    assert str(warning) == (
        "Dockerfile:1:13: line continuation at end of file (the instruction ends there)"
    )
    (on_a_later_line,) = parse_dockerfile(b"FROM a\nRUN echo \\\n  more \\\n").warnings
    assert (on_a_later_line.line, on_a_later_line.column) == (3, 8)


def test_onbuild_run_copy_and_add_read_heredocs_and_nothing_else_does() -> None:
    data = (
        b"FROM a\nonbuild run <<EOF\nFROM x\nEOF\nONBUILD USER y\nCMD cat <<EOF\nUSER z\nONBUILD\n"
    )
    df = parse_dockerfile(data)
    assert [(i.command, i.line, i.end_line) for i in df.instructions] == [
        ("FROM", 1, 1),
        ("ONBUILD", 2, 4),
        ("ONBUILD", 5, 5),
        ("CMD", 6, 6),
        ("USER", 7, 7),
        ("ONBUILD", 8, 8),
    ]
    assert df.instructions[1].heredocs[0].body.slice(data) == b"FROM x\n"


def test_heredoc_terminators_match_the_whole_line_tabs_stripped_only_with_a_dash() -> None:
    data = b"FROM a\nRUN <<EOF\n\tEOF\nEOF\nRUN <<-EOF\nXEOF\n\t\tEOF\nUSER x\n"
    df = parse_dockerfile(data)
    plain, chomped = (i.heredocs[0] for i in df.instructions[1:3])
    assert plain.body.slice(data) == b"\tEOF\n"
    assert chomped.body.slice(data) == b"XEOF\n"
    assert df.instructions[3].line == 8


def test_a_heredoc_marker_on_the_last_line_is_unterminated() -> None:
    with pytest.raises(DockerfileSyntaxError) as caught:
        parse_dockerfile(b"FROM a\nRUN <<EOF")
    assert str(caught.value) == "Dockerfile:2:5: unterminated heredoc 'EOF'"
