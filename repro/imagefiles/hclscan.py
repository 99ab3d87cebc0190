"""A small HCL tokenizer that finds every quoted string and block header with its position.

python-hcl2 parses bake files well but hands out values without positions. This scanner
knows just enough HCL to find them: ``#``, ``//`` and ``/* */`` comments, heredocs
(skipped whole), and quoted templates with nested ``${ }`` / ``%{ }`` (whose inner
strings belong to the outer one). Each top-level string is filed under the statement it
lies in, ``(block type, *labels, attribute)``, so bake.py can match them one for one
with the library's values and trust a position only when both agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")
_OPEN = "{[("
_CLOSE = "}])"


class HclScanError(Exception):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class HclString:
    start: int  # character index of the text, just after the opening quote
    end: int  # character index of the closing quote
    raw: str  # the text between the quotes, as written
    group: tuple[str, ...]  # (top-level name, *block labels, attribute name)


@dataclass(frozen=True)
class HclBlock:
    type: str
    labels: tuple[str, ...]
    start: int  # character index of the block type's name


@dataclass(frozen=True)
class HclTokens:
    strings: tuple[HclString, ...]
    blocks: tuple[HclBlock, ...]


def scan_hcl(text: str) -> HclTokens:
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.strings: list[HclString] = []
        self.blocks: list[HclBlock] = []
        self.depth = 0
        self._top_level()

    def _top_level(self) -> None:
        self.top_name: str | None = None
        self.top_start = 0
        self.labels: list[str] = []
        self.is_attribute = False
        self.in_block = False
        self.attribute: str | None = None

    def run(self) -> HclTokens:
        text = self.text
        index = 0
        while index < len(text):
            char = text[index]
            if char == "\n":
                self._newline()
                index += 1
            elif char == "#" or text.startswith("//", index):
                newline = text.find("\n", index)
                index = len(text) if newline == -1 else newline
            elif text.startswith("/*", index):
                close = text.find("*/", index + 2)
                if close == -1:
                    raise HclScanError("unterminated /* comment", index)
                if "\n" in text[index:close]:
                    self._newline()  # HCL reads a multi-line comment as a line break
                index = close + 2
            elif char == '"':
                end = self._template_end(index + 1)
                self._string(index + 1, end)
                index = end + 1
            elif char == "<" and (heredoc := _HEREDOC.match(text, index)) is not None:
                index = self._heredoc_end(heredoc)
            elif (name := _NAME.match(text, index)) is not None:
                self._name(name.group(), index)
                index = name.end()
            else:
                self._punctuation(char, index)
                index += 1
        return HclTokens(tuple(self.strings), tuple(self.blocks))

    def _newline(self) -> None:
        if self.depth == 0:
            self._top_level()
        elif self.depth == 1 and self.in_block:
            self.attribute = None

    def _name(self, name: str, index: int) -> None:
        if self.depth == 0 and self.top_name is None:
            self.top_name, self.top_start = name, index
        elif self.depth == 0 and not self.is_attribute:
            self.labels.append(name)  # an unquoted block label
        elif self.depth == 1 and self.in_block and self.attribute is None:
            self.attribute = name

    def _punctuation(self, char: str, index: int) -> None:
        text = self.text
        if char == "=" and self.depth == 0 and text[index + 1 : index + 2] not in ("=", ">"):
            self.is_attribute = True
        elif char in _OPEN:
            if self.depth == 0 and char == "{" and self.top_name and not self.is_attribute:
                self.in_block = True
                self.blocks.append(HclBlock(self.top_name, tuple(self.labels), self.top_start))
            self.depth += 1
        elif char in _CLOSE:
            self.depth = max(self.depth - 1, 0)
            if self.depth == 0 and self.in_block:
                self._top_level()

    def _string(self, start: int, end: int) -> None:
        raw = self.text[start:end]
        if self.depth == 0 and not self.is_attribute:
            self.labels.append(raw)  # a quoted block label
            return
        group: tuple[str, ...] = (self.top_name or "",)
        if self.in_block:
            group = (*group, *self.labels, self.attribute or "")
        self.strings.append(HclString(start, end, raw, group))

    def _template_end(self, index: int) -> int:
        """The index of the quote closing a template that starts at ``index``."""
        text = self.text
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
            elif char == '"':
                return index
            elif char == "\n":
                break
            elif text.startswith(("$${", "%%{"), index):
                index += 3
            elif text.startswith(("${", "%{"), index):
                index = self._expression_end(index + 2)
            else:
                index += 1
        raise HclScanError("unterminated string", index)

    def _expression_end(self, index: int) -> int:
        """The index just past the ``}`` closing an interpolation whose body starts here."""
        text = self.text
        depth = 1
        while index < len(text):
            char = text[index]
            if char == '"':
                index = self._template_end(index + 1) + 1
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        raise HclScanError("unterminated ${ interpolation", index)

    def _heredoc_end(self, heredoc: re.Match[str]) -> int:
        """The index of the line break after a heredoc's closing marker."""
        text = self.text
        marker = heredoc.group(1)
        position = heredoc.end()
        while position <= len(text):
            newline = text.find("\n", position)
            line_end = len(text) if newline == -1 else newline
            if text[position:line_end].strip() == marker:
                return line_end
            if newline == -1:
                break
            position = newline + 1
        raise HclScanError(f"heredoc <<{marker} is not closed", heredoc.start())
