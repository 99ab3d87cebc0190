"""Edges of the image comparison the seed-16 mutation sample found untested (scripts/mutation,
README: Mutation testing): several platforms, layers added and removed, manifests and indexes
that differ only where no field is projected, sizes, and the content sampler's limits."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from repro.oci import OciLayoutDir, compare_images
from repro.oci.entrydiff import compare_entries
from repro.oci.layerstream import EntrySummary
from repro.oci.model import Comparison
from repro.oci.sample import (
    HEAD_BYTES,
    LINE_DIGEST_LIMIT,
    MAX_RANGES,
    ContentSample,
    ContentSampler,
    _differing_ranges,
    content_evidence,
)
from tests.unit.oci_factory import (
    LayerFiles,
    rewrite_first_manifest,
    write_image,
    write_two_platform_image,
)

BASE: LayerFiles = {
    "etc/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
    "etc/os-release": (b"ID=demo\n", {}),
}
APP: LayerFiles = {
    "app/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
    "app/data.txt": (b"data\n", {}),
}


def _cmp(tmp_path: Path) -> Comparison:
    return compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_every_platform_streams_its_differing_layers(tmp_path: Path) -> None:
    other = {**APP, "app/data.txt": (b"other\n", {})}
    write_two_platform_image(tmp_path / "a", [BASE, APP], [BASE, APP])
    write_two_platform_image(tmp_path / "b", [BASE, other], [BASE, other])
    result = _cmp(tmp_path)
    files = {
        (d.platform, d.path)
        for d in result.differences
        if d.area == "file" and d.field == "content"
    }
    assert files == {("linux/amd64", "/app/data.txt"), ("linux/arm64", "/app/data.txt")}


def test_manifest_differing_in_unreported_fields_names_its_platform(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE])
    write_image(tmp_path / "b", [BASE])
    rewrite_first_manifest(tmp_path / "b", lambda m: m["layers"][0].update(annotations={"x": "1"}))
    result = _cmp(tmp_path)
    [diff] = result.differences
    assert (diff.platform, diff.area, diff.field) == ("linux/amd64", "manifest", "digest")
    [platform] = result.platforms
    assert platform.differences == (diff,)


def test_index_differing_only_in_manifest_order_reports_its_digest(tmp_path: Path) -> None:
    write_two_platform_image(tmp_path / "a", [BASE], [BASE])
    write_two_platform_image(tmp_path / "b", [BASE], [BASE])
    index = json.loads((tmp_path / "b" / "index.json").read_text())
    index["manifests"].reverse()
    (tmp_path / "b" / "index.json").write_text(json.dumps(index))
    result = _cmp(tmp_path)
    [diff] = result.differences
    assert (diff.platform, diff.area, diff.field, diff.kind) == ("", "index", "digest", "changed")
    assert (diff.value_a, diff.value_b) == (result.image_digest_a, result.image_digest_b)


def test_comparison_keeps_both_index_digests(tmp_path: Path) -> None:
    a = write_image(tmp_path / "a", [BASE, APP])
    b = write_image(tmp_path / "b", [BASE, {**APP, "app/data.txt": (b"x\n", {})}])
    result = _cmp(tmp_path)
    assert (result.index_digest_a, result.index_digest_b) == (a.index_digest, b.index_digest)


def test_a_removed_layer_is_described(tmp_path: Path) -> None:
    a = write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE])
    [diff] = [d for d in _cmp(tmp_path).differences if d.area == "layer"]
    assert (diff.layer, diff.path, diff.field, diff.kind, diff.value_b) == (
        1,
        "layers[1]",
        "layer",
        "removed",
        None,
    )
    assert isinstance(diff.value_a, dict)
    assert (diff.value_a["digest"], diff.value_a["diff_id"]) == (a.layer_digests[1], a.diff_ids[1])


def test_an_added_layer_is_described(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE])
    b = write_image(tmp_path / "b", [BASE, APP])
    [diff] = [d for d in _cmp(tmp_path).differences if d.area == "layer"]
    assert (diff.layer, diff.path, diff.field, diff.kind, diff.value_a) == (
        1,
        "layers[1]",
        "layer",
        "added",
        None,
    )
    assert diff.instruction is not None and "step-1" in diff.instruction
    assert isinstance(diff.value_b, dict)
    assert (diff.value_b["digest"], diff.value_b["diff_id"]) == (b.layer_digests[1], b.diff_ids[1])


def test_a_content_change_has_the_larger_size() -> None:
    a = EntrySummary("f", {"size": 1}, "sha256:a")
    b = EntrySummary("f", {"size": 5}, "sha256:b")
    assert {c.field: c.size for c in compare_entries(a, b)} == {"content": 5, "size": 5}


def test_an_added_file_has_its_size(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, {**APP, "app/new.txt": (b"12345", {})}])
    [diff] = [d for d in _cmp(tmp_path).differences if d.area == "file"]
    assert (diff.path, diff.field, diff.kind, diff.size) == ("/app/new.txt", "entry", "added", 5)


def test_ranges_past_the_limit_ending_in_a_difference() -> None:
    a, b = b"a_" * MAX_RANGES + b"a", b"b_" * MAX_RANGES + b"b"
    assert _differing_ranges(a, b) == (tuple((2 * i, 2 * i + 1) for i in range(MAX_RANGES)), True)


def _sample(data: bytes, size: int | None = None) -> ContentSample:
    sampler = ContentSampler(len(data) if size is None else size)
    for start in range(0, len(data), 7919):
        sampler.update(data[start : start + 7919])
    return sampler.finish()


def test_no_window_when_the_heads_agree() -> None:
    a = _sample(b"x" * HEAD_BYTES + b"a" * 100)
    b = _sample(b"x" * HEAD_BYTES + b"b" * 100)
    evidence = content_evidence(a, b)
    assert evidence.first_offset is None and evidence.differs_after_sample
    assert (evidence.window_a, evidence.window_b) == (b"", b"")


def test_large_files_get_no_line_digest() -> None:
    lines = [b"line %07d" % i for i in range(LINE_DIGEST_LIMIT // 12 + 10)]
    a = b"\n".join(lines) + b"\n"
    b = b"\n".join([lines[1], lines[0], *lines[2:]]) + b"\n"
    assert len(a) > LINE_DIGEST_LIMIT
    sa, sb = _sample(a), _sample(b)
    assert sa.line_digest is None
    assert not content_evidence(sa, sb).reordered_lines


def test_a_temp_path_near_a_chunk_edge_is_sampled_once_whole() -> None:
    # The last 80 bytes of the first chunk (kept for the next) start inside "/var":
    # seen again there, the path must not come back as "/tmp/abcdef".
    first = b"a" * 100 + b"/var/tmp/abcdef" + b" " * 67
    sampler = ContentSampler(len(first) + 10)
    sampler.update(first)
    sampler.update(b" " * 10)
    assert sampler.finish().temp_paths == ("/var/tmp/abcdef",)


def test_a_temp_path_cut_by_a_chunk_edge_is_sampled_whole() -> None:
    sampler = ContentSampler(40)
    sampler.update(b"x /var/tmp/build")
    sampler.update(b"-1234 y /tmp/abc")
    assert sampler.finish().temp_paths == ("/tmp/abc", "/var/tmp/build-1234")
