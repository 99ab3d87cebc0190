"""Resolving an image (repro.oci.tree): index.json through nested indexes to each
platform's manifest, config and layers; what a malformed document's message says."""

from __future__ import annotations

from typing import Any

import pytest

from repro.errors import InputError
from repro.oci import compare_images, mediatypes
from repro.oci.mediatypes import Compression, compression_from_magic, document_kind
from repro.oci.tree import (
    Descriptor,
    parse_descriptor,
    platform_string,
    resolve_tree,
)
from tests.unit.oci_factory import MemorySource, digest_of

LAYER: dict[str, Any] = {
    "mediaType": mediatypes.OCI_LAYER_GZIP,
    "digest": "sha256:" + "1" * 64,
    "size": 7,
}
OTHER_LAYER: dict[str, Any] = {
    "mediaType": mediatypes.OCI_LAYER_GZIP,
    "digest": "sha256:" + "2" * 64,
    "size": 9,
}


def _image(
    source: MemorySource,
    platform: dict[str, str] | None = None,
    *,
    config: dict[str, Any] | None = None,
    layers: list[dict[str, Any]] | None = None,
    media_type: str | None = mediatypes.OCI_MANIFEST,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Store a config and a manifest; the manifest's descriptor (with ``platform``)."""
    config_json = config if config is not None else {"os": "linux", "architecture": "amd64"}
    manifest = {
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, **source.put(config_json)},
        "layers": layers if layers is not None else [LAYER],
    }
    descriptor = source.put(manifest)
    if media_type is not None:
        descriptor["mediaType"] = media_type
    if platform is not None:
        descriptor["platform"] = platform
    if annotations is not None:
        descriptor["annotations"] = annotations
    return descriptor


def _index(source: MemorySource, manifests: list[Any]) -> dict[str, Any]:
    return {
        "mediaType": mediatypes.OCI_INDEX,
        **source.put({"mediaType": mediatypes.OCI_INDEX, "manifests": manifests}),
    }


AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64", "variant": "v8"}


def test_an_index_of_two_platforms_and_an_attestation_resolves_to_each() -> None:
    source = MemorySource()
    amd64 = _image(source, AMD64)
    arm64 = _image(source, ARM64, config={"os": "linux", "architecture": "arm64"})
    attestation = {
        "mediaType": mediatypes.OCI_MANIFEST,
        "digest": "sha256:" + "a" * 64,
        "size": 300,
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {"vnd.docker.reference.digest": amd64["digest"]},
    }
    nested = _index(source, [amd64, arm64, attestation])
    index = source.set_index({"manifests": [nested]})
    tree = resolve_tree(source)
    assert tree.index_digest == digest_of(index)
    assert tree.image_digest == nested["digest"]  # the one image index.json names
    assert tree.image_index is not None
    assert [d["digest"] for d in tree.image_index["manifests"]] == [
        amd64["digest"],
        arm64["digest"],
        attestation["digest"],
    ]
    assert list(tree.images) == ["linux/amd64", "linux/arm64/v8"]
    image = tree.images["linux/arm64/v8"]
    assert image.platform == "linux/arm64/v8"  # the descriptor's platform beats the config's
    assert image.manifest.digest == arm64["digest"]
    assert image.manifest_json["layers"] == [LAYER]
    assert image.config.media_type == mediatypes.OCI_CONFIG
    assert image.config_json == {"os": "linux", "architecture": "arm64"}
    assert image.layers == (Descriptor(LAYER["mediaType"], LAYER["digest"], 7),)
    [found] = tree.attestations
    assert (found.digest, found.refers_to, found.size) == (
        attestation["digest"],
        amd64["digest"],
        300,
    )
    configs = {image.config.digest: image.config.size for image in tree.images.values()}
    assert tree.documents == {
        nested["digest"]: nested["size"],
        amd64["digest"]: amd64["size"],
        arm64["digest"]: arm64["size"],
        **configs,
    }


