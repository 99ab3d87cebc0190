"""OCI 1.1 artifacts (repro.oci.artifacts) field by field: the manifest repro pushes, the
descriptors it reads from a registry's referrers listing, and the message of each
malformed one."""

from __future__ import annotations

import pytest

from repro.errors import VerdictError
from repro.oci import artifacts, cosign
from repro.oci.artifacts import Descriptor

SUBJECT = "sha256:" + "5" * 64
LAYER = "sha256:" + "1" * 64
EMPTY = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def test_an_artifact_manifest_is_canonical_json_with_a_bare_subject() -> None:
    manifest = artifacts.artifact_manifest(
        artifact_type="application/vnd.example.sbom",
        layers=[Descriptor("text/plain", LAYER, 7, annotations={"z": "1", "a": "2"})],
        # What the subject carries beyond its identity is not part of the reference.
        subject=Descriptor(
            "application/vnd.oci.image.index.v1+json",
            SUBJECT,
            645,
            artifact_type="x/y",
            annotations={"k": "v"},
        ),
        annotations={"org.example.b": "2", "org.example.a": "1"},
    )
    assert manifest == (
        b'{"annotations":{"org.example.a":"1","org.example.b":"2"},'
        b'"artifactType":"application/vnd.example.sbom",'
        b'"config":{"digest":"' + EMPTY.encode() + b'",'
        b'"mediaType":"application/vnd.oci.empty.v1+json","size":2},'
        b'"layers":[{"annotations":{"a":"2","z":"1"},"digest":"' + LAYER.encode() + b'",'
        b'"mediaType":"text/plain","size":7}],'
        b'"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"schemaVersion":2,'
        b'"subject":{"digest":"' + SUBJECT.encode() + b'",'
        b'"mediaType":"application/vnd.oci.image.index.v1+json","size":645}}'
    )


def test_an_artifact_manifest_without_annotations_has_no_annotations_field() -> None:
    manifest = artifacts.artifact_manifest(
        artifact_type="a/b", layers=[], subject=Descriptor(MANIFEST, SUBJECT, 1), annotations={}
    )
    assert b"annotations" not in manifest
    assert artifacts.parse_referrer(manifest).descriptor.annotations == {}


def test_a_descriptor_is_read_with_every_field() -> None:
    raw = {
        "mediaType": MANIFEST,
        "digest": SUBJECT,
        "size": 0,
        "artifactType": "application/vnd.example",
        "annotations": {"keep": "yes", "number": 3},
    }
    assert Descriptor.from_json(raw, "listing") == Descriptor(
        MANIFEST, SUBJECT, 0, artifact_type="application/vnd.example", annotations={"keep": "yes"}
    )
    bare = Descriptor.from_json({**raw, "artifactType": 5, "annotations": ["x"]}, "listing")
    assert (bare.artifact_type, dict(bare.annotations)) == (None, {})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "listing: a descriptor is not a JSON object"),
        ({"digest": SUBJECT, "size": 1}, "listing: a descriptor has no mediaType or digest"),
        ({"mediaType": 3, "digest": SUBJECT, "size": 1}, "a descriptor has no mediaType or"),
        ({"mediaType": MANIFEST, "digest": 3, "size": 1}, "a descriptor has no mediaType or"),
        ({"mediaType": MANIFEST, "digest": "5" * 64, "size": 1}, "has no mediaType or digest"),
        ({"mediaType": MANIFEST, "digest": SUBJECT}, f"descriptor {SUBJECT} has no valid size"),
        ({"mediaType": MANIFEST, "digest": SUBJECT, "size": "1"}, "has no valid size"),
        ({"mediaType": MANIFEST, "digest": SUBJECT, "size": True}, "has no valid size"),
        ({"mediaType": MANIFEST, "digest": SUBJECT, "size": -1}, "has no valid size"),
    ],
)
def test_a_malformed_descriptor_is_a_verdict_that_says_what_is_wrong(
    raw: object, message: str
) -> None:
    with pytest.raises(VerdictError, match=message) as caught:
        Descriptor.from_json(raw, "listing")
    assert caught.value.message.startswith("listing: ")


def test_the_registry_serving_other_bytes_is_a_verdict_naming_both() -> None:
    data = b"{}"
    descriptor = Descriptor("x/y", artifacts.digest_of(data), 2)
    assert descriptor.check(data, "blob") == data
    served = artifacts.digest_of(b"{} ")
    with pytest.raises(VerdictError) as caught:
        descriptor.check(b"{} ", "blob")
    assert caught.value.message == (
        f"blob: expected {descriptor.digest} (2 bytes), the registry served {served} (3 bytes)"
    )
    # The right digest with the wrong declared size is refused too.
    with pytest.raises(VerdictError, match=r"expected .* \(3 bytes\), .* \(2 bytes\)"):
        Descriptor("x/y", descriptor.digest, 3).check(data, "blob")


def test_a_descriptor_writes_only_the_fields_it_has() -> None:
    assert Descriptor(MANIFEST, SUBJECT, 3).to_json() == {
        "mediaType": MANIFEST,
        "digest": SUBJECT,
        "size": 3,
    }
    full = Descriptor(MANIFEST, SUBJECT, 3, artifact_type="a/b", annotations={"y": "1", "x": "2"})
    written = full.to_json()
    assert written == {
        "mediaType": MANIFEST,
        "digest": SUBJECT,
        "size": 3,
        "artifactType": "a/b",
        "annotations": {"x": "2", "y": "1"},
    }
    assert list(written["annotations"]) == ["x", "y"]


