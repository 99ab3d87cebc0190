"""A lossless Dockerfile tokenizer following BuildKit's frontend/dockerfile/parser rules.

It finds instruction boundaries (continuations, comment lines inside them, heredocs),
parser directives and flags. It does not interpret instruction arguments beyond what
repro needs; every position it reports is a byte offset into the untouched input.

Strict where pinning depends on it, lenient elsewhere, as BuildKit's parser is: FROM's
flags and the flags that carry image references (COPY/ADD --from, RUN --mount) are
checked; an unknown flag on COPY, ADD or RUN (``COPY --user``, a newer ``RUN --device``)
and a line continuation left open at the end of the file are accepted with a warning
(Dockerfile.warnings, each with file:line:column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from repro.dockerfile.model import (
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    ParseWarning,
    line_and_column,
)
from repro.dockerfile.source import LocatedText, PhysicalLine, Source, concat
from repro.dockerfile.span import Span
from repro.dockerfile.words import (
    WHITESPACE,
    FlagWord,
    extract_flags,
    shell_words,
    skip_whitespace,
    split_whitespace,
)
from repro.errors import DockerfileSyntaxError

# BuildKit: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ with Go's ASCII \s.
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*", re.ASCII)
KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_MARKER = re.compile(r"(\d*)<<(-?)([^<]*)")
HEREDOC_COMMANDS = frozenset({"RUN", "COPY", "ADD"})
_LINE_WHITESPACE = " \t\v\f\r"


class FlagKind(Enum):
    STRING = "string"  # --name=value, may be repeated for --mount and --exclude
    BOOL = "bool"  # --name or --name=true|false


_COPY_FLAGS = {
    "from": FlagKind.STRING,
    "chown": FlagKind.STRING,
    "chmod": FlagKind.STRING,
    "link": FlagKind.BOOL,
    "parents": FlagKind.BOOL,
    "exclude": FlagKind.STRING,
}
# Flags BuildKit accepts per instruction. An unknown one is refused on the instructions in
# STRICT_FLAGS (FROM: the reference itself) and accepted with a warning on the others.
KNOWN_FLAGS: dict[str, dict[str, FlagKind]] = {
    "FROM": {"platform": FlagKind.STRING},
    "COPY": _COPY_FLAGS,
    "ADD": {**_COPY_FLAGS, "keep-git-dir": FlagKind.BOOL, "checksum": FlagKind.STRING},
    "RUN": {
        "mount": FlagKind.STRING,
        "network": FlagKind.STRING,
        "security": FlagKind.STRING,
    },
}
STRICT_FLAGS = frozenset({"FROM"})


def parse_dockerfile(data: bytes, path: str = "Dockerfile") -> Dockerfile:
    """Tokenize ``data`` into directives and instructions without losing a byte.

    Raises DockerfileSyntaxError for input BuildKit would refuse; what it accepts and
    repro reads leniently is in the result's ``warnings``.
    """
    return _Parser(Source(data), path).parse()


@dataclass(frozen=True)
class _Logical:
    """An instruction's physical extent and its logical (joined) text."""

    text: LocatedText
    first: PhysicalLine
    last: PhysicalLine