def test_an_attestation_is_known_by_its_reference_type_alone() -> None:
    source = MemorySource()
    image = _image(source, AMD64)
    marked = {
        **_image(source, AMD64, config={"os": "linux", "architecture": "amd64", "x": 1}),
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    }
    source.set_index({"manifests": [image, marked]})
    tree = resolve_tree(source)
    assert [a.digest for a in tree.attestations] == [marked["digest"]]
    assert tree.attestations[0].refers_to is None
    assert list(tree.images) == ["linux/amd64"]


def test_the_image_digest_is_the_index_digest_unless_index_json_names_one_image() -> None:
    source = MemorySource()
    one, two = _image(source, AMD64), _image(source, ARM64)
    index = source.set_index({"manifests": [one, two]})
    assert resolve_tree(source).image_digest == digest_of(index)
    source.set_index({"manifests": [one]})
    tree = resolve_tree(source)
    assert tree.image_digest == one["digest"]
    assert tree.image_index is None  # no index below index.json


def test_a_platform_is_chosen_by_its_prefix_up_to_a_slash() -> None:
    source = MemorySource()
    amd64, arm64 = _image(source, AMD64), _image(source, ARM64)
    arm640 = _image(source, {"os": "linux", "architecture": "arm640"})
    source.set_index({"manifests": [amd64, arm64, arm640]})
    assert list(resolve_tree(source, platform="linux/arm64").images) == ["linux/arm64/v8"]
    assert list(resolve_tree(source, platform="linux/amd64").images) == ["linux/amd64"]
    assert list(resolve_tree(source, platform="linux").images) == [
        "linux/amd64",
        "linux/arm64/v8",
        "linux/arm640",
    ]
    assert list(resolve_tree(source, platform="linux/arm").images) == []


def test_a_manifest_without_a_platform_takes_its_configs_and_is_filtered_by_it() -> None:
    source = MemorySource()
    arm = _image(source, config={"os": "linux", "architecture": "arm", "variant": "v7"})
    bare = _image(source, config={"architecture": "amd64"}, layers=[OTHER_LAYER])
    source.set_index({"manifests": [arm, bare]})
    assert list(resolve_tree(source).images) == ["linux/arm/v7", "unknown"]
    assert list(resolve_tree(source, platform="linux/arm").images) == ["linux/arm/v7"]
    assert list(resolve_tree(source, platform="linux/amd64").images) == []


def test_images_of_one_platform_are_numbered_from_two() -> None:
    source = MemorySource()
    images = [_image(source, AMD64, layers=[LAYER] * n) for n in (1, 2, 3)]
    source.set_index({"manifests": images})
    tree = resolve_tree(source)
    assert list(tree.images) == ["linux/amd64", "linux/amd64#2", "linux/amd64#3"]
    assert [len(image.layers) for image in tree.images.values()] == [1, 2, 3]
    assert tree.images["linux/amd64#3"].platform == "linux/amd64#3"


def test_a_document_is_known_by_its_declared_type_then_its_own_then_its_shape() -> None:
    source = MemorySource()
    docker = _image(source, AMD64, media_type=mediatypes.DOCKER_MANIFEST)
    untyped = _image(source, ARM64, media_type=None, layers=[OTHER_LAYER])
    artifact = {"mediaType": "application/vnd.example+json", **source.put({"layers": []})}
    listing = {
        "mediaType": mediatypes.DOCKER_MANIFEST_LIST,
        **source.put({"manifests": [docker, untyped, artifact]}),
    }
    source.set_index({"manifests": [listing]})
    tree = resolve_tree(source)
    assert list(tree.images) == ["linux/amd64", "linux/arm64/v8"]
    assert artifact["digest"] in tree.documents  # read and verified, but not an image


