"""Signed statements: in-toto Statements in DSSE envelopes, as cosign writes and reads them.

Pure: bytes in, bytes and dataclasses out (no files, no network). Keys are repro.release.keys
(ECDSA P-256 or Ed25519).

* The statement (``payloadType`` ``application/vnd.in-toto+json``)::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "<registry/repository, or 'image'>",
                  "digest": {"sha256": "<hex of the image (index) digest>"}}],
     "predicateType": "https://repro.dev/release/v1",
     "predicate": <the [[release]] table of repro.lock, as JSON>}

  serialised as JSON with sorted keys and no whitespace. ``cosign attest`` writes
  ``_type`` ``https://in-toto.io/Statement/v0.1`` with the same fields; both are read.
* The envelope (DSSE v1, https://github.com/secure-systems-lab/dsse)::

    {"payloadType": "application/vnd.in-toto+json", "payload": "<base64 statement>",
     "signatures": [{"keyid": "<key id>", "sig": "<base64 signature over PAE>"}]}

  where PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, and the
  signature is ECDSA P-256 over SHA-256 (ASN.1 DER) or Ed25519 (see keys.py). cosign
  writes ``"keyid": ""``; repro writes the key's SSH SHA-256 fingerprint, the one value
  besides "" that sigstore-go's verifier does not skip. Verifiers ignore the keyid here:
  every signature is tried with the key given.
* A Sigstore bundle v0.3 (cosign's ``--new-bundle-format``, the OCI 1.1 referrer form)
  wraps one envelope: ``{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {"publicKey": {"hint": "<base64 SHA-256 of the DER public
  key>"}}, "dsseEnvelope": <the envelope>}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.errors import InputError, VerdictError
from repro.jsonout import canonical_json, go_json, load_object
from repro.masking import is_secret_key, mask_value
from repro.oci.digests import is_sha256_digest
from repro.oci.mediatypes import IN_TOTO, SIGSTORE_BUNDLE_V03
from repro.release import keys
from repro.release.keys import SigningKey, VerifyingKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# What `cosign attest` writes (in-toto-golang's Statement); same fields as v1.
STATEMENT_TYPE_V01 = "https://in-toto.io/Statement/v0.1"
STATEMENT_TYPES = (STATEMENT_TYPE, STATEMENT_TYPE_V01)
PREDICATE_TYPE = "https://repro.dev/release/v1"
# The predicate of a signed `repro signoff` report: the report's JSON document.
SIGNOFF_PREDICATE_TYPE = "https://repro.dev/signoff/v1"


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: what a signature actually signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def sha256_hex(digest: str) -> str:
    """The hex of ``sha256:<64 lowercase hex>``, as a statement's DigestSet holds it."""
    if not is_sha256_digest(digest):
        raise InputError(f"{digest!r} is not a sha256 digest")
    return digest.removeprefix("sha256:")


def make_statement(
    subject_name: str,
    digest: str,
    predicate: Mapping[str, Any],
    predicate_type: str = PREDICATE_TYPE,
) -> bytes:
    """The in-toto Statement v1 for the image ``digest`` (``sha256:<hex>``), serialised."""
    return canonical_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": subject_name, "digest": {"sha256": sha256_hex(digest)}}],
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
        """The envelope file repro stores next to repro.lock (sorted, indented)."""
        return json.dumps(self.to_json(), sort_keys=True, indent=2).encode("utf-8") + b"\n"

    def compact(self) -> bytes:
        """The envelope as cosign serialises it (Go field order, no whitespace): the layer
        blob of an attestation."""
        document = {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }
        return go_json(document)


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
    document = load_object(data, where)  # malformed or hostile: a negative verdict
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
        keyid = raw.get("keyid")
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


# -- signing and verifying --------------------------------------------------------------


