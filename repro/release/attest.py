"""Signed release statements: in-toto Statement v1 in a DSSE envelope, Ed25519 keys.

Pure: bytes in, bytes and dataclasses out (no files, no network).

* The statement (``payloadType`` ``application/vnd.in-toto+json``)::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<registry/repository, or 'image'>",
                  "digest": {"sha256": "<hex of the image (index) digest>"}}],
     "predicateType": "https://repro.dev/release/v1",
     "predicate": <the [[release]] table of repro.lock, as JSON>}

  serialised as JSON with sorted keys and no whitespace.
* The envelope (DSSE v1, https://github.com/secure-systems-lab/dsse)::

    {"payload": "<base64 statement>", "payloadType": "application/vnd.in-toto+json",
     "signatures": [{"keyid": "<key id>", "sig": "<base64 Ed25519 signature over PAE>"}]}

  where PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
* A key id is ``sha256:`` and the hex SHA-256 of the raw 32-byte Ed25519 public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from repro.errors import InputError, VerdictError
from repro.jsonout import canonical_json
from repro.oci.mediatypes import IN_TOTO

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://repro.dev/release/v1"
# The predicate of a signed `repro signoff` report: the report's JSON document.
SIGNOFF_PREDICATE_TYPE = "https://repro.dev/signoff/v1"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: what a signature actually signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def make_statement(
    subject_name: str,
    digest: str,
    predicate: Mapping[str, Any],
    predicate_type: str = PREDICATE_TYPE,
) -> bytes:
    """The in-toto Statement v1 for the image ``digest`` (``sha256:<hex>``), serialised."""
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64:
        raise InputError(f"{digest!r} is not a sha256 digest")
    return canonical_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": subject_name, "digest": {"sha256": hexdigest}}],
            "predicateType": predicate_type,
            "predicate": dict(predicate),
        }
    )


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, indent=2).encode("utf-8") + b"\n"


def _b64decode(text: object, what: str) -> bytes:
    """Standard or URL-safe base64, as DSSE requires verifiers to accept either."""
    if not isinstance(text, str):
        raise VerdictError(f"the envelope's {what} is not a base64 string")
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerdictError(f"the envelope's {what} is not valid base64: {exc}") from exc


def parse_envelope(data: bytes, where: str = "the envelope") -> Envelope:
    """A DSSE envelope; anything malformed is a negative verdict (exit 1), not a crash."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerdictError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise VerdictError(f"{where} is not a DSSE envelope (not a JSON object)")
    payload_type = document.get("payloadType")
    if not isinstance(payload_type, str):
        raise VerdictError(f"{where} has no payloadType")
    raw_signatures = document.get("signatures")
    if not isinstance(raw_signatures, list) or not raw_signatures:
        raise VerdictError(f"{where} has no signatures")
    signatures = []
    for raw in raw_signatures:
        if not isinstance(raw, dict):
            raise VerdictError(f"{where}: a signature is not a JSON object")
        keyid = raw.get("keyid", "")
        signatures.append(
            Signature(
                keyid=keyid if isinstance(keyid, str) else "", sig=_b64decode(raw.get("sig"), "sig")
            )
        )
    return Envelope(
        payload_type=payload_type,
        payload=_b64decode(document.get("payload"), "payload"),
        signatures=tuple(signatures),
    )


# -- keys --------------------------------------------------------------------------------


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (private key PKCS#8 PEM, public key SubjectPublicKeyInfo PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_pem, public_pem(private.public_key())


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        # The message never includes the key material.
        raise InputError(
            f"{where} is not an unencrypted PEM private key",
            hint="create one with `repro keygen`",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{where} is not an Ed25519 key", hint="create one with `repro keygen`")
    return key


def load_public_key(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{where} is not an Ed25519 public key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def sign(payload: bytes, key: Ed25519PrivateKey, payload_type: str = IN_TOTO) -> Envelope:
    signature = key.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, (Signature(key_id(key.public_key()), signature),))


def verify_envelope(envelope: Envelope, key: Ed25519PublicKey) -> None:
    """Raise VerdictError unless a signature in ``envelope`` verifies with ``key``."""
    if envelope.payload_type != IN_TOTO:
        raise VerdictError(
            f"the envelope's payloadType is {envelope.payload_type!r}, not {IN_TOTO!r}"
        )
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        try:
            key.verify(signature.sig, message)
        except InvalidSignature:
            continue
        return
    ids = ", ".join(s.keyid or "(no keyid)" for s in envelope.signatures)
    raise VerdictError(
        f"the signature does not verify with key {key_id(key)} (signed by {ids}): "
        "the envelope was altered or signed with another key"
    )


# -- the statement against the record ----------------------------------------------------


def statement_mismatches(payload: bytes, digest: str, predicate: Mapping[str, Any]) -> list[str]:
    """What in the signed statement ``payload`` differs from the release record.

    ``digest`` is the image digest the record names; ``predicate`` its ``[[release]]``
    table. An empty list means the statement says exactly what repro.lock says.
    """
    try:
        statement = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"the signed payload is not JSON: {exc}"]
    if not isinstance(statement, dict):
        return ["the signed payload is not an in-toto statement"]
    problems: list[str] = []
    if statement.get("_type") != STATEMENT_TYPE:
        problems.append(f"_type is {statement.get('_type')!r}, not {STATEMENT_TYPE!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        problems.append(
            f"predicateType is {statement.get('predicateType')!r}, not {PREDICATE_TYPE!r}"
        )
    signed_digests = _subject_digests(statement.get("subject"))
    if digest not in signed_digests:
        shown = ", ".join(signed_digests) or "none"
        problems.append(f"subject digest: signed {shown}, repro.lock has {digest}")
    problems.extend(json_mismatches(statement.get("predicate"), dict(predicate), "predicate"))
    return problems


def _subject_digests(subjects: Any) -> list[str]:
    digests: list[str] = []
    for subject in subjects if isinstance(subjects, list) else []:
        found = subject.get("digest") if isinstance(subject, dict) else None
        value = found.get("sha256") if isinstance(found, dict) else None
        if isinstance(value, str):
            digests.append(f"sha256:{value}")
    return digests


def json_mismatches(signed: Any, recorded: Any, path: str) -> list[str]:
    """Every leaf where ``signed`` and ``recorded`` differ, as ``path: signed X, repro.lock Y``."""
    if isinstance(signed, dict) and isinstance(recorded, dict):
        found: list[str] = []
        for key in sorted(set(signed) | set(recorded)):
            found.extend(
                json_mismatches(
                    signed.get(key, _MISSING), recorded.get(key, _MISSING), f"{path}.{key}"
                )
            )
        return found
    if isinstance(signed, list) and isinstance(recorded, list) and len(signed) == len(recorded):
        found = []
        for index, (a, b) in enumerate(zip(signed, recorded, strict=True)):
            found.extend(json_mismatches(a, b, f"{path}[{index}]"))
        return found
    if signed == recorded:
        return []
    return [f"{path}: signed {_show(signed)}, repro.lock has {_show(recorded)}"]


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, list):
        return f"{len(value)} entries"
    return json.dumps(value) if not isinstance(value, dict) else "a table"