@pytest.mark.parametrize(
    ("document", "declared", "kind"),
    [
        ({}, mediatypes.OCI_INDEX, "index"),
        ({}, mediatypes.DOCKER_MANIFEST_LIST, "index"),
        ({}, mediatypes.OCI_MANIFEST, "manifest"),
        ({}, mediatypes.DOCKER_MANIFEST, "manifest"),
        ({"manifests": []}, mediatypes.OCI_MANIFEST, "manifest"),  # the declared type wins
        ({"mediaType": mediatypes.OCI_INDEX}, None, "index"),
        ({"mediaType": mediatypes.DOCKER_MANIFEST, "manifests": []}, None, "manifest"),
        ({"manifests": []}, None, "index"),
        ({"manifests": [], "mediaType": "x/y"}, None, "index"),
        ({"layers": [], "config": {}}, None, "manifest"),
        ({"layers": []}, None, "unknown"),
        ({"config": {}}, None, "unknown"),
        ({}, "application/vnd.example", "unknown"),
    ],
)
def test_document_kind(document: dict[str, Any], declared: str | None, kind: str) -> None:
    assert document_kind(document, declared) == kind


@pytest.mark.parametrize(
    ("head", "compression"),
    [
        (b"\x1f\x8b\x08\x00", Compression.GZIP),
        (b"\x1f\x8b", Compression.GZIP),
        (b"\x1f\x00", Compression.NONE),
        (b"\x28\xb5\x2f\xfd", Compression.ZSTD),
        (b"\x28\xb5\x2f", Compression.NONE),
        (b"\x28\xb5\x2f\xfe", Compression.NONE),
        (b"", Compression.NONE),
        (b"etc/", Compression.NONE),
    ],
)
def test_compression_is_sniffed_from_the_magic_bytes(head: bytes, compression: Compression) -> None:
    assert compression_from_magic(head) is compression


def _nested(source: MemorySource, depth: int) -> None:
    """index.json -> ``depth`` indexes, one inside the other -> an image."""
    top = _image(source, AMD64)
    for _ in range(depth):
        top = _index(source, [top])
    source.set_index({"manifests": [top]})


def test_indexes_nest_eight_deep_and_no_deeper() -> None:
    source = MemorySource()
    _nested(source, 8)
    assert list(resolve_tree(source).images) == ["linux/amd64"]
    _nested(source, 9)
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert caught.value.message == "memory: image indexes nested too deeply"


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({}, "memory: an image index has no manifests list"),
        ({"manifests": {}}, "memory: an image index has no manifests list"),
        ({"manifests": [3]}, "memory: a descriptor is not a JSON object"),
        (
            {"manifests": [{"digest": "sha256:" + "0" * 64}]},
            f"memory: descriptor {'sha256:' + '0' * 64!r} has no valid size",
        ),
        ({"manifests": [{"size": -1}]}, "memory: descriptor None has no valid size"),
        ({"manifests": [{"size": "3"}]}, "memory: descriptor None has no valid size"),
        (
            {"manifests": [{"size": 3, "digest": "sha256:00"}]},
            "memory: unsupported or malformed digest 'sha256:00'",
        ),
        (
            {"manifests": [{"size": 3, "digest": "sha256:" + "0" * 64 + "0"}]},
            f"memory: unsupported or malformed digest {'sha256:' + '0' * 65!r}",
        ),
    ],
)
def test_a_malformed_index_says_what_is_wrong(index: dict[str, Any], message: str) -> None:
    source = MemorySource()
    source.set_index(index)
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert caught.value.message == message


def test_compare_names_the_image_whose_index_json_has_a_malformed_digest() -> None:
    good, bad = MemorySource("a.tar"), MemorySource("b.tar")
    good.set_index({"manifests": [_image(good, AMD64)]})
    bad.set_index({"manifests": [{"size": 3, "digest": "sha256:" + "A" * 64}]})
    with pytest.raises(InputError) as caught:
        compare_images(good, bad)
    assert caught.value.message == (
        f"b.tar: unsupported or malformed digest {'sha256:' + 'A' * 64!r}"
    )
    assert caught.value.hint == (
        "repro reads sha256 digests only (sha256:<64 lowercase hex digits)"
    )


