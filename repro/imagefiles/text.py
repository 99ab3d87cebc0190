"""The decoded text of a file, and the map from its character indexes back to bytes.

Parsers count characters (and not a leading BOM); spans must be byte offsets into the
file exactly as read. UTF-8 is required (YAML, HCL and JSON all are); a BOM is cut off
before parsing and added back to every offset.
"""

from __future__ import annotations

from repro.dockerfile import Span

BOM = b"\xef\xbb\xbf"


class UnreadableText(Exception):
    """The file cannot be read at all: reported at its position, never rewritten."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class SourceText:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bom = len(BOM) if data.startswith(BOM) else 0
        try:
            self.text = data[self.bom :].decode("utf-8")
        except UnicodeDecodeError as error:
            offset = error.start + self.bom
            line_start = data.rfind(b"\n", 0, offset) + 1
            column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
            line = data.count(b"\n", 0, offset) + 1
            raise UnreadableText(f"not UTF-8 text (byte {offset})", line, column) from error
        self._ascii = data.isascii()

    def byte_offset(self, index: int) -> int:
        """The byte offset in ``data`` of character ``index`` of ``text``."""
        if self._ascii:
            return self.bom + index
        return self.bom + len(self.text[:index].encode("utf-8"))

    def span(self, start: int, end: int) -> Span:
        return Span(self.byte_offset(start), self.byte_offset(end))

    def position(self, index: int) -> tuple[int, int]:
        """1-based line and character column of character ``index``."""
        line_start = self.text.rfind("\n", 0, index) + 1
        return self.text.count("\n", 0, index) + 1, index - line_start + 1
