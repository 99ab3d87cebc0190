"""cosign and repro read each other's attestations, on the real local registry with the real
cosign 2.5 and oras (Debian 13 packages, installed by scripts/setup).

* cosign verifies what repro attaches (the ``.att`` tag, and the OCI 1.1 Sigstore-bundle
  referrer) and ``cosign tree`` lists it; oras discovers the referrer;
* repro verifies what ``cosign attest`` attaches, in both forms, and passes over what it
  was not asked for;
* keys go both ways: repro signs with a ``cosign generate-key-pair`` key and cosign signs
  with a key repro generated.

The attachments here are pushed with the registry client's push_blob/put_manifest, to test
the formats alone; tests/integration/test_attest_publish.py runs `repro publish` itself.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from repro.errors import InputError, VerdictError
from repro.oci import artifacts, cosign
from repro.oci.artifacts import Descriptor
from repro.oci.mediatypes import OCI_INDEX, OCI_MANIFEST, SIGSTORE_BUNDLE_V03
from repro.registry.client import RegistryClient
from repro.release import attest, keys
from tests.integration import cosign_cli
from tests.integration.conftest import skopeo_copy
from tests.integration.cosign_cli import EMPTY_TRUSTED_ROOT, PLAIN, run_cosign

pytestmark = [pytest.mark.registry]

SEEDED = "localhost:5000/library/busybox:1.35"
RELEASE_TYPE = attest.PREDICATE_TYPE
SLSA_TYPE = "https://slsa.dev/provenance/v1"


@dataclass(frozen=True)
class Image:
    client: RegistryClient
    repository: str  # test-attest-compat/<unique>: a fresh .att tag for every run
    digest: str  # the image index the attestations are about
    subject: Descriptor

    @property
    def reference(self) -> str:
        return f"{self.client.host}/{self.repository}@{self.digest}"


@pytest.fixture()
def image(registry: str) -> Image:
    repository = f"test-attest-compat/{uuid.uuid4().hex[:12]}"
    skopeo_copy(SEEDED, f"{registry}/{repository}:1")
    client = RegistryClient(registry)
    served = client.get_manifest(repository, "1")
    body = served.body or b""
    return Image(
        client, repository, served.digest, Descriptor(served.media_type, served.digest, len(body))
    )


def verify_attestation(
    image: Image, public: Path, predicate_type: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return cosign_cli.verify_attestation(image.reference, public, predicate_type, *extra)


def cosign_attest(
    image: Image, key: Path, predicate_type: str, predicate: Path, *extra: str, password: str
) -> subprocess.CompletedProcess[str]:
    return run_cosign(
        "attest",
        *extra,
        "--key",
        str(key),
        "--tlog-upload=false",
        *PLAIN,
        "--type",
        predicate_type,
        "--predicate",
        str(predicate),
        image.reference,
        password=password,
    )


def write_public(path: Path, key: keys.SigningKey) -> Path:
    path.write_bytes(keys.public_pem(key.public_key()))
    return path


def signed(
    image: Image, key: keys.SigningKey, predicate_type: str, predicate: dict[str, object]
) -> attest.Envelope:
    statement = attest.make_statement(
        f"{image.client.host}/{image.repository}", image.digest, predicate, predicate_type
    )
    return attest.sign(statement, key)


def attach(
    image: Image, envelopes: Sequence[tuple[attest.Envelope, str]]
) -> cosign.AttestationImage:
    """Append envelopes to the image's .att tag as cosign does (what was there is kept)."""
    tag = cosign.attestation_tag(image.digest)
    found = image.client.find_manifest(image.repository, tag)
    existing = cosign.parse_attestation_manifest(found.body or b"") if found else ()
    added = []
    for envelope, predicate_type in envelopes:
        blob = envelope.compact()
        image.client.push_blob(image.repository, blob)
        added.append(cosign.AttestationLayer.of(blob, predicate_type))
    att = cosign.attestation_image(cosign.merge_attestations(existing, added))
    image.client.push_blob(image.repository, att.config)
    image.client.put_manifest(image.repository, tag, att.manifest, OCI_MANIFEST)
    return att


def att_envelopes(image: Image) -> Iterator[tuple[str, bytes]]:
    """The envelopes in the image's .att tag, each checked against its descriptor."""
    tag = cosign.attestation_tag(image.digest)
    manifest = image.client.get_manifest(image.repository, tag).body or b""
    for layer in cosign.parse_attestation_manifest(manifest, tag):
        digest = layer.descriptor.digest
        data = image.client.get_blob(image.repository, digest)
        yield f"{tag} layer {digest}", layer.descriptor.check(data, digest)