def test_a_malformed_manifest_names_itself() -> None:
    source = MemorySource()
    no_layers = source.put({"config": {"digest": "sha256:" + "0" * 64, "size": 1}})
    source.set_index({"manifests": [{"mediaType": mediatypes.OCI_MANIFEST, **no_layers}]})
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert caught.value.message == f"manifest {no_layers['digest']} in memory: no layers list"
    no_config = source.put({"layers": []})
    source.set_index({"manifests": [{"mediaType": mediatypes.OCI_MANIFEST, **no_config}]})
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert caught.value.message == (
        f"manifest {no_config['digest']} in memory: a descriptor is not a JSON object"
    )


def test_a_descriptor_is_read_with_every_field() -> None:
    raw: dict[str, Any] = {
        "mediaType": "a/b",
        "digest": "sha256:" + "3" * 64,
        "size": 0,
        "annotations": {"k": "v"},
        "platform": AMD64,
    }
    descriptor = parse_descriptor(raw, where="here")
    assert descriptor == Descriptor("a/b", raw["digest"], 0, {"k": "v"}, "linux/amd64")
    assert descriptor.to_json() == {"mediaType": "a/b", "digest": raw["digest"], "size": 0}
    bare = parse_descriptor({"digest": raw["digest"], "size": 1, "annotations": []}, where="")
    assert (bare.media_type, dict(bare.annotations), bare.platform) == ("", {}, None)


@pytest.mark.parametrize(
    ("raw", "platform"),
    [
        ({"os": "linux", "architecture": "arm", "variant": "v6"}, "linux/arm/v6"),
        ({"os": "linux", "architecture": "arm", "variant": ""}, "linux/arm"),
        ({"os": "linux", "architecture": "arm", "variant": 7}, "linux/arm"),
        ({"os": "windows", "architecture": "amd64"}, "windows/amd64"),
        ({"os": "linux"}, None),
        ({"architecture": "amd64"}, None),
        ({"os": 1, "architecture": "amd64"}, None),
        ({"os": "linux", "architecture": None}, None),
        ("linux/amd64", None),
        (None, None),
    ],
)
def test_platform_string(raw: Any, platform: str | None) -> None:
    assert platform_string(raw) == platform


@pytest.mark.parametrize(
    ("rootfs", "diff_ids"),
    [
        ({"diff_ids": ["sha256:a", "sha256:b"]}, ("sha256:a", "sha256:b")),
        ({"diff_ids": ["sha256:a", "sha256:b", "sha256:c"]}, ("sha256:a", "sha256:b")),
        ({"diff_ids": ["sha256:a"]}, ("sha256:a", None)),
        ({"diff_ids": [5, None]}, ("5", "None")),
        ({"diff_ids": "sha256:a"}, (None, None)),
        ({}, (None, None)),
        (["sha256:a"], (None, None)),
    ],
)
def test_each_layer_has_the_diff_id_of_its_position(
    rootfs: Any, diff_ids: tuple[str | None, ...]
) -> None:
    source = MemorySource()
    config = {"os": "linux", "architecture": "amd64", "rootfs": rootfs}
    source.set_index({"manifests": [_image(source, config=config, layers=[LAYER, OTHER_LAYER])]})
    [image] = resolve_tree(source).images.values()
    assert image.diff_ids == diff_ids


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (b"{", "index.json in memory is not valid JSON: "),
        (b"[]", "index.json in memory is not a JSON object"),
    ],
)
def test_an_index_json_that_is_not_an_object_is_named(index: bytes, message: str) -> None:
    source = MemorySource()
    source.index = index
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert caught.value.message.startswith(message)
