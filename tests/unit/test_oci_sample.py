"""Content samples and the evidence two of them give, without a second pass over the data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from repro.oci.entrydiff import MAX_SAMPLED_WAITING, diff_entry_streams
from repro.oci.layerstream import EntrySummary
from repro.oci.sample import (
    HEAD_BYTES,
    MAX_RANGES,
    ContentSample,
    ContentSampler,
    content_evidence,
)

MIB = 1 << 20


def sample(data: bytes, chunk: int = 7919) -> ContentSample:
    """The sample of ``data`` fed in odd-sized chunks, as a tar stream would hand it over."""
    sampler = ContentSampler(len(data))
    for start in range(0, len(data), chunk):
        sampler.update(data[start : start + chunk])
    return sampler.finish()


def test_a_difference_in_the_head_has_its_offset_and_bytes() -> None:
    a = b"built on buildkitsandbox (172.17.0.2)\n"
    b = b"built on buildkitsandbox (172.31.250.2)\n"
    evidence = content_evidence(sample(a), sample(b))
    assert evidence.first_offset == 30
    assert evidence.window_offset == 14
    assert evidence.window_a == b"kitsandbox (172.17.0.2)\n"
    assert evidence.window_b == b"kitsandbox (172.31.250.2)\n"
    assert (evidence.size_a, evidence.size_b) == (len(a), len(b))
    assert not evidence.differs_after_sample


def test_a_difference_late_in_a_big_file_is_located_to_its_block() -> None:
    base = bytes(range(256)) * (3 * MIB // 256)
    changed = bytearray(base)
    changed[2 * MIB + 5] ^= 0xFF  # one byte, two MiB in: past the head
    evidence = content_evidence(sample(base, MIB), sample(bytes(changed), MIB))
    assert evidence.first_offset is None and evidence.ranges == ()
    assert evidence.differs_after_sample
    assert evidence.first_range is not None
    low, high = evidence.first_range
    assert low <= 2 * MIB + 5 < high
    assert high - low <= max(64 * 1024, 3 * MIB // 64 + 1)


def test_the_last_byte_of_a_block_and_of_the_file_are_seen() -> None:
    size = HEAD_BYTES + 200_000
    base = b"\x01" * size
    for position in (HEAD_BYTES + 65_535, size - 1):
        changed = bytearray(base)
        changed[position] = 0x02
        evidence = content_evidence(sample(base), sample(bytes(changed)))
        assert evidence.first_range is not None
        assert evidence.first_range[0] <= position < evidence.first_range[1]


def test_differences_confined_to_a_header_field() -> None:
    a = b"\xa7\x0d\x0d\x0a\x00\x00\x00\x00" + b"\x10\x20\x30\x40" + b"\x28\x00\x00\x00" + b"code"
    b = a[:8] + b"\x11\x20\x30\x41" + a[12:]
    evidence = content_evidence(sample(a), sample(b))
    assert evidence.ranges == ((8, 9), (11, 12))
    assert evidence.confined_to(8, 12)
    assert not evidence.confined_to(4, 10)


def test_more_ranges_than_kept_are_never_called_confined() -> None:
    a = bytes(64)
    b = bytes(1 if i % 2 else 0 for i in range(64))  # every other byte differs
    evidence = content_evidence(sample(a), sample(b))
    assert len(evidence.ranges) == MAX_RANGES and evidence.more_ranges
    assert not evidence.confined_to(0, 64)


def test_a_longer_file_differs_in_its_tail() -> None:
    evidence = content_evidence(sample(b"abc"), sample(b"abcdef"))
    assert evidence.ranges == ((3, 6),)
    assert evidence.first_offset == 3
    assert not evidence.confined_to(0, 6)  # sizes differ


def test_the_same_lines_in_another_order_are_told_apart_from_other_lines() -> None:
    lines = [f"chunk {n}\n".encode() for n in range(200)]
    shuffled = lines[100:] + lines[:100]
    evidence = content_evidence(sample(b"".join(lines)), sample(b"".join(shuffled)))
    assert evidence.reordered_lines
    other = [*lines[:-1], b"chunk 999\n"]
    assert not content_evidence(sample(b"".join(lines)), sample(b"".join(other))).reordered_lines


def test_binary_content_is_never_called_reordered_lines() -> None:
    a, b = b"\x00a\nb\n", b"\x00b\na\n"
    assert sample(a).line_digest is None
    assert not content_evidence(sample(a), sample(b)).reordered_lines


def test_temporary_build_directories_are_found_across_chunk_edges() -> None:
    path = b"/tmp/tmp.Xq81ZaB2kd/tide.c"
    data = b"\x00" * 7910 + path + b"\x00" * 100 + b"/var/tmp/build-77/x" + b"\x00"
    found = sample(data, chunk=7919).temp_paths  # the first path spans the chunk edge
    assert found == ("/tmp/tmp.Xq81ZaB2kd", "/var/tmp/build-77")
    assert sample(b"ends with /tmp/tmp.abcdef").temp_paths == ("/tmp/tmp.abcdef",)


def _entries(count: int, prefix: str, content: bytes) -> Iterator[EntrySummary]:
    for number in range(count):
        data = content + str(number).encode()
        yield EntrySummary(
            f"{prefix}{number:05d}", {"type": "file", "size": len(data)}, "sha256:x", sample(data)
        )


def test_waiting_entries_keep_their_samples_only_up_to_a_bound() -> None:
    count = 2 * MAX_SAMPLED_WAITING + 50  # each side waits for half of them
    a = list(_entries(count, "a/", b"one"))
    b = [dataclasses.replace(e, content_sha256="sha256:y") for e in _entries(count, "a/", b"two")]
    # B lists the same names backwards: every A entry waits for its partner.
    changes = diff_entry_streams(iter(a), iter(reversed(b)))
    content = [c for c in changes if c.field == "content"]
    assert len(content) == count
    with_evidence = [c for c in content if c.evidence is not None]
    assert MAX_SAMPLED_WAITING <= len(with_evidence) < count
    assert all(c.size == len(b"one") + 5 or c.size is not None for c in content)
