"""cosign's attachments built byte for byte as the real cosign 2.5 pushed them (fixtures in
tests/fixtures/cosign), and parsed back; the referrers index and its filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.errors import InputError, VerdictError
from repro.jsonout import go_json
from repro.oci import artifacts, cosign
from repro.oci.artifacts import Descriptor
from repro.oci.mediatypes import DSSE_ENVELOPE, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST

COSIGN = Path(__file__).resolve().parents[1] / "fixtures" / "cosign"
SUBJECT = "sha256:eb39652c15670129f51d76cab312f0c7a377c61d4707bffdf3f35ed2c33cb875"
ECDSA_TYPE = "https://repro.dev/test/ecdsa/v1"
ED25519_TYPE = "https://repro.dev/test/ed25519/v1"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def fixture(name: str) -> bytes:
    return (COSIGN / name).read_bytes()


def cosign_layers() -> list[cosign.AttestationLayer]:
    return [
        cosign.AttestationLayer.of(fixture("att-ecdsa.dsse.json"), ECDSA_TYPE),
        cosign.AttestationLayer.of(fixture("att-ed25519.dsse.json"), ED25519_TYPE),
    ]


def test_the_attestation_tag_is_cosigns() -> None:
    assert cosign.attestation_tag(SUBJECT) == f"sha256-{SUBJECT[7:]}.att"
    with pytest.raises(InputError):
        cosign.attestation_tag("latest")


def test_the_att_image_is_byte_identical_to_what_cosign_pushed() -> None:
    image = cosign.attestation_image(cosign_layers())
    assert image.manifest == fixture("att-manifest.json")
    assert image.config == fixture("att-config.json")
    assert image.digest == artifacts.digest_of(fixture("att-manifest.json"))
    assert image.config_descriptor.digest == json.loads(image.manifest)["config"]["digest"]
    config = json.loads(image.config)
    assert config["rootfs"]["diff_ids"] == [layer.descriptor.digest for layer in cosign_layers()]
    with pytest.raises(InputError):
        cosign.attestation_image([])


def test_parsing_cosigns_manifest_gives_its_layers_back() -> None:
    layers = cosign.parse_attestation_manifest(fixture("att-manifest.json"))
    assert [layer.predicate_type for layer in layers] == [ECDSA_TYPE, ED25519_TYPE]
    assert list(layers) == cosign_layers()
    envelope = fixture("att-ed25519.dsse.json")
    assert layers[1].descriptor.check(envelope, "layer") == envelope
    with pytest.raises(VerdictError, match="the registry served"):
        layers[0].descriptor.check(envelope, "layer 1")
    # Rebuilding from what was parsed keeps every annotation as found.
    assert cosign.attestation_image(layers).manifest == fixture("att-manifest.json")


def test_other_layers_and_other_documents_are_not_attestations() -> None:
    manifest = json.loads(fixture("att-manifest.json"))
    manifest["layers"].append({"mediaType": "text/plain", "digest": SUBJECT, "size": 1})
    assert len(cosign.parse_attestation_manifest(json.dumps(manifest).encode())) == 2
    for garbage, message in [
        (b"{", "not valid JSON"),
        (fixture("subject-index.json"), "not an image manifest"),
        (b'{"mediaType": "application/vnd.oci.image.manifest.v1+json"}', "has no layers"),
    ]:
        with pytest.raises(VerdictError, match=message):
            cosign.parse_attestation_manifest(garbage)


def test_merging_appends_and_drops_duplicates_and_replaced_layers() -> None:
    ecdsa, ed25519 = cosign_layers()
    assert cosign.merge_attestations([ecdsa], [ed25519]) == (ecdsa, ed25519)
    assert cosign.merge_attestations([ecdsa, ed25519], [ecdsa]) == (ed25519, ecdsa)
    replaced = [ecdsa.descriptor.digest]
    assert cosign.merge_attestations([ecdsa], [ed25519], replaced) == (ed25519,)


def test_the_bundle_referrer_is_byte_identical_to_what_cosign_pushed() -> None:
    pushed = fixture("bundle-referrer.json")
    document = json.loads(pushed)
    subject = Descriptor(
        OCI_INDEX, SUBJECT, len(fixture("subject-index.json"))
    )  # the image index as served
    rebuilt = cosign.bundle_referrer(
        fixture("bundle.sigstore.json"),
        predicate_type="https://repro.dev/test/bundle/v1",
        subject=subject,
        created=document["annotations"]["org.opencontainers.image.created"],
    )
    assert rebuilt == pushed
    found = cosign.parse_bundle_referrer(pushed)
    assert found is not None
    assert found.predicate_type == "https://repro.dev/test/bundle/v1"
    assert found.subject == SUBJECT
    assert found.layer.check(fixture("bundle.sigstore.json"), "bundle")
    assert cosign.parse_bundle_referrer(fixture("att-manifest.json")) is None


def test_go_json_escapes_as_encoding_json() -> None:
    expected = '{"b":"\\u003c\\u0026\\u003e","a":"é\\u2028"}'
    assert go_json({"b": "<&>", "a": "é\u2028"}) == expected.encode()


# -- the referrers index ------------------------------------------------------------------


def test_a_referrer_is_listed_by_its_artifact_type_or_its_config_type() -> None:
    bundle = artifacts.parse_referrer(fixture("bundle-referrer.json"))
    assert bundle.descriptor.artifact_type == BUNDLE_TYPE
    assert bundle.manifest_artifact_type == BUNDLE_TYPE
    assert bundle.descriptor.digest == artifacts.digest_of(fixture("bundle-referrer.json"))
    assert bundle.descriptor.annotations["dev.sigstore.bundle.content"] == "dsse-envelope"
    # cosign's .att image has no artifactType: it would be listed under its config type.
    att = artifacts.parse_referrer(fixture("att-manifest.json"))
    assert att.descriptor.artifact_type == "application/vnd.oci.image.config.v1+json"
    assert att.subject is None and att.manifest_artifact_type is None


def test_go_containerregistry_lists_cosigns_bundle_under_the_empty_type() -> None:
    # Why a reader of the fallback tag must look at the manifests themselves.
    listed = artifacts.parse_referrers_index(fixture("referrers-tag-index.json"))
    assert [d.artifact_type for d in listed] == [OCI_EMPTY]
    assert listed[0].digest == artifacts.digest_of(fixture("bundle-referrer.json"))
    assert artifacts.of_artifact_type(listed, BUNDLE_TYPE) == ()


def test_an_artifact_manifest_round_trips_through_the_index() -> None:
    subject = Descriptor(OCI_INDEX, SUBJECT, 645)
    envelope = fixture("att-ecdsa.dsse.json")
    layer = Descriptor(DSSE_ENVELOPE, artifacts.digest_of(envelope), len(envelope))
    manifest = artifacts.artifact_manifest(
        artifact_type=DSSE_ENVELOPE, layers=[layer], subject=subject, annotations={"k": "v"}
    )
    document = json.loads(manifest)
    assert document["config"] == artifacts.EMPTY_DESCRIPTOR.to_json()
    assert document["config"]["digest"] == artifacts.digest_of(b"{}")
    referrer = artifacts.parse_referrer(manifest)
    assert referrer.subject == SUBJECT
    assert referrer.layers == (layer,)
    other = artifacts.parse_referrer(fixture("bundle-referrer.json")).descriptor
    index = artifacts.referrers_index([referrer.descriptor, other])
    assert json.loads(index)["mediaType"] == OCI_INDEX
    listed = artifacts.parse_referrers_index(index)
    assert listed == (referrer.descriptor, other)
    assert artifacts.of_artifact_type(listed, DSSE_ENVELOPE) == (referrer.descriptor,)
    assert artifacts.of_artifact_type(listed, None) == listed
    assert artifacts.merge_referrers(listed, [referrer.descriptor]) == (other, referrer.descriptor)
    assert artifacts.merge_referrers(listed, [], removed=[other.digest]) == (referrer.descriptor,)
    assert artifacts.referrers_tag(SUBJECT) == "sha256-" + SUBJECT[7:]


def test_malformed_listings_are_verdicts() -> None:
    for data, message in [
        (b'{"mediaType": "application/vnd.oci.image.manifest.v1+json"}', "not an OCI image index"),
        (b'{"manifests": 3}', "no manifests list"),
        (b'{"manifests": [{"mediaType": "x", "digest": "sha256:00"}]}', "no valid size"),
        (b'{"manifests": [{"size": 1}]}', "no mediaType or digest"),
    ]:
        with pytest.raises(VerdictError, match=message):
            artifacts.parse_referrers_index(data)
    with pytest.raises(VerdictError, match="not an OCI image manifest"):
        artifacts.parse_referrer(fixture("subject-index.json"))
    assert OCI_MANIFEST in fixture("bundle-referrer.json").decode()


@pytest.mark.parametrize("digest", ["latest", ":" + "a" * 64, "sha256:", ""])
def test_an_attestation_tag_needs_an_algorithm_and_a_hex_digest(digest: str) -> None:
    with pytest.raises(InputError) as caught:
        cosign.attestation_tag(digest)
    assert caught.value.message == f"{digest!r} is not a digest"


def test_a_docker_typed_att_manifest_is_read_and_other_types_are_named() -> None:
    manifest = json.loads(fixture("att-manifest.json"))
    manifest["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
    layers = cosign.parse_attestation_manifest(json.dumps(manifest).encode())
    assert [layer.predicate_type for layer in layers] == [ECDSA_TYPE, ED25519_TYPE]
    del manifest["mediaType"]
    with pytest.raises(VerdictError) as caught:
        cosign.parse_attestation_manifest(json.dumps(manifest).encode(), "the .att manifest")
    assert caught.value.message == "the .att manifest is a None, not an image manifest"
    with pytest.raises(VerdictError) as caught:
        cosign.parse_attestation_manifest(
            b'{"mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": {}}', "att"
        )
    assert caught.value.message == "att has no layers"


def test_an_attestation_layer_without_the_annotation_has_no_predicate_type() -> None:
    envelope = fixture("att-ecdsa.dsse.json")
    layer = cosign.AttestationLayer(Descriptor(DSSE_ENVELOPE, artifacts.digest_of(envelope), 1))
    assert layer.predicate_type is None
    written = cosign.AttestationLayer.of(envelope, ECDSA_TYPE).descriptor
    assert written == Descriptor(
        DSSE_ENVELOPE,
        artifacts.digest_of(envelope),
        len(envelope),
        annotations={
            "dev.cosignproject.cosign/signature": "",
            "predicateType": ECDSA_TYPE,
        },
    )


def test_the_bundle_referrer_keeps_every_annotation_and_the_first_bundle() -> None:
    document = json.loads(fixture("bundle-referrer.json"))
    first = document["layers"][0]
    other = {**first, "digest": "sha256:" + "e" * 64}
    document["layers"] = [{"mediaType": "text/plain", "digest": SUBJECT, "size": 1}, first, other]
    found = cosign.parse_bundle_referrer(json.dumps(document).encode())
    assert found is not None
    assert found.layer.digest == first["digest"]
    assert dict(found.annotations) == document["annotations"]
    del document["annotations"]
    bare = cosign.parse_bundle_referrer(json.dumps(document).encode())
    assert bare is not None and bare.predicate_type is None and dict(bare.annotations) == {}
