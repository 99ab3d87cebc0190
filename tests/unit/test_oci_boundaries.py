"""Boundary and asymmetric cases of the comparer: sizes around the read chunk, contents
that differ only in their last byte, and digests that are almost well-formed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from repro.errors import InputError
from repro.oci import Comparison, Difference, OciLayoutDir, compare_images
from repro.oci.digests import (
    CHUNK_SIZE,
    HashingReader,
    buffered,
    check_digest,
    digest_hex,
    sha256_digest,
)
from tests.unit.oci_factory import LayerFiles, write_image

BASE: LayerFiles = {"etc/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755})}
VALID_DIGEST = "sha256:" + "0123456789abcdef" * 4


def _content(size: int) -> bytes:
    """``size`` bytes that are not all alike (so block checksums mean something)."""
    pattern = bytes(range(251))  # a prime length: no period shared with a block size
    return (pattern * (size // len(pattern) + 1))[:size]


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _compare_files(tmp_path: Path, content_a: bytes, content_b: bytes) -> Comparison:
    write_image(tmp_path / "a", [BASE, {"app/blob.bin": (content_a, {})}])
    write_image(tmp_path / "b", [BASE, {"app/blob.bin": (content_b, {})}])
    return compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def _file_diffs(result: Comparison) -> list[Difference]:
    return [d for d in result.differences if d.area == "file"]


@pytest.mark.parametrize(
    "size",
    [CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1],
    ids=["chunk-1", "chunk", "chunk+1", "2chunks", "2chunks+1"],
)
def test_a_file_that_differs_only_in_its_last_byte_differs(tmp_path: Path, size: int) -> None:
    content = _content(size)
    result = _compare_files(tmp_path, content, _flip_last(content))
    assert result.verdict == "differs"
    [diff] = _file_diffs(result)
    assert (diff.path, diff.field) == ("/app/blob.bin", "content")
    assert diff.value_a == sha256_digest(content)
    assert diff.value_b == sha256_digest(_flip_last(content))
    evidence = diff.evidence
    assert evidence is not None
    assert (evidence.size_a, evidence.size_b) == (size, size)
    # Past the sampled head: no exact offset, but the block that holds the last byte.
    assert evidence.first_offset is None
    assert evidence.differs_after_sample
    assert evidence.first_range is not None
    low, high = evidence.first_range
    assert low < size and high == size


def test_a_large_file_differing_in_its_first_byte_has_an_exact_offset(tmp_path: Path) -> None:
    content = _content(CHUNK_SIZE + 1)
    other = bytes([content[0] ^ 0xFF]) + content[1:]
    [diff] = _file_diffs(_compare_files(tmp_path, content, other))
    assert diff.evidence is not None
    assert diff.evidence.first_offset == 0
    assert diff.evidence.ranges == ((0, 1),)
    assert not diff.evidence.differs_after_sample


@pytest.mark.parametrize("size", [CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 1])
def test_large_identical_files_are_identical(tmp_path: Path, size: int) -> None:
    content = _content(size)
    result = _compare_files(tmp_path, content, bytes(content))
    assert result.verdict == "identical"
    assert result.differences == ()


def test_a_file_longer_by_one_byte_after_a_chunk_differs_in_size(tmp_path: Path) -> None:
    content = _content(CHUNK_SIZE)
    result = _compare_files(tmp_path, content, content + b"!")
    fields = {d.field: d for d in _file_diffs(result)}
    assert fields["size"].value_a == CHUNK_SIZE
    assert fields["size"].value_b == CHUNK_SIZE + 1
    assert fields["content"].evidence is not None
    assert fields["content"].evidence.first_range == (4096, CHUNK_SIZE + 1)


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1])
def test_hashing_reader_hashes_every_byte(size: int) -> None:
    data = _content(size)
    reader = HashingReader(
        io.BytesIO(data), expected_digest=sha256_digest(data), expected_size=size
    )
    assert reader.finish() == sha256_digest(data)
    assert reader.bytes_read == size


@pytest.mark.parametrize("size", [1, CHUNK_SIZE, CHUNK_SIZE + 1])
def test_hashing_reader_refuses_a_last_byte_that_differs(size: int) -> None:
    data = _content(size)
    reader = HashingReader(
        io.BytesIO(_flip_last(data)), expected_digest=sha256_digest(data), label="blob X"
    )
    with pytest.raises(InputError, match=r"^blob X is corrupted: its content hashes to sha256:"):
        reader.finish()


def test_hashing_reader_refuses_one_byte_more_or_less_than_declared() -> None:
    data = _content(CHUNK_SIZE)
    longer = HashingReader(io.BytesIO(data + b"x"), expected_size=CHUNK_SIZE, label="blob L")
    with pytest.raises(
        InputError, match=rf"^blob L is longer than its declared size {CHUNK_SIZE}$"
    ):
        longer.finish()
    shorter = HashingReader(io.BytesIO(data[:-1]), expected_size=CHUNK_SIZE, label="blob S")
    with pytest.raises(
        InputError, match=rf"^blob S is truncated: {CHUNK_SIZE - 1} of {CHUNK_SIZE} bytes$"
    ):
        shorter.finish()


@pytest.mark.parametrize(
    "digest",
    [
        VALID_DIGEST + "0",  # a valid digest, then more
        VALID_DIGEST + "\n",
        VALID_DIGEST + "junk",
        VALID_DIGEST[:-1],  # one hex digit short
        "x" + VALID_DIGEST,  # a prefix before a valid digest
        " " + VALID_DIGEST,
        VALID_DIGEST.upper(),
        "sha256:" + "0123456789ABCDEF" * 4,
        "sha512:" + "0" * 64,
        "sha256" + "0" * 64,
        "",
        None,
        64,
    ],
)
def test_check_digest_refuses_anything_but_exactly_sha256_and_64_hex(digest: object) -> None:
    with pytest.raises(InputError, match=r"^index\.json: unsupported or malformed digest ") as info:
        check_digest(digest, where="index.json")
    assert info.value.hint == "repro reads sha256 digests only (sha256:<64 lowercase hex digits)"


def test_check_digest_and_digest_hex_accept_a_well_formed_digest() -> None:
    assert check_digest(VALID_DIGEST, where="x") == VALID_DIGEST
    assert digest_hex(VALID_DIGEST) == "0123456789abcdef" * 4
    with pytest.raises(InputError, match=r"^blob: unsupported or malformed digest"):
        digest_hex(VALID_DIGEST + "0")


def test_a_hashing_reader_without_a_label_calls_what_it_reads_a_blob() -> None:
    reader = HashingReader(io.BytesIO(b"abc"), expected_size=4)
    with pytest.raises(InputError, match=r"^blob is truncated: 3 of 4 bytes$"):
        reader.finish()


class _RecordingRaw(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.asked: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        self.asked.append(len(buffer))
        return self._data.readinto(buffer)


def test_buffered_reads_its_source_a_chunk_at_a_time() -> None:
    raw = _RecordingRaw(_content(3 * CHUNK_SIZE))
    reader = buffered(raw)
    assert reader.read(10) == _content(10)
    assert raw.asked == [CHUNK_SIZE]  # one big read, not many 8 KiB ones


class _CountingSource:
    """A source that says it has ended once, then (wrongly) has more: a reader that asks
    again after the end would see it."""

    def __init__(self, data: bytes) -> None:
        self._answers = [data, b"", b"late"]
        self.reads = 0

    def read(self, size: int, /) -> bytes:
        self.reads += 1
        return self._answers.pop(0) if self._answers else b""


def test_a_hashing_reader_does_not_read_its_source_after_the_end() -> None:
    source = _CountingSource(b"abc")
    reader = HashingReader(source, expected_digest=sha256_digest(b"abc"), expected_size=3)
    assert reader.finish() == sha256_digest(b"abc")
    reads = source.reads
    assert reader.readinto(bytearray(8)) == 0
    assert source.reads == reads and reader.bytes_read == 3


def test_a_hashing_reader_fills_a_one_byte_buffer_and_skips_an_empty_one() -> None:
    source = _CountingSource(b"a")
    reader = HashingReader(source)
    assert reader.readinto(bytearray(0)) == 0
    assert source.reads == 0  # nothing asked for, nothing read
    one = bytearray(1)
    assert reader.readinto(one) == 1 and one == b"a"
    assert reader.digest == sha256_digest(b"a")


def test_each_hashing_reader_refusal_says_what_to_do() -> None:
    data = _content(10)
    cases = [
        (HashingReader(io.BytesIO(data), expected_size=11), "the image file is incomplete"),
        (HashingReader(io.BytesIO(data), expected_size=9), "the image is corrupted"),
        (
            HashingReader(io.BytesIO(data), expected_digest=sha256_digest(b"other")),
            "the image file was modified or damaged",
        ),
    ]
    for reader, hint in cases:
        with pytest.raises(InputError) as raised:
            reader.finish()
        assert raised.value.hint == f"{hint}; export it again"


class _ClosableSource(io.BytesIO):
    def __init__(self) -> None:
        super().__init__(b"abc")
        self.closes = 0

    def close(self) -> None:
        self.closes += 1
        super().close()


def test_closing_a_hashing_reader_closes_its_source_once() -> None:
    source = _ClosableSource()
    reader = HashingReader(source)
    reader.close()
    assert reader.closed and source.closes == 1
    reader.close()
    assert source.closes == 1


def test_a_source_without_close_is_fine() -> None:
    class Bare:
        def read(self, size: int, /) -> bytes:
            return b""

    reader = HashingReader(Bare())
    reader.close()
    assert reader.closed
