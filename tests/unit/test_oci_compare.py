"""compare_images on synthetic OCI layouts: each kind of difference and its cause."""

from __future__ import annotations

import gzip
import struct
import tarfile
from pathlib import Path

from repro.jsonout import dumps_stable
from repro.oci import Comparison, Difference, OciLayoutDir, compare_images, resolve_tree
from tests.unit.oci_factory import CountingSource, LayerFiles, layer_tar, write_image

BASE: LayerFiles = {
    "etc/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
    "etc/os-release": (b"ID=demo\n", {}),
}
APP: LayerFiles = {
    "app/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}),
    "app/main.py": (b"print('hello')\n", {}),
    "app/data.txt": (b"data\n", {}),
}
APP_INSTRUCTIONS = ["ADD file:abc in / ", "RUN /bin/sh -c make app # buildkit"]


def _compare(tmp_path: Path, app_b: LayerFiles, **options: object) -> Comparison:
    write_image(tmp_path / "a", [BASE, APP], instructions=APP_INSTRUCTIONS)
    write_image(tmp_path / "b", [BASE, app_b], instructions=APP_INSTRUCTIONS)
    return compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"), **options)  # type: ignore[arg-type]


def _file_diffs(result: Comparison) -> list[Difference]:
    return [d for d in result.differences if d.area == "file"]


def _with_file(name: str, content: bytes, **header: object) -> LayerFiles:
    return {**APP, name: (content, header)}


def test_identical_images_with_trusted_digests_take_the_fast_path(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP])
    a = CountingSource(OciLayoutDir(tmp_path / "a"))
    b = CountingSource(OciLayoutDir(tmp_path / "b"))
    result = compare_images(a, b, trust_digests=True)
    assert result.verdict == "identical"
    assert result.bit_identical
    assert result.differences == ()
    # Only A's manifest and config are read, to list the platforms; no layer, nothing of B.
    tree = resolve_tree(OciLayoutDir(tmp_path / "a"))
    layers = {layer.digest for image in tree.images.values() for layer in image.layers}
    assert a.opened and not set(a.opened) & layers
    assert b.opened == []
    [platform] = result.platforms
    assert platform.identical
    assert platform.manifest_digest_a == tree.images[platform.platform].manifest.digest
    assert result.blobs.trust_digests
    assert (result.blobs.count_a, result.blobs.count_b) == (2, 0)  # manifest and config
    assert (result.blobs.bytes_a, result.blobs.bytes_b) == (sum(tree.documents.values()), 0)


def test_identical_images_are_read_whole_on_both_sides(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP])
    a = CountingSource(OciLayoutDir(tmp_path / "a"))
    b = CountingSource(OciLayoutDir(tmp_path / "b"))
    result = compare_images(a, b)
    assert result.verdict == "identical" and result.bit_identical
    tree = resolve_tree(OciLayoutDir(tmp_path / "a"))
    [image] = tree.images.values()
    every_blob = [image.manifest.digest, image.config.digest, *(x.digest for x in image.layers)]
    # Each blob of each side opened exactly once: hashed, never taken on trust.
    assert sorted(a.opened) == sorted(every_blob) == sorted(b.opened)
    size = sum(tree.documents.values()) + sum(layer.size for layer in image.layers)
    assert not result.blobs.trust_digests
    assert (result.blobs.count_a, result.blobs.bytes_a) == (4, size)
    assert (result.blobs.count_b, result.blobs.bytes_b) == (4, size)


def test_one_file_content_differs(tmp_path: Path) -> None:
    result = _compare(tmp_path, _with_file("app/data.txt", b"DATA\n"))
    assert result.verdict == "differs"
    [content] = [d for d in _file_diffs(result) if d.field == "content"]
    assert content.path == "/app/data.txt"
    assert content.layer == 1
    assert content.instruction == "RUN make app"
    assert str(content.value_a).startswith("sha256:") and str(content.value_b).startswith("sha256:")
    assert content.value_a != content.value_b
    assert content.cause_id == "unclassified"
    # Only layer 1 differs; the base layer is untouched.
    assert {d.layer for d in _file_diffs(result)} == {1}
    [platform] = result.platforms
    assert platform.platform == "linux/amd64" and not platform.identical


