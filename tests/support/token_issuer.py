"""A token service for the token-auth registry (registry.test:5444), run by the tests.

It follows the distribution token specification (docs/spec/auth/token.md, jwt.md,
oauth.md and scope.md in distribution/distribution):

- ``GET /token?service=S&scope=repository:NAME:pull,push[&scope=...]`` with optional
  Basic auth (docker's ``account``, ``client_id`` and ``offline_token=true`` too) answers
  ``{"token", "access_token", "expires_in", "issued_at"}`` and, for ``offline_token=true``
  with credentials, a ``refresh_token`` (docker stores it as the ``identitytoken``);
- ``POST /token`` (form) with ``grant_type=password`` (username, password,
  ``access_type=offline`` for a refresh token) or ``grant_type=refresh_token``;
- anonymous requests get ``pull`` on public repositories and an empty access list
  elsewhere (the registry then answers 401 ``insufficient_scope``), as public registries do;
- wrong credentials or an unknown refresh token: 401.

Tokens are JWTs signed ES256 with the key whose self-signed certificate is the token
registry's ``rootcertbundle``, carried in the ``x5c`` header; distribution 2.8 checks
``iss``, ``aud`` (= the service), ``exp``/``nbf`` with 60 s of leeway, the chain and the
signature (registry/auth/token/token.go).

Tests steer it (``token_lifetime``, ``issue_expired``, ``unavailable``, ``down()``) and
read what it was asked (``requests``, ``count()``), e.g. to assert token caching.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.loopback import BackgroundServer, read_request_body
from tests.support.machine import (
    TLS,
    TOKEN_ISSUER_NAME,
    TOKEN_ISSUER_PORT,
    TOKEN_SERVICE,
    Credentials,
)

# Registry leeway on exp/nbf (distribution 2.8: token.Leeway = 60 s). An "expired" token
# must be older than that to be refused.
REGISTRY_LEEWAY_SECONDS = 60
PUBLIC_PREFIX = "public/"  # repositories anyone may pull, without credentials


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        # resourcetype[(class)]:resourcename:action[,action]; the name may hold a port.
        try:
            head, actions = text.rsplit(":", 1)
            kind, name = head.split(":", 1)
        except ValueError:
            return None
        return cls(kind.split("(")[0], name, tuple(a for a in actions.split(",") if a))


@dataclass(frozen=True)
class TokenRequest:
    """One request the issuer answered, as a test wants to see it (no secrets)."""

    method: str
    grant_type: str  # "basic" (GET with credentials), "anonymous", "password", "refresh_token"
    account: str | None
    scopes: tuple[str, ...]
    service: str | None
    status: int
    offline: bool


class TokenIssuer(BackgroundServer):
    """The issuer; ``start()`` listens on registry.test:5445 over TLS (setup's server cert).

    ``writer`` may pull, push and delete everywhere; ``reader`` may pull everywhere;
    anyone may pull ``public/...``.
    """

    def __init__(
        self,
        writer: Credentials,
        reader: Credentials,
        *,
        service: str = TOKEN_SERVICE,
        issuer: str = TOKEN_ISSUER_NAME,
        port: int = TOKEN_ISSUER_PORT,
    ) -> None:
        super().__init__(
            _TokenHandler, host="127.0.0.1", port=port, tls=(TLS.server_cert, TLS.server_key)
        )
        self.writer = writer
        self.reader = reader
        self.service = service
        self.issuer = issuer
        # What tests change: the next tokens' lifetime, tokens born expired, 503 for all.
        self.token_lifetime = 300
        self.issue_expired = False
        self.unavailable = False
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> account
        self._signing_key = serialization.load_pem_private_key(
            TLS.token_signing_key.read_bytes(), None
        )
        cert = x509.load_pem_x509_certificate(TLS.token_signing_cert.read_bytes())
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]

    # --- what tests read and steer ---------------------------------------------------------
    @property
    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, *, grant_type: str | None = None, status: int | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (grant_type is None or r.grant_type == grant_type)
            and (status is None or r.status == status)
        )

    def reset(self) -> None:
        """Forget requests and refresh tokens; back to normal behaviour."""
        with self._lock:
            self._requests.clear()
            self._refresh_tokens.clear()
        self.token_lifetime = 300
        self.issue_expired = False
        self.unavailable = False
        if not self.running:
            self.start()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The token service is down (connection refused) inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def issue(self, account: str | None, scopes: list[Scope]) -> dict[str, Any]:
        """A token response body granting what ``account`` may do of ``scopes``."""
        granted = [self._grant(account, scope) for scope in scopes]
        now = int(time.time())
        if self.issue_expired:
            issued = now - REGISTRY_LEEWAY_SECONDS - 120 - self.token_lifetime
        else:
            issued = now
        claims = {
            "iss": self.issuer,
            "sub": account or "",
            "aud": self.service,
            "exp": issued + self.token_lifetime,
            "nbf": issued - 1,
            "iat": issued,
            "jti": uuid.uuid4().hex,
            "access": [
                {"type": s.type, "name": s.name, "actions": list(s.actions)}
                for s in granted
                if s.actions
            ],
        }
        token = jwt.encode(
            claims,
            self._signing_key,  # type: ignore[arg-type]
            algorithm="ES256",
            headers={"typ": "JWT", "x5c": self._x5c},
        )
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.token_lifetime,
            "issued_at": datetime.fromtimestamp(issued, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def new_refresh_token(self, account: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = account
        return token

    def account_for_refresh_token(self, token: str) -> str | None:
        with self._lock:
            return self._refresh_tokens.get(token)

    def check_password(self, username: str, password: str) -> bool:
        users = {u.username: u.password for u in (self.writer, self.reader)}
        expected = users.get(username)
        return expected is not None and secrets.compare_digest(expected, password)

    def record(self, request: TokenRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _grant(self, account: str | None, scope: Scope) -> Scope:
        allowed: set[str] = set()
        if scope.type == "registry" and scope.name == "catalog":
            allowed = {"*"} if account == self.writer.username else set()
        elif scope.type == "repository":
            if account == self.writer.username:
                allowed = {"pull", "push", "delete"}
            elif account == self.reader.username or scope.name.startswith(PUBLIC_PREFIX):
                allowed = {"pull"}
        return Scope(scope.type, scope.name, tuple(a for a in scope.actions if a in allowed))


@dataclass(frozen=True)
class _Asked:
    """What a request asks for, whichever way (query or form) it asks."""

    method: str
    grant_type: str
    account: str | None
    scopes: tuple[str, ...]
    service: str | None
    offline: bool


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


class _TokenHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "repro-test-token-issuer"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def issuer(self) -> TokenIssuer:
        owner: TokenIssuer = self.server.owner  # type: ignore[attr-defined]
        return owner

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        basic = self._basic_credentials()
        asked = _Asked(
            method="GET",
            grant_type="basic" if basic else "anonymous",
            account=basic[0] if basic else None,
            scopes=tuple(query.get("scope", [])),
            service=_first(query.get("service")),
            offline=_first(query.get("offline_token")) == "true",
        )
        if basic and not self.issuer.check_password(*basic):
            return self._refuse(asked)
        self._answer(asked)

    def do_POST(self) -> None:
        form = parse_qs(read_request_body(self).decode("utf-8", "replace"))
        grant_type = _first(form.get("grant_type")) or "none"
        asked = _Asked(
            method="POST",
            grant_type=grant_type,
            account=_first(form.get("username")) if grant_type == "password" else None,
            # oauth.md: scope is one space-separated parameter; accept repeated ones too.
            scopes=tuple(s for value in form.get("scope", []) for s in value.split(" ") if s),
            service=_first(form.get("service")),
            offline=_first(form.get("access_type")) == "offline",
        )
        if grant_type == "password":
            if not self.issuer.check_password(
                asked.account or "", _first(form.get("password")) or ""
            ):
                return self._refuse(asked)
            return self._answer(asked)
        if grant_type == "refresh_token":
            account = self.issuer.account_for_refresh_token(_first(form.get("refresh_token")) or "")
            if account is None:
                return self._refuse(asked)
            return self._answer(replace(asked, account=account), refresh=True)
        self._reply(asked, 400, {"error": "unsupported_grant_type"})

    def _basic_credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password

    def _answer(self, asked: _Asked, *, refresh: bool = False) -> None:
        issuer = self.issuer
        if issuer.unavailable:
            unavailable = {"code": "UNAVAILABLE", "message": "token service unavailable"}
            return self._reply(asked, 503, {"errors": [unavailable]})
        if asked.service is not None and asked.service != issuer.service:
            unknown = f"unknown service {asked.service!r}"
            return self._reply(
                asked, 400, {"error": "invalid_request", "error_description": unknown}
            )
        scopes = [s for s in (Scope.parse(t) for t in asked.scopes) if s is not None]
        body = issuer.issue(asked.account, scopes)
        if asked.method == "POST":
            body["scope"] = " ".join(asked.scopes)
            del body["token"]  # oauth.md: the POST answer carries access_token only
        if asked.account is not None and (asked.offline or refresh):
            body["refresh_token"] = issuer.new_refresh_token(asked.account)
        self._reply(asked, 200, body)

    def _refuse(self, asked: _Asked) -> None:
        self._reply(
            asked,
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]},
            {"WWW-Authenticate": 'Basic realm="repro-test-token-issuer"'},
        )

    def _reply(
        self,
        asked: _Asked,
        status: int,
        body: object,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.issuer.record(
            TokenRequest(
                asked.method, asked.grant_type, asked.account, asked.scopes, asked.service,
                status, asked.offline,
            )
        )  # fmt: skip
        self._send_json(status, body, headers)

    def _send_json(
        self, status: int, body: object, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
