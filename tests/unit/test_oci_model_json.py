"""The comparison result (repro.oci.model): its JSON form field by field, the order of its
differences, and the verdicts derived from it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from repro.oci.model import (
    UNCLASSIFIED_FIX,
    AttestationRef,
    BlobsChecked,
    Comparison,
    ContentEvidence,
    Difference,
    DifferenceGroup,
    Edit,
    EditKind,
    Fix,
    FixScope,
    PlatformComparison,
    sort_differences,
)

EVIDENCE = ContentEvidence(
    size_a=10,
    size_b=12,
    first_offset=None,
    first_range=(4096, 8192),
    ranges=((1, 3), (5, 6)),
    more_ranges=True,
    differs_after_sample=True,
    sample_bytes=4096,
    window_offset=2,
    window_a=b"a\x00~\x7f",  # the printable range is 0x20..0x7e, both ends shown
    window_b=b" \x1f",
    reordered_lines=False,
    temp_paths_a=("/tmp/buildkit-1",),
)


def _file(path: str, field: str, size: int | None, **more: Any) -> Difference:
    return Difference(
        platform="linux/amd64",
        area="file",
        layer=1,
        instruction="RUN make",
        path=path,
        field=field,
        kind="changed",
        value_a=1,
        value_b=2,
        cause_id="clock",
        cause_title="A clock in the file",
        fix="Pin the clock.",
        size=size,
        **more,
    )


CONTENT = _file("/app/a", "content", 10, evidence=EVIDENCE)
MODE = _file("/app/a", "mode", 30)  # the larger size of one path counts, once
MTIME = _file("/app/b", "mtime", None)  # no size: not a file entry's
SMALL = _file("/app/c", "size", 5)
EMPTY = _file("/app/d", "content", 0)
CREATED = Difference(
    "linux/amd64", "config", None, None, "$.created", "created", "changed", "2024", "2025"
)
INDEX = Difference("", "index", None, None, "$.manifests", "digest", "changed", "a", "b")

CLOCK_FIX = Fix(
    "clock",
    FixScope.DOCKERFILE,
    "Pin the clock.",
    edits=(
        Edit(EditKind.APPEND_TO_RUN, "touch -d @0 /app/a"),
        Edit(EditKind.REPLACE_IN_RUN, "date -d @0", pattern=r"\bdate\b"),
    ),
    paths=("/app/*",),
)
CLOCK = DifferenceGroup(
    "linux/amd64", 1, "RUN make", "clock", "A clock in the file",
    (CONTENT, MODE, MTIME, SMALL, EMPTY), CLOCK_FIX,
)  # fmt: skip
UNCLASSIFIED = DifferenceGroup(
    "linux/amd64", None, None, "unclassified", "Unclassified difference", (CREATED,),
    Fix("unclassified", FixScope.MANUAL, UNCLASSIFIED_FIX),
)  # fmt: skip

COMPARISON = Comparison(
    index_digest_a="sha256:ia",
    index_digest_b="sha256:ib",
    image_digest_a="sha256:xa",
    image_digest_b="sha256:xb",
    platforms=(
        PlatformComparison("linux/arm64", "sha256:m", "sha256:m", ()),
        PlatformComparison(
            "linux/amd64",
            "sha256:ma",
            "sha256:mb",
            (CONTENT, MODE, MTIME, SMALL, EMPTY, CREATED),
            instructions=(None, "RUN make"),
        ),
        PlatformComparison("linux/386", None, None, ()),
    ),
    differences=(EMPTY, SMALL, MTIME, MODE, CONTENT, CREATED, INDEX),
    attestations_a=(
        AttestationRef("sha256:b", None),
        AttestationRef("sha256:a", "sha256:m"),
        AttestationRef("sha256:a", "0"),  # an annotation says what it likes
        AttestationRef("sha256:a", None),
    ),
    attestations_b=(AttestationRef("sha256:c", "sha256:m"),),
    ignored_count=2,
    groups=(UNCLASSIFIED, CLOCK),
    blobs=BlobsChecked(trust_digests=True, count_a=1, bytes_a=2, count_b=3, bytes_b=4),
    masked_values=5,
)


def _file_json(path: str, field: str, size: int | None, group: int | None) -> dict[str, Any]:
    return {
        "platform": "linux/amd64",
        "area": "file",
        "layer": 1,
        "instruction": "RUN make",
        "path": path,
        "field": field,
        "kind": "changed",
        "value_a": 1,
        "value_b": 2,
        "size": size,
        "cause": {"id": "clock", "title": "A clock in the file", "fix": "Pin the clock."},
        "evidence": None,
        "group": group,
    }


EVIDENCE_JSON = {
    "size_a": 10,
    "size_b": 12,
    "first_difference": None,
    "first_difference_within": [4096, 8192],
    "differing_ranges": [[1, 3], [5, 6]],
    "more_differing_ranges": True,
    "differs_after_sample": True,
    "sample_bytes": 4096,
    "a": {"offset": 2, "hex": "61 00 7e 7f", "text": "a.~."},
    "b": {"offset": 2, "hex": "20 1f", "text": " ."},
    "reordered_lines": False,
    "temp_paths_a": ["/tmp/buildkit-1"],
    "temp_paths_b": [],
}

EXPECTED: dict[str, Any] = {
    "schema_version": 2,
    "kind": "oci-comparison",
    "verdict": "differs",
    "bit_identical": False,
    "images_identical": False,
    "attestations_apart": False,
    "index_digest_a": "sha256:ia",
    "index_digest_b": "sha256:ib",
    "image_digest_a": "sha256:xa",
    "image_digest_b": "sha256:xb",
    "attestations_a": [
        {"digest": "sha256:a", "refers_to": None},  # nothing sorts first
        {"digest": "sha256:a", "refers_to": "0"},
        {"digest": "sha256:a", "refers_to": "sha256:m"},
        {"digest": "sha256:b", "refers_to": None},
    ],
    "attestations_b": [{"digest": "sha256:c", "refers_to": "sha256:m"}],
    "platforms": [
        {
            "platform": "linux/386",
            "manifest_digest_a": None,
            "manifest_digest_b": None,
            "identical": False,  # missing on both sides is not identical
            "difference_count": 0,
            "layer_instructions": [],
        },
        {
            "platform": "linux/amd64",
            "manifest_digest_a": "sha256:ma",
            "manifest_digest_b": "sha256:mb",
            "identical": False,
            "difference_count": 6,
            "layer_instructions": [None, "RUN make"],
        },
        {
            "platform": "linux/arm64",
            "manifest_digest_a": "sha256:m",
            "manifest_digest_b": "sha256:m",
            "identical": True,
            "difference_count": 0,
            "layer_instructions": [],
        },
    ],
    "differences": [
        {
            "platform": "",
            "area": "index",
            "layer": None,
            "instruction": None,
            "path": "$.manifests",
            "field": "digest",
            "kind": "changed",
            "value_a": "a",
            "value_b": "b",
            "size": None,
            "cause": {
                "id": "unclassified",
                "title": "Unclassified difference",
                "fix": UNCLASSIFIED_FIX,
            },
            "evidence": None,
            "group": None,  # no group of the index's own
        },
        {
            "platform": "linux/amd64",
            "area": "config",
            "layer": None,
            "instruction": None,
            "path": "$.created",
            "field": "created",
            "kind": "changed",
            "value_a": "2024",
            "value_b": "2025",
            "size": None,
            "cause": {
                "id": "unclassified",
                "title": "Unclassified difference",
                "fix": UNCLASSIFIED_FIX,
            },
            "evidence": None,
            "group": 0,
        },
        {**_file_json("/app/a", "content", 10, 1), "evidence": EVIDENCE_JSON},
        _file_json("/app/a", "mode", 30, 1),
        _file_json("/app/b", "mtime", None, 1),
        _file_json("/app/c", "size", 5, 1),
        _file_json("/app/d", "content", 0, 1),
    ],
    "groups": [
        {
            "platform": "linux/amd64",
            "layer": None,
            "instruction": None,
            "cause": {"id": "unclassified", "title": "Unclassified difference"},
            "difference_count": 1,
            "path_count": 1,
            "example_paths": ["$.created"],
            "total_bytes": 0,
            "fix": {"scope": "manual", "text": UNCLASSIFIED_FIX, "edits": [], "paths": []},
        },
        {
            "platform": "linux/amd64",
            "layer": 1,
            "instruction": "RUN make",
            "cause": {"id": "clock", "title": "A clock in the file"},
            "difference_count": 5,
            "path_count": 4,
            "example_paths": ["/app/a", "/app/b", "/app/c"],
            "total_bytes": 35,
            "fix": {
                "scope": "dockerfile",
                "text": "Pin the clock.",
                "edits": [
                    {"kind": "append-to-run", "text": "touch -d @0 /app/a", "pattern": None},
                    {"kind": "replace-in-run", "text": "date -d @0", "pattern": r"\bdate\b"},
                ],
                "paths": ["/app/*"],
            },
        },
    ],
    "counts": {
        "total": 7,
        "ignored": 2,
        "by_cause": {"clock": 5, "unclassified": 2},
        "by_area": {"config": 1, "file": 5, "index": 1},
    },
    "blobs": {"trust_digests": True, "a": {"count": 1, "bytes": 2}, "b": {"count": 3, "bytes": 4}},
    "masked_values": 5,
}


def test_the_json_form_of_a_comparison_has_every_field() -> None:
    assert COMPARISON.to_json_dict() == EXPECTED


def test_evidence_with_an_exact_offset_has_no_range_for_it() -> None:
    exact = replace(EVIDENCE, first_offset=3, first_range=None)
    assert exact.to_json_dict() == {
        **EVIDENCE_JSON,
        "first_difference": 3,
        "first_difference_within": None,
    }


def test_the_counts_are_listed_by_name() -> None:
    assert list(COMPARISON.counts_by_cause) == ["clock", "unclassified"]
    assert list(COMPARISON.counts_by_area) == ["config", "file", "index"]


def test_a_group_shows_as_many_example_paths_as_asked() -> None:
    assert CLOCK.to_json_dict(examples=1)["example_paths"] == ["/app/a"]
    assert CLOCK.paths == ("/app/a", "/app/b", "/app/c", "/app/d")


def test_a_comparison_without_differences_is_identical() -> None:
    same = replace(COMPARISON, differences=(), groups=(), ignored_count=0)
    assert same.verdict == "identical"
    assert not same.bit_identical
    assert not same.images_identical  # other image digests, attestations not set apart
    assert replace(same, attestations_apart=True).images_identical
    assert not replace(COMPARISON, attestations_apart=True).images_identical
    bit_identical = replace(COMPARISON, image_digest_b="sha256:xa")
    assert bit_identical.bit_identical and bit_identical.images_identical
    document = same.to_json_dict()
    assert document["counts"] == {"total": 0, "ignored": 0, "by_cause": {}, "by_area": {}}


def _evidence(**changes: Any) -> ContentEvidence:
    confined = {"size_b": 10, "ranges": ((4, 6), (7, 8)), "more_ranges": False}
    return replace(EVIDENCE, **{**confined, "differs_after_sample": False, **changes})


@pytest.mark.parametrize(
    ("evidence", "start", "end", "confined"),
    [
        (_evidence(), 4, 8, True),
        (_evidence(), 3, 9, True),
        (_evidence(), 5, 8, False),  # the first range starts before
        (_evidence(), 4, 7, False),  # the last range ends after
        (_evidence(ranges=((4, 6), (9, 10))), 4, 8, False),  # one range of two is outside
        (_evidence(size_b=11), 4, 8, False),  # a size difference is everywhere
        (_evidence(ranges=()), 4, 8, False),  # no range seen: nothing is known
        (_evidence(more_ranges=True), 4, 8, False),
        (_evidence(differs_after_sample=True), 4, 8, False),
    ],
)
def test_evidence_is_confined_to_a_byte_range_only_when_every_difference_is_in_it(
    evidence: ContentEvidence, start: int, end: int, confined: bool
) -> None:
    assert evidence.confined_to(start, end) is confined


BASE = Difference("linux/amd64", "file", 2, None, "/b", "mode", "changed", 1, 1)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (replace(BASE, platform=""), BASE),
        (replace(BASE, layer=None), replace(BASE, layer=0)),  # the image's own first
        (replace(BASE, layer=None, path="/z"), replace(BASE, layer=0, path="/a")),
        (replace(BASE, layer=0), replace(BASE, layer=1)),
        (replace(BASE, layer=2), replace(BASE, layer=10)),  # by number, not by text
        (replace(BASE, path="/a"), BASE),
        (replace(BASE, field="content"), BASE),
        (replace(BASE, area="config"), BASE),
        (replace(BASE, kind="added"), BASE),
        (replace(BASE, value_a=0), BASE),
        (replace(BASE, value_b=0), BASE),
        # Values are ordered by their key-sorted, ASCII-escaped JSON.
        (replace(BASE, value_a={"b": 1, "a": 1}), replace(BASE, value_a={"a": 2})),
        (replace(BASE, value_b="\u00e9"), replace(BASE, value_b="z")),
    ],
)
def test_differences_sort_by_platform_layer_path_field_area_kind_then_values(
    first: Difference, second: Difference
) -> None:
    assert sort_differences([second, first]) == (first, second)
    assert sort_differences([first, second]) == (first, second)
