"""A transport that serves canned responses, and a clock tests move by hand.

Unit tests of the registry client hand it ``CannedTransport``: no socket is opened, every
request is recorded, and a response may trickle (each read costs fake seconds) or fail
below HTTP (a TransportError).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from repro.registry.auth import CredentialStore, HelperAnswer, Secret
from repro.registry.client import ClientSettings, RegistryClient, RegistrySession
from repro.registry.tls import TrustSettings
from repro.registry.transport import Failure, Headers, HttpRequest, TransportError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER = b"layer bytes"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", CONFIG),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", LAYER)],
    }
).encode()
INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            descriptor(OCI_MANIFEST, MANIFEST, platform={"os": "linux", "architecture": "amd64"})
        ],
    }
).encode()


class FakeClock:
    """The monotonic clock and sleep of a client under test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Canned:
    """One response: status, headers, body; ``chunk`` bytes per read costing
    ``seconds_per_read`` of the fake clock; or ``error`` raised instead of answering."""

    status: int = 200
    headers: Mapping[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    body: bytes = b""
    chunk: int | None = None
    seconds_per_read: float = 0.0
    error: TransportError | None = None


def manifest(body: bytes = INDEX, media_type: str = OCI_INDEX, **headers: str) -> Canned:
    base = {"Content-Type": media_type, "Docker-Content-Digest": sha256(body)}
    base.update({name.replace("_", "-"): value for name, value in headers.items()})
    return Canned(200, base, body)


def error(status: int, code: str, message: str = "", **headers: str) -> Canned:
    body = json.dumps({"errors": [{"code": code, "message": message or code.lower()}]}).encode()
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return Canned(status, {"Content-Type": "application/json", **named}, body)


def challenge(value: str | list[str], status: int = 401) -> Canned:
    values = [value] if isinstance(value, str) else value
    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
    return Canned(status, [("WWW-Authenticate", v) for v in values], body)


def token(value: str = "tok-1", expires_in: int | None = 300) -> Canned:
    body: dict[str, Any] = {"token": value}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return Canned(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def refused(failure: Failure, detail: str = "nope") -> Canned:
    return Canned(error=TransportError(failure, detail))


class CannedResponse:
    def __init__(self, canned: Canned, clock: FakeClock) -> None:
        self.status = canned.status
        items = (
            list(canned.headers.items())
            if isinstance(canned.headers, Mapping)
            else list(canned.headers)
        )
        self.headers = Headers(items)
        self._body = canned.body
        self._chunk = canned.chunk
        self._cost = canned.seconds_per_read
        self._clock = clock
        self.closed = False

    def read(self, amount: int, timeout: float) -> bytes:
        if not self._body:
            return b""
        if self._cost:
            if self._cost > timeout:
                self._clock.now += timeout
                raise TransportError(Failure.TIMEOUT, "no data")
            self._clock.now += self._cost
        size = min(amount, self._chunk or amount)
        data, self._body = self._body[:size], self._body[size:]
        return data

    def close(self) -> None:
        self.closed = True


Handler = Callable[[HttpRequest], Canned]


class CannedTransport:
    """Answers each request from ``routes``: (method, path) -> a list of answers served in
    order (the last one repeats), or a handler; an unknown request is a 404."""

    def __init__(self, clock: FakeClock, routes: Mapping[tuple[str, str], Any] | None = None):
        self.clock = clock
        self.routes: dict[tuple[str, str], Any] = dict(routes or {})
        self.requests: list[HttpRequest] = []
        self.verify: list[bool] = []

    def add(self, method: str, where: str, *answers: Canned | Handler) -> None:
        self.routes[(method, where)] = list(answers)

    def send(self, request: HttpRequest, *, timeout: float, verify: bool = True) -> CannedResponse:
        self.requests.append(request)
        self.verify.append(verify)
        parts = urlsplit(request.url)
        for key in ((request.method, f"{parts.scheme}://{parts.netloc}{parts.path}"),
                    (request.method, parts.path)):  # fmt: skip
            answers = self.routes.get(key)
            if answers is not None:
                break
        else:
            return CannedResponse(error(404, "NOT_FOUND"), self.clock)
        answer = answers[0] if len(answers) == 1 else answers.pop(0)
        if callable(answer):
            answer = answer(request)
        if answer.error is not None:
            raise answer.error
        return CannedResponse(answer, self.clock)

    def sent(self, method: str | None = None, path: str | None = None) -> list[HttpRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or urlsplit(r.url).path == path)
        ]


def query(request: HttpRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def form(request: HttpRequest) -> dict[str, list[str]]:
    return parse_qs((request.body or b"").decode())


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def docker_config(tmp: Any, auths: Mapping[str, Any], **extra: Any) -> dict[str, str]:
    """An environment whose DOCKER_CONFIG holds ``{"auths": auths, **extra}``."""
    directory = tmp / "docker"
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"auths": dict(auths), **extra}))
    return {"DOCKER_CONFIG": str(directory), "HOME": str(tmp / "home")}


def auth_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass
class Harness:
    clock: FakeClock
    transport: CannedTransport
    session: RegistrySession
    helpers: list[tuple[str, str]]

    def client(
        self, registry: str = "reg.example", mirrors: Mapping[str, str] | None = None
    ) -> RegistryClient:
        return self.session.client(registry, mirrors)


def harness(
    environment: Mapping[str, str] | None = None,
    *,
    helper_answers: Mapping[str, HelperAnswer] | None = None,
    timeout: float = 30.0,
    insecure: frozenset[str] = frozenset(),
    presented: Any = None,
) -> Harness:
    clock = FakeClock()
    transport = CannedTransport(clock)
    calls: list[tuple[str, str]] = []

    def run_helper(suffix: str, server: str) -> HelperAnswer | None:
        calls.append((suffix, server))
        return (helper_answers or {}).get(suffix)

    store = CredentialStore(
        environment=dict(environment or {"HOME": "/nonexistent"}), run_helper=run_helper
    )
    settings = ClientSettings(timeout=timeout, insecure=insecure, clock=clock, sleep=clock.sleep)
    session = RegistrySession(
        settings=settings,
        trust=TrustSettings(certs_dirs=(), environment={}),
        credentials=store,
        transport=transport,
        presented_certificate=lambda _host: presented,
    )
    return Harness(clock, transport, session, calls)


__all__ = ["RegistryClient", "Secret"]
