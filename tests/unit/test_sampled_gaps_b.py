"""Edges the seed-17 mutation sample found untested (README: Mutation testing)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from repro.oci import OciLayoutDir, compare_images
from repro.oci.model import (
    Comparison,
    ContentEvidence,
    Difference,
    Edit,
    EditKind,
    Fix,
    FixScope,
)
from repro.oci.sample import ContentSampler, block_size_for, content_evidence
from repro.signoff.checks.dockerignore import _not_excluded
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


def _cmp(tmp_path: Path) -> Comparison:
    return compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_a_large_file_has_blocks_larger_than_the_minimum() -> None:
    # 8 MiB after the 4 KiB head, in at most 64 blocks: 128 KiB each.
    assert block_size_for(4096 + 2 * 64 * 64 * 1024) == 128 * 1024


def test_every_temp_path_in_one_chunk_is_found() -> None:
    data = b"/tmp/aaa1 /tmp/bbb2 /tmp/ccc3 "
    sampler = ContentSampler(len(data))
    sampler.update(data)
    assert sampler.finish().temp_paths == ("/tmp/aaa1", "/tmp/bbb2", "/tmp/ccc3")


def _sample_of(data: bytes) -> ContentSampler:
    sampler = ContentSampler(len(data))
    sampler.update(data)
    return sampler


def test_lines_with_one_crc_but_another_adler_are_not_reordered() -> None:
    a, b = b"hello wo", b")c\x1d\xb7n wo"  # equal crc32, different adler32
    evidence = content_evidence(_sample_of(a).finish(), _sample_of(b).finish())
    assert evidence == ContentEvidence(
        size_a=8,
        size_b=8,
        first_offset=0,
        first_range=None,
        ranges=((0, 5),),
        more_ranges=False,
        differs_after_sample=False,
        sample_bytes=4096,
        window_offset=0,
        window_a=a,
        window_b=b,
        reordered_lines=False,
        temp_paths_a=(),
        temp_paths_b=(),
    )


def test_a_virtualenv_at_the_context_root_excluded_by_a_wildcard() -> None:
    assert _not_excluded(["/"], ["?"]) == []


def test_manifests_differing_in_schema_version_name_it(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE])
    write_image(tmp_path / "b", [BASE])
    rewrite_first_manifest(tmp_path / "b", lambda m: m.update(schemaVersion=1))
    result = _cmp(tmp_path)
    assert result.differences == (
        Difference(
            "linux/amd64", "manifest", None, None, "schemaVersion", "schemaVersion", "changed", 2, 1
        ),
    )


def test_an_index_differing_only_in_its_bytes_has_an_empty_path(tmp_path: Path) -> None:
    write_two_platform_image(tmp_path / "a", [BASE], [BASE])
    write_two_platform_image(tmp_path / "b", [BASE], [BASE])
    index = json.loads((tmp_path / "b" / "index.json").read_text())
    (tmp_path / "b" / "index.json").write_text(json.dumps(index, indent=4))
    result = _cmp(tmp_path)
    assert result.differences == (
        Difference(
            "",
            "index",
            None,
            None,
            "",
            "digest",
            "changed",
            result.image_digest_a,
            result.image_digest_b,
        ),
    )


APP: LayerFiles = {
    "app/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
    "app/data.txt": (b"data\n", {}),
}


def _two_platform_with(root: Path, amd_run: str, amd_data: bytes) -> None:
    write_two_platform_image(
        root,
        [BASE, {**APP, "app/data.txt": (amd_data, {})}],
        [BASE, {**APP, "app/data.txt": (b"arm " + amd_data, {})}],
        amd64_instructions=["ADD base /", amd_run],
    )


def test_the_first_platform_keeps_its_build_arg_cause(tmp_path: Path) -> None:
    _two_platform_with(tmp_path / "a", "RUN |1 V=1 /bin/sh -c make", b"one\n")
    _two_platform_with(tmp_path / "b", "RUN |1 V=2 /bin/sh -c make", b"two\n")
    result = _cmp(tmp_path)
    assert [(d.platform, d.area, d.path, d.cause_id) for d in result.differences] == [
        ("linux/amd64", "manifest", "config.digest", "follows-from-layers"),
        ("linux/amd64", "file", "/app/data.txt", "build-arg"),
        ("linux/amd64", "config", "history[2].created_by", "build-arg"),
        ("linux/amd64", "config", "rootfs.diff_ids[1]", "follows-from-layers"),
        ("linux/arm64", "manifest", "config.digest", "follows-from-layers"),
        ("linux/arm64", "file", "/app/data.txt", "unclassified"),
        ("linux/arm64", "config", "rootfs.diff_ids[1]", "follows-from-layers"),
    ]


def test_a_volatile_fix_names_every_file_of_its_cause_in_the_layer(tmp_path: Path) -> None:
    layer_a: LayerFiles = {
        "etc/machine-id": (b"one\n", {}),
        "var/lib/dbus/machine-id": (b"same\n", {}),
    }
    layer_b: LayerFiles = {**layer_a, "etc/machine-id": (b"two\n", {})}
    write_image(tmp_path / "a", [BASE, layer_a])
    write_image(tmp_path / "b", [BASE, layer_b])
    result = _cmp(tmp_path)
    [group] = [g for g in result.groups if g.cause_id == "machine-id"]
    removal = "rm -rf /etc/machine-id /var/lib/dbus/machine-id"
    assert group.fix == Fix(
        "machine-id",
        FixScope.DOCKERFILE,
        f"delete them at the end of this RUN: `&& {removal}`",
        (Edit(EditKind.APPEND_TO_RUN, removal, ""),),
        ("/etc/machine-id", "/var/lib/dbus/machine-id"),
    )


def test_a_layer_takes_the_instruction_of_image_a(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], instructions=["ADD base /", "RUN x"])
    other = {**APP, "app/data.txt": (b"other\n", {})}
    write_image(tmp_path / "b", [BASE, other], instructions=["ADD base /", "RUN y"])
    result = _cmp(tmp_path)
    assert [(d.area, d.path, d.instruction) for d in result.differences] == [
        ("manifest", "config.digest", None),
        ("file", "/app/data.txt", "RUN x"),
        ("file", "/app/data.txt", "RUN x"),
        ("config", "history[2].created_by", "RUN x"),
        ("config", "rootfs.diff_ids[1]", "RUN x"),
    ]
