"""`repro doctor` for one registry: reachable, TLS verified by which trust source,
credentials found where, accepted, token obtained. Nothing secret is in the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from repro.environment import RegistryFinding, RegistryStatus
from repro.errors import RegistryError
from repro.registry.auth import Challenge, parse_challenges
from repro.registry.tls import OS_STORE, handshake_verifies

if TYPE_CHECKING:
    from repro.registry.client import RegistryClient, _Endpoint


def diagnose(client: RegistryClient, endpoint: _Endpoint, *, check_auth: bool) -> RegistryStatus:
    session = client.session
    host = endpoint.host
    deadline = session.deadline()
    try:
        response = client._send(
            endpoint, "GET", "/v2/", scope=None, deadline=deadline, authenticate=False
        )
        response.close()
    except RegistryError as error:
        return RegistryStatus(host, False, error.message, fix=error.hint)
    scheme = endpoint.scheme or "https"
    status = response.status
    if status not in (200, 401):
        return RegistryStatus(
            host,
            False,
            f"GET {scheme}://{host}/v2/ answered HTTP {status}: not a registry API",
            fix="check the host and port of the registry",
        )
    challenges = parse_challenges(response.headers.get_all("www-authenticate"))
    asks = f", asks for {challenges[0].scheme.title()} auth" if challenges else ""
    detail = f"reachable over {scheme} (GET /v2/ answered {status}{asks})"
    findings = [_tls(client, endpoint, scheme)]
    if check_auth:
        findings.append(_auth(client, endpoint, status, challenges))
    return RegistryStatus(host, True, detail, tuple(findings))


def _tls(client: RegistryClient, endpoint: _Endpoint, scheme: str) -> RegistryFinding:
    host = endpoint.host
    if scheme == "http":
        if endpoint.insecure:
            return RegistryFinding(
                "tls", None, "plain HTTP (listed in insecure-registries): nothing is encrypted"
            )
        return RegistryFinding("tls", True, "plain HTTP (a loopback registry: no TLS to verify)")
    presented = client.session.presented_certificate(host)
    shown = f"; {presented.describe()}" if presented is not None else ""
    if endpoint.insecure:
        return RegistryFinding("tls", None, f"not verified (listed in insecure-registries){shown}")
    trust = client.session.trust
    host_trust = trust.for_host(host)
    sources: list[tuple[str, bool, tuple[str, ...]]] = []
    if host_trust.os_store:
        sources.append((OS_STORE, True, ()))
    sources.extend((str(path), False, (str(path),)) for path in host_trust.ca_files)
    from pathlib import Path

    for name, use_os, files in sources:
        context = trust.context(host, os_store=use_os, ca_files=[Path(f) for f in files])
        if handshake_verifies(host, context):
            clients = host_trust.client_certs
            extra = f"; client certificate {clients[0].cert}" if clients else ""
            return RegistryFinding("tls", True, f"certificate verified by {name}{shown}{extra}")
    return RegistryFinding(
        "tls",
        True,
        f"certificate verified (by the trust sources together: "
        f"{', '.join(host_trust.sources())}){shown}",
    )


def _auth(
    client: RegistryClient, endpoint: _Endpoint, status: int, challenges: list[Challenge]
) -> RegistryFinding:
    host = endpoint.host
    session = client.session
    credential = session.credential(host, None)
    found = (
        f"credentials for {credential.username or '(identity token)'!r} from {credential.source}"
        if credential
        else "no credentials found (looked in "
        + ", ".join(str(f.path) for f in session.credentials.files())
        + ")"
    )
    if status == 200:
        return RegistryFinding("auth", True, f"no login needed; {found}")
    bearer = next((c for c in challenges if c.scheme == "bearer"), None)
    basic = next((c for c in challenges if c.scheme == "basic"), None)
    login = f"log in with `docker login {host}`"
    deadline = session.deadline()
    try:
        if bearer is not None and bearer.get("realm"):
            realm = bearer.get("realm") or ""
            token = client._fetch_token(
                endpoint, realm, bearer.get("service") or "", (), None, deadline
            )
            accepted = _accepted(client, endpoint, "Bearer " + token.value.reveal())
            if not accepted:
                return RegistryFinding(
                    "auth", False, f"{found}; {realm} issued a token the registry refuses", login
                )
            if credential is None:
                return RegistryFinding(
                    "auth",
                    None,
                    f"anonymous token obtained from {realm}; {found}",
                    f"{login} to pull private repositories or push",
                )
            return RegistryFinding("auth", True, f"{found}; token obtained from {realm}")
        if basic is not None:
            if credential is None:
                return RegistryFinding("auth", False, f"asks for a login (Basic); {found}", login)
            if _accepted(client, endpoint, credential.basic_header()):
                return RegistryFinding("auth", True, f"{found}; accepted (Basic)")
            return RegistryFinding("auth", False, f"{found}; refused (HTTP 401)", login)
    except RegistryError as error:
        return RegistryFinding("auth", False, error.message, error.hint)
    shown = ", ".join(c.scheme for c in challenges) or "no challenge"
    return RegistryFinding(
        "auth", False, f"answered 401 with {shown}, which repro cannot answer", None
    )


def _accepted(client: RegistryClient, endpoint: _Endpoint, authorization: str) -> bool:
    """GET /v2/ with ``authorization``: 200?"""
    from repro.registry.transport import HttpRequest, TransportError

    url = f"{endpoint.scheme or 'https'}://{endpoint.host}/v2/"
    deadline = client.session.deadline()
    try:
        response = client.session.transport.send(
            HttpRequest("GET", url, {"Authorization": authorization}),
            timeout=deadline.remaining(),
            verify=endpoint.verify,
        )
    except TransportError:
        return False
    response.close()
    return response.status == 200
