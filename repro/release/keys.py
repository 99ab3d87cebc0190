"""Signing keys: ECDSA P-256 and Ed25519, in the PEM forms cosign writes and reads.

Pure: bytes in, keys and bytes out. No files, no environment: the caller brings the
password (from ``COSIGN_PASSWORD``, as cosign does).

* Public keys are PKIX SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``): what
  ``cosign generate-key-pair`` writes to cosign.pub and ``cosign verify-attestation --key``
  reads.
* Private keys are written as ``ENCRYPTED SIGSTORE PRIVATE KEY``, cosign's format (the
  only one ``cosign attest --key`` reads from a file). Its PEM body is the JSON of
  go-securesystemslib's ``encrypted`` package around the PKCS#8 DER private key::

    {"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1},
             "salt": "<base64, 32 bytes>"},
     "cipher": {"name": "nacl/secretbox", "nonce": "<base64, 24 bytes>"},
     "ciphertext": "<base64 secretbox.Seal(PKCS#8 DER)>"}

  where the secretbox key is scrypt(password, salt, N, r, p) with 32 bytes of output.
* Private keys are read in that format (and its older name ``ENCRYPTED COSIGN PRIVATE
  KEY``), and as PKCS#8 (``PRIVATE KEY``, what ``repro keygen`` wrote before;
  ``ENCRYPTED PRIVATE KEY`` with the password) or SEC1 (``EC PRIVATE KEY``).
* A key id is the SHA-256 fingerprint of the key in SSH form, ``SHA256:<base64>``: what
  ``ssh-keygen -l`` prints and what go-securesystemslib's DSSE verifier (used by cosign
  and sigstore-go) computes for a key. An envelope signature whose keyid is neither
  empty nor that fingerprint is skipped by sigstore-go, so repro writes exactly it.

Signatures: ECDSA P-256 signs SHA-256 of the message, ASN.1 DER encoded (cosign's
``LoadECDSASignerVerifier(key, crypto.SHA256)``); Ed25519 signs the message itself.
cosign 2.5 verifies both; ECDSA P-256 is the default, as it is cosign's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, cast

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from repro.errors import InputError

SigningKey = ec.EllipticCurvePrivateKey | Ed25519PrivateKey
VerifyingKey = ec.EllipticCurvePublicKey | Ed25519PublicKey

SIGSTORE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"  # cosign < 1.x wrote this name
_ENCRYPTED_TYPES = frozenset({SIGSTORE_PEM_TYPE, COSIGN_PEM_TYPE})
_PLAIN_TYPES = frozenset({"PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"})

# go-securesystemslib accepts exactly these scrypt parameters (its "legacy", "standard"
# and "owasp" levels) and refuses others, so a tampered file cannot make us spend
# unbounded memory; it writes "standard".
_SCRYPT_LEVELS = frozenset({(1 << 15, 8, 1), (1 << 16, 8, 1), (1 << 17, 8, 1)})
_SCRYPT_WRITE = (1 << 16, 8, 1)
_SALT_SIZE = 32
_HINT = "create one with `repro keygen` or `cosign generate-key-pair`"

Random = Callable[[int], bytes]


class Algorithm(Enum):
    ECDSA_P256 = "ecdsa-p256"
    ED25519 = "ed25519"


def generate(algorithm: Algorithm = Algorithm.ECDSA_P256) -> SigningKey:
    if algorithm is Algorithm.ED25519:
        return Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def algorithm_of(key: SigningKey | VerifyingKey) -> Algorithm:
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return Algorithm.ED25519
    return Algorithm.ECDSA_P256


# -- PEM ---------------------------------------------------------------------------------

_PEM = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL | re.MULTILINE
)


def _pem_block(data: bytes, where: str) -> tuple[str, bytes]:
    """The type and body of the first PEM block (what Go's pem.Decode returns)."""
    found = _PEM.search(data)
    if found is None:
        raise InputError(f"{where} is not a PEM key file", hint=_HINT)
    try:
        body = base64.b64decode(b"".join(found.group(2).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: the PEM block is not valid base64", hint=_HINT) from exc
    return found.group(1).decode("ascii"), body


def _pem(kind: str, body: bytes) -> bytes:
    text = base64.b64encode(body).decode("ascii")
    lines = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n".encode()


def public_pem(key: VerifyingKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: SigningKey, password: bytes, random: Random = os.urandom) -> bytes:
    """``key`` as cosign's ENCRYPTED SIGSTORE PRIVATE KEY, sealed with ``password``."""
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _pem(SIGSTORE_PEM_TYPE, encrypt(pkcs8, password, random))


def unencrypted_pem(key: SigningKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM (what `repro keygen` wrote before; cosign refuses
    it with --key: "unsupported pem type: PRIVATE KEY")."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def is_encrypted(data: bytes) -> bool:
    """Whether loading the key in ``data`` needs a password."""
    found = _PEM.search(data)
    return found is not None and found.group(1).decode("ascii") in (
        _ENCRYPTED_TYPES | {"ENCRYPTED PRIVATE KEY"}
    )


# -- go-securesystemslib's encrypted format ----------------------------------------------


def _scrypt_key(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=nacl.secret.SecretBox.KEY_SIZE, n=n, r=r, p=p).derive(password)


def encrypt(plaintext: bytes, password: bytes, random: Random = os.urandom) -> bytes:
    """The JSON document go-securesystemslib's ``encrypted.Encrypt`` writes."""
    n, r, p = _SCRYPT_WRITE
    salt = random(_SALT_SIZE)
    nonce = random(nacl.secret.SecretBox.NONCE_SIZE)
    box = nacl.secret.SecretBox(_scrypt_key(password, salt, n, r, p))
    ciphertext = box.encrypt(plaintext, nonce).ciphertext  # tag first, as secretbox.Seal
    document = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": _b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": _b64(nonce)},
        "ciphertext": _b64(ciphertext),
    }
    return json.dumps(document, separators=(",", ":")).encode()


def decrypt(document: bytes, password: bytes, where: str) -> bytes:
    """The plaintext sealed in an ``encrypted`` JSON document; InputError when it is not one
    or the password is wrong."""
    try:
        data = json.loads(document)
        kdf, cipher = data["kdf"], data["cipher"]
        params = kdf["params"]
        level = (int(params["N"]), int(params["r"]), int(params["p"]))
        names = (kdf["name"], cipher["name"])
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(cipher["nonce"], validate=True)
        ciphertext = base64.b64decode(data["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InputError(f"{where} is not a readable encrypted cosign key", hint=_HINT) from exc
    if names != ("scrypt", "nacl/secretbox"):
        raise InputError(f"{where} is encrypted with {names[0]}/{names[1]}, not scrypt/secretbox")
    if level not in _SCRYPT_LEVELS:
        raise InputError(f"{where}: unsupported scrypt parameters N={level[0]} r={level[1]}")
    if len(nonce) != nacl.secret.SecretBox.NONCE_SIZE:
        raise InputError(f"{where}: the secretbox nonce is not 24 bytes")
    box = nacl.secret.SecretBox(_scrypt_key(password, salt, *level))
    try:
        return box.decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError as exc:
        # One line, no key material: the password (COSIGN_PASSWORD) does not open it.
        raise InputError(
            f"{where}: wrong password for this encrypted key",
            hint="set COSIGN_PASSWORD to the password the key was made with",
        ) from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- loading -----------------------------------------------------------------------------


def load_private_key(data: bytes, where: str, password: bytes | None = None) -> SigningKey:
    """A private key file: cosign's encrypted format (needs ``password``), or PKCS#8/SEC1.

    Every failure is an InputError (exit 2) naming ``where``, never the key material.
    """
    kind, body = _pem_block(data, where)
    if kind in _ENCRYPTED_TYPES:
        if password is None:
            raise InputError(
                f"{where} is encrypted and no password was given",
                hint="set COSIGN_PASSWORD to the key's password",
            )
        der = decrypt(body, password, where)
        key = _load(lambda: serialization.load_der_private_key(der, password=None), where)
    elif kind in _PLAIN_TYPES:
        secret = None
        if kind == "ENCRYPTED PRIVATE KEY":  # PKCS#8 with a password (openssl -aes256)
            if not password:
                raise InputError(
                    f"{where} is encrypted and no password was given",
                    hint="set COSIGN_PASSWORD to the key's password",
                )
            secret = password
        key = _load(lambda: serialization.load_pem_private_key(data, password=secret), where)
    else:
        raise InputError(f"{where} holds a {kind}, not a private key", hint=_HINT)
    _check_supported(key, where, "signs with")
    return cast(SigningKey, key)


def _load(loader: Callable[[], Any], where: str) -> Any:
    try:
        return loader()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # cryptography says "Bad decrypt" for a wrong PKCS#8 password, among others.
        raise InputError(
            f"{where} is not a usable key (or the password is wrong)", hint=_HINT
        ) from exc


def _check_supported(key: object, where: str, verb: str) -> None:
    """Refuse a key repro does not sign with (RSA, DSA, other curves), naming it."""
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InputError(
                f"{where} is an ECDSA key on {key.curve.name}; repro uses P-256 (secp256r1)"
            )
        return
    raise InputError(
        f"{where}: {_kind(key)} keys are not supported; repro {verb} ECDSA P-256 or Ed25519",
        hint=_HINT,
    )


def load_public_key(data: bytes, where: str) -> VerifyingKey:
    """A PKIX ``PUBLIC KEY`` PEM holding an ECDSA P-256 or Ed25519 key."""
    kind, _ = _pem_block(data, where)
    if kind != "PUBLIC KEY":
        raise InputError(f"{where} holds a {kind}, not a PEM public key")
    key = _load(lambda: serialization.load_pem_public_key(data), where)
    _check_supported(key, where, "verifies")
    return cast(VerifyingKey, key)


def _kind(key: object) -> str:
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "")


# -- identity and signatures -------------------------------------------------------------


def key_id(key: VerifyingKey) -> str:
    """``SHA256:`` + unpadded base64 of SHA-256 of the SSH wire form (ssh-keygen -l)."""
    wire = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(wire.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def sigstore_hint(key: VerifyingKey) -> str:
    """Base64 SHA-256 of the DER SubjectPublicKeyInfo: a Sigstore bundle's publicKey.hint."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def sign_message(key: SigningKey, message: bytes) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def verify_message(key: VerifyingKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
