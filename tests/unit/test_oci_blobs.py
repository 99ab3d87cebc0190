"""Reading blobs verified (repro.oci.blobsource) and the jobs that read every blob of an
image against its digest (repro.oci.integrity)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from repro.errors import InputError
from repro.oci.blobsource import open_verified, read_json_blob, read_verified
from repro.oci.integrity import (
    interleave,
    total,
    verification_jobs,
    verify_attestation,
    verify_blob,
)
from repro.oci.tree import Attestation, Descriptor, ImageTree, PlatformImage
from tests.unit.oci_factory import MemorySource, digest_of

MAX_DOCUMENT = 32 << 20


def test_a_blob_read_is_checked_against_its_declared_size_first() -> None:
    source = MemorySource("image.tar")
    digest = source.put(b"0123456789")["digest"]
    assert read_verified(source, digest, declared_size=10) == b"0123456789"
    with pytest.raises(InputError) as caught:
        read_verified(source, digest, declared_size=11)
    assert caught.value.message == f"blob {digest} in image.tar is truncated: 10 of 11 bytes"
    with pytest.raises(InputError) as caught:
        read_verified(source, digest, declared_size=9)
    assert caught.value.message == f"blob {digest} in image.tar is longer than its declared size 9"
    source.blobs[digest] = b"0123456780"  # same size, other bytes
    with pytest.raises(InputError) as caught:
        read_verified(source, digest)
    assert caught.value.message == (
        f"blob {digest} in image.tar is corrupted: its content hashes to {digest_of(b'0123456780')}"
    )


def test_a_blob_too_large_for_a_document_is_refused_unread() -> None:
    source = MemorySource("image.tar")
    digest = source.put(b"{}")["digest"]
    assert read_verified(source, digest, declared_size=2) == b"{}"
    with pytest.raises(InputError) as caught:
        read_verified(source, digest, declared_size=MAX_DOCUMENT + 1)
    assert caught.value.message == f"blob {digest} in image.tar is too large for a JSON document"
    # At the limit the blob is read (and found short).
    with pytest.raises(InputError, match=f"truncated: 2 of {MAX_DOCUMENT} bytes"):
        read_verified(source, digest, declared_size=MAX_DOCUMENT)


def test_a_digest_is_checked_before_the_blob_is_looked_up() -> None:
    source = MemorySource("image.tar")
    for read in (read_verified, open_verified, read_json_blob):
        with pytest.raises(InputError) as caught:
            read(source, "sha256:" + "A" * 64)
        assert caught.value.message == (
            f"image.tar: unsupported or malformed digest {'sha256:' + 'A' * 64!r}"
        )


def test_a_json_blob_is_an_object_named_in_its_error() -> None:
    source = MemorySource("image.tar")
    document = source.put({"a": [1]})
    assert read_json_blob(source, document["digest"]) == {"a": [1]}
    listed = source.put(b"[1]")["digest"]
    with pytest.raises(InputError) as caught:
        read_json_blob(source, listed, declared_size=3)
    assert caught.value.message == f"blob {listed} in image.tar is not a JSON object"
    broken = source.put(b"{")["digest"]
    with pytest.raises(InputError, match=f"^blob {broken} in image.tar is not valid JSON: "):
        read_json_blob(source, broken)


def test_verifying_a_blob_reports_what_it_read() -> None:
    source = MemorySource("image.tar")
    digest = source.put(b"x" * 100)["digest"]
    assert verify_blob(source, digest, 100) == {digest: 100}
    assert verify_blob(source, digest, None) == {digest: 100}
    with pytest.raises(InputError, match="is truncated: 100 of 101 bytes"):
        verify_blob(source, digest, 101)


def _attestation(source: MemorySource, manifest: object) -> str:
    return str(source.put(json.dumps(manifest).encode())["digest"])


def test_verifying_an_attestation_reads_its_config_and_each_layer_once() -> None:
    source = MemorySource("image.tar")
    config = source.put(b"{}")
    statement = source.put(b'{"_type": "statement"}')
    manifest: dict[str, Any] = {
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [
            {"mediaType": "application/vnd.in-toto+json", **statement},
            {"mediaType": "application/vnd.in-toto+json", **statement},
            {"mediaType": "application/vnd.oci.empty.v1+json", **config},
        ],
    }
    digest = _attestation(source, manifest)
    size = len(source.blobs[digest])
    expected = {digest: size, config["digest"]: 2, statement["digest"]: statement["size"]}
    assert verify_attestation(source, digest, size) == expected
    assert verify_attestation(source, digest, None) == expected
    no_config = _attestation(source, {"layers": [manifest["layers"][0]]})
    assert verify_attestation(source, no_config, None) == {
        no_config: len(source.blobs[no_config]),
        statement["digest"]: statement["size"],
    }
    no_layers = _attestation(source, {"config": manifest["config"]})
    assert set(verify_attestation(source, no_layers, None)) == {no_layers, config["digest"]}


def test_an_attestation_whose_blob_is_corrupted_names_it() -> None:
    source = MemorySource("image.tar")
    statement = source.put(b'{"_type": "statement"}')
    digest = _attestation(source, {"layers": [{"mediaType": "x", **statement}]})
    source.blobs[statement["digest"]] = b'{"_type": "statemenT"}'
    with pytest.raises(InputError) as caught:
        verify_attestation(source, digest, None)
    assert caught.value.message.startswith(f"blob {statement['digest']} in image.tar is corrupted")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"layers": {}}, "its layers are not a list"),
        ({"layers": [3]}, "a descriptor is not a JSON object"),
        ({"config": None}, "a descriptor is not a JSON object"),
        (
            {"layers": [{"digest": "sha256:" + "0" * 64}]},
            f"descriptor {'sha256:' + '0' * 64!r} has no valid size",
        ),
    ],
)
def test_a_malformed_attestation_manifest_names_it(manifest: object, message: str) -> None:
    source = MemorySource("image.tar")
    digest = _attestation(source, manifest)
    with pytest.raises(InputError) as caught:
        verify_attestation(source, digest, None)
    where = f"attestation manifest {digest} in image.tar"
    assert caught.value.message == f"{where}: {message}"


def _tree(layers: dict[str, int], attestations: dict[str, int | None]) -> ImageTree:
    def image(layer_digests: list[str]) -> PlatformImage:
        descriptors = tuple(Descriptor("x", d, layers[d]) for d in layer_digests)
        config = Descriptor("c", "sha256:" + "c" * 64, 1)
        return PlatformImage("linux/amd64", config, {}, config, {}, descriptors)

    digests = list(layers)
    return ImageTree(
        index_digest="sha256:" + "0" * 64,
        image_digest="sha256:" + "0" * 64,
        image_index=None,
        images={"linux/amd64": image(digests[:2]), "linux/arm64": image(digests[1:])},
        attestations=tuple(Attestation(d, None, size) for d, size in attestations.items()),
    )


def test_the_verification_jobs_read_each_blob_not_yet_read_largest_first() -> None:
    source = MemorySource("image.tar")
    small, shared, large = (source.put(b"s" * n)["digest"] for n in (10, 20, 30))
    attested = _attestation(source, {"layers": []})
    unsized = _attestation(source, {"layers": [], "unsized": True})
    attested_size = len(source.blobs[attested])  # between the small and the shared layer
    assert 10 < attested_size < 20
    tree = _tree({small: 10, shared: 20, large: 30}, {attested: attested_size, unsized: None})
    jobs = verification_jobs(source, tree, already_read=frozenset())
    unsized_read = {unsized: len(source.blobs[unsized])}
    assert [job() for job in jobs] == [
        {large: 30},
        {shared: 20},
        {attested: attested_size},
        {small: 10},
        unsized_read,  # no declared size: last
    ]
    left = verification_jobs(source, tree, already_read=frozenset({large, attested}))
    assert [job() for job in left] == [{shared: 20}, {small: 10}, unsized_read]


def test_the_reads_of_two_sides_are_interleaved() -> None:
    assert list(interleave([1, 2, 3], ["a"])) == [1, "a", 2, 3]
    assert list(interleave([], ["a", "b"])) == ["a", "b"]
    assert list(interleave([None, 0], [None])) == [None, None, 0]  # falsy items are kept
    assert total({"a": 3, "b": 4}) == (2, 7)
    assert total({}) == (0, 0)


def test_an_attestation_is_read_at_the_sizes_its_descriptors_declare() -> None:
    source = MemorySource("image.tar")
    statement = source.put(b'{"_type": "statement"}')
    digest = _attestation(source, {"layers": [{"mediaType": "x", **statement}]})
    size = len(source.blobs[digest])
    with pytest.raises(InputError) as caught:
        verify_attestation(source, digest, size + 1)
    assert caught.value.message == (
        f"blob {digest} in image.tar is truncated: {size} of {size + 1} bytes"
    )
    # A layer it lists at a size larger than the blob's is caught as well.
    wrong = _attestation(source, {"layers": [{**statement, "size": statement["size"] + 1}]})
    with pytest.raises(InputError) as caught:
        verify_attestation(source, wrong, None)
    assert caught.value.message == (
        f"blob {statement['digest']} in image.tar is truncated: "
        f"{statement['size']} of {statement['size'] + 1} bytes"
    )