def bundle_envelopes(image: Image) -> Iterator[tuple[str, bytes]]:
    """The envelopes in the image's Sigstore-bundle referrers (through the referrers tag)."""
    tag = artifacts.referrers_tag(image.digest)
    index = image.client.get_manifest(image.repository, tag).body or b""
    for descriptor in artifacts.parse_referrers_index(index, tag):
        manifest = image.client.get_manifest(image.repository, descriptor.digest).body or b""
        found = cosign.parse_bundle_referrer(descriptor.check(manifest, descriptor.digest))
        if found is None or found.subject != image.digest:
            continue
        data = found.layer.check(
            image.client.get_blob(image.repository, found.layer.digest), found.layer.digest
        )
        yield descriptor.digest, attest.parse_bundle(data, descriptor.digest).compact()


# -- cosign verifies repro ---------------------------------------------------------------


def test_cosign_verifies_what_repro_attaches_and_tree_lists_it(
    image: Image, tmp_path: Path
) -> None:
    release_key = keys.generate(keys.Algorithm.ECDSA_P256)
    slsa_key = keys.generate(keys.Algorithm.ED25519)
    release = signed(image, release_key, RELEASE_TYPE, {"version": "1.4.0"})
    provenance = signed(image, slsa_key, SLSA_TYPE, {"buildDefinition": {}, "runDetails": {}})
    att = attach(image, [(release, RELEASE_TYPE), (provenance, SLSA_TYPE)])
    release_pub = write_public(tmp_path / "release.pub", release_key)
    slsa_pub = write_public(tmp_path / "slsa.pub", slsa_key)

    verified = verify_attestation(image, release_pub, RELEASE_TYPE)
    assert verified.returncode == 0, verified.stderr
    assert "The signatures were verified against the specified public key" in verified.stderr
    assert attest.parse_envelope(verified.stdout.strip().encode()) == release
    # cosign's own name for SLSA v1, and an Ed25519 key.
    verified = verify_attestation(image, slsa_pub, "slsaprovenance1")
    assert verified.returncode == 0, verified.stderr
    assert attest.parse_envelope(verified.stdout.strip().encode()) == provenance

    wrong_type = verify_attestation(image, release_pub, SLSA_TYPE)
    assert wrong_type.returncode != 0
    assert (
        f"none of the attestations matched the predicate type: {SLSA_TYPE}, found: {RELEASE_TYPE}"
        in wrong_type.stderr
    )
    other = write_public(tmp_path / "other.pub", keys.generate())
    wrong_key = verify_attestation(image, other, RELEASE_TYPE)
    assert wrong_key.returncode != 0 and "no matching attestations" in wrong_key.stderr

    tree = run_cosign("tree", *PLAIN, image.reference)
    assert tree.returncode == 0, tree.stderr
    tag = cosign.attestation_tag(image.digest)
    assert (
        f"Attestations for an image tag: {image.client.host}/{image.repository}:{tag}"
        in tree.stdout
    )
    for layer in att.layers:
        assert layer.descriptor.digest in tree.stdout


def test_cosign_rejects_a_repro_attestation_about_another_image(
    image: Image, tmp_path: Path
) -> None:
    key = keys.generate()
    elsewhere = attest.sign(
        attest.make_statement("x", "sha256:" + "ab" * 32, {"version": "1"}, RELEASE_TYPE), key
    )
    attach(image, [(elsewhere, RELEASE_TYPE)])
    result = verify_attestation(image, write_public(tmp_path / "k.pub", key), RELEASE_TYPE)
    assert result.returncode != 0
    assert "no matching subject digest found" in result.stderr


