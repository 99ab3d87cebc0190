"""What the comparer keeps of a file's content besides its hash: a small, bounded sample.

While a file streams through sha256 once, a ContentSampler keeps its first HEAD_BYTES,
a crc32 per block of the rest (at most MAX_BLOCKS blocks, whatever the size), an
order-independent digest of its lines (text files up to LINE_DIGEST_LIMIT) and the first
few temporary-directory paths it mentions. Two samples of differing contents then tell
where the contents first differ, and how (``content_evidence``), without a second pass
over either file and in a few KiB per file.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from repro.oci.model import ContentEvidence

HEAD_BYTES = 4096
MIN_BLOCK = 64 * 1024
MAX_BLOCKS = 64
LINE_DIGEST_LIMIT = 1 << 20
MAX_TEMP_PATHS = 8
MAX_RANGES = 8
WINDOW_BEFORE = 16
WINDOW_BYTES = 48
# A build directory made by mktemp, Python's tempfile, go, pip or gcc: a path that names
# where one build happened. A single name level: the directory, not the files inside.
# Found with bytes.find (fast on any content), then matched there.
TEMP_MARK = b"/tmp/"
TEMP_PATH = re.compile(rb"/tmp/[A-Za-z0-9._+-]{3,64}")
_TEMP_TAIL = 80  # bytes kept between chunks so that a path split by a chunk edge is seen


@dataclass(frozen=True)
class ContentSample:
    size: int
    head: bytes  # the first HEAD_BYTES bytes (all of a smaller file)
    block_size: int  # the blocks partition the bytes after the head
    blocks: tuple[int, ...]  # crc32 of each block
    line_digest: int | None  # None: binary, or too large to digest line by line
    temp_paths: tuple[str, ...]  # sorted, at most MAX_TEMP_PATHS


def block_size_for(size: int) -> int:
    rest = max(size - HEAD_BYTES, 0)
    return max(MIN_BLOCK, -(-rest // MAX_BLOCKS))


class ContentSampler:
    """Feed a file's bytes in order with ``update``; ``finish`` returns its sample."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._head = bytearray()
        self._block_size = block_size_for(size)
        self._blocks: list[int] = []
        self._block_crc = 0
        self._block_fill = 0
        self._lines: tuple[int, int, int] | None = (0, 0, 0) if size <= LINE_DIGEST_LIMIT else None
        self._partial_line = b""
        self._temp_paths: set[bytes] = set()
        self._temp_tail = b""

    def update(self, chunk: bytes) -> None:
        if len(self._head) < HEAD_BYTES:
            taken = chunk[: HEAD_BYTES - len(self._head)]
            self._head += taken
            if b"\0" in taken:
                self._lines = None
            rest = chunk[len(taken) :]
        else:
            rest = chunk
        self._update_blocks(rest)
        if self._lines is not None:
            self._update_lines(chunk)
        if len(self._temp_paths) < MAX_TEMP_PATHS:
            self._update_temp_paths(chunk)

    def _update_blocks(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            room = self._block_size - self._block_fill
            part, view = view[:room], view[room:]
            self._block_crc = zlib.crc32(part, self._block_crc)
            self._block_fill += len(part)
            if self._block_fill == self._block_size:
                self._blocks.append(self._block_crc)
                self._block_crc, self._block_fill = 0, 0

    def _update_lines(self, chunk: bytes) -> None:
        lines = (self._partial_line + chunk).split(b"\n")
        self._partial_line = lines.pop()
        crc_sum, adler_sum, count = self._lines or (0, 0, 0)
        for line in lines:
            crc_sum += zlib.crc32(line)
            adler_sum += zlib.adler32(line)
        self._lines = (crc_sum & 0xFFFFFFFF, adler_sum & 0xFFFFFFFF, count + len(lines))

    def _update_temp_paths(self, chunk: bytes, *, final: bool = False) -> None:
        # A match that ended inside the tail was taken with the last chunk, whole (seen
        # again here it may have lost its "/var"); one that ended at its end was left.
        judged = len(self._temp_tail)
        window = self._temp_tail + chunk if self._temp_tail else chunk
        position = window.find(TEMP_MARK)
        while position != -1 and len(self._temp_paths) < MAX_TEMP_PATHS:
            match = TEMP_PATH.match(window, position)
            # A match touching the end may go on in the next chunk: take it from there.
            if match is not None and match.end() >= judged and (final or match.end() < len(window)):
                start = position - 4 if window[position - 4 : position] == b"/var" else position
                self._temp_paths.add(window[start : match.end()])
            position = window.find(TEMP_MARK, position + 1)
        self._temp_tail = window[-_TEMP_TAIL:]

    def finish(self) -> ContentSample:
        if len(self._temp_paths) < MAX_TEMP_PATHS:
            self._update_temp_paths(b"", final=True)
        blocks = list(self._blocks)
        if self._block_fill:
            blocks.append(self._block_crc)
        line_digest = None
        if self._lines is not None:
            crc_sum, adler_sum, count = self._lines
            last = self._partial_line
            if last:
                crc_sum = (crc_sum + zlib.crc32(last)) & 0xFFFFFFFF
                adler_sum = (adler_sum + zlib.adler32(last)) & 0xFFFFFFFF
                count += 1
            line_digest = (count << 64) | (crc_sum << 32) | adler_sum
        return ContentSample(
            size=self._size,
            head=bytes(self._head),
            block_size=self._block_size,
            blocks=tuple(blocks),
            line_digest=line_digest,
            temp_paths=tuple(sorted(p.decode("ascii") for p in self._temp_paths)),
        )


def _differing_ranges(a: bytes, b: bytes) -> tuple[tuple[tuple[int, int], ...], bool]:
    """The first MAX_RANGES byte ranges where ``a`` and ``b`` differ (a longer tail
    counting as different), and whether there are more."""
    ranges: list[tuple[int, int]] = []
    common = min(len(a), len(b))
    start: int | None = None
    for index in range(common):
        if a[index] != b[index]:
            if start is None:
                start = index
        elif start is not None:
            if len(ranges) == MAX_RANGES:
                return tuple(ranges), True
            ranges.append((start, index))
            start = None
    if start is not None or len(a) != len(b):
        if len(ranges) == MAX_RANGES:
            return tuple(ranges), True
        ranges.append((common if start is None else start, max(len(a), len(b))))
    return tuple(ranges), False


def content_evidence(a: ContentSample, b: ContentSample) -> ContentEvidence:
    """Where and how two differing contents differ, from their samples alone."""
    ranges, more_ranges = _differing_ranges(a.head, b.head)
    first_offset = ranges[0][0] if ranges else None
    first_range: tuple[int, int] | None = None
    if a.size == b.size:
        differing_blocks = [
            index
            for index, (crc_a, crc_b) in enumerate(zip(a.blocks, b.blocks, strict=True))
            if crc_a != crc_b
        ]
        after_sample = bool(differing_blocks)
        if first_offset is None and differing_blocks:
            start = HEAD_BYTES + differing_blocks[0] * a.block_size
            first_range = (start, min(start + a.block_size, a.size))
    else:
        after_sample = max(a.size, b.size) > HEAD_BYTES
        if first_offset is None and after_sample:
            first_range = (HEAD_BYTES, max(a.size, b.size))
    window_offset = max((first_offset or 0) - WINDOW_BEFORE, 0)
    window_end = window_offset + WINDOW_BYTES
    reordered = (
        a.size == b.size
        and a.line_digest is not None
        and a.line_digest == b.line_digest
        and (bool(ranges) or after_sample)
    )
    return ContentEvidence(
        size_a=a.size,
        size_b=b.size,
        first_offset=first_offset,
        first_range=first_range,
        ranges=ranges,
        more_ranges=more_ranges,
        differs_after_sample=after_sample,
        sample_bytes=HEAD_BYTES,
        window_offset=window_offset,
        window_a=a.head[window_offset:window_end] if first_offset is not None else b"",
        window_b=b.head[window_offset:window_end] if first_offset is not None else b"",
        reordered_lines=reordered,
        temp_paths_a=a.temp_paths,
        temp_paths_b=b.temp_paths,
    )
