"""Keys in cosign's formats: cosign's own key files (a fixed vector made by the real cosign)
open with the right password and only with it; repro's keys round-trip; bad keys are input
errors that never show key material."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repro.errors import ExitCode, InputError
from repro.release import keys

COSIGN = Path(__file__).resolve().parents[1] / "fixtures" / "cosign"
PASSWORD = b"repro-fixture-password"  # the test keys' password (tests/fixtures/cosign/README.md)
ECDSA_KEY_ID = "SHA256:QUyXrH5ZXIMUojVcM77xqx3Kz2K+UvEK+jfwXYaaPRY"  # ssh-keygen -l
ED25519_KEY_ID = "SHA256:BseaLvVeWwLJIJjXCR0kegqi2ab6cgk5+9NIivsRx4Q"


def fixture(name: str) -> bytes:
    return (COSIGN / name).read_bytes()


def fixed_random(size: int) -> bytes:
    return bytes(range(size))


@pytest.mark.parametrize(
    ("name", "kind", "key_id"),
    [
        ("ecdsa", ec.EllipticCurvePrivateKey, ECDSA_KEY_ID),
        ("ed25519", Ed25519PrivateKey, ED25519_KEY_ID),
    ],
)
def test_cosign_key_files_open_with_the_password(name: str, kind: type, key_id: str) -> None:
    private = keys.load_private_key(fixture(f"{name}.key"), f"{name}.key", PASSWORD)
    public = keys.load_public_key(fixture(f"{name}.pub"), f"{name}.pub")
    assert isinstance(private, kind)
    # The private key is the one cosign wrote the public key for, byte for byte.
    assert keys.public_pem(private.public_key()) == fixture(f"{name}.pub")
    assert keys.key_id(public) == key_id
    message = b"DSSEv1 1 t 1 x"
    assert keys.verify_message(public, keys.sign_message(private, message), message)


def test_the_bundle_hint_is_what_cosign_writes() -> None:
    bundle = json.loads(fixture("bundle.sigstore.json"))
    public = keys.load_public_key(fixture("ecdsa.pub"), "ecdsa.pub")
    assert keys.sigstore_hint(public) == bundle["verificationMaterial"]["publicKey"]["hint"]


def test_a_wrong_password_is_one_line_of_input_error_without_key_material() -> None:
    data = fixture("ecdsa.key")
    with pytest.raises(InputError) as caught:
        keys.load_private_key(data, "ecdsa.key", b"not the password")
    error = caught.value
    assert error.exit_code is ExitCode.INPUT
    assert error.message == "ecdsa.key: wrong password for this encrypted key"
    assert error.hint is not None and "COSIGN_PASSWORD" in error.hint
    body = b"".join(data.splitlines()[1:-1]).decode()
    for shown in (error.message, error.hint):
        assert "\n" not in shown and body[:16] not in shown and "BEGIN" not in shown


def test_an_encrypted_key_without_a_password_says_what_to_set() -> None:
    with pytest.raises(InputError, match="encrypted and no password was given") as caught:
        keys.load_private_key(fixture("ecdsa.key"), "ecdsa.key")
    assert caught.value.hint == "set COSIGN_PASSWORD to the key's password"


@pytest.mark.parametrize("algorithm", list(keys.Algorithm))
def test_repro_keys_round_trip_through_cosigns_format(algorithm: keys.Algorithm) -> None:
    key = keys.generate(algorithm)
    pem = keys.private_pem(key, b"pw", fixed_random)
    assert pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    assert all(len(line) <= 64 for line in pem.splitlines())
    assert keys.is_encrypted(pem)
    loaded = keys.load_private_key(pem, "k", b"pw")
    assert keys.algorithm_of(loaded) is algorithm
    assert keys.public_pem(loaded.public_key()) == keys.public_pem(key.public_key())
    with pytest.raises(InputError, match="wrong password"):
        keys.load_private_key(pem, "k", b"")


def test_the_encrypted_document_is_go_securesystemslibs() -> None:
    sealed = keys.encrypt(b"secret", b"pw", fixed_random)
    document = json.loads(sealed)
    assert document["kdf"] == {
        "name": "scrypt",
        "params": {"N": 65536, "r": 8, "p": 1},
        "salt": base64.b64encode(bytes(range(32))).decode(),
    }
    assert document["cipher"] == {
        "name": "nacl/secretbox",
        "nonce": base64.b64encode(bytes(range(24))).decode(),
    }
    # secretbox.Seal: the 16-byte Poly1305 tag, then the ciphertext.
    assert len(base64.b64decode(document["ciphertext"])) == 16 + len(b"secret")
    assert keys.decrypt(sealed, b"pw", "k") == b"secret"


def _with(document: bytes, **changes: object) -> bytes:
    data = json.loads(document)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = data
        for parent in parents:
            target = target[parent]
        target[last] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kdf__params__N": 1 << 20}, "unsupported scrypt parameters"),
        ({"kdf__name": "argon2"}, "not scrypt/secretbox"),
        ({"cipher__nonce": base64.b64encode(b"short").decode()}, "nonce is not 24 bytes"),
        ({"ciphertext": "%%%"}, "not a readable encrypted cosign key"),
    ],
)
def test_a_tampered_encrypted_document_is_refused(change: dict[str, object], message: str) -> None:
    sealed = keys.encrypt(b"secret", b"pw", fixed_random)
    with pytest.raises(InputError, match=message):
        keys.decrypt(_with(sealed, **change), b"pw", "k")


def test_unencrypted_pkcs8_and_sec1_keys_still_load() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for encoding in (
        serialization.PrivateFormat.PKCS8,
        serialization.PrivateFormat.TraditionalOpenSSL,
    ):
        pem = key.private_bytes(serialization.Encoding.PEM, encoding, serialization.NoEncryption())
        assert not keys.is_encrypted(pem)
        loaded = keys.load_private_key(pem, "k")
        assert keys.public_pem(loaded.public_key()) == keys.public_pem(key.public_key())
    ed = keys.generate(keys.Algorithm.ED25519)
    assert keys.algorithm_of(keys.load_private_key(keys.unencrypted_pem(ed), "k")) is (
        keys.Algorithm.ED25519
    )
    protected = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert keys.is_encrypted(protected)
    reloaded = keys.load_private_key(protected, "k", b"pw")
    assert keys.public_pem(reloaded.public_key()) == keys.public_pem(key.public_key())
    with pytest.raises(InputError, match="or the password is wrong"):
        keys.load_private_key(protected, "k", b"nope")


def test_keys_repro_does_not_sign_with_are_refused_by_name() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(InputError, match="RSA keys are not supported; repro signs with"):
        keys.load_private_key(keys.unencrypted_pem(rsa_key), "rsa.key")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="on secp384r1; repro uses P-256"):
        keys.load_private_key(keys.unencrypted_pem(p384), "p384.key")
    with pytest.raises(InputError, match="RSA keys are not supported; repro verifies"):
        keys.load_public_key(keys.public_pem(rsa_key.public_key()), "rsa.pub")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="holds a PUBLIC KEY, not a private key"):
        keys.load_private_key(fixture("ecdsa.pub"), "ecdsa.pub")
    with pytest.raises(
        InputError, match="holds a ENCRYPTED SIGSTORE PRIVATE KEY, not a PEM public"
    ):
        keys.load_public_key(fixture("ecdsa.key"), "ecdsa.key")
    with pytest.raises(InputError, match="is not a PEM key file"):
        keys.load_public_key(b"ssh-ed25519 AAAA", "id.pub")


def test_a_signature_by_another_key_or_over_other_bytes_does_not_verify() -> None:
    for algorithm in keys.Algorithm:
        key, other = keys.generate(algorithm), keys.generate(algorithm)
        signature = keys.sign_message(key, b"message")
        assert keys.verify_message(key.public_key(), signature, b"message")
        assert not keys.verify_message(other.public_key(), signature, b"message")
        assert not keys.verify_message(key.public_key(), signature, b"messagE")
        assert not keys.verify_message(key.public_key(), b"\x30\x00", b"message")