def test_cosign_verifies_repros_oci_1_1_bundle_referrer(image: Image, tmp_path: Path) -> None:
    key = keys.generate()
    envelope = signed(image, key, SLSA_TYPE, {"buildDefinition": {}, "runDetails": {}})
    bundle = attest.bundle(envelope, key.public_key())
    manifest = cosign.bundle_referrer(
        bundle, predicate_type=SLSA_TYPE, subject=image.subject, created="2026-01-01T00:00:00Z"
    )
    client, repository = image.client, image.repository
    client.push_blob(repository, artifacts.EMPTY_CONFIG)
    client.push_blob(repository, bundle)
    digest = client.put_manifest(repository, artifacts.digest_of(manifest), manifest, OCI_MANIFEST)
    # This registry has no referrers API: list it in the referrers tag, as the spec says.
    referrer = artifacts.parse_referrer(manifest)
    tag = artifacts.referrers_tag(image.digest)
    found = client.find_manifest(repository, tag)
    listed = artifacts.parse_referrers_index(found.body or b"") if found else ()
    index = artifacts.referrers_index(artifacts.merge_referrers(listed, [referrer.descriptor]))
    client.put_manifest(repository, tag, index, OCI_INDEX)

    trusted_root = tmp_path / "trusted_root.json"
    trusted_root.write_text(EMPTY_TRUSTED_ROOT)
    public = write_public(tmp_path / "k.pub", key)
    bundle_flags = ("--new-bundle-format", "--trusted-root", str(trusted_root))
    verified = verify_attestation(image, public, SLSA_TYPE, *bundle_flags)
    assert verified.returncode == 0, verified.stderr
    other = write_public(tmp_path / "other.pub", keys.generate(keys.Algorithm.ED25519))
    assert verify_attestation(image, other, SLSA_TYPE, *bundle_flags).returncode != 0

    discovered = subprocess.run(
        ["oras", "discover", "--plain-http", "--format", "json", image.reference],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert discovered.returncode == 0, discovered.stderr
    listed_by_oras = json.loads(discovered.stdout)["manifests"]
    assert [(m["digest"], m["artifactType"]) for m in listed_by_oras] == [
        (digest, SIGSTORE_BUNDLE_V03)
    ]


# -- repro verifies cosign ---------------------------------------------------------------


def test_repro_verifies_what_cosign_attest_attaches(image: Image, tmp_path: Path) -> None:
    password = "cosign-compat-test"
    made = run_cosign("generate-key-pair", password=password, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    predicate = tmp_path / "release.json"
    predicate.write_text(json.dumps({"version": "2.0.0", "digest": image.digest}))
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"anything": true}')
    for path, predicate_type in [
        (predicate, RELEASE_TYPE),
        (unknown, "https://example.com/unknown/v1"),
    ]:
        attested = cosign_attest(
            image, tmp_path / "cosign.key", predicate_type, path, password=password
        )
        assert attested.returncode == 0, attested.stderr
    public = keys.load_public_key((tmp_path / "cosign.pub").read_bytes(), "cosign.pub")
    name, statement = attest.find_attestation(
        att_envelopes(image), public, digest=image.digest, predicate_type=RELEASE_TYPE, where="img"
    )
    assert statement.type == attest.STATEMENT_TYPE_V01  # what cosign writes
    assert statement.predicate == {"version": "2.0.0", "digest": image.digest}
    assert cosign.attestation_tag(image.digest) in name
    # A type nobody attested: a verdict naming what is there instead.
    with pytest.raises(VerdictError) as caught:
        attest.find_attestation(
            att_envelopes(image),
            public,
            digest=image.digest,
            predicate_type=attest.SIGNOFF_PREDICATE_TYPE,
            where=image.reference,
        )
    assert f"(found: {RELEASE_TYPE}; https://example.com/unknown/v1)" in caught.value.message
    # Another key verifies none of them.
    with pytest.raises(VerdictError, match="signed with another key"):
        attest.find_attestation(
            att_envelopes(image),
            keys.generate().public_key(),
            digest=image.digest,
            predicate_type=RELEASE_TYPE,
            where="img",
        )

    # repro signs with cosign's key (COSIGN_PASSWORD), and cosign verifies that too.
    key_file = (tmp_path / "cosign.key").read_bytes()
    with pytest.raises(InputError, match="wrong password for this encrypted key"):
        keys.load_private_key(key_file, "cosign.key", b"not it")
    cosign_key = keys.load_private_key(key_file, "cosign.key", password.encode())
    attach(image, [(signed(image, cosign_key, SLSA_TYPE, {"runDetails": {}}), SLSA_TYPE)])
    verified = verify_attestation(image, tmp_path / "cosign.pub", SLSA_TYPE)
    assert verified.returncode == 0, verified.stderr
    assert len(list(att_envelopes(image))) == 3  # cosign's two, kept, and repro's


def test_repro_verifies_cosigns_oci_1_1_bundle(image: Image, tmp_path: Path) -> None:
    password = "cosign-bundle-test"
    assert run_cosign("generate-key-pair", password=password, cwd=tmp_path).returncode == 0
    predicate = tmp_path / "p.json"
    predicate.write_text('{"bundled": true}')
    key = tmp_path / "cosign.key"
    attested = cosign_attest(
        image, key, SLSA_TYPE, predicate, "--new-bundle-format", password=password
    )
    assert attested.returncode == 0, attested.stderr
    public = keys.load_public_key((tmp_path / "cosign.pub").read_bytes(), "cosign.pub")
    _, statement = attest.find_attestation(
        bundle_envelopes(image), public, digest=image.digest, predicate_type=SLSA_TYPE, where="img"
    )
    assert statement.predicate == {"bundled": True}


@pytest.mark.parametrize("algorithm", list(keys.Algorithm))
def test_cosign_attest_signs_with_a_key_repro_made(
    image: Image, tmp_path: Path, algorithm: keys.Algorithm
) -> None:
    key = keys.generate(algorithm)
    key_path = tmp_path / "repro.key"
    key_path.write_bytes(keys.private_pem(key, b"repro-made"))
    key_path.chmod(0o600)
    predicate = tmp_path / "p.json"
    predicate.write_text(json.dumps({"algorithm": algorithm.value}))
    refused = cosign_attest(image, key_path, RELEASE_TYPE, predicate, password="wrong")
    assert refused.returncode != 0 and "decryption failed" in refused.stderr
    attested = cosign_attest(image, key_path, RELEASE_TYPE, predicate, password="repro-made")
    assert attested.returncode == 0, attested.stderr
    _, statement = attest.find_attestation(
        att_envelopes(image),
        key.public_key(),
        digest=image.digest,
        predicate_type=RELEASE_TYPE,
        where="img",
    )
    assert statement.predicate == {"algorithm": algorithm.value}
