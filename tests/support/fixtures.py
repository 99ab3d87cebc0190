"""pytest fixtures for the registries scripts/setup starts and the servers tests run.

Registered for every suite by tests/conftest.py. None of them skips: a registry that is
not there fails the test with the command that starts it.
"""

from __future__ import annotations

import base64
import fcntl
import http.client
import json
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_registry import FakeRegistry
from tests.support.machine import (
    REFERRERS_REGISTRY,
    REGISTRIES_DIR,
    TEST_HOST,
    TLS,
    TLS_REGISTRY_PORT,
    TOKEN_REALM,
    TOKEN_REGISTRY_PORT,
    TOKEN_SERVICE,
    Credentials,
    test_users,
)
from tests.support.token_issuer import TokenIssuer

SETUP_HINT = "run ./scripts/setup"


@dataclass(frozen=True)
class TLSRegistry:
    """distribution 2.8 on registry.test:5443: TLS from the private CA, htpasswd auth."""

    host: str  # registry.test:5443 (the non-loopback name)
    loopback_host: str  # localhost:5443, the same registry
    ca_file: Path
    writer: Credentials  # may pull and push
    reader: Credentials  # htpasswd has no read-only notion: it may push too here

    @property
    def url(self) -> str:
        return f"https://{self.host}"


@dataclass(frozen=True)
class TokenRegistry:
    """distribution 2.8 on registry.test:5444 with `auth: token`; the issuer is ours."""

    host: str
    loopback_host: str
    ca_file: Path
    writer: Credentials  # pull, push, delete
    reader: Credentials  # pull only
    issuer: TokenIssuer
    realm: str
    service: str

    @property
    def url(self) -> str:
        return f"https://{self.host}"


@dataclass(frozen=True)
class ReferrersRegistry:
    """A registry with the OCI 1.1 referrers API (go-containerregistry), plain HTTP."""

    host: str  # 127.0.0.1:5446

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def https_status(host: str, path: str = "/v2/", *, timeout: float = 5) -> int:
    """The status a GET of ``path`` gets, trusting only the private CA."""
    name, port = host.rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(TLS.ca_cert))
    connection = http.client.HTTPSConnection(name, int(port), context=context, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def write_docker_config(
    directory: Path,
    logins: Mapping[str, Credentials],
    *,
    identity_tokens: Mapping[str, str] | None = None,
) -> Path:
    """A DOCKER_CONFIG directory whose config.json has `docker login`-style auths entries
    (an ``identitytoken`` entry keeps only the username, as docker writes it)."""
    auths: dict[str, dict[str, str]] = {}
    for host, credentials in logins.items():
        token = (identity_tokens or {}).get(host)
        secret = "" if token else credentials.password
        entry = {"auth": base64.b64encode(f"{credentials.username}:{secret}".encode()).decode()}
        if token:
            entry["identitytoken"] = token
        auths[host] = entry
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.json"
    config.write_text(json.dumps({"auths": auths}, indent=2) + "\n")
    config.chmod(0o600)
    return directory


def require_challenge(what: str, host: str) -> None:
    """Fail the test unless ``host`` answers an anonymous GET /v2/ with 401, as set up."""
    try:
        status = https_status(host)
    except OSError as error:
        pytest.fail(f"the {what} {host} does not answer ({error}): {SETUP_HINT}")
    if status != 401:
        pytest.fail(f"the {what} {host} answers {status} to an anonymous GET, not 401")


@pytest.fixture(scope="session")
def tls_registry() -> TLSRegistry:
    host = f"{TEST_HOST}:{TLS_REGISTRY_PORT}"
    require_challenge("TLS registry", host)
    users = test_users()
    return TLSRegistry(
        host=host,
        loopback_host=f"localhost:{TLS_REGISTRY_PORT}",
        ca_file=TLS.ca_cert,
        writer=users.writer,
        reader=users.reader,
    )


@pytest.fixture()
def tls_registry_docker_config(tmp_path: Path, tls_registry: TLSRegistry) -> Path:
    """A DOCKER_CONFIG dir logged in (writer) to the TLS registry under all its names."""
    hosts = (tls_registry.host, tls_registry.loopback_host, f"127.0.0.1:{TLS_REGISTRY_PORT}")
    return write_docker_config(
        tmp_path / "docker-config", dict.fromkeys(hosts, tls_registry.writer)
    )


@pytest.fixture(scope="session")
def _token_issuer_session() -> Iterator[TokenIssuer]:
    # The realm is a fixed address, and engineers share this machine: one pytest session
    # at a time owns it. Wait for the others rather than fail.
    REGISTRIES_DIR.mkdir(parents=True, exist_ok=True)
    with (REGISTRIES_DIR / "token-issuer.lock").open("a") as lock:
        deadline = time.monotonic() + 300
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("another test session has held the token issuer's port for 300 s")
                time.sleep(0.5)
        users = test_users()
        issuer = TokenIssuer(users.writer, users.reader)
        try:
            issuer.start()
        except OSError as error:
            pytest.fail(f"cannot listen on the token realm {TOKEN_REALM}: {error}")
        try:
            yield issuer
        finally:
            issuer.stop()
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture()
def token_issuer(_token_issuer_session: TokenIssuer) -> TokenIssuer:
    """The running token issuer, with its counters and switches reset for this test."""
    _token_issuer_session.reset()
    return _token_issuer_session


@pytest.fixture()
def token_registry(token_issuer: TokenIssuer) -> TokenRegistry:
    host = f"{TEST_HOST}:{TOKEN_REGISTRY_PORT}"
    require_challenge("token registry", host)
    users = test_users()
    return TokenRegistry(
        host=host,
        loopback_host=f"localhost:{TOKEN_REGISTRY_PORT}",
        ca_file=TLS.ca_cert,
        writer=users.writer,
        reader=users.reader,
        issuer=token_issuer,
        realm=TOKEN_REALM,
        service=TOKEN_SERVICE,
    )


@pytest.fixture(scope="session")
def referrers_registry() -> ReferrersRegistry:
    name, port = REFERRERS_REGISTRY.rsplit(":", 1)
    connection = http.client.HTTPConnection(name, int(port), timeout=5)
    try:
        connection.request("GET", "/v2/")
        status = connection.getresponse().status
    except OSError as error:
        pytest.fail(
            f"the referrers registry {REFERRERS_REGISTRY} does not answer ({error}): {SETUP_HINT}"
        )
    finally:
        connection.close()
    if status != 200:
        pytest.fail(f"the referrers registry {REFERRERS_REGISTRY} answers {status} on /v2/")
    return ReferrersRegistry(REFERRERS_REGISTRY)


@pytest.fixture()
def fake_registry() -> Iterator[FakeRegistry]:
    """A fresh fake registry (plain HTTP, trickle every 5 s) for this test."""
    registry = FakeRegistry()
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture()
def fake_registry_factory() -> Iterator[Callable[..., FakeRegistry]]:
    """Start fake registries with other settings, e.g. ``factory(tls=TLS.expired)`` or
    ``factory(trickle_interval=0.5)``; all are stopped after the test."""
    started: list[FakeRegistry] = []

    def start(**settings: Any) -> FakeRegistry:
        registry = FakeRegistry(**settings)
        registry.start()
        started.append(registry)
        return registry

    try:
        yield start
    finally:
        for registry in started:
            registry.stop()
