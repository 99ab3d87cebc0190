"""Word splitting over located text, following BuildKit's rules for each context.

Every function takes a :class:`LocatedText` (a logical instruction line) and returns
located words, so any word can be traced back to its original bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.dockerfile.source import LocatedBuilder, LocatedText
from repro.dockerfile.span import Span

WHITESPACE = " \t\n\v\f\r"
QUOTES = "'\""


def skip_whitespace(line: LocatedText, pos: int) -> int:
    while pos < len(line.text) and line.text[pos] in WHITESPACE:
        pos += 1
    return pos


@dataclass(frozen=True)
class FlagWord:
    """A ``--name[=value]`` word: ``word`` has quotes removed, ``raw`` covers it as written."""

    word: LocatedText
    raw: Span


def extract_flags(line: LocatedText, pos: int) -> tuple[list[FlagWord], int]:
    """Split leading ``--flag`` words off ``line[pos:]`` like BuildKit's extractBuilderFlags.

    Quotes inside a flag word are removed and a backslash takes the next character
    literally. A bare ``--`` ends the flags. Returns the flags and where the rest begins.
    """
    text = line.text
    flags: list[FlagWord] = []
    while True:
        pos = skip_whitespace(line, pos)
        if not text.startswith("--", pos):
            return flags, pos
        start = pos
        builder = LocatedBuilder()
        quote: str | None = None
        while pos < len(text):
            char = text[pos]
            if quote is None and char in WHITESPACE:
                break
            if quote is None and char in QUOTES:
                quote = char
            elif quote is not None and char == quote:
                quote = None
            elif char == "\\":
                if pos + 1 < len(text):
                    pos += 1
                    builder.add(text[pos], line.offsets[pos])
            else:
                builder.add(char, line.offsets[pos])
            pos += 1
        word = builder.build(line.span(start, pos).end)
        if word.text == "--":
            return flags, skip_whitespace(line, pos)
        flags.append(FlagWord(word, line.span(start, pos)))


def split_whitespace(line: LocatedText, pos: int) -> list[LocatedText]:
    """Whitespace-separated words with no quote processing (FROM's arguments)."""
    words: list[LocatedText] = []
    text = line.text
    while True:
        pos = skip_whitespace(line, pos)
        if pos >= len(text):
            return words
        start = pos
        while pos < len(text) and text[pos] not in WHITESPACE:
            pos += 1
        words.append(line.slice(start, pos))


def shell_words(line: LocatedText, pos: int, escape: str) -> list[LocatedText]:
    """Words split on unquoted whitespace, quotes and escapes kept as written.

    Used for ARG/ENV declarations and to spot heredoc markers, as BuildKit's parseWords
    and its raw-quote shell lexer do.
    """
    words: list[LocatedText] = []
    text = line.text
    while True:
        pos = skip_whitespace(line, pos)
        if pos >= len(text):
            return words
        start = pos
        quote: str | None = None
        while pos < len(text):
            char = text[pos]
            if quote is None and char in WHITESPACE:
                break
            if char == escape and quote != "'" and pos + 1 < len(text):
                pos += 2
                continue
            if quote is None and char in QUOTES:
                quote = char
            elif char == quote:
                quote = None
            pos += 1
        words.append(line.slice(start, pos))
