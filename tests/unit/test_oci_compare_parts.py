"""The parts of compare_images that work on documents alone, on in-memory images: which
layers came from an unpinned base or varied build arguments, the shared epoch, and the
index, manifest and config differences with the layer each belongs to."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from repro.masking import mask_text
from repro.oci.compare import (
    REWRITTEN_TIMESTAMP,
    config_differences,
    index_differences,
    is_ignored,
    manifest_differences,
    mask_differences,
    pulled_layer_count,
    shared_epoch,
    unpinned_base_layers,
    varied_arg_layers,
)
from repro.oci.model import ContentEvidence, Difference
from repro.oci.tree import Attestation, Descriptor, ImageTree, PlatformImage

KEY = "linux/amd64"
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
BASE_DIGEST = "org.opencontainers.image.base.digest"


def _layer(n: int, *, rewritten: bool = False, media_type: str = GZIP) -> Descriptor:
    annotations = {REWRITTEN_TIMESTAMP: "1"} if rewritten else {}
    return Descriptor(media_type, f"sha256:{n:064x}", 10 + n, annotations)


def _image(
    diff_ids: Sequence[str],
    *,
    history: Sequence[Mapping[str, Any]] | None = None,
    rewritten_from: int | None = None,
    created: Any = "2024-01-01T00:00:00Z",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    media_types: Sequence[str] = (),
) -> PlatformImage:
    layers = tuple(
        _layer(
            i,
            rewritten=rewritten_from is not None and i >= rewritten_from,
            media_type=media_types[i] if i < len(media_types) else GZIP,
        )
        for i in range(len(diff_ids))
    )
    config: dict[str, Any] = {
        "created": created,
        "config": {"Labels": dict(labels or {})},
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": list(
            history
            if history is not None
            else [
                {"created_by": f"RUN /bin/sh -c step-{i} # buildkit"} for i in range(len(diff_ids))
            ]
        ),
    }
    manifest: dict[str, Any] = {"schemaVersion": 2, "mediaType": "m"}
    if annotations is not None:
        manifest["annotations"] = dict(annotations)
    config_descriptor = Descriptor("application/vnd.oci.image.config.v1+json", "sha256:c", 1)
    return PlatformImage(
        KEY, Descriptor("m", "sha256:m", 1), manifest, config_descriptor, config, layers
    )


# Which layers an unpinned base explains.


def test_pulled_layers_are_those_before_the_first_rewritten_one() -> None:
    assert pulled_layer_count(_image(["a", "b", "c", "d"], rewritten_from=2)) == 2
    assert pulled_layer_count(_image(["a", "b"], rewritten_from=0)) == 0
    assert pulled_layer_count(_image(["a", "b"])) == 0  # no mark: nothing known


def test_without_a_recorded_base_the_pulled_layers_whose_diff_ids_differ_are_the_base() -> None:
    a = _image(["a1", "a2", "a3", "a4"], rewritten_from=3)
    b = _image(["b1", "a2", "b3", "b4"], rewritten_from=3)
    assert unpinned_base_layers(KEY, a, b) == {(KEY, 0), (KEY, 2)}
    # Only as many as both sides pulled.
    fewer = _image(["b1", "a2", "b3", "b4"], rewritten_from=1)
    assert unpinned_base_layers(KEY, a, fewer) == {(KEY, 0)}
    assert unpinned_base_layers(KEY, fewer, a) == {(KEY, 0)}
    assert unpinned_base_layers(KEY, a, a) == set()


def test_a_recorded_base_that_differs_explains_the_leading_layers_of_the_same_instruction() -> None:
    steps = [{"created_by": f"RUN /bin/sh -c step-{i} # buildkit"} for i in range(4)]
    a = _image(["a0", "a1", "c2", "a3"], history=steps, annotations={BASE_DIGEST: "sha256:1"})
    b = _image(["b0", "b1", "c2", "b3"], history=steps, annotations={BASE_DIGEST: "sha256:2"})
    # Layer 2 is the same: the base ends there, and layer 3 is the build's own.
    assert unpinned_base_layers(KEY, a, b) == {(KEY, 0), (KEY, 1)}
    other = [*steps[:1], {"created_by": "RUN /bin/sh -c other # buildkit"}, *steps[2:]]
    c = _image(["b0", "b1", "b2", "b3"], history=other, labels={BASE_DIGEST: "sha256:3"})
    assert unpinned_base_layers(KEY, a, c) == {(KEY, 0)}  # another instruction ends it
    unknown = [{"comment": "no created_by"}] * 4
    d = _image(["a0"], history=unknown, annotations={BASE_DIGEST: "sha256:1"})
    e = _image(["b0"], history=unknown, annotations={BASE_DIGEST: "sha256:2"})
    assert unpinned_base_layers(KEY, d, e) == set()  # no instruction known: nothing claimed


def test_the_base_is_recorded_by_base_annotations_or_labels_and_nothing_else() -> None:
    a = _image(["a0", "a1"], annotations={BASE_DIGEST: "sha256:1", "other": "x"})
    same = _image(["b0", "b1"], labels={BASE_DIGEST: "sha256:1"}, annotations={"other": "y"})
    # The same base recorded in another place, and other keys differing: the same base, so
    # only pulled layers would count (and none is marked).
    assert unpinned_base_layers(KEY, a, same) == set()
    moved = _image(["b0", "b1"], labels={BASE_DIGEST: "sha256:2"}, annotations={"other": "x"})
    assert unpinned_base_layers(KEY, a, moved) == {(KEY, 0), (KEY, 1)}
    # A label of the same name overrides the manifest's annotation.
    labelled = _image(["b0", "b1"], labels={BASE_DIGEST: "sha256:2"},
                      annotations={BASE_DIGEST: "sha256:1"})  # fmt: skip
    assert unpinned_base_layers(KEY, moved, labelled) == set()


# Which layers varied build arguments explain.


def _run(args: str, command: str = "date > /etc/built") -> dict[str, Any]:
    return {"created_by": f"RUN {args}/bin/sh -c {command} # buildkit"}


def test_layers_of_runs_given_other_build_arguments_are_found_past_empty_layer_entries() -> None:
    env = {"created_by": "ENV A=1", "empty_layer": True}
    a = _image(["x", "y", "z"], history=[env, _run("|1 TZ=UTC "), _run("|1 L=C "), _run("")])
    b = _image(
        ["x", "y", "z"],
        history=[env, _run("|1 TZ=Europe/Paris "), _run("|1 L=C "), _run("|1 TZ=UTC ")],
    )
    assert varied_arg_layers(KEY, a, b) == {(KEY, 0)}
    assert varied_arg_layers(KEY, b, a) == {(KEY, 0)}


def test_layers_without_a_history_entry_have_no_build_arguments() -> None:
    a = _image(["x", "y"], history=[_run("|1 TZ=UTC ")])
    b = _image(["x", "y"], history=[_run("|1 TZ=Europe/Paris "), {"created_by": 7}])
    assert varied_arg_layers(KEY, a, b) == {(KEY, 0)}
    assert varied_arg_layers(KEY, _image(["x"], history=[]), b) == set()
    no_list = _image(["x"], history=[])
    assert varied_arg_layers(KEY, no_list, _image(["x"], history=[{"comment": "x"}])) == set()


# The epoch both builds recorded.


@pytest.mark.parametrize(
    ("created_a", "created_b", "epoch"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 1_704_067_200),
        ("2024-01-01T01:00:00+01:00", "2024-01-01T01:00:00+01:00", 1_704_067_200),
        ("2024-01-01Z", "2024-01-01Z", 1_704_067_200),  # a Z Python reads only as +00:00
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", None),
        ("yesterday", "yesterday", None),
        (1_704_067_200, 1_704_067_200, None),
    ],
)
def test_the_shared_epoch_is_the_created_time_both_configs_record(
    created_a: Any, created_b: Any, epoch: int | None
) -> None:
    assert shared_epoch(_image(["x"], created=created_a), _image(["x"], created=created_b)) == (
        epoch
    )


def test_ignore_globs_match_case_sensitively_and_any_of_them_counts() -> None:
    assert is_ignored("/app/x.log", ["/tmp/*", "*.log"])
    assert not is_ignored("/app/X.LOG", ["*.log"])
    assert not is_ignored("/app/x.log", [])


# Index, manifest and config differences.


def _tree(
    images: Sequence[str],
    attestations: Sequence[str] = (),
    index: Mapping[str, Any] | None = None,
) -> ImageTree:
    built = {key: _image(["x"]) for key in images}
    return ImageTree(
        "sha256:i",
        "sha256:i",
        index,
        built,
        tuple(Attestation(d, None) for d in attestations),
    )


def _diff(
    platform: str, area: str, path: str, field: str, kind: str, a: Any, b: Any, **kw: Any
) -> Difference:
    layer, instruction = kw.get("layer"), kw.get("instruction")
    return Difference(platform, area, layer, instruction, path, field, kind, a, b)


def test_index_differences_name_attestations_platforms_and_annotations() -> None:
    a = _tree([KEY, "linux/arm64"], ["sha256:b", "sha256:a"], {"manifests": [1], "x": "1"})
    b = _tree([KEY, "linux/s390x"], ["sha256:c"], {"manifests": [2], "x": "2"})
    assert index_differences(a, b) == [
        _diff("", "index", "attestations", "attestations", "changed",
              ["sha256:a", "sha256:b"], ["sha256:c"]),
        _diff("linux/arm64", "index", "manifests", "platform", "removed", "sha256:m", None),
        _diff("linux/s390x", "index", "manifests", "platform", "added", None, "sha256:m"),
        _diff("", "index", "x", "x", "changed", "1", "2"),
    ]  # fmt: skip
    assert index_differences(a, b, attestations=False)[0].field == "platform"


def test_attestations_only_on_one_side_are_added_or_removed() -> None:
    bare, attested = _tree([KEY]), _tree([KEY], ["sha256:a"])
    [added] = index_differences(bare, attested)
    assert (added.kind, added.value_a, added.value_b) == ("added", [], ["sha256:a"])
    [removed] = index_differences(attested, bare)
    assert (removed.kind, removed.value_a, removed.value_b) == ("removed", ["sha256:a"], [])
    assert index_differences(attested, _tree([KEY], ["sha256:a", "sha256:a"])) == []


def test_manifest_differences_are_its_fields_the_layer_count_and_each_layers_media_type() -> None:
    zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    a = _image(["x", "y", "z"], annotations={"k": "1"})
    b = _image(["x", "y"], annotations={"k": "2"}, media_types=[GZIP, zstd])
    assert manifest_differences(KEY, a, b) == [
        _diff(KEY, "manifest", 'annotations.k', "k", "changed", "1", "2"),
        _diff(KEY, "manifest", "layers", "count", "changed", 3, 2),
        _diff(KEY, "manifest", "layers[1].mediaType", "mediaType", "changed", GZIP, zstd,
              layer=1, instruction="RUN step-1"),
    ]  # fmt: skip


def test_config_differences_belong_to_the_layer_their_history_entry_or_diff_id_made() -> None:
    env = {"created_by": "ENV A=1", "empty_layer": True}
    a = _image(["x", "y"], history=[env, _run("", "one"), _run("", "two")])
    b = _image(
        ["x", "q"],
        history=[{**env, "comment": "c"}, _run("", "one"), _run("", "three")],
    )
    assert config_differences(KEY, a, b) == [
        _diff(KEY, "config", "history[0].comment", "comment", "added", None, "c",
              instruction="ENV A=1"),
        _diff(KEY, "config", "history[2].created_by", "created_by", "changed",
              "RUN /bin/sh -c two # buildkit", "RUN /bin/sh -c three # buildkit",
              layer=1, instruction="RUN two"),
        _diff(KEY, "config", "rootfs.diff_ids[1]", "diff_ids[1]", "changed", "y", "q",
              layer=1, instruction="RUN two"),
    ]  # fmt: skip


def test_a_history_entry_only_b_names_takes_its_instruction_from_b() -> None:
    a = _image(["x"], history=[{"comment": "a"}])
    b = _image(["x"], history=[_run("", "one")])
    assert config_differences(KEY, a, b) == [
        _diff(KEY, "config", "history[0].comment", "comment", "removed", "a", None,
              layer=0, instruction="RUN one"),
        _diff(KEY, "config", "history[0].created_by", "created_by", "added",
              None, "RUN /bin/sh -c one # buildkit", layer=0, instruction="RUN one"),
    ]  # fmt: skip


# Secrets in what a comparison shows.

SECRET = "hunter2-s3cret"


def _evidence(window_a: bytes, window_b: bytes) -> ContentEvidence:
    return ContentEvidence(
        12, 12, 0, None, ((0, 12),), False, False, 4096, 0, window_a, window_b, False
    )


def test_secret_values_instructions_and_content_windows_are_masked_and_counted() -> None:
    run = f"RUN |1 DB_PASSWORD={SECRET} /bin/sh -c make"
    in_value = _diff(KEY, "config", "config.Env[0]", "Env[0]", "changed",
                     f"DB_PASSWORD={SECRET}", "DB_PASSWORD=other")  # fmt: skip
    in_instruction = Difference(KEY, "file", 1, run, "/x", "mtime", "changed", 1, 2)
    secret_bytes = f"password={SECRET}".encode()
    in_content = Difference(
        KEY, "file", 1, None, "/etc/app", "content", "changed", "sha256:1", "sha256:2",
        evidence=_evidence(secret_bytes, b"password=x"),
    )  # fmt: skip
    plain = Difference(
        KEY, "file", 1, None, "/etc/b", "content", "changed", "sha256:1", "sha256:2",
        evidence=_evidence(b"\xff\x00plain", b"plain"),
    )  # fmt: skip
    shown, count = mask_differences([in_value, in_instruction, in_content, plain])
    assert count == 3
    assert shown[0].value_a == mask_text(f"DB_PASSWORD={SECRET}") != in_value.value_a
    assert shown[0].value_b == mask_text("DB_PASSWORD=other")
    assert shown[1].instruction == mask_text(run) != run
    assert shown[1].value_a == 1
    assert shown[2].evidence == dataclasses.replace(
        _evidence(secret_bytes, b"password=x"),
        window_a=mask_text(f"password={SECRET}").encode(),
        window_b=mask_text("password=x").encode(),
    )
    assert SECRET.encode() not in shown[2].evidence.window_a
    assert shown[3] == plain  # bytes that show no secret stay the bytes they are


def test_a_config_without_a_container_config_records_its_base_by_annotations_alone() -> None:
    a = _image(["a0"], annotations={BASE_DIGEST: "sha256:1"})
    bare = {k: v for k, v in a.config_json.items() if k != "config"}
    a = PlatformImage(KEY, a.manifest, a.manifest_json, a.config, bare, a.layers)
    b = _image(["b0"], annotations={BASE_DIGEST: "sha256:2"})
    assert unpinned_base_layers(KEY, a, b) == {(KEY, 0)}


def test_a_history_entry_only_b_has_or_that_is_not_an_object_in_a_takes_bs_layer_and_step() -> None:
    a = _image(["x"], history=[_run("", "one")])
    longer = _image(["x", "y"], history=[_run("", "one"), _run("", "two")])
    [added, *_] = config_differences(KEY, a, longer)
    assert (added.path, added.kind, added.layer, added.instruction) == (
        "history[1]", "added", 1, "RUN two"
    )  # fmt: skip
    odd = _image(["x"], history=["not an object"])  # type: ignore[list-item]
    [changed] = config_differences(KEY, odd, a)
    assert (changed.path, changed.layer, changed.instruction) == ("history[0]", 0, "RUN one")


def test_a_config_whose_history_or_diff_ids_is_an_object_differs_without_a_layer() -> None:
    def crafted(value: str) -> PlatformImage:
        image = _image(["x"])
        config = {"history": {"0": value}, "rootfs": {"diff_ids": {"0": value}}}
        return PlatformImage(KEY, image.manifest, {}, image.config, config, image.layers)

    assert config_differences(KEY, crafted("a"), crafted("b")) == [
        _diff(KEY, "config", 'history["0"]', "0", "changed", "a", "b"),
        _diff(KEY, "config", 'rootfs.diff_ids["0"]', "0", "changed", "a", "b"),
    ]
