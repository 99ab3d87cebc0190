"""The decoded Dockerfile text and the map from its characters back to original bytes.

The parser works on ``str`` so that columns count characters the way editors do, but
every position it hands out is a byte offset into the original data. Invalid UTF-8 is
decoded with ``surrogateescape`` so each bad byte is one character and nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from repro.dockerfile.span import Span

BOM = b"\xef\xbb\xbf"


def _char_byte_length(char: str) -> int:
    if "\udc80" <= char <= "\udcff":  # an undecodable byte smuggled through surrogateescape
        return 1
    return len(char.encode("utf-8"))


@dataclass(frozen=True)
class LocatedText:
    """Text assembled from the source (quotes removed, continuations joined, ...).

    ``offsets[i]`` is the byte offset in the original file of ``text[i]``; ``end`` is
    the byte offset just past the text (used when the text is empty).
    """

    text: str
    offsets: tuple[int, ...] = field(repr=False)
    end: int = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.text) != len(self.offsets):
            raise ValueError("one offset per character is required")

    def span(self, start: int = 0, stop: int | None = None) -> Span:
        """The original byte span from ``text[start]`` to the end of ``text[stop - 1]``."""
        stop = len(self.text) if stop is None else stop
        if stop <= start:
            at = self.offsets[start] if start < len(self.text) else self.end
            return Span(at, at)
        last = stop - 1
        return Span(self.offsets[start], self.offsets[last] + _char_byte_length(self.text[last]))

    def slice(self, start: int, stop: int | None = None) -> LocatedText:
        stop = len(self.text) if stop is None else stop
        end = self.span(start, stop).end
        return LocatedText(self.text[start:stop], self.offsets[start:stop], end)


class LocatedBuilder:
    """Collects characters with their byte offsets while a tokenizer walks the source."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._offsets: list[int] = []

    def add(self, char: str, offset: int) -> None:
        self._chars.append(char)
        self._offsets.append(offset)

    def build(self, end: int) -> LocatedText:
        return LocatedText("".join(self._chars), tuple(self._offsets), end)

    def __len__(self) -> int:
        return len(self._chars)


@dataclass(frozen=True)
class PhysicalLine:
    """One line of the file: ``content`` excludes the line ending (``\\n``, ``\\r\\n``)."""

    number: int  # 1-based
    start: int  # character index of the first character (after a BOM on line 1)
    content: str


class Source:
    """Decoded text, its physical lines, and character -> byte offset conversion."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.has_bom = data.startswith(BOM)
        self.text = data.decode("utf-8", "surrogateescape")
        self._byte_at: list[int] | None = None
        if not data.isascii():
            byte_at = [0] * (len(self.text) + 1)
            total = 0
            for index, char in enumerate(self.text):
                byte_at[index] = total
                total += _char_byte_length(char)
            byte_at[len(self.text)] = total
            self._byte_at = byte_at
        self.lines = self._split_lines()

    def _split_lines(self) -> list[PhysicalLine]:
        lines: list[PhysicalLine] = []
        start = 1 if self.has_bom else 0  # text[0] is U+FEFF; line 1 starts after it
        number = 1
        while True:
            newline = self.text.find("\n", start)
            stop = len(self.text) if newline == -1 else newline
            # BuildKit trims every trailing \r from a scanned line.
            lines.append(PhysicalLine(number, start, self.text[start:stop].rstrip("\r")))
            if newline == -1 or newline + 1 == len(self.text):
                return lines
            start = newline + 1
            number += 1

    def byte_offset(self, char_index: int) -> int:
        return char_index if self._byte_at is None else self._byte_at[char_index]

    def line_byte_starts(self) -> tuple[int, ...]:
        return tuple(self.byte_offset(line.start) for line in self.lines)

    def located(self, start: int, stop: int) -> LocatedText:
        """The source characters ``[start, stop)`` with their byte offsets."""
        # Slicing beats a per-character call: this runs once per line of every Dockerfile.
        if self._byte_at is None:
            offsets: tuple[int, ...] = tuple(range(start, stop))
        else:
            offsets = tuple(self._byte_at[start:stop])
        return LocatedText(self.text[start:stop], offsets, self.byte_offset(stop))


def concat(parts: list[LocatedText]) -> LocatedText:
    """Join located pieces (e.g. the physical lines of a continued instruction)."""
    if not parts:
        raise ValueError("nothing to join")
    text = "".join(part.text for part in parts)
    offsets = tuple(offset for part in parts for offset in part.offsets)
    return LocatedText(text, offsets, parts[-1].end)
