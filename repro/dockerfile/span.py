"""Byte spans into the original Dockerfile and the lossless rewrite that uses them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A half-open byte range ``[start, end)`` into the original file bytes."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def slice(self, data: bytes) -> bytes:
        """The bytes this span covers in ``data``."""
        return data[self.start : self.end]


def rewrite(data: bytes, replacements: Sequence[tuple[Span, bytes]]) -> bytes:
    """Replace each span of ``data`` with its bytes; every other byte is kept as it is.

    Spans index the original ``data`` (a BOM and CRLF endings are ordinary bytes here).
    They must not overlap; the same span given twice with the same bytes counts once,
    because several FROM lines may pin the same ARG default.
    """
    unique = sorted(set(replacements))  # a Span orders by (start, end)
    pieces: list[bytes] = []
    cursor = 0
    previous: Span | None = None
    for span, new in unique:
        if span.end > len(data):
            raise ValueError(f"span [{span.start}, {span.end}) is outside the data")
        if previous is not None and (span.start < previous.end or span == previous):
            raise ValueError(
                f"replacements overlap: [{previous.start}, {previous.end}) "
                f"and [{span.start}, {span.end})"
            )
        pieces.append(data[cursor : span.start])
        pieces.append(new)
        cursor = span.end
        previous = span
    pieces.append(data[cursor:])
    return b"".join(pieces)