def test_a_referrer_read_from_its_manifest() -> None:
    data = (
        b'{"config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "'
        + EMPTY.encode()
        + b'", "size": 2}, "layers": [{"mediaType": "a/b", "digest": "'
        + LAYER.encode()
        + b'", "size": 4}], "artifactType": "", "annotations": {"k": "v", "n": 1},'
        b' "subject": {"digest": "' + SUBJECT.encode() + b'"}}'
    )
    referrer = artifacts.parse_referrer(data)
    # No mediaType reads as an OCI manifest; an empty artifactType falls back to the config's.
    assert referrer == artifacts.Referrer(
        descriptor=Descriptor(
            MANIFEST,
            artifacts.digest_of(data),
            len(data),
            artifact_type="application/vnd.oci.empty.v1+json",
            annotations={"k": "v"},
        ),
        subject=SUBJECT,
        layers=(Descriptor("a/b", LAYER, 4),),
        manifest_artifact_type=None,
    )


def test_a_referrer_without_layers_annotations_or_subject() -> None:
    data = (
        b'{"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": '
        b'{"mediaType": "c/d", "digest": "' + EMPTY.encode() + b'", "size": 2},'
        b' "layers": {"a": 1}, "annotations": [], "subject": {"digest": 5}}'
    )
    referrer = artifacts.parse_referrer(data, "the manifest")
    assert referrer.layers == ()
    assert dict(referrer.descriptor.annotations) == {}
    assert referrer.subject is None
    assert referrer.descriptor.artifact_type == "c/d"
    assert artifacts.parse_referrer(data.replace(b'{"digest": 5}', b'"x"')).subject is None


def test_a_referrer_that_is_not_a_manifest_is_a_verdict_naming_its_type() -> None:
    with pytest.raises(VerdictError) as caught:
        artifacts.parse_referrer(b'{"mediaType": "text/plain"}', "the thing")
    assert caught.value.message == "the thing is a text/plain, not an OCI image manifest"
    with pytest.raises(VerdictError, match=r"^the thing: a descriptor is not a JSON object$"):
        artifacts.parse_referrer(b'{"config": 1}', "the thing")


def test_the_referrers_index_round_trips_and_says_what_is_wrong() -> None:
    listed = (
        Descriptor(MANIFEST, SUBJECT, 10, artifact_type="a/b"),
        Descriptor(MANIFEST, LAYER, 20, annotations={"k": "v"}),
    )
    index = artifacts.referrers_index(listed)
    assert index == (
        b'{"manifests":[{"artifactType":"a/b","digest":"' + SUBJECT.encode() + b'",'
        b'"mediaType":"' + MANIFEST.encode() + b'","size":10},'
        b'{"annotations":{"k":"v"},"digest":"' + LAYER.encode() + b'",'
        b'"mediaType":"' + MANIFEST.encode() + b'","size":20}],'
        b'"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}'
    )
    assert artifacts.parse_referrers_index(index) == listed
    # An index without its mediaType is read as an OCI index.
    assert artifacts.parse_referrers_index(b'{"manifests": []}') == ()
    with pytest.raises(VerdictError) as caught:
        artifacts.parse_referrers_index(b'{"mediaType": "x/y", "manifests": []}', "the index")
    assert caught.value.message == "the index is a x/y, not an OCI image index"
    with pytest.raises(VerdictError) as caught:
        artifacts.parse_referrers_index(b"{}", "the index")
    assert caught.value.message == "the index has no manifests list"


def test_filtering_and_merging_referrers() -> None:
    a = Descriptor(MANIFEST, "sha256:" + "a" * 64, 1, artifact_type="t/1")
    b = Descriptor(MANIFEST, "sha256:" + "b" * 64, 1, artifact_type="t/2")
    c = Descriptor(MANIFEST, "sha256:" + "c" * 64, 1)
    assert artifacts.of_artifact_type([a, b, c], "t/2") == (b,)
    assert artifacts.of_artifact_type(iter([a, b, c]), None) == (a, b, c)
    assert artifacts.merge_referrers([a, b, c], [b], removed=[a.digest]) == (c, b)
    assert artifacts.merge_referrers(iter([a, b]), iter([c])) == (a, b, c)
    assert artifacts.referrers_tag(SUBJECT) == "sha256-" + "5" * 64


def test_each_reader_names_what_it_read_in_its_errors() -> None:
    for read, default in [
        (artifacts.parse_referrer, "the referrer manifest"),
        (artifacts.parse_referrers_index, "the referrers index"),
        (cosign.parse_bundle_referrer, "the referrer"),
    ]:
        with pytest.raises(VerdictError, match=f"^{default} is not valid JSON: "):
            read(b"{")
        with pytest.raises(VerdictError, match=r"^the listing is not valid JSON: "):
            read(b"{", "the listing")
    bad_layer = (
        b'{"config": {"mediaType": "c/d", "digest": "' + EMPTY.encode() + b'", "size": 2},'
        b' "layers": [3]}'
    )
    with pytest.raises(VerdictError) as caught:
        artifacts.parse_referrer(bad_layer, "the manifest")
    assert caught.value.message == "the manifest: a descriptor is not a JSON object"
    with pytest.raises(VerdictError) as caught:
        cosign.parse_bundle_referrer(bad_layer, "the manifest")
    assert caught.value.message == "the manifest: a descriptor is not a JSON object"
    with pytest.raises(VerdictError) as caught:
        artifacts.parse_referrers_index(b'{"manifests": [3]}', "the index")
    assert caught.value.message == "the index: a descriptor is not a JSON object"
