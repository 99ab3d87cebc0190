"""Where scripts/setup put the registries, their CA and their credentials.

Mirrors scripts/lib/tls.sh and scripts/lib/registries.sh: change both together.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATE_DIR = Path(os.environ.get("REPRO_STATE_DIR", "/var/lib/repro-dev"))
REGISTRIES_DIR = STATE_DIR / "registries"
TLS_DIR = REGISTRIES_DIR / "tls"
AUTH_DIR = REGISTRIES_DIR / "auth"
CA_CERT_DIR = REGISTRIES_DIR / "ca"  # ca.crt alone: for `skopeo --cert-dir`, `--src-cert-dir`

TEST_HOST = "registry.test"  # /etc/hosts -> 127.0.0.1: the non-loopback path
TLS_REGISTRY_PORT = 5443
TOKEN_REGISTRY_PORT = 5444
TOKEN_ISSUER_PORT = 5445
REFERRERS_REGISTRY = "127.0.0.1:5446"
LOCAL_REGISTRY = "localhost:5000"

TOKEN_SERVICE = f"{TEST_HOST}:{TOKEN_REGISTRY_PORT}"
TOKEN_ISSUER_NAME = "repro-test-token-issuer"
TOKEN_REALM = f"https://{TEST_HOST}:{TOKEN_ISSUER_PORT}/token"


@dataclass(frozen=True)
class TLSFiles:
    """The private CA and the certificates setup issued with it (PEM files)."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path  # SANs: registry.test, localhost, 127.0.0.1
    server_key: Path
    expired_cert: Path  # the same names, valid only 2020-01-01..2020-01-02
    expired_key: Path
    wrong_name_cert: Path  # valid, but only for other.test
    wrong_name_key: Path
    token_signing_cert: Path  # self-signed; the token registry's rootcertbundle
    token_signing_key: Path

    # (certificate, key) pairs, as a TLS server takes them
    @property
    def server(self) -> tuple[Path, Path]:
        return self.server_cert, self.server_key

    @property
    def expired(self) -> tuple[Path, Path]:
        return self.expired_cert, self.expired_key

    @property
    def wrong_name(self) -> tuple[Path, Path]:
        return self.wrong_name_cert, self.wrong_name_key


TLS = TLSFiles(
    ca_cert=TLS_DIR / "ca.crt",
    ca_key=TLS_DIR / "ca.key",
    server_cert=TLS_DIR / "server.crt",
    server_key=TLS_DIR / "server.key",
    expired_cert=TLS_DIR / "expired.crt",
    expired_key=TLS_DIR / "expired.key",
    wrong_name_cert=TLS_DIR / "wrong-name.crt",
    wrong_name_key=TLS_DIR / "wrong-name.key",
    token_signing_cert=AUTH_DIR / "token-signing.crt",
    token_signing_key=AUTH_DIR / "token-signing.key",
)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password, even in a failing assert
        return f"Credentials(username={self.username!r}, password=<{len(self.password)} chars>)"


@dataclass(frozen=True)
class TestUsers:
    """The users setup created: one that may pull and push, one that may only pull."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    writer: Credentials
    reader: Credentials


@cache
def test_users() -> TestUsers:
    """Read $STATE_DIR/registries/auth/credentials.json (written once by setup, 0600)."""
    data = json.loads((AUTH_DIR / "credentials.json").read_text())
    return TestUsers(
        writer=Credentials(data["username"], data["password"]),
        reader=Credentials(data["readonly_username"], data["readonly_password"]),
    )


SBOM_GENERATOR_DIR = Path(__file__).resolve().parents[2] / "scripts" / "lib" / "sbom-generator"


def sbom_generator() -> str:
    """The BuildKit SBOM generator image scripts/lib/sbom.sh pushed: its tag is the hash of
    the generator's sources (change both together)."""
    sources = b"".join(
        (SBOM_GENERATOR_DIR / name).read_bytes() for name in ("Dockerfile", "scan.py")
    )
    return f"{LOCAL_REGISTRY}/repro-dev/sbom-generator:{hashlib.sha256(sources).hexdigest()[:12]}"