def test_config_diff_ids_follow_from_layers(tmp_path: Path) -> None:
    result = _compare(tmp_path, _with_file("app/data.txt", b"DATA\n"))
    [diff_id] = [d for d in result.differences if d.path == "rootfs.diff_ids[1]"]
    assert diff_id.area == "config" and diff_id.layer == 1
    assert diff_id.cause_id == "follows-from-layers"


def test_mtime_difference_is_rewrite_timestamp(tmp_path: Path) -> None:
    result = _compare(tmp_path, _with_file("app/data.txt", b"data\n", mtime=1_700_000_000))
    [mtime] = _file_diffs(result)
    assert (mtime.field, mtime.value_a, mtime.value_b) == ("mtime", 0, 1_700_000_000)
    assert mtime.cause_id == "rewrite-timestamp"
    assert "rewrite-timestamp=true" in mtime.fix


def _pyc(mtime: int, code: bytes = b"\xe3code") -> bytes:
    """A timestamp-based pyc: magic, flags 0, the source's mtime and size, then code."""
    return b"\xa7\x0d\x0d\x0a" + struct.pack("<III", 0, mtime, 40) + code


def test_pyc_differing_in_its_timestamp_is_pyc_timestamp(tmp_path: Path) -> None:
    app_a = {**APP, "app/__pycache__/main.cpython-311.pyc": (_pyc(1700000000), {})}
    app_b = {**APP, "app/__pycache__/main.cpython-311.pyc": (_pyc(1700000007), {})}
    write_image(tmp_path / "a", [BASE, app_a])
    write_image(tmp_path / "b", [BASE, app_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [pyc] = _file_diffs(result)
    assert pyc.cause_id == "pyc-timestamp"
    assert "SOURCE_DATE_EPOCH" in pyc.fix
    assert pyc.evidence is not None and pyc.evidence.first_offset == 8


def test_pyc_whose_code_differs_is_not_a_timestamp(tmp_path: Path) -> None:
    app_a = {**APP, "app/__pycache__/main.cpython-311.pyc": (_pyc(1700000000, b"\xe3one"), {})}
    app_b = {**APP, "app/__pycache__/main.cpython-311.pyc": (_pyc(1700000000, b"\xe3two"), {})}
    write_image(tmp_path / "a", [BASE, app_a])
    write_image(tmp_path / "b", [BASE, app_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [pyc] = _file_diffs(result)
    assert pyc.cause_id == "unclassified"
    assert pyc.evidence is not None and pyc.evidence.first_offset == 17


def test_dpkg_log_is_package_manager_state(tmp_path: Path) -> None:
    log_a = {**APP, "var/log/dpkg.log": (b"2024-01-01 install\n", {})}
    log_b = {**APP, "var/log/dpkg.log": (b"2024-02-02 install\n", {})}
    write_image(tmp_path / "a", [BASE, log_a])
    write_image(tmp_path / "b", [BASE, log_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    assert {d.cause_id for d in _file_diffs(result)} == {"package-manager-state"}


def test_gzip_archive_content_is_archive_timestamps(tmp_path: Path) -> None:
    result = _compare(tmp_path, {**APP, "app/docs.gz": (b"other", {})})
    # docs.gz exists only in B: added entry, not a content difference.
    [added] = _file_diffs(result)
    assert (added.kind, added.field, added.path) == ("added", "entry", "/app/docs.gz")
    one = gzip.compress(b"tide tables\n", mtime=1700000000)
    later = gzip.compress(b"tide tables\n", mtime=1700000009)
    write_image(tmp_path / "c", [BASE, {**APP, "app/docs.gz": (one, {})}])
    write_image(tmp_path / "d", [BASE, {**APP, "app/docs.gz": (later, {})}])
    result = compare_images(OciLayoutDir(tmp_path / "c"), OciLayoutDir(tmp_path / "d"))
    assert {d.cause_id for d in _file_diffs(result)} == {"archive-timestamps"}


def test_gzip_whose_data_differs_is_not_its_header_time(tmp_path: Path) -> None:
    one = gzip.compress(b"tide tables\n", mtime=1700000000)
    other = gzip.compress(b"moon phases\n", mtime=1700000000)
    write_image(tmp_path / "c", [BASE, {**APP, "app/docs.gz": (one, {})}])
    write_image(tmp_path / "d", [BASE, {**APP, "app/docs.gz": (other, {})}])
    result = compare_images(OciLayoutDir(tmp_path / "c"), OciLayoutDir(tmp_path / "d"))
    assert {d.cause_id for d in _file_diffs(result)} == {"unclassified"}


def test_entry_order_difference(tmp_path: Path) -> None:
    reordered = dict(reversed(list(APP.items())))
    result = _compare(tmp_path, reordered)
    [order] = _file_diffs(result)
    assert order.field == "order" and order.cause_id == "entry-order"


def test_compression_only_difference_does_not_read_layers(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], level=1)
    write_image(tmp_path / "b", [BASE, APP], level=9)
    a = CountingSource(OciLayoutDir(tmp_path / "a"))
    b = CountingSource(OciLayoutDir(tmp_path / "b"))
    result = compare_images(a, b)
    layer_diffs = [d for d in result.differences if d.area == "layer"]
    assert layer_diffs and all(d.cause_id == "compression-only" for d in layer_diffs)
    assert all(d.field == "compression" for d in layer_diffs)
    assert _file_diffs(result) == []


def test_compression_gzip_versus_zstd(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], compression="gzip")
    write_image(tmp_path / "b", [BASE, APP], compression="zstd")
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    media = [d for d in result.differences if d.field == "mediaType"]
    assert len(media) == 2
    compression = [d for d in result.differences if d.field == "compression"]
    assert len(compression) == 2
    assert isinstance(compression[0].value_b, dict)
    assert str(compression[0].value_b["mediaType"]).endswith("+zstd")


def test_zstd_and_plain_layers_are_streamed(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], compression="zstd")
    write_image(tmp_path / "b", [BASE, _with_file("app/data.txt", b"x")], compression="none")
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    fields = {(d.path, d.field) for d in _file_diffs(result)}
    assert fields == {("/app/data.txt", "content"), ("/app/data.txt", "size")}


def test_config_created_differs(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], created="2024-01-01T00:00:00Z")
    write_image(tmp_path / "b", [BASE, APP], created="2024-06-01T00:00:00Z")
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    paths = {d.path: d for d in result.differences}
    assert paths["created"].cause_id == "source-date-epoch"
    assert paths["history[0].created"].layer is None  # ENV: empty layer
    assert paths["history[0].created"].instruction == "ENV PATH=/usr/bin"
    assert paths["history[2].created"].layer == 1
    assert paths["history[2].created"].instruction == "RUN step-1"
    assert paths["history[2].created"].value_b == "2024-06-01T00:00:00Z"
    assert all(d.area in ("config", "manifest") for d in result.differences)


def test_labels_and_env_are_json_paths(tmp_path: Path) -> None:
    created = "org.opencontainers.image.created"
    write_image(tmp_path / "a", [BASE], labels={created: "1"}, env=["A=1"])
    write_image(tmp_path / "b", [BASE], labels={created: "2"}, env=["A=2"])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    by_path = {d.path: d for d in result.differences}
    assert by_path[f'config.Labels["{created}"]'].cause_id == "source-date-epoch"
    assert by_path["config.Env[0]"].value_a == "A=1"
    assert by_path["config.Env[0]"].field == "Env[0]"


def test_manifest_created_annotation(tmp_path: Path) -> None:
    created = "org.opencontainers.image.created"
    write_image(tmp_path / "a", [BASE], manifest_annotations={created: "1"})
    write_image(tmp_path / "b", [BASE], manifest_annotations={created: "2"})
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [annotation] = [d for d in result.differences if d.area == "manifest"]
    assert annotation.path == f'annotations["{created}"]'
    assert annotation.cause_id == "source-date-epoch"


def test_attestation_manifests_are_recorded_and_explained(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP], attestation=b'{"buildFinishedOn":"1"}')
    write_image(tmp_path / "b", [BASE, APP], attestation=b'{"buildFinishedOn":"2"}')
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    assert len(result.attestations_a) == 1 and len(result.attestations_b) == 1
    [attestation] = result.differences
    assert attestation.cause_id == "attestation-manifests"
    assert "--provenance=false" in attestation.fix
    [platform] = result.platforms
    assert platform.identical  # the image itself is the same


def test_added_and_removed_entries(tmp_path: Path) -> None:
    app_b = {k: v for k, v in APP.items() if k != "app/data.txt"}
    app_b["app/new.txt"] = (b"new\n", {})
    result = _compare(tmp_path, app_b)
    kinds = {(d.path, d.kind) for d in _file_diffs(result)}
    assert kinds == {("/app/data.txt", "removed"), ("/app/new.txt", "added")}
    [removed] = [d for d in _file_diffs(result) if d.kind == "removed"]
    assert isinstance(removed.value_a, dict) and removed.value_b is None
    assert str(removed.value_a["sha256"]).startswith("sha256:")


def test_header_fields(tmp_path: Path) -> None:
    app_a: LayerFiles = {
        **APP,
        "app/link": (b"", {"type": tarfile.SYMTYPE, "linkname": "main.py"}),
        "app/cap": (b"x", {"pax_headers": {"SCHILY.xattr.user.tag": "a", "comment": "one"}}),
    }
    app_b: LayerFiles = {
        **APP,
        "app/main.py": (APP["app/main.py"][0], {"uid": 1000, "mode": 0o755}),
        "app/link": (b"", {"type": tarfile.SYMTYPE, "linkname": "data.txt"}),
        "app/cap": (b"x", {"pax_headers": {"SCHILY.xattr.user.tag": "b", "comment": "two"}}),
    }
    write_image(tmp_path / "a", [BASE, app_a])
    write_image(tmp_path / "b", [BASE, app_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    found = {(d.path, d.field): (d.value_a, d.value_b) for d in _file_diffs(result)}
    assert found == {
        ("/app/main.py", "uid"): (0, 1000),
        ("/app/main.py", "mode"): ("0644", "0755"),
        ("/app/link", "linkname"): ("main.py", "data.txt"),
        ("/app/cap", "xattr:user.tag"): ("a", "b"),
        ("/app/cap", "pax:comment"): ("one", "two"),
    }


def test_device_nodes_and_dotdot_names_are_data(tmp_path: Path) -> None:
    app_a: LayerFiles = {
        "dev/null": (b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}),
        "../escape": (b"a", {}),
    }
    app_b: LayerFiles = {
        "dev/null": (b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 5}),
        "../escape": (b"b", {}),
    }
    write_image(tmp_path / "a", [app_a])
    write_image(tmp_path / "b", [app_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    found = {(d.path, d.field) for d in _file_diffs(result)}
    assert found == {("/dev/null", "devminor"), ("/../escape", "content")}
    assert not (tmp_path / "escape").exists()


def test_ignore_globs_drop_paths(tmp_path: Path) -> None:
    result = _compare(tmp_path, _with_file("app/data.txt", b"DATA\n"), ignore=["/app/*"])
    assert _file_diffs(result) == []
    assert result.ignored_count == 1  # content (same size)
    everything = _compare(tmp_path, _with_file("app/data.txt", b"DATA\n"), ignore=["*"])
    assert everything.verdict == "identical" and not everything.bit_identical


def test_layer_count_differs(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [removed] = [d for d in result.differences if d.area == "layer"]
    assert (removed.layer, removed.kind, removed.instruction) == (1, "removed", "RUN step-1")
    assert any(d.path == "layers" and d.field == "count" for d in result.differences)


def test_base_not_pinned(tmp_path: Path) -> None:
    base_b: LayerFiles = {**BASE, "etc/os-release": (b"ID=demo\nVERSION=2\n", {})}
    write_image(
        tmp_path / "a",
        [BASE, APP],
        labels={"org.opencontainers.image.base.digest": "sha256:" + "1" * 64},
    )
    write_image(
        tmp_path / "b",
        [base_b, APP],
        labels={"org.opencontainers.image.base.digest": "sha256:" + "2" * 64},
    )
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    layer_zero = [d for d in result.differences if d.area == "file" and d.layer == 0]
    assert layer_zero and all(d.cause_id == "base-not-pinned" for d in layer_zero)
    label = [d for d in result.differences if "base.digest" in d.path]
    assert label[0].cause_id == "base-not-pinned"


def test_platform_filter(tmp_path: Path) -> None:
    result = _compare(tmp_path, _with_file("app/data.txt", b"DATA\n"), platform="linux/amd64")
    assert [p.platform for p in result.platforms] == ["linux/amd64"]


def test_json_output_is_stable_and_sorted(tmp_path: Path) -> None:
    reordered = dict(reversed(list(_with_file("app/data.txt", b"x", uid=5).items())))
    first = dumps_stable(_compare(tmp_path, reordered, max_workers=1).to_json_dict())
    second = dumps_stable(_compare(tmp_path, reordered, max_workers=4).to_json_dict())
    assert first == second
    document = _compare(tmp_path, reordered).to_json_dict()
    assert document["schema_version"] == 2 and document["kind"] == "oci-comparison"
    keys = [
        (d["platform"], d["layer"] is not None, d["layer"] or 0, d["path"], d["field"])
        for d in document["differences"]
    ]
    assert keys == sorted(keys)
    assert document["counts"]["total"] == len(document["differences"])


def test_platform_present_on_one_side_only(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE], platform=("linux", "amd64"))
    write_image(tmp_path / "b", [BASE], platform=("linux", "arm64"))
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    found = {(d.platform, d.kind) for d in result.differences if d.field == "platform"}
    assert found == {("linux/amd64", "removed"), ("linux/arm64", "added")}
    assert {p.platform: p.identical for p in result.platforms} == {
        "linux/amd64": False,
        "linux/arm64": False,
    }


def test_hardlink_target_differs(tmp_path: Path) -> None:
    link_a = {**APP, "app/hard": (b"", {"type": tarfile.LNKTYPE, "linkname": "app/main.py"})}
    link_b = {**APP, "app/hard": (b"", {"type": tarfile.LNKTYPE, "linkname": "app/data.txt"})}
    write_image(tmp_path / "a", [BASE, link_a])
    write_image(tmp_path / "b", [BASE, link_b])
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [link] = _file_diffs(result)
    assert (link.path, link.field, link.value_b) == ("/app/hard", "linkname", "app/data.txt")


def test_type_change_from_file_to_directory(tmp_path: Path) -> None:
    changed = {**APP, "app/data.txt": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755})}
    result = _compare(tmp_path, changed)
    fields = {d.field for d in _file_diffs(result)}
    assert {"type", "content", "mode", "size"} <= fields


def test_a_layer_recompressed_is_one_compression_difference_with_both_descriptors(
    tmp_path: Path,
) -> None:
    built_a = write_image(tmp_path / "a", [BASE, APP], instructions=APP_INSTRUCTIONS, level=1)
    built_b = write_image(tmp_path / "b", [BASE, APP], instructions=APP_INSTRUCTIONS, level=9)
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    layers = [d for d in result.differences if d.area == "layer"]
    sizes_a = [(tmp_path / "a/blobs/sha256" / d.removeprefix("sha256:")).stat().st_size
               for d in built_a.layer_digests]  # fmt: skip
    sizes_b = [(tmp_path / "b/blobs/sha256" / d.removeprefix("sha256:")).stat().st_size
               for d in built_b.layer_digests]  # fmt: skip
    gzip_type = "application/vnd.oci.image.layer.v1.tar+gzip"

    def described(built: object, sizes: list[int], position: int) -> dict[str, object]:
        assert isinstance(built, type(built_a))
        return {
            "mediaType": gzip_type,
            "digest": built.layer_digests[position],
            "size": sizes[position],
            "diff_id": built.diff_ids[position],
        }

    assert [(d.layer, d.instruction, d.path, d.field, d.kind) for d in layers] == [
        (0, "ADD file:abc in /", "layers[0]", "compression", "changed"),
        (1, "RUN make app", "layers[1]", "compression", "changed"),
    ]
    assert [(d.value_a, d.value_b) for d in layers] == [
        (described(built_a, sizes_a, p), described(built_b, sizes_b, p)) for p in (0, 1)
    ]
    assert {d.cause_id for d in layers} == {"compression-only"}


def test_a_layer_with_the_same_entries_in_another_tar_encoding_is_one_tar_encoding_difference(
    tmp_path: Path,
) -> None:
    padded = layer_tar(APP) + b"\0" * 10240  # more end-of-archive blocks, same entries
    built_a = write_image(tmp_path / "a", [BASE, APP], instructions=APP_INSTRUCTIONS)
    built_b = write_image(tmp_path / "b", [BASE, padded], instructions=APP_INSTRUCTIONS)
    result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    [layer] = [d for d in result.differences if d.area in ("layer", "file")]
    assert (layer.platform, layer.area, layer.layer, layer.instruction) == (
        "linux/amd64", "layer", 1, "RUN make app"
    )  # fmt: skip
    assert (layer.path, layer.field, layer.kind) == ("layers[1]", "tar-encoding", "changed")
    assert (layer.value_a, layer.value_b) == (built_a.diff_ids[1], built_b.diff_ids[1])
    assert layer.value_a != layer.value_b


def test_a_comparison_with_a_file_ignored_lists_what_follows_and_counts_the_ignored(
    tmp_path: Path,
) -> None:
    changed = _with_file("app/data.txt", b"DATA\n", mtime=5)
    built_a = write_image(tmp_path / "a", [BASE, APP], instructions=APP_INSTRUCTIONS)
    built_b = write_image(tmp_path / "b", [BASE, changed], instructions=APP_INSTRUCTIONS)
    result = compare_images(
        OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"), ignore=["/app/data.txt"]
    )
    assert result.ignored_count == 2  # its content and its mtime
    assert result.masked_values == 0
    key = "linux/amd64"
    assert [
        (d.platform, d.area, d.layer, d.instruction, d.path, d.field, d.kind, d.value_a,
         d.value_b, d.cause_id)
        for d in result.differences
    ] == [
        (key, "manifest", None, None, "config.digest", "digest", "changed",
         built_a.config_digest, built_b.config_digest, "follows-from-layers"),
        (key, "config", 1, "RUN make app", "rootfs.diff_ids[1]", "diff_ids[1]", "changed",
         built_a.diff_ids[1], built_b.diff_ids[1], "follows-from-layers"),
    ]  # fmt: skip
    assert [(g.layer, g.cause_id, len(g.differences)) for g in result.groups] == [
        (1, "follows-from-layers", 1),
        (None, "follows-from-layers", 1),
    ]
    [platform] = result.platforms
    assert platform.differences == result.differences
    assert platform.instructions == ("ADD file:abc in /", "RUN make app")
    assert (platform.manifest_digest_a, platform.manifest_digest_b) == (
        built_a.manifest_digest,
        built_b.manifest_digest,
    )

    def blob_bytes(side: str) -> int:
        return sum(p.stat().st_size for p in (tmp_path / side / "blobs" / "sha256").iterdir())

    assert (result.blobs.count_a, result.blobs.bytes_a) == (4, blob_bytes("a"))
    assert (result.blobs.count_b, result.blobs.bytes_b) == (4, blob_bytes("b"))
