"""Publishing a release's signed statements and finding them again, against the in-memory
registry, on both paths: a registry with the OCI 1.1 referrers API, and one without it
(the referrers tag schema). cosign's .att tag is written and read on both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.errors import VerdictError
from repro.lockfile import Release, parse_lockfile, releases_of
from repro.oci import artifacts, cosign
from repro.oci.mediatypes import OCI_INDEX, OCI_MANIFEST, SIGSTORE_BUNDLE_V03
from repro.registry.referrers import ArtifactRegistry
from repro.release import attest, keys, slsa
from repro.release.keys import SigningKey
from repro.release.service import (
    ReleaseRequest,
    attach_signoff,
    check_release,
    publish,
    run_release,
    show_release,
)
from repro.verify.service import VerifyOptions
from tests.unit.fakes import FakeBuilder, FakeClock, FakeRegistry, FakeSourceControl, git_project

IMAGE = "registry.example/team/app"
REPOSITORY = "team/app"
TYPES = [attest.PREDICATE_TYPE, slsa.PREDICATE_TYPE]


@dataclass
class Released:
    lockfile: Path
    release: Release
    store: FakeRegistry
    registry: ArtifactRegistry
    key: SigningKey

    @property
    def reference(self) -> str:
        return f"{IMAGE}:1.4.0"

    def publish(self, key: SigningKey | None = None) -> Any:
        return publish(self.lockfile, "1.4.0", self.reference, key or self.key, self.registry)

    def check(self, key: keys.VerifyingKey | None = None) -> Any:
        public = key or self.key.public_key()
        return check_release(self.lockfile, "1.4.0", public, self.reference, self.registry)

    def manifest(self, reference: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            self.store.get_manifest(REPOSITORY, reference).body or b""
        )
        return found

    def att_layers(self) -> tuple[cosign.AttestationLayer, ...]:
        body = self.store.get_manifest(REPOSITORY, cosign.attestation_tag(self.release.digest))
        return cosign.parse_attestation_manifest(body.body or b"")

    def att_statements(self) -> list[attest.Statement]:
        return [
            attest.parse_statement(
                attest.parse_envelope(
                    self.store.get_blob(REPOSITORY, layer.descriptor.digest)
                ).payload
            )
            for layer in self.att_layers()
        ]

    def put_att(self, envelopes: list[tuple[attest.Envelope, str]]) -> None:
        """Attach ``envelopes`` to the .att tag as `cosign attest` does (appending)."""
        tag = cosign.attestation_tag(self.release.digest)
        found = self.store.find_manifest(REPOSITORY, tag)
        existing = cosign.parse_attestation_manifest(found.body or b"") if found else ()
        added = []
        for envelope, predicate_type in envelopes:
            blob = envelope.compact()
            self.store.push_blob(REPOSITORY, blob)
            added.append(cosign.AttestationLayer.of(blob, predicate_type))
        image = cosign.attestation_image(cosign.merge_attestations(existing, added))
        self.store.push_blob(REPOSITORY, image.config)
        self.store.put_manifest(REPOSITORY, tag, image.manifest, OCI_MANIFEST)


def _released(tmp_path: Path, *, api: bool, sign: bool = False, push: bool = True) -> Released:
    store = FakeRegistry(referrers_api=api)
    registry = ArtifactRegistry(lambda _registry: store, push_archive=store.push_archive)
    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    key = keys.generate()
    run_release(
        ReleaseRequest(
            "1.4.0",
            VerifyOptions(context=project),
            push=f"{IMAGE}:1.4.0" if push else None,
            sign_key=key if sign else None,
        ),
        builder=builder,
        engine=builder,
        source_control=FakeSourceControl(remote="https://git.example/team/app"),
        clock=FakeClock(),
        registry=registry,
    )
    lockfile = project / "repro.lock"
    release = releases_of(parse_lockfile(lockfile.read_text()))["1.4.0"]
    return Released(lockfile, release, store, registry, key)


def _statement(released: Released, predicate: dict[str, Any], predicate_type: str) -> bytes:
    return attest.make_statement(IMAGE, released.release.digest, predicate, predicate_type)


def _cosign_envelope(payload: bytes, key: SigningKey) -> attest.Envelope:
    """What `cosign attest` signs: keyid empty, Statement v0.1."""
    envelope = attest.sign(payload, key)
    return attest.Envelope(
        envelope.payload_type, envelope.payload, (attest.Signature("", envelope.signatures[0].sig),)
    )


@pytest.mark.parametrize("api", [False, True], ids=["referrers-tag", "referrers-api"])
def test_publish_attaches_every_statement_as_cosign_and_the_referrers_api_do(
    tmp_path: Path, api: bool
) -> None:
    released = _released(tmp_path, api=api)
    digest = released.release.digest
    report = json.dumps({"kind": "signoff", "verdict": "pass"}).encode()
    attach_signoff(released.lockfile.parent, "1.4.0", digest, report)

    outcome = released.publish()

    publication = outcome.publication
    types = [*TYPES, attest.SIGNOFF_PREDICATE_TYPE]
    assert [s.predicate_type for s in publication.statements] == types
    # cosign's .att tag: one DSSE layer per statement, each about the image, each verifying.
    assert [layer.predicate_type for layer in released.att_layers()] == types
    for statement in released.att_statements():
        assert statement.names(digest)
    assert released.att_statements()[2].predicate == {"kind": "signoff", "verdict": "pass"}
    # OCI 1.1: a Sigstore-bundle referrer per statement, listed by the API or the tag.
    tag = artifacts.referrers_tag(digest)
    if api:
        listed = artifacts.parse_referrers_index(
            released.store.referrers(REPOSITORY, digest) or b""
        )
        assert released.store.find_manifest(REPOSITORY, tag) is None  # no tag written
        assert {s.listed_by for s in publication.statements} == {"the referrers API"}
    else:
        listed = artifacts.parse_referrers_index(
            released.store.get_manifest(REPOSITORY, tag).body or b""
        )
        assert {s.listed_by for s in publication.statements} == {"the referrers tag"}
    assert sorted(d.digest for d in listed) == sorted(s.referrer for s in publication.statements)
    assert publication.referrers_listed == 3
    for descriptor in listed:
        assert descriptor.artifact_type == SIGSTORE_BUNDLE_V03
        manifest = released.manifest(descriptor.digest)
        assert manifest["subject"]["digest"] == digest
        assert manifest["annotations"]["dev.sigstore.bundle.predicateType"] in types
        assert descriptor.annotations == manifest["annotations"]

    # verify-release --from finds the release statement through the registry alone.
    check = released.check()
    assert check.ok, check.problems
    assert check.source.endswith(f"(from {publication.statements[0].listed_by})")
    assert [(o.predicate_type, o.where is not None) for o in check.others] == [
        (slsa.PREDICATE_TYPE, True),
        (attest.SIGNOFF_PREDICATE_TYPE, True),
    ]
    # Where they went is recorded, and `repro show` tells it.
    view = show_release(released.lockfile, "1.4.0", released.key.public_key())
    assert [(s.name, s.verified) for s in view.statements] == [
        ("release", True),
        ("provenance", True),
        ("signoff", True),
    ]
    assert view.publications.published == (publication,)

    # Publishing again puts the same bytes: nothing piles up, on either path.
    again = released.publish().publication
    assert again.statements == publication.statements
    assert len(released.att_layers()) == 3 and again.referrers_listed == 3


def test_republishing_after_a_new_record_replaces_repros_own_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    released = _released(tmp_path, api=False)
    digest = released.release.digest
    # Someone else attached an attestation and a referrer first.
    other_key = keys.generate(keys.Algorithm.ED25519)
    theirs = _cosign_envelope(
        _statement(released, {"scanned": True}, "https://example.com/scan/v1"), other_key
    )
    released.put_att([(theirs, "https://example.com/scan/v1")])
    foreign = artifacts.artifact_manifest(
        artifact_type="application/vnd.example.sbom",
        layers=[],
        subject=artifacts.Descriptor(OCI_MANIFEST, digest, 1),
    )
    released.store.put_manifest(REPOSITORY, artifacts.digest_of(foreign), foreign, OCI_MANIFEST)
    tag = artifacts.referrers_tag(digest)
    listed = artifacts.parse_referrer(foreign).descriptor
    released.store.put_manifest(REPOSITORY, tag, artifacts.referrers_index([listed]), OCI_INDEX)

    first = released.publish().publication
    # A new signature of the release statement (as after `repro release --replace`):
    # publishing it replaces repro's earlier one instead of listing both.
    (released.lockfile.parent / ".repro/releases/1.4.0.dsse.json").unlink()
    second = released.publish().publication
    assert second.statements[0].referrer != first.statements[0].referrer
    assert second.statements[1] == first.statements[1]  # the provenance, signed once

    statements = released.att_statements()
    assert [s.predicate_type for s in statements] == [
        "https://example.com/scan/v1",  # theirs, kept as found
        attest.PREDICATE_TYPE,
        slsa.PREDICATE_TYPE,
    ]
    assert len(released.att_layers()) == 3
    index = artifacts.parse_referrers_index(
        released.store.get_manifest(REPOSITORY, tag).body or b""
    )
    assert [d.digest for d in index] == [
        listed.digest,  # theirs, kept
        second.statements[0].referrer,
        second.statements[1].referrer,
    ]


def test_release_with_push_and_sign_publishes_beside_the_image(tmp_path: Path) -> None:
    released = _released(tmp_path, api=True, sign=True)
    assert [s.predicate_type for s in released.att_statements()] == TYPES
    assert released.check().ok


def test_verify_release_from_an_image_attested_with_cosign_attest(tmp_path: Path) -> None:
    released = _released(tmp_path, api=False)
    cosign_key = keys.generate()
    payload = json.loads(_statement(released, released.release.to_toml(), attest.PREDICATE_TYPE))
    payload["_type"] = attest.STATEMENT_TYPE_V01
    envelope = _cosign_envelope(json.dumps(payload).encode(), cosign_key)
    released.put_att([(envelope, attest.PREDICATE_TYPE)])

    check = released.check(cosign_key.public_key())
    assert check.ok, check.problems
    assert cosign.attestation_tag(released.release.digest) in check.source
    # Nothing else is there: said, not a failure of the release check.
    assert all(other.where is None for other in check.others)


def test_discovery_asks_the_referrers_api_and_never_reads_a_stale_tag(tmp_path: Path) -> None:
    released = _released(tmp_path, api=True)
    released.publish()
    # A referrers tag left over from before the registry had the API, listing junk: with
    # the API answering, it is never read (reading it would fail: no such manifest).
    tag = artifacts.referrers_tag(released.release.digest)
    junk = artifacts.Descriptor(OCI_MANIFEST, "sha256:" + "0" * 64, 10)
    released.store.put_manifest(REPOSITORY, tag, artifacts.referrers_index([junk]), OCI_INDEX)
    requests = released.store.referrer_requests
    assert released.check().ok
    assert released.store.referrer_requests > requests


@pytest.mark.parametrize(
    ("attach", "reason"),
    [
        ("other-key", "(signed with another key, or altered)"),
        ("other-subject", "(about another image)"),
        ("tampered", "(signed with another key, or altered)"),
        ("unknown-predicate", "https://example.com/unknown/v1"),
        ("other-version", "(release 9.9.9, not 1.4.0)"),
    ],
)
def test_what_does_not_qualify_is_a_one_line_verdict(
    tmp_path: Path, attach: str, reason: str
) -> None:
    released = _released(tmp_path, api=False)
    key, predicate = released.key, released.release.to_toml()
    payload = _statement(released, predicate, attest.PREDICATE_TYPE)
    if attach == "other-key":
        envelope = attest.sign(payload, keys.generate())
    elif attach == "other-subject":
        elsewhere = attest.make_statement(IMAGE, "sha256:" + "ab" * 32, predicate)
        envelope = attest.sign(elsewhere, key)
    elif attach == "tampered":
        signed = attest.sign(payload, key)
        envelope = attest.Envelope(
            signed.payload_type, payload.replace(b"1.4.0", b"1.4.1"), signed.signatures
        )
    elif attach == "unknown-predicate":
        envelope = attest.sign(
            _statement(released, {"x": 1}, "https://example.com/unknown/v1"), key
        )
    else:
        envelope = attest.sign(
            _statement(released, {**predicate, "version": "9.9.9"}, attest.PREDICATE_TYPE), key
        )
    released.put_att([(envelope, attest.PREDICATE_TYPE)])

    with pytest.raises(VerdictError) as raised:
        released.check()
    message = raised.value.message
    assert "\n" not in message and reason in message
    assert f"no attestation of type {attest.PREDICATE_TYPE}" in message
