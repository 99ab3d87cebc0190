"""DSSE / in-toto signing: the PAE known answer, signatures with both key types, tamper
detection, what an attestation must name, and envelopes the real cosign made."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from repro.errors import InputError, VerdictError
from repro.release import attest, keys

DIGEST = "sha256:" + "ab" * 32
PREDICATE = {"version": "1.0", "digest": DIGEST, "image": [{"layer": [{"digest": DIGEST}]}]}
COSIGN = Path(__file__).resolve().parents[1] / "fixtures" / "cosign"
# The image the cosign fixtures attest (tests/fixtures/cosign/README.md).
COSIGN_SUBJECT = "sha256:eb39652c15670129f51d76cab312f0c7a377c61d4707bffdf3f35ed2c33cb875"
ALGORITHMS = list(keys.Algorithm)


def test_pae_known_answer_from_the_dsse_spec() -> None:
    # protocol.md, "Test Vectors".
    assert (
        attest.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert attest.pae("", b"") == b"DSSEv1 0  0 "
    # LEN counts bytes, not characters.
    assert attest.pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"


def test_statement_is_in_toto_v1_with_the_index_digest_as_subject() -> None:
    statement = json.loads(attest.make_statement("r.io/app", DIGEST, PREDICATE))
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "r.io/app", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://repro.dev/release/v1",
        "predicate": PREDICATE,
    }
    with pytest.raises(InputError):
        attest.make_statement("x", "md5:00", PREDICATE)


def _signed(
    algorithm: keys.Algorithm = keys.Algorithm.ECDSA_P256,
) -> tuple[attest.Envelope, keys.SigningKey]:
    key = keys.generate(algorithm)
    return attest.sign(attest.make_statement("image", DIGEST, PREDICATE), key), key


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_envelope_round_trips_and_verifies_over_pae(algorithm: keys.Algorithm) -> None:
    envelope, key = _signed(algorithm)
    public = key.public_key()
    document = json.loads(envelope.dumps())
    assert document["payloadType"] == "application/vnd.in-toto+json"
    # The keyid is the SSH fingerprint: the one non-empty value sigstore-go accepts.
    assert document["signatures"][0]["keyid"] == keys.key_id(public)
    assert document["signatures"][0]["keyid"].startswith("SHA256:")
    # The signature is over PAE(type, payload), checked with the key directly.
    assert keys.verify_message(
        public,
        base64.b64decode(document["signatures"][0]["sig"]),
        attest.pae(document["payloadType"], base64.b64decode(document["payload"])),
    )
    for data in (envelope.dumps(), envelope.compact()):
        parsed = attest.parse_envelope(data)
        assert parsed == envelope
        assert attest.verify_envelope(parsed, public) == envelope.signatures[0]
    assert attest.statement_mismatches(envelope.payload, DIGEST, PREDICATE) == []


def test_ecdsa_signatures_are_asn1_der_as_cosign_expects() -> None:
    envelope, _ = _signed(keys.Algorithm.ECDSA_P256)
    signature = envelope.signatures[0].sig
    assert signature[0] == 0x30 and signature[1] == len(signature) - 2  # a DER SEQUENCE


def test_url_safe_base64_is_accepted() -> None:
    envelope, key = _signed()
    document = envelope.to_json()
    document["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
    parsed = attest.parse_envelope(json.dumps(document).encode())
    attest.verify_envelope(parsed, key.public_key())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("field", ["payload", "sig"])
def test_one_flipped_bit_fails_verification(algorithm: keys.Algorithm, field: str) -> None:
    envelope, key = _signed(algorithm)
    document = envelope.to_json()
    target = document if field == "payload" else document["signatures"][0]
    raw = bytearray(base64.b64decode(target[field]))
    raw[len(raw) // 2] ^= 0x01
    target[field] = base64.b64encode(bytes(raw)).decode()
    parsed = attest.parse_envelope(json.dumps(document).encode())
    with pytest.raises(VerdictError, match="does not verify"):
        attest.verify_envelope(parsed, key.public_key())


def test_another_key_fails_and_garbage_is_a_verdict_not_a_crash() -> None:
    envelope, _ = _signed()
    for algorithm in ALGORITHMS:  # another key of either type
        with pytest.raises(VerdictError, match="does not verify with key SHA256:"):
            attest.verify_envelope(envelope, keys.generate(algorithm).public_key())
    for garbage in (b"not json", b"[]", b'{"payloadType": "x"}', b'{"payload": "%%"}'):
        with pytest.raises(VerdictError):
            attest.parse_envelope(garbage)


def test_the_legacy_ed25519_key_repro_keygen_writes_still_signs() -> None:
    private_pem, public_pem = attest.generate_key()
    key = attest.load_private_key(private_pem, "k")
    envelope = attest.sign(attest.make_statement("image", DIGEST, PREDICATE), key)
    attest.verify_envelope(envelope, attest.load_public_key(public_pem, "p"))
    assert b"BEGIN PRIVATE KEY" in private_pem and b"PUBLIC KEY" in public_pem
    assert keys.algorithm_of(key) is keys.Algorithm.ED25519
    assert envelope.signatures[0].keyid == attest.key_id(key.public_key())
    assert attest.key_id(key.public_key()).startswith("SHA256:")
    with pytest.raises(InputError, match="holds a PUBLIC KEY, not a private key"):
        attest.load_private_key(public_pem, "k.pub")
    with pytest.raises(InputError):
        attest.load_public_key(private_pem, "k.key")


def test_mismatches_name_the_field_that_differs() -> None:
    payload = attest.make_statement("image", DIGEST, PREDICATE)
    other = "sha256:" + "cd" * 32
    changed = {**PREDICATE, "image": [{"layer": [{"digest": other}]}]}
    problems = attest.statement_mismatches(payload, other, changed)
    assert problems[0] == f"subject digest: signed {DIGEST}, repro.lock has {other}"
    assert problems[1].startswith("predicate.image[0].layer[0].digest: signed")
    assert other in problems[1]


# -- attestations: key, subject, predicate type ------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_attestation_verifies_for_its_image_and_type(algorithm: keys.Algorithm) -> None:
    envelope, key = _signed(algorithm)
    statement = attest.verify_attestation(
        envelope, key.public_key(), digest=DIGEST, predicate_type=attest.PREDICATE_TYPE
    )
    assert statement.predicate == PREDICATE
    assert statement.subject_digests == (DIGEST,)


def test_an_attestation_about_another_image_is_refused() -> None:
    envelope, key = _signed()
    other = "sha256:" + "cd" * 32
    with pytest.raises(VerdictError) as caught:
        attest.verify_attestation(
            envelope, key.public_key(), digest=other, predicate_type=attest.PREDICATE_TYPE
        )
    assert caught.value.message == f"the attestation is about {DIGEST}, not the image {other}"


def test_an_attestation_of_another_predicate_type_is_refused() -> None:
    envelope, key = _signed()
    with pytest.raises(VerdictError) as caught:
        attest.verify_attestation(
            envelope,
            key.public_key(),
            digest=DIGEST,
            predicate_type="https://slsa.dev/provenance/v1",
        )
    assert caught.value.message == (
        "the attestation is of predicate type 'https://repro.dev/release/v1', "
        "not 'https://slsa.dev/provenance/v1'"
    )


def test_a_payload_that_is_not_a_statement_is_a_verdict() -> None:
    key = keys.generate()
    for payload, message in [
        (b"[1]", "the signed payload is not a JSON object"),
        (b'{"_type": "https://example.com/x"}', "_type 'https://example.com/x'"),
        (b'{"_type": "https://in-toto.io/Statement/v1", "subject": []}', "no predicateType"),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "predicateType": "t", "subject": []}',
            "names no subject with a digest",
        ),
    ]:
        with pytest.raises(VerdictError, match=message):
            attest.verify_attestation(
                attest.sign(payload, key), key.public_key(), digest=DIGEST, predicate_type="t"
            )


# -- what the real cosign wrote ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "predicate_type"),
    [
        ("ecdsa", "https://repro.dev/test/ecdsa/v1"),
        ("ed25519", "https://repro.dev/test/ed25519/v1"),
    ],
)
def test_envelopes_cosign_attest_made_verify(name: str, predicate_type: str) -> None:
    data = (COSIGN / f"att-{name}.dsse.json").read_bytes()
    envelope = attest.parse_envelope(data, f"att-{name}.dsse.json")
    assert envelope.signatures[0].keyid == ""  # cosign names no key
    assert envelope.compact() == data  # and repro serialises an envelope exactly as cosign
    public = keys.load_public_key((COSIGN / f"{name}.pub").read_bytes(), f"{name}.pub")
    statement = attest.verify_attestation(
        envelope, public, digest=COSIGN_SUBJECT, predicate_type=predicate_type
    )
    assert statement.type == "https://in-toto.io/Statement/v0.1"
    assert statement.predicate == {"fixture": name, "tool": "cosign 2.5.0"}
    other = "ed25519" if name == "ecdsa" else "ecdsa"
    other_key = keys.load_public_key((COSIGN / f"{other}.pub").read_bytes(), "other.pub")
    with pytest.raises(VerdictError, match="signed with another key"):
        attest.verify_attestation(
            envelope, other_key, digest=COSIGN_SUBJECT, predicate_type=predicate_type
        )


def test_the_envelope_in_cosigns_bundle_verifies() -> None:
    envelope = attest.parse_bundle((COSIGN / "bundle.sigstore.json").read_bytes())
    public = keys.load_public_key((COSIGN / "ecdsa.pub").read_bytes(), "ecdsa.pub")
    statement = attest.verify_attestation(
        envelope, public, digest=COSIGN_SUBJECT, predicate_type="https://repro.dev/test/bundle/v1"
    )
    assert statement.predicate["fixture"] == "bundle"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_repro_bundles_round_trip_with_the_hint(algorithm: keys.Algorithm) -> None:
    envelope, key = _signed(algorithm)
    data = attest.bundle(envelope, key.public_key())
    document = json.loads(data)
    assert document["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert document["verificationMaterial"] == {
        "publicKey": {"hint": keys.sigstore_hint(key.public_key())}
    }
    assert attest.parse_bundle(data) == envelope
    two = attest.Envelope(envelope.payload_type, envelope.payload, envelope.signatures * 2)
    with pytest.raises(InputError, match="exactly one signature"):
        attest.bundle(two, key.public_key())
    for garbage in (b"{}", b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}'):
        with pytest.raises(VerdictError):
            attest.parse_bundle(garbage)


def test_find_attestation_passes_over_others_as_cosign_does() -> None:
    mine, key = _signed()
    theirs = (COSIGN / "att-ecdsa.dsse.json").read_bytes()  # another type, another signer
    other_image = attest.sign(attest.make_statement("image", "sha256:" + "cd" * 32, {}), key)
    layers = [("theirs", theirs), ("other", other_image.compact()), ("mine", mine.compact())]
    name, statement = attest.find_attestation(
        layers, key.public_key(), digest=DIGEST, predicate_type=attest.PREDICATE_TYPE, where="img"
    )
    assert name == "mine" and statement.predicate == PREDICATE
    with pytest.raises(VerdictError) as caught:
        attest.find_attestation(
            layers[:2],
            key.public_key(),
            digest=DIGEST,
            predicate_type=attest.PREDICATE_TYPE,
            where="img",
        )
    assert caught.value.message == (
        f"img: no attestation of type {attest.PREDICATE_TYPE} about {DIGEST} verifies with key "
        f"{keys.key_id(key.public_key())} (found: https://repro.dev/test/ecdsa/v1 (signed with "
        f"another key, or altered); {attest.PREDICATE_TYPE} (about another image))"
    )
    with pytest.raises(VerdictError, match=r"\(found: none\)"):
        attest.find_attestation(
            [], key.public_key(), digest=DIGEST, predicate_type="t", where="img"
        )


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "A" * 64,  # uppercase
        "sha256:" + "g" * 64,  # not hex
        "sha256:" + "a" * 63,
        "sha256:" + "a" * 65,
        "sha256:" + "a" * 31 + ":" + "a" * 32,  # 64 characters after the first colon
        "sha512:" + "a" * 64,
        " sha256:" + "a" * 64,
        "sha256:" + "a" * 64 + "\n",
    ],
)
def test_a_statement_rejects_digests_that_are_not_sha256_lowercase_hex(digest: str) -> None:
    with pytest.raises(InputError) as caught:
        attest.make_statement("image", digest, PREDICATE)
    assert caught.value.message == f"{digest!r} is not a sha256 digest"


# -- envelopes: every malformed field a verdict that names it ----------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[]", "env.json is not a JSON object"),
        (b'{"signatures": [{"sig": "AA=="}], "payload": "AA=="}', "env.json has no payloadType"),
        (b'{"payloadType": 1}', "env.json has no payloadType"),
        (b'{"payloadType": "t"}', "env.json has no signatures"),
        (b'{"payloadType": "t", "signatures": []}', "env.json has no signatures"),
        (b'{"payloadType": "t", "signatures": {}}', "env.json has no signatures"),
        (
            b'{"payloadType": "t", "signatures": ["x"]}',
            "env.json: a signature is not a JSON object",
        ),
        (b'{"payloadType": "t", "signatures": [{}]}', "the envelope's sig is not a base64 string"),
        (
            b'{"payloadType": "t", "signatures": [{"sig": 1}]}',
            "the envelope's sig is not a base64 string",
        ),
        (
            b'{"payloadType": "t", "signatures": [{"sig": "%%%"}]}',
            "the envelope's sig is not valid base64: Only base64 data is allowed",
        ),
        (
            b'{"payloadType": "t", "signatures": [{"sig": "AA=="}]}',
            "the envelope's payload is not a base64 string",
        ),
        (
            b'{"payloadType": "t", "signatures": [{"sig": "AA=="}], "payload": "aGk"}',
            "the envelope's payload is not valid base64: Incorrect padding",
        ),
        (
            b'{"payloadType": "t", "signatures": [{"sig": "AA=="}], "payload": "-"}',
            "the envelope's payload is not valid base64: Invalid base64-encoded string: number "
            "of data characters (1) cannot be 1 more than a multiple of 4",
        ),
    ],
)
def test_a_malformed_envelope_is_a_verdict_naming_the_field(data: bytes, message: str) -> None:
    with pytest.raises(VerdictError) as caught:
        attest.parse_envelope(data, "env.json")
    assert caught.value.message == message


def test_an_envelope_of_no_name_is_called_the_envelope() -> None:
    with pytest.raises(VerdictError) as caught:
        attest.parse_envelope(b"[]")
    assert caught.value.message == "the envelope is not a JSON object"


def test_an_envelope_keeps_each_signature_and_reads_url_safe_base64_without_padding() -> None:
    data = (
        b'{"payloadType": "t", "payload": "aGk=", '
        b'"signatures": [{"sig": "AA==", "keyid": 7}, {"sig": "-_8", "keyid": "k2"}, '
        b'{"sig": "_w"}, {"sig": "AAAAAAAA-w"}]}'
    )
    assert attest.parse_envelope(data) == attest.Envelope(
        "t",
        b"hi",
        (
            attest.Signature("", b"\x00"),  # a keyid that is not a string is no keyid
            attest.Signature("k2", b"\xfb\xff"),
            attest.Signature("", b"\xff"),
            attest.Signature("", b"\x00" * 6 + b"\xfb"),  # 10 characters: 2 "=" to add
        ),
    )


def test_an_envelope_is_written_sorted_and_indented_or_as_cosign_writes_it() -> None:
    envelope = attest.Envelope(
        "t", b"hi", (attest.Signature("k", b"\x00"), attest.Signature("", b"\xfb\xff"))
    )
    assert envelope.dumps() == (
        b'{\n  "payload": "aGk=",\n  "payloadType": "t",\n  "signatures": [\n    {\n'
        b'      "keyid": "k",\n      "sig": "AA=="\n    },\n    {\n      "keyid": "",\n'
        b'      "sig": "+/8="\n    }\n  ]\n}\n'
    )
    assert envelope.compact() == (
        b'{"payloadType":"t","payload":"aGk=","signatures":[{"keyid":"k","sig":"AA=="},'
        b'{"keyid":"","sig":"+/8="}]}'
    )


def test_verify_envelope_tries_every_signature_and_names_the_signers_when_none_verifies() -> None:
    envelope, key = _signed()
    other = keys.generate()
    forged = attest.Signature("", b"\x00" * 8)
    both = attest.Envelope(envelope.payload_type, envelope.payload, (forged, *envelope.signatures))
    assert attest.verify_envelope(both, key.public_key()) == envelope.signatures[0]
    with pytest.raises(VerdictError) as caught:
        attest.verify_envelope(both, other.public_key())
    assert caught.value.message == (
        f"the signature does not verify with key {keys.key_id(other.public_key())} (signed by "
        f"(no keyid), {keys.key_id(key.public_key())}): the envelope was altered or signed with "
        "another key"
    )
    retyped = attest.Envelope("application/json", envelope.payload, envelope.signatures)
    with pytest.raises(VerdictError) as caught:
        attest.verify_envelope(retyped, key.public_key())
    assert caught.value.message == (
        "the envelope's payloadType is 'application/json', not 'application/vnd.in-toto+json'"
    )


# -- statements: what is read, what is passed over ---------------------------------------


def _statement_bytes(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"_type": attest.STATEMENT_TYPE, "predicateType": "", "subject": []},
            "p.json has no predicateType",
        ),
        (
            {"_type": attest.STATEMENT_TYPE, "predicateType": 1, "subject": []},
            "p.json has no predicateType",
        ),
        (
            {"_type": attest.STATEMENT_TYPE, "predicateType": "t", "subject": "image"},
            "p.json names no subject with a digest",
        ),
        (
            {"_type": attest.STATEMENT_TYPE, "predicateType": "t", "subject": [{"name": "a"}]},
            "p.json names no subject with a digest",
        ),
        (
            {"_type": attest.STATEMENT_TYPE, "predicateType": "t"},
            "p.json names no subject with a digest",
        ),
        ({"predicateType": "t"}, "p.json is not an in-toto statement (_type None)"),
    ],
)
def test_a_statement_without_type_or_subject_is_a_verdict(document: object, message: str) -> None:
    with pytest.raises(VerdictError) as caught:
        attest.parse_statement(_statement_bytes(document), "p.json")
    assert caught.value.message == message


def test_a_statement_keeps_subjects_with_digests_and_their_string_values() -> None:
    document = {
        "_type": attest.STATEMENT_TYPE_V01,
        "predicateType": "t",
        "subject": [
            "image",
            {"name": "no digest"},
            {"name": 5, "digest": {"sha256": "ab", "sha512": 7, "md5": "cd"}},
            {"name": "b", "digest": {"sha512": "ff", "sha256": "ef"}},
        ],
        "predicate": [1],
    }
    statement = attest.parse_statement(_statement_bytes(document))
    assert statement == attest.Statement(
        type="https://in-toto.io/Statement/v0.1",
        subjects=(
            attest.Subject("", {"sha256": "ab", "md5": "cd"}),
            attest.Subject("b", {"sha512": "ff", "sha256": "ef"}),
        ),
        predicate_type="t",
        predicate={},  # a predicate that is not a table is none
    )
    assert statement.subject_digests == ("md5:cd", "sha256:ab", "sha256:ef", "sha512:ff")
    assert [statement.names(d) for d in ("sha256:ef", "sha512:ff", "sha256:ff", "ef")] == [
        True,
        True,
        False,
        False,
    ]


def test_statement_mismatches_name_every_field_the_signature_and_repro_lock_disagree_on() -> None:
    signed = {
        "_type": "https://example.com/Statement",
        "predicateType": "https://example.com/other",
        "subject": [{"digest": {"sha512": "a"}}, "image"],
        "predicate": {
            "a": [1, 2],
            "b": {"c": 1},
            "d": "x",
            "e": [1],
            "api_token": "s3cret",
            "f": {"g": 1},
        },
    }
    recorded = {
        "a": [1],
        "b": {"c": 2},
        "d": {"x": 1},
        "e": [2],
        "api_token": "other",
        "h": None,
        "f": 3,
    }
    assert attest.statement_mismatches(_statement_bytes(signed), DIGEST, recorded) == [
        "_type is 'https://example.com/Statement', not 'https://in-toto.io/Statement/v1'",
        "predicateType is 'https://example.com/other', not 'https://repro.dev/release/v1'",
        f"subject digest: signed none, repro.lock has {DIGEST}",
        "predicate.a: signed 2 entries, repro.lock has 1 entries",
        'predicate.api_token: signed "sha256:1ec1c26b\\u2026(6 chars)", '
        'repro.lock has "sha256:d9298a10\\u2026(5 chars)"',  # a secret is never shown
        "predicate.b.c: signed 1, repro.lock has 2",
        'predicate.d: signed "x", repro.lock has a table',
        "predicate.e[0]: signed 1, repro.lock has 2",
        "predicate.f: signed a table, repro.lock has 3",
        "predicate.h: signed (absent), repro.lock has null",
    ]
    assert attest.statement_mismatches(b"nope", DIGEST, {}) == [
        "the signed payload is not valid JSON: Expecting value: line 1 column 1 (char 0)"
    ]


def test_statement_mismatches_accept_cosigns_statement_type_and_any_subject_of_the_digest() -> None:
    signed = {
        "_type": attest.STATEMENT_TYPE_V01,
        "predicateType": attest.PREDICATE_TYPE,
        "subject": [{"digest": {"sha256": "cd" * 32}}, {"digest": {"sha256": "ab" * 32}}],
        "predicate": PREDICATE,
    }
    assert attest.statement_mismatches(_statement_bytes(signed), DIGEST, PREDICATE) == []
    assert attest.statement_mismatches(
        _statement_bytes(signed), "sha256:" + "ab" * 31 + "ac", PREDICATE
    ) == [
        f"subject digest: signed sha256:{'cd' * 32}, sha256:{'ab' * 32}, repro.lock has "
        f"sha256:{'ab' * 31}ac"
    ]


def test_a_secret_that_only_one_side_has_is_masked_too() -> None:
    assert attest.json_mismatches({"PASSWORD": "hunter22"}, {}, "predicate.build_args") == [
        'predicate.build_args.PASSWORD: signed "sha256:20d2fe5e\\u2026(8 chars)", '
        "repro.lock has (absent)"
    ]
    assert attest.json_mismatches({"x": {"PASSWORD": "hunter22"}}, {"x": {"PASSWORD": 5}}, "p") == [
        'p.x.PASSWORD: signed "sha256:20d2fe5e\\u2026(8 chars)", repro.lock has 5'
    ]


def test_find_attestation_says_why_each_layer_did_not_qualify() -> None:
    key = keys.generate()
    mine = attest.sign(attest.make_statement("image", DIGEST, {"version": "1.0"}), key)
    provenance = attest.make_statement("image", DIGEST, {}, "https://slsa.dev/provenance/v1")
    layers = [
        ("garbage", b"{"),
        ("slsa", attest.sign(provenance, key).compact()),
        ("junk", attest.sign(b"[1]", key).compact()),
        ("mine", mine.compact()),
    ]

    def find(accept: Callable[[attest.Statement], str | None]) -> tuple[str, attest.Statement]:
        return attest.find_attestation(
            layers,
            key.public_key(),
            digest=DIGEST,
            predicate_type=attest.PREDICATE_TYPE,
            where="img",
            accept=accept,
        )

    with pytest.raises(VerdictError) as caught:
        find(lambda _: "version 1.0, not 2.0")
    assert caught.value.message == (
        f"img: no attestation of type {attest.PREDICATE_TYPE} about {DIGEST} verifies with key "
        f"{keys.key_id(key.public_key())} (found: garbage is not valid JSON: Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1); "
        "https://slsa.dev/provenance/v1; the signed payload is not a JSON object; "
        f"{attest.PREDICATE_TYPE} (version 1.0, not 2.0))"
    )
    name, statement = find(lambda _: None)
    assert (name, statement.predicate) == ("mine", {"version": "1.0"})


def test_a_bundle_without_a_known_key_has_no_hint_and_malformed_bundles_are_verdicts() -> None:
    envelope = attest.Envelope("t", b"hi", (attest.Signature("k", b"\x00"),))
    assert attest.bundle(envelope, None) == (
        b'{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",'
        b'"verificationMaterial":{"publicKey":{}},'
        b'"dsseEnvelope":{"payload":"aGk=","payloadType":"t",'
        b'"signatures":[{"keyid":"k","sig":"AA=="}]}}'
    )
    with pytest.raises(InputError) as refused:
        attest.bundle(attest.Envelope("t", b"", ()), None)
    assert refused.value.message == "a Sigstore bundle holds an envelope with exactly one signature"
    v01 = b'{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1", '
    for data, message in [
        (b'{"mediaType": 5}', "b.json is not a Sigstore bundle (mediaType 5)"),
        (
            b'{"mediaType": "application/json"}',
            "b.json is not a Sigstore bundle (mediaType 'application/json')",
        ),
        (v01 + b'"messageSignature": {}}', "b.json holds a message signature, not a DSSE envelope"),
        (v01 + b'"dsseEnvelope": {"payloadType": "t"}}', "b.json has no signatures"),
    ]:
        with pytest.raises(VerdictError) as caught:
            attest.parse_bundle(data, "b.json")
        assert caught.value.message == message


def test_an_encrypted_cosign_key_signs_with_its_password_and_is_refused_without() -> None:
    key = keys.generate()
    sealed = keys.private_pem(key, b"correct horse")
    loaded = attest.load_private_key(sealed, "cosign.key", b"correct horse")
    envelope = attest.sign(attest.make_statement("image", DIGEST, PREDICATE), loaded)
    assert attest.verify_envelope(envelope, key.public_key()) == envelope.signatures[0]
    with pytest.raises(InputError) as caught:
        attest.load_private_key(sealed, "cosign.key")
    assert caught.value.message == "cosign.key is encrypted and no password was given"


def test_find_attestation_passes_over_a_refused_version_to_the_one_accepted() -> None:
    key = keys.generate()
    old, new = (
        attest.sign(attest.make_statement("image", DIGEST, {"version": v}), key).compact()
        for v in ("1.0", "2.0")
    )

    def wanted(statement: attest.Statement) -> str | None:
        version = statement.predicate["version"]
        return None if version == "2.0" else f"version {version}, not 2.0"

    name, statement = attest.find_attestation(
        [("old", old), ("new", new)],
        key.public_key(),
        digest=DIGEST,
        predicate_type=attest.PREDICATE_TYPE,
        where="img",
        accept=wanted,
    )
    assert (name, statement.predicate) == ("new", {"version": "2.0"})


def test_an_attestation_about_two_other_images_names_both() -> None:
    key = keys.generate()
    payload = _statement_bytes(
        {
            "_type": attest.STATEMENT_TYPE,
            "predicateType": "t",
            "subject": [{"digest": {"sha256": "cd" * 32}}, {"digest": {"sha256": "ef" * 32}}],
        }
    )
    with pytest.raises(VerdictError) as caught:
        attest.verify_attestation(
            attest.sign(payload, key), key.public_key(), digest=DIGEST, predicate_type="t"
        )
    assert caught.value.message == (
        f"the attestation is about sha256:{'cd' * 32}, sha256:{'ef' * 32}, not the image {DIGEST}"
    )
