"""Compose's variable interpolation, read (never performed): which ``${VAR}`` a value needs.

Compose fills ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+alt}`` and ``${VAR+alt}`` from the shell
environment and the project's ``.env`` file; ``$$`` is a literal ``$``. repro cannot know
that environment, so a value that needs a variable is never pinned. ``assumed`` is the
value compose uses when none of the variables is set (each one's default; empty for the
``+`` forms): it is only reported, because a ``.env`` or CI variable may well set them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


@dataclass(frozen=True)
class Interpolation:
    variables: tuple[str, ...]  # in order of appearance, each once
    assumed: str | None  # the value with every variable unset, when that is defined


def interpolation(text: str) -> Interpolation | None:
    """What ``text`` needs from the environment; None when it needs nothing."""
    if "$" not in text:
        return None
    variables: list[str] = []
    assumed = _Reader(text, variables).value()
    if not variables:
        return None
    return Interpolation(tuple(dict.fromkeys(variables)), assumed)


class _Reader:
    def __init__(self, text: str, variables: list[str]) -> None:
        self.text = text
        self.variables = variables

    def value(self) -> str | None:
        out, index = self._until(0, closing=False)
        return out if index == len(self.text) else None

    def _until(self, index: int, *, closing: bool) -> tuple[str | None, int]:
        """Read up to the end (or the ``}`` closing a braced default); None: undefined."""
        text = self.text
        pieces: list[str] = []
        defined = True
        while index < len(text):
            char = text[index]
            if closing and char == "}":
                break
            if char != "$":
                pieces.append(char)
                index += 1
                continue
            following = text[index + 1 : index + 2]
            if following == "$":
                pieces.append("$")
                index += 2
            elif following == "{":
                part, index = self._braced(index + 2)
                defined = defined and part is not None
                pieces.append(part or "")
            elif (name := _NAME.match(text, index + 1)) is not None:
                self.variables.append(name.group())
                defined = False  # unset means blank: no default to explain
                index = name.end()
            else:
                pieces.append("$")
                index += 1
        return ("".join(pieces) if defined else None), index

    def _braced(self, index: int) -> tuple[str | None, int]:
        text = self.text
        name = _NAME.match(text, index)
        if name is None:  # compose rejects it; certainly nothing to pin
            self.variables.append(text[index : text.find("}", index) + 1 or len(text)])
            return None, len(text)
        self.variables.append(name.group())
        index = name.end()
        operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
        if operator is None:
            end = index + 1 if text.startswith("}", index) else len(text)
            return None, end
        word, index = self._until(index + len(operator), closing=True)
        index = index + 1 if text.startswith("}", index) else len(text)
        if operator in (":-", "-"):
            return word, index
        if operator in (":+", "+"):
            return "", index
        return None, index  # :? and ? fail when the variable is unset