def generate_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (unencrypted PKCS#8 PEM, SubjectPublicKeyInfo PEM).

    What `repro keygen` writes today; cosign cannot use an unencrypted key with --key, so
    keygen moves to keys.generate + keys.private_pem (ECDSA P-256, ENCRYPTED SIGSTORE
    PRIVATE KEY, password from COSIGN_PASSWORD) when the CLI is rewired.
    """
    private = keys.generate(keys.Algorithm.ED25519)
    return keys.unencrypted_pem(private), keys.public_pem(private.public_key())


def load_private_key(data: bytes, where: str, password: bytes | None = None) -> SigningKey:
    return keys.load_private_key(data, where, password)


def load_public_key(data: bytes, where: str) -> VerifyingKey:
    return keys.load_public_key(data, where)


def key_id(key: VerifyingKey) -> str:
    return keys.key_id(key)


def sign(payload: bytes, key: SigningKey, payload_type: str = IN_TOTO) -> Envelope:
    signature = keys.sign_message(key, pae(payload_type, payload))
    return Envelope(payload_type, payload, (Signature(keys.key_id(key.public_key()), signature),))


def verify_envelope(envelope: Envelope, key: VerifyingKey) -> Signature:
    """The signature in ``envelope`` that verifies with ``key``; VerdictError when none does."""
    if envelope.payload_type != IN_TOTO:
        raise VerdictError(
            f"the envelope's payloadType is {envelope.payload_type!r}, not {IN_TOTO!r}"
        )
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        if keys.verify_message(key, signature.sig, message):
            return signature
    ids = ", ".join(s.keyid or "(no keyid)" for s in envelope.signatures)
    raise VerdictError(
        f"the signature does not verify with key {keys.key_id(key)} (signed by {ids}): "
        "the envelope was altered or signed with another key"
    )


# -- statements --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    name: str
    digests: Mapping[str, str]  # algorithm -> lowercase hex, as the DigestSet gives it


@dataclass(frozen=True)
class Statement:
    """An in-toto Statement (v1, or cosign's v0.1) as signed."""

    type: str
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    def names(self, digest: str) -> bool:
        """Whether a subject is the artifact ``digest`` (``sha256:<hex>``), by digest only,
        as the in-toto spec and cosign's claim check match subjects."""
        algorithm, _, hexdigest = digest.partition(":")
        return any(subject.digests.get(algorithm) == hexdigest for subject in self.subjects)

    @property
    def subject_digests(self) -> tuple[str, ...]:
        return tuple(
            f"{algorithm}:{value}"
            for subject in self.subjects
            for algorithm, value in sorted(subject.digests.items())
        )


def parse_statement(payload: bytes, where: str = "the signed payload") -> Statement:
    """The statement an envelope signs; anything that is not one is a verdict (exit 1)."""
    document = load_object(payload, where)
    kind, predicate_type = document.get("_type"), document.get("predicateType")
    if kind not in STATEMENT_TYPES:
        raise VerdictError(f"{where} is not an in-toto statement (_type {kind!r})")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise VerdictError(f"{where} has no predicateType")
    subjects = []
    raw_subjects = document.get("subject")
    for raw in raw_subjects if isinstance(raw_subjects, list) else []:
        digests = raw.get("digest") if isinstance(raw, dict) else None
        if not isinstance(digests, dict):
            continue
        name = raw.get("name")
        subjects.append(
            Subject(
                name=name if isinstance(name, str) else "",
                digests={k: v for k, v in digests.items() if isinstance(v, str)},
            )
        )
    if not subjects:
        raise VerdictError(f"{where} names no subject with a digest")
    predicate = document.get("predicate")
    return Statement(
        type=kind,
        subjects=tuple(subjects),
        predicate_type=predicate_type,
        predicate=predicate if isinstance(predicate, dict) else {},
    )


def verify_attestation(
    envelope: Envelope, key: VerifyingKey, *, digest: str, predicate_type: str
) -> Statement:
    """The statement in ``envelope``, once its signature verifies with ``key``, it names the
    image ``digest`` and it is of ``predicate_type``. Each failure is one VerdictError line:
    another key or an altered payload, another subject, another predicate type."""
    verify_envelope(envelope, key)
    statement = parse_statement(envelope.payload)
    if statement.predicate_type != predicate_type:
        raise VerdictError(
            f"the attestation is of predicate type {statement.predicate_type!r}, "
            f"not {predicate_type!r}"
        )
    if not statement.names(digest):
        shown = ", ".join(statement.subject_digests)
        raise VerdictError(f"the attestation is about {shown}, not the image {digest}")
    return statement


def find_attestation(
    envelopes: Iterable[tuple[str, bytes]],
    key: VerifyingKey,
    *,
    digest: str,
    predicate_type: str,
    where: str,
    accept: Callable[[Statement], str | None] | None = None,
) -> tuple[str, Statement]:
    """The first of ``envelopes`` (``(name, bytes)``, e.g. the layers of cosign's ``.att``
    image) that verifies with ``key``, names ``digest`` and is of ``predicate_type`` (and
    that ``accept`` does not refuse: it gives the reason, e.g. another release version):
    its name and statement. As cosign does, the others are passed over (an image carries
    attestations by other signers and of other types); when none qualifies the verdict
    says, in one line, what was found instead."""
    seen: list[str] = []
    for name, data in envelopes:
        try:
            envelope = parse_envelope(data, name)
            statement = verify_attestation(
                envelope, key, digest=digest, predicate_type=predicate_type
            )
        except VerdictError as error:
            seen.append(_why_not(data, error))
            continue
        refused = accept(statement) if accept is not None else None
        if refused is not None:
            seen.append(f"{statement.predicate_type} ({refused})")
            continue
        return name, statement
    found = "; ".join(seen) if seen else "none"
    raise VerdictError(
        f"{where}: no attestation of type {predicate_type} about {digest} verifies with key "
        f"{keys.key_id(key)} (found: {found})"
    )


def _why_not(data: bytes, error: VerdictError) -> str:
    """A few words on an attestation that did not qualify: its type and the reason."""
    try:
        envelope = parse_envelope(data)
        kind = parse_statement(envelope.payload).predicate_type
    except VerdictError:
        return error.message
    if "does not verify" in error.message:
        return f"{kind} (signed with another key, or altered)"
    if "is about" in error.message:
        return f"{kind} (about another image)"
    return kind


# -- Sigstore bundles (cosign --new-bundle-format) ---------------------------------------


def bundle(envelope: Envelope, key: VerifyingKey | None) -> bytes:
    """A Sigstore bundle v0.3 around ``envelope`` signed by ``key``, as cosign writes one
    (``key`` None: a signer repro does not know; the bundle then gives no key hint, as
    protojson omits an empty one).

    A bundle's envelope holds exactly one signature (sigstore-go refuses others).
    """
    if len(envelope.signatures) != 1:
        raise InputError("a Sigstore bundle holds an envelope with exactly one signature")
    dsse = envelope.to_json()
    hint = {} if key is None else {"hint": keys.sigstore_hint(key)}
    document = {
        "mediaType": SIGSTORE_BUNDLE_V03,
        "verificationMaterial": {"publicKey": hint},
        "dsseEnvelope": {
            "payload": dsse["payload"],
            "payloadType": dsse["payloadType"],
            "signatures": dsse["signatures"],
        },
    }
    return go_json(document)


def parse_bundle(data: bytes, where: str = "the bundle") -> Envelope:
    """The DSSE envelope in a Sigstore bundle (v0.1 to v0.3); a verdict when there is none."""
    document = load_object(data, where)
    media_type = document.get("mediaType")
    if not isinstance(media_type, str) or not media_type.startswith(
        "application/vnd.dev.sigstore.bundle"
    ):
        raise VerdictError(f"{where} is not a Sigstore bundle (mediaType {media_type!r})")
    envelope = document.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise VerdictError(f"{where} holds a message signature, not a DSSE envelope")
    return parse_envelope(json.dumps(envelope).encode(), where)


# -- the statement against the record ----------------------------------------------------


def statement_mismatches(payload: bytes, digest: str, predicate: Mapping[str, Any]) -> list[str]:
    """What in the signed statement ``payload`` differs from the release record.

    ``digest`` is the image digest the record names; ``predicate`` its ``[[release]]``
    table. An empty list means the statement says exactly what repro.lock says.
    """
    try:
        statement = load_object(payload, "the signed payload")
    except VerdictError as exc:
        return [exc.message]
    problems: list[str] = []
    if statement.get("_type") not in STATEMENT_TYPES:
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
    if is_secret_key(path.rsplit(".", 1)[-1]):  # a secret build argument: never shown
        signed, recorded = (mask_value(v) if isinstance(v, str) else v for v in (signed, recorded))
    return [f"{path}: signed {_show(signed)}, repro.lock has {_show(recorded)}"]


_MISSING = object()  # a key one side of json_mismatches does not have


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, list):
        return f"{len(value)} entries"
    return json.dumps(value) if not isinstance(value, dict) else "a table"
