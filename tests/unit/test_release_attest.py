"""DSSE / in-toto signing: the PAE known answer, signatures, and tamper detection."""

from __future__ import annotations

import base64
import json

import pytest

from repro.errors import InputError, VerdictError
from repro.release import attest

DIGEST = "sha256:" + "ab" * 32
PREDICATE = {"version": "1.0", "digest": DIGEST, "image": [{"layer": [{"digest": DIGEST}]}]}


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


def _signed() -> tuple[attest.Envelope, bytes, bytes]:
    private_pem, public_pem = attest.generate_key()
    key = attest.load_private_key(private_pem, "k")
    envelope = attest.sign(attest.make_statement("image", DIGEST, PREDICATE), key)
    return envelope, private_pem, public_pem


def test_envelope_round_trips_and_verifies_over_pae() -> None:
    envelope, _, public_pem = _signed()
    public = attest.load_public_key(public_pem, "p")
    document = json.loads(envelope.dumps())
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert document["signatures"][0]["keyid"] == attest.key_id(public)
    # The signature is over PAE(type, payload), checked with the key directly.
    public.verify(
        base64.b64decode(document["signatures"][0]["sig"]),
        attest.pae(document["payloadType"], base64.b64decode(document["payload"])),
    )
    parsed = attest.parse_envelope(envelope.dumps())
    assert parsed == envelope
    attest.verify_envelope(parsed, public)
    assert attest.statement_mismatches(parsed.payload, DIGEST, PREDICATE) == []


def test_url_safe_base64_is_accepted() -> None:
    envelope, _, public_pem = _signed()
    document = envelope.to_json()
    document["payload"] = base64.urlsafe_b64encode(envelope.payload).decode().rstrip("=")
    parsed = attest.parse_envelope(json.dumps(document).encode())
    attest.verify_envelope(parsed, attest.load_public_key(public_pem, "p"))


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_one_flipped_character_fails_verification(field: str) -> None:
    envelope, _, public_pem = _signed()
    document = envelope.to_json()
    target = document if field == "payload" else document["signatures"][0]
    text = target[field]
    raw = bytearray(base64.b64decode(text))
    raw[len(raw) // 2] ^= 0x01
    target[field] = base64.b64encode(bytes(raw)).decode()
    parsed = attest.parse_envelope(json.dumps(document).encode())
    with pytest.raises(VerdictError, match="does not verify"):
        attest.verify_envelope(parsed, attest.load_public_key(public_pem, "p"))


def test_another_key_fails_and_garbage_is_a_verdict_not_a_crash() -> None:
    envelope, _, _ = _signed()
    _, other = attest.generate_key()
    with pytest.raises(VerdictError, match="does not verify"):
        attest.verify_envelope(envelope, attest.load_public_key(other, "p"))
    for garbage in (b"not json", b"[]", b'{"payloadType": "x"}', b'{"payload": "%%"}'):
        with pytest.raises(VerdictError):
            attest.parse_envelope(garbage)


def test_mismatches_name_the_field_that_differs() -> None:
    payload = attest.make_statement("image", DIGEST, PREDICATE)
    other = "sha256:" + "cd" * 32
    changed = {**PREDICATE, "image": [{"layer": [{"digest": other}]}]}
    problems = attest.statement_mismatches(payload, other, changed)
    assert problems[0] == f"subject digest: signed {DIGEST}, repro.lock has {other}"
    assert problems[1].startswith("predicate.image[0].layer[0].digest: signed")
    assert other in problems[1]


def test_key_files_are_checked() -> None:
    private_pem, public_pem = attest.generate_key()
    with pytest.raises(InputError, match="holds a PUBLIC KEY, not a private key"):
        attest.load_private_key(public_pem, "k.pub")
    with pytest.raises(InputError):
        attest.load_public_key(private_pem, "k.key")
    assert b"PRIVATE KEY" in private_pem and b"PUBLIC KEY" in public_pem
