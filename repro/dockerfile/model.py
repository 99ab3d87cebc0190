"""The parsed, lossless view of a Dockerfile: directives and instructions with byte spans."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from repro.dockerfile.source import LocatedText
from repro.dockerfile.span import Span


@dataclass(frozen=True)
class Directive:
    """A parser directive from the top of the file (``# syntax=...``)."""

    name: str  # lower-cased: "syntax", "escape" or "check"
    value: str
    line: int
    span: Span  # the whole directive line, without its line ending
    value_span: Span


@dataclass(frozen=True)
class Flag:
    """An instruction flag such as ``--platform=linux/amd64`` or ``--link``."""

    name: str  # as written, without the leading dashes
    value: str | None  # quotes removed; None for a bare boolean flag
    span: Span  # the flag as written, quotes included
    line: int
    column: int
    located_value: LocatedText | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Heredoc:
    """A ``<<EOF`` here-document attached to RUN, COPY or ADD."""

    name: str  # the terminator word, quotes removed
    chomp: bool  # ``<<-``: leading tabs are stripped from the terminator line
    quoted: bool  # the marker was quoted, so the body is not variable-expanded
    body: Span  # the lines between the instruction and the terminator, endings included


@dataclass(frozen=True)
class Instruction:
    """One instruction, spanning every physical line it occupies (continuations, heredocs)."""

    keyword: str  # original spelling, e.g. "from"
    span: Span  # from the keyword to the end of its last line, line ending excluded
    line: int
    end_line: int
    flags: tuple[Flag, ...]
    arguments: LocatedText  # after the flags; continuations joined, comment lines dropped
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def command(self) -> str:
        """The keyword upper-cased; keywords are case-insensitive."""
        return self.keyword.upper()

    def flags_named(self, name: str) -> list[Flag]:
        return [flag for flag in self.flags if flag.name == name]


@dataclass(frozen=True)
class ParseWarning:
    """Input BuildKit accepts that repro reads leniently (an unknown flag, say)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile that still refers to, and never alters, the original bytes."""

    path: str
    data: bytes = field(repr=False)
    has_bom: bool
    escape: str
    directives: tuple[Directive, ...]
    instructions: tuple[Instruction, ...]
    line_starts: tuple[int, ...] = field(repr=False)  # byte offset of each line
    warnings: tuple[ParseWarning, ...] = ()

    def directive(self, name: str) -> Directive | None:
        for directive in self.directives:
            if directive.name == name.lower():
                return directive
        return None

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a byte offset; the column counts characters."""
        return line_and_column(self.data, self.line_starts, offset)


def line_and_column(data: bytes, line_starts: tuple[int, ...], offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a byte offset, given each line's starting offset."""
    row = max(bisect.bisect_right(line_starts, offset) - 1, 0)
    prefix = data[line_starts[row] : offset]
    return row + 1, len(prefix.decode("utf-8", "surrogateescape")) + 1
