"""Shell-style variable substitution as BuildKit applies it to FROM and flag values.

Supported: ``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR-word}``, ``${VAR:+word}``,
``${VAR+word}``, ``${VAR:?word}``, ``${VAR?word}``, single and double quotes and the
escape character. Anything else (``${VAR#x}``, ``${VAR/a/b}``, ...) is treated as
unresolvable, which makes the caller skip the reference rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A variable lookup: the value, or None when the variable is unset or its value unknown.
Lookup = Callable[[str], str | None]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SINGLE_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Expansion:
    text: str
    variables: tuple[str, ...]  # every variable the word mentions, in order


def single_variable(word: str) -> str | None:
    """The name when ``word`` is exactly ``$NAME`` or ``${NAME}``, else None."""
    match = _SINGLE_VARIABLE.fullmatch(word)
    if match is None:
        return None
    return match.group(1) or match.group(2)


def needs_expansion(word: str, escape: str) -> bool:
    return any(char in word for char in "$'\"" + escape)


def expand(word: str, lookup: Lookup, escape: str = "\\") -> Expansion | None:
    """Substitute variables in ``word``; None when a needed value is unknown."""
    expander = _Expander(word, lookup, escape)
    text = expander.text(stop=None)
    if text is None or expander.pos != len(word):
        return None
    return Expansion(text, tuple(expander.variables))


class _Expander:
    def __init__(self, word: str, lookup: Lookup, escape: str) -> None:
        self.word = word
        self.lookup = lookup
        self.escape = escape
        self.pos = 0
        self.variables: list[str] = []

    def text(self, stop: str | None) -> str | None:
        """Expand up to ``stop`` (left unconsumed) or the end; None if unresolvable.

        Parsing always continues to the stop character so that an unused, unresolvable
        alternative in ``${VAR:-...}`` does not spoil the whole word.
        """
        out: list[str] | None = []
        word = self.word
        while self.pos < len(word) and word[self.pos] != stop:
            char = word[self.pos]
            piece: str | None
            if char == self.escape:
                piece = word[self.pos + 1 : self.pos + 2] or char
                self.pos += 2
            elif char == "'":
                close = word.find("'", self.pos + 1)
                if close == -1:
                    piece, self.pos = None, len(word)
                else:
                    piece, self.pos = word[self.pos + 1 : close], close + 1
            elif char == '"':
                piece = self._double_quoted()
            elif char == "$":
                piece = self._dollar()
            else:
                piece = char
                self.pos += 1
            if piece is None:
                out = None
            elif out is not None:
                out.append(piece)
        return None if out is None else "".join(out)

    def _double_quoted(self) -> str | None:
        word = self.word
        self.pos += 1  # opening quote
        out: list[str] | None = []
        while self.pos < len(word) and word[self.pos] != '"':
            char = word[self.pos]
            piece: str | None
            if char == self.escape and word[self.pos + 1 : self.pos + 2] in ('"', "$", self.escape):
                piece = word[self.pos + 1]
                self.pos += 2
            elif char == "$":
                piece = self._dollar()
            else:
                piece = char
                self.pos += 1
            if piece is None:
                out = None
            elif out is not None:
                out.append(piece)
        if self.pos >= len(word):
            return None  # unterminated double quote
        self.pos += 1  # closing quote
        return None if out is None else "".join(out)

    def _dollar(self) -> str | None:
        word = self.word
        if word.startswith("${", self.pos):
            return self._braced()
        match = _NAME.match(word, self.pos + 1)
        if match is None:
            self.pos += 1
            return "$"  # a lone dollar is literal
        self.pos = match.end()
        self.variables.append(match.group())
        return self.lookup(match.group())

    def _braced(self) -> str | None:
        word = self.word
        match = _NAME.match(word, self.pos + 2)
        if match is None:
            self._skip_to_close(depth=0)  # pos is on the "$"
            return None
        name = match.group()
        self.variables.append(name)
        value = self.lookup(name)
        self.pos = match.end()
        if word.startswith("}", self.pos):
            self.pos += 1
            return value
        colon = word.startswith(":", self.pos)
        operator = word[self.pos + colon : self.pos + colon + 1]
        if operator not in ("-", "+", "?"):
            self._skip_to_close(depth=1)  # ${VAR#...}, ${VAR/...}, ${VAR:1}: not supported
            return None
        self.pos += colon + 1
        alternative = self.text(stop="}")
        if not word.startswith("}", self.pos):
            return None  # missing closing brace
        self.pos += 1
        is_set = value is not None and (value != "" or not colon)
        if operator == "-":
            return value if is_set else alternative
        if operator == "+":
            return alternative if is_set else ""
        return value if is_set else None  # "?": an error in a real build

    def _skip_to_close(self, depth: int) -> None:
        while self.pos < len(self.word):
            char = self.word[self.pos]
            self.pos += 1
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return