class _Parser:
    def __init__(self, source: Source, path: str) -> None:
        self.source = source
        self.path = path
        self.lines = source.lines
        self.index = 0
        self.escape = "\\"
        self.line_starts = source.line_byte_starts()
        self.warnings: list[ParseWarning] = []

    def parse(self) -> Dockerfile:
        directives = self._directives()
        instructions: list[Instruction] = []
        while self.index < len(self.lines):
            logical = self._next_logical_line()
            if logical is not None:
                instructions.append(self._instruction(logical))
        return Dockerfile(
            path=self.path,
            data=self.source.data,
            has_bom=self.source.has_bom,
            escape=self.escape,
            directives=tuple(directives),
            instructions=tuple(instructions),
            line_starts=self.line_starts,
            warnings=tuple(sorted(self.warnings, key=lambda w: (w.line, w.column))),
        )

    # -- errors and positions ------------------------------------------------------

    def _position(self, offset: int) -> tuple[int, int]:
        return line_and_column(self.source.data, self.line_starts, offset)

    def _error(self, message: str, offset: int) -> DockerfileSyntaxError:
        line, column = self._position(offset)
        return DockerfileSyntaxError(message, path=self.path, line=line, column=column)

    def _warn(self, message: str, offset: int) -> None:
        line, column = self._position(offset)
        self.warnings.append(ParseWarning(self.path, line, column, message))

    def _byte(self, char_index: int) -> int:
        return self.source.byte_offset(char_index)

    # -- directives ------------------------------------------------------------------

    def _directives(self) -> list[Directive]:
        """Read the leading ``# name=value`` lines BuildKit treats as directives.

        Directives stop at the first line that is not one: an instruction, an empty
        line, an ordinary comment, or a comment naming an unknown directive.
        """
        directives: list[Directive] = []
        for line in self.lines:
            lead = len(line.content) - len(line.content.lstrip(_LINE_WHITESPACE))
            match = _DIRECTIVE.fullmatch(line.content, lead)
            if match is None or match.group(1).lower() not in KNOWN_DIRECTIVES:
                break
            name = match.group(1).lower()
            value_start = line.start + match.start(2)
            if any(directive.name == name for directive in directives):
                raise self._error(
                    f"only one {name} parser directive can be used",
                    self._byte(line.start + lead),
                )
            value = match.group(2)
            if name == "escape" and value not in ("\\", "`"):
                raise self._error(
                    f"invalid escape token '{value}' does not match ` or \\",
                    self._byte(value_start),
                )
            if name == "escape":
                self.escape = value
            directives.append(
                Directive(
                    name=name,
                    value=value,
                    line=line.number,
                    span=Span(
                        self._byte(line.start + lead),
                        self._byte(line.start + len(line.content)),
                    ),
                    value_span=Span(self._byte(value_start), self._byte(line.start + match.end(2))),
                )
            )
        return directives  # the instruction loop then skips these lines as comments

    # -- logical lines ---------------------------------------------------------------

    def _split_continuation(self, content: str) -> tuple[str, bool]:
        """Strip a trailing escape character (plus spaces/tabs); report if there was one."""
        trimmed = content.rstrip(" \t")
        if trimmed.endswith(self.escape):
            return trimmed[:-1], True
        return content, False

    def _next_logical_line(self) -> _Logical | None:
        """Join the next instruction's physical lines; None for a blank or comment line."""
        first = self.lines[self.index]
        self.index += 1
        lead = len(first.content) - len(first.content.lstrip(_LINE_WHITESPACE))
        body = first.content[lead:]
        if body.startswith("#"):
            return None
        text, continued = self._split_continuation(body)
        if not continued and not text:
            return None
        start = first.start + lead
        parts = [self.source.located(start, start + len(text))]
        last = first
        open_escape = start + len(text)
        while continued:
            if self.index >= len(self.lines):
                # BuildKit ends the instruction there; so do we, and say so.
                self._warn(
                    "line continuation at end of file (the instruction ends there)",
                    self._byte(open_escape),
                )
                break
            line = self.lines[self.index]
            self.index += 1
            stripped = line.content.lstrip(_LINE_WHITESPACE)
            if not stripped or stripped.startswith("#"):
                continue  # BuildKit skips empty and comment lines inside a continuation
            text, continued = self._split_continuation(line.content)
            parts.append(self.source.located(line.start, line.start + len(text)))
            last = line
            open_escape = line.start + len(text)
        return _Logical(concat(parts), first, last)

    # -- instructions ----------------------------------------------------------------

    def _instruction(self, logical: _Logical) -> Instruction:
        line_text = logical.text
        keyword_start = skip_whitespace(line_text, 0)
        keyword_end = keyword_start
        while keyword_end < len(line_text.text) and line_text.text[keyword_end] not in WHITESPACE:
            keyword_end += 1
        keyword = line_text.text[keyword_start:keyword_end]
        command = keyword.upper()
        flag_words, rest = extract_flags(line_text, keyword_end)
        flags = tuple(self._flag(command, word) for word in flag_words)
        stop = len(line_text.text.rstrip(WHITESPACE))
        arguments = line_text.slice(min(rest, stop), stop)
        if command == "FROM":
            self._check_from(line_text, keyword_start, arguments)
        heredocs: tuple[Heredoc, ...] = ()
        last = logical.last
        if self._can_contain_heredoc(command, arguments):
            heredocs, last = self._heredocs(line_text, keyword_end, last)
        start = line_text.offsets[keyword_start]
        return Instruction(
            keyword=keyword,
            span=Span(start, self._byte(last.start + len(last.content))),
            line=logical.first.number,
            end_line=last.number,
            flags=flags,
            arguments=arguments,
            heredocs=heredocs,
        )

    def _flag(self, command: str, word: FlagWord) -> Flag:
        text = word.word.text
        equals = text.find("=")
        name = text[2:] if equals == -1 else text[2:equals]
        located_value = None if equals == -1 else word.word.slice(equals + 1)
        known = KNOWN_FLAGS.get(command)
        if known is not None:
            kind = known.get(name)
            if kind is None and command in STRICT_FLAGS:
                raise self._error(f"unknown flag: --{name}", word.raw.start)
            if kind is None:
                self._warn(
                    f"unknown flag --{name} on {command}: kept as written, not interpreted",
                    word.raw.start,
                )
            if kind is FlagKind.STRING and located_value is None:
                raise self._error(f"missing a value on flag: --{name}", word.raw.start)
            if (
                kind is FlagKind.BOOL
                and located_value is not None
                and located_value.text.lower() not in ("true", "false")
            ):
                raise self._error(
                    f"expecting boolean value for flag {name}, not: {located_value.text}",
                    word.raw.start,
                )
        line, column = self._position(word.raw.start)
        return Flag(
            name=name,
            value=None if located_value is None else located_value.text,
            span=word.raw,
            line=line,
            column=column,
            located_value=located_value,
        )

    def _check_from(
        self, line_text: LocatedText, keyword_start: int, arguments: LocatedText
    ) -> None:
        words = split_whitespace(arguments, 0)
        if not words:
            raise self._error("FROM requires an image", line_text.offsets[keyword_start])
        if len(words) == 1:
            return
        if len(words) != 3:
            raise self._error("FROM requires either one or three arguments", words[1].span().start)
        if words[1].text.lower() != "as":
            raise self._error(
                f"FROM expects AS before the stage name, found {words[1].text!r}",
                words[1].span().start,
            )

    # -- heredocs --------------------------------------------------------------------

    @staticmethod
    def _can_contain_heredoc(command: str, arguments: LocatedText) -> bool:
        if command in HEREDOC_COMMANDS:
            return True
        if command == "ONBUILD":
            inner = split_whitespace(arguments, 0)
            return bool(inner) and inner[0].text.upper() in HEREDOC_COMMANDS
        return False

    def _heredocs(
        self, line_text: LocatedText, after_keyword: int, last: PhysicalLine
    ) -> tuple[tuple[Heredoc, ...], PhysicalLine]:
        """Read the bodies of every ``<<WORD`` marker on the instruction line, in order."""
        heredocs: list[Heredoc] = []
        # BuildKit lexes heredoc markers with a backslash escape whatever the directive.
        for word in shell_words(line_text, after_keyword, "\\"):
            match = _HEREDOC_MARKER.fullmatch(word.text)
            if match is None or not match.group(3):
                continue
            rest = match.group(3)
            name = _unquote_word(rest)
            chomp = match.group(2) == "-"
            body_start = (
                self.lines[self.index].start
                if self.index < len(self.lines)
                else len(self.source.text)
            )
            while True:
                if self.index >= len(self.lines):
                    raise self._error(f"unterminated heredoc {name!r}", word.span().start)
                line = self.lines[self.index]
                self.index += 1
                candidate = line.content.lstrip("\t") if chomp else line.content
                if candidate == name:
                    break
            heredocs.append(
                Heredoc(
                    name=name,
                    chomp=chomp,
                    quoted=name != rest,
                    body=Span(self._byte(body_start), self._byte(line.start)),
                )
            )
            last = line
        return tuple(heredocs), last


def _unquote_word(raw: str) -> str:
    """Remove shell quotes and backslash escapes from a heredoc marker word."""
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(raw):
        char = raw[index]
        if quote != "'" and char == "\\" and index + 1 < len(raw):
            out.append(raw[index + 1])
            index += 2
            continue
        if quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        else:
            out.append(char)
        index += 1
    return "".join(out)
