"""The one client for OCI registries: the distribution protocol, auth, trust, deadlines.

Why repro owns this client rather than using oras-py (measured here, 2 cores, loaded):

- oras-py 0.2.43's public API (``Registry(hostname, insecure, tls_verify, auth_backend)``)
  sets no timeout on any request and wraps ``do_request`` in a fixed retry decorator
  (5 attempts, 3+5+11+29+83 s of sleep) that no argument changes. Against a dead port
  ``get_manifest`` raised after 131 s; a 500 was retried for 131 s; a 401 ``Bearer``
  without ``realm`` crashed (AttributeError) after 131 s; a registry that hangs, and one
  that trickles a byte a second, were still waiting when killed at 30 s and 100 s; a 429
  came back at once with no regard for ``Retry-After``. Its token auth keeps one token
  per client (not per scope) and trusts one CA bundle path; nothing reads certs.d or
  client certificates. Reaching past that meant ``Registry.do_request.__wrapped__``.
- Importing it costs 0.30 s of CPU (jsonschema, requests) against 0.09 s for urllib3
  (``python -c 'import time; t=time.process_time(); import X; ...'``, best of 5), and
  every ``repro lock`` pays the import.

So the protocol lives here, on urllib3 (through ``repro.registry.transport``), with a
deadline for every operation, bounded retries that honour ``Retry-After``, Basic and
Bearer auth with a token cache, mirrors that fall back to the registry named, and
integrity checks on every manifest read: the digest repro reports is the sha256 of the
bytes it read, never a header's word.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from repro import __version__
from repro.environment import RegistryStatus
from repro.errors import AuthError, InputError, RegistryError
from repro.oci.mediatypes import MANIFEST_ACCEPT, OCI_INDEX
from repro.registry.auth import (
    Challenge,
    Credential,
    CredentialStore,
    Secret,
    Token,
    TokenCache,
    parse_challenges,
    parse_token_response,
    repository_scope,
)
from repro.registry.bodies import (
    TIMEOUT_ENV,
    TIMEOUT_HINT,
    Deadline,
    IntegrityError,
    ResponseStream,
    clip,
    error_detail,
    hash_as,
    read_limited,
    refuse_encoding,
    retry_after,
)
from repro.registry.manifests import validate_manifest, well_formed_digest
from repro.registry.model import ManifestResponse, RegistryResponse
from repro.registry.tls import (
    ClientCertificate,
    TrustSettings,
    fetch_presented_certificate,
)
from repro.registry.transport import (
    Failure,
    HttpRequest,
    HttpResponse,
    Transport,
    TransportError,
    proxy_for,
)

DEFAULT_TIMEOUT = 30.0  # seconds for one registry operation, retries and tokens included
MANIFEST_LIMIT = 4 * 1024 * 1024  # containerd's cap on a manifest
SMALL_BLOB_LIMIT = 32 * 1024 * 1024  # get_blob: configs, envelopes, reports
TOKEN_BODY_LIMIT = 1024 * 1024
MAX_ATTEMPTS = 4  # one request and three retries for 429/502/503/504
MAX_RETRY_WAIT = 15.0  # seconds of back-off in one operation, at most
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = f"repro/{__version__}"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
_ACCEPT = {"Accept": ", ".join(MANIFEST_ACCEPT)}

T = TypeVar("T")


def timeout_from_environment(
    configured: float | None = None, environment: Mapping[str, str] | None = None
) -> float:
    """``REPRO_REGISTRY_TIMEOUT`` over ``[tool.repro] registry-timeout`` over 30 s."""
    env = os.environ if environment is None else environment
    text = env.get(TIMEOUT_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value <= 3600:
            raise InputError(
                f"{TIMEOUT_ENV}={text!r} is not a number of seconds between 0 and 3600"
            )
        return value
    return DEFAULT_TIMEOUT if configured is None else configured


def is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class NotFoundError(RegistryError):
    """404: no such manifest or blob."""


@dataclass
class RequestCounter:
    """Counts manifest requests (thread-safe), so a run can prove it asked once per tag."""

    manifest_requests: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, method: str) -> None:
        with self._lock:
            self.manifest_requests += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1


@dataclass(frozen=True)
class ClientSettings:
    timeout: float = DEFAULT_TIMEOUT
    insecure: frozenset[str] = frozenset()  # insecure-registries: no verification, HTTP ok
    max_attempts: int = MAX_ATTEMPTS
    max_retry_wait: float = MAX_RETRY_WAIT
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


# --- endpoints --------------------------------------------------------------------------


class _Endpoint:
    """One host repro talks to: which scheme works, and what auth it asked for."""

    def __init__(self, host: str, *, insecure: bool, scheme: str | None = None) -> None:
        self.host = host
        self.insecure = insecure
        self.loopback = is_loopback(host)
        self.forced_scheme = scheme
        self.scheme: str | None = scheme
        self.lock = threading.RLock()
        self.scheme_lock = threading.RLock()  # _scheme holds it while fall_back takes it
        self.basic = False  # the registry asked for Basic: send it up front
        self.bearer: Challenge | None = None  # the token service it named

    @property
    def verify(self) -> bool:
        return not self.insecure

    def fall_back(self, error: TransportError) -> bool:
        """Switch to plain HTTP after an HTTPS failure, as Docker does, only for registries
        listed as insecure (after any TLS failure) and loopback ones (when the port does
        not speak TLS); never once HTTPS has worked. True: try again in HTTP."""
        with self.scheme_lock:
            if self.scheme == "http":
                return True  # another request found it out meanwhile
            if self.scheme is not None or self.forced_scheme is not None:
                return False
            if self.insecure:
                allowed = error.failure in (Failure.NOT_TLS, Failure.TLS, Failure.BROKEN)
            else:
                allowed = self.loopback and error.failure in (Failure.NOT_TLS, Failure.BROKEN)
            if allowed:
                self.scheme = "http"
            return allowed


@dataclass(frozen=True)
class MirrorEndpoint:
    host: str
    scheme: str | None  # None: HTTPS first, as for any registry


def origin_host(registry: str) -> str:
    """The host that serves ``registry`` (as normalised: "docker.io" for Docker Hub)."""
    return DOCKER_HUB_ENDPOINT if registry == "docker.io" else registry


def mirrors_for(registry: str, mirrors: Mapping[str, str]) -> tuple[MirrorEndpoint, ...]:
    """The mirror configured for ``registry`` (``[tool.repro] mirrors``), validated."""
    value = mirrors.get(registry)
    if value is None and registry == "docker.io":
        value = mirrors.get("index.docker.io") or mirrors.get(DOCKER_HUB_ENDPOINT)
    if value is None:
        return ()
    return (parse_mirror(registry, value),)


def parse_mirror(registry: str, value: str) -> MirrorEndpoint:
    text = value.strip()
    if not text:
        raise InputError(
            f"the mirror for {registry} is empty",
            hint=f'set it to a host or URL (e.g. "https://mirror.example:5000"), '
            f"or remove {registry} from [tool.repro] mirrors",
        )
    if "://" not in text:
        return MirrorEndpoint(text.rstrip("/"), None)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"the mirror {value!r} for {registry} is not an http(s) URL")
    if parts.path.strip("/") or parts.query:
        raise InputError(
            f"the mirror {value!r} for {registry} has a path; a mirror is a registry host",
            hint=f"use {parts.scheme}://{parts.netloc}",
        )
    return MirrorEndpoint(parts.netloc, parts.scheme)


# --- the session: what every client in one run shares ------------------------------------


class RegistrySession:
    """The transport, trust, credentials and tokens of one run, shared by its clients."""

    def __init__(
        self,
        *,
        settings: ClientSettings | None = None,
        trust: TrustSettings | None = None,
        credentials: CredentialStore | None = None,
        transport: Transport | None = None,
        counter: RequestCounter | None = None,
        presented_certificate: Callable[[str], Any] = fetch_presented_certificate,
    ) -> None:
        self.settings = settings or ClientSettings()
        self.trust = trust or TrustSettings()
        self.credentials = credentials or CredentialStore()
        self.counter = counter or RequestCounter()
        self.tokens = TokenCache(clock=self.settings.clock)
        self._transport = transport
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str | None], _Endpoint] = {}
        self._credential_cache: dict[tuple[str, str | None], Credential | None] = {}
        self.presented_certificate = presented_certificate

    @property
    def transport(self) -> Transport:
        with self._lock:
            if self._transport is None:
                from repro.registry.transport import Urllib3Transport

                trust = self.trust
                self._transport = Urllib3Transport(
                    lambda host, verify: trust.context(host, verify=verify)
                )
            return self._transport

    def endpoint(self, host: str, scheme: str | None = None) -> _Endpoint:
        with self._lock:
            found = self._endpoints.get((host, scheme))
            if found is None:
                found = _Endpoint(host, insecure=host in self.settings.insecure, scheme=scheme)
                self._endpoints[(host, scheme)] = found
            return found

    def credential(self, host: str, repository: str | None) -> Credential | None:
        key = (host, repository)
        with self._lock:
            if key in self._credential_cache:
                return self._credential_cache[key]
        found = self.credentials.find(host, repository)
        with self._lock:
            self._credential_cache[key] = found
        return found

    def client(self, registry: str, mirrors: Mapping[str, str] | None = None) -> RegistryClient:
        return RegistryClient(registry, self, mirrors_for(registry, mirrors or {}))

    def deadline(self) -> Deadline:
        return Deadline(self.settings.timeout, self.settings.clock)


# --- the client -------------------------------------------------------------------------


class RegistryClient:
    """The registry ``registry`` (``host[:port]``, "docker.io" for Docker Hub).

    Reads (manifests, blobs) try its mirror first and the registry named after it;
    writes (push_blob, put_manifest) and ``request`` go to the registry named.
    """

    def __init__(
        self,
        registry: str,
        session: RegistrySession | None = None,
        mirrors: Sequence[MirrorEndpoint] = (),
    ) -> None:
        self.registry = registry
        self.session = session or RegistrySession()
        self._origin = self.session.endpoint(origin_host(registry))
        self._mirrors = [self.session.endpoint(m.host, m.scheme) for m in mirrors]
        self.counter = self.session.counter

    @property
    def host(self) -> str:
        """The host of the registry named (writes go there)."""
        return self._origin.host

    @property
    def plain_http(self) -> bool:
        """Whether the registry named is spoken to in plain HTTP (asks it once if unknown)."""
        self._scheme(self._origin, self.session.deadline())
        return self._origin.scheme == "http"

    # -- the exchange -------------------------------------------------------------------

    def _scheme(self, endpoint: _Endpoint, deadline: Deadline) -> str:
        """The scheme for ``endpoint``; the first request to a host finds it out."""
        if endpoint.scheme is not None:
            return endpoint.scheme
        with endpoint.scheme_lock:  # one discovery per host, the other threads wait
            if endpoint.scheme is None:
                self._send(endpoint, "GET", "/v2/", scope=None, deadline=deadline).close()
        return endpoint.scheme or "https"

    def _send(
        self,
        endpoint: _Endpoint,
        method: str,
        path: str,
        *,
        scope: tuple[str, bool] | None,  # (repository, push)
        deadline: Deadline,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        url: str | None = None,
        authenticate: bool = True,
    ) -> HttpResponse:
        """One request with auth, retries, redirects and scheme fallback; the response
        (any status but 401/429/5xx-retried/3xx) for the caller to read and close."""
        settings = self.session.settings
        attempts, waited, redirects = 0, 0.0, 0
        answered_challenge = False
        target = url
        while True:
            if deadline.expired:
                raise self._timeout_error(endpoint, deadline, method, path)
            scheme = endpoint.scheme or "https"
            current = target or f"{scheme}://{endpoint.host}{path}"
            on_registry = urlsplit(current).netloc == endpoint.host
            request_headers = {
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
                **(headers or {}),
            }
            authorization = self._authorization(endpoint, scope, deadline) if on_registry else None
            if authorization:
                request_headers["Authorization"] = authorization
            try:
                response = self.session.transport.send(
                    HttpRequest(method, current, request_headers, body),
                    timeout=deadline.remaining(),
                    verify=endpoint.verify if on_registry else True,
                )
            except TransportError as error:
                if target is None and scheme == "https" and endpoint.fall_back(error):
                    continue
                raise self._transport_error(endpoint, error, deadline, current) from None
            if on_registry and endpoint.scheme is None:
                endpoint.scheme = urlsplit(current).scheme
            status = response.status
            if status == 401 and on_registry and authenticate:
                challenges = response.headers.get_all("www-authenticate")
                detail = error_detail(response, deadline)
                if answered_challenge:
                    raise self._refused(endpoint, scope, detail)
                self._answer(
                    endpoint,
                    parse_challenges(challenges),
                    challenges,
                    scope,
                    deadline,
                    authorization,
                )
                answered_challenge = True
                continue
            if status in RETRY_STATUSES:
                detail = error_detail(response, deadline)
                attempts += 1
                wait = retry_after(response.headers, settings.clock) or min(2.0, 0.5 * 2**attempts)
                if (
                    attempts >= settings.max_attempts
                    or waited + wait > settings.max_retry_wait
                    or wait >= deadline.remaining()
                ):
                    raise self._throttled(endpoint, status, detail, attempts, waited, wait)
                settings.sleep(wait)
                waited += wait
                continue
            if status in REDIRECT_STATUSES and response.headers.get("location"):
                location = response.headers["location"]
                response.close()
                redirects += 1
                next_url = urljoin(current, location)
                if redirects > MAX_REDIRECTS:
                    raise RegistryError(
                        f"registry {endpoint.host} redirected {method} {path} too often"
                    )
                parts = urlsplit(next_url)
                if parts.scheme == "http" and not (
                    is_loopback(parts.netloc) or parts.netloc in settings.insecure
                ):
                    raise RegistryError(
                        f"registry {endpoint.host} redirected {method} {path} to plain HTTP "
                        f"({parts.netloc}); repro does not follow it",
                        hint=f"list {parts.netloc} in [tool.repro] insecure-registries if that "
                        "is intended",
                    )
                if status == 303:
                    method, body = "GET", None
                target = next_url
                continue
            return response

    def _authorization(
        self, endpoint: _Endpoint, scope: tuple[str, bool] | None, deadline: Deadline
    ) -> str | None:
        with endpoint.lock:
            if endpoint.bearer is not None:
                return "Bearer " + self._token(endpoint, endpoint.bearer, scope, deadline).reveal()
            if endpoint.basic:
                credential = self.session.credential(endpoint.host, scope[0] if scope else None)
                return credential.basic_header() if credential else None
        return None

    def _answer(
        self,
        endpoint: _Endpoint,
        challenges: list[Challenge],
        raw: list[str],
        scope: tuple[str, bool] | None,
        deadline: Deadline,
        sent: str | None,
    ) -> None:
        """Learn what the 401 asks for, so that the retry carries it. A token that was
        sent and refused (expired, too narrow) is dropped; one another thread fetched
        meanwhile is kept."""
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        repository = scope[0] if scope else None
        with endpoint.lock:
            if bearer is not None and bearer.get("realm"):
                if endpoint.bearer is not None and sent and sent.startswith("Bearer "):
                    self._drop_token(endpoint.bearer, scope, sent[len("Bearer ") :])
                endpoint.bearer = bearer
                self._token(endpoint, bearer, scope, deadline, challenge_scope=bearer.get("scope"))
                return
            if basic is not None:
                if self.session.credential(endpoint.host, repository) is None:
                    raise self._no_credentials(endpoint, "Basic")
                endpoint.basic = True
                return
        if bearer is not None:
            raise AuthError(
                f"registry {endpoint.host} asks for a Bearer token but its challenge names no "
                f"token service (no realm): {clip(', '.join(raw))}",
                hint="the registry is misconfigured (its auth token realm); tell its operator",
            )
        shown = clip(", ".join(raw)) if raw else "no WWW-Authenticate header"
        raise AuthError(
            f"registry {endpoint.host} answered 401 with a challenge repro cannot answer: {shown}",
            hint="repro speaks Basic and Bearer (token) auth, as Docker does",
        )

    def _scopes(self, scope: tuple[str, bool] | None, extra: str | None) -> tuple[str, ...]:
        wanted: list[str] = []
        if scope is not None:
            wanted.append(repository_scope(scope[0], scope[1]))
        if extra:
            wanted.extend(part for part in extra.split(" ") if part and part not in wanted)
        return tuple(sorted(set(wanted)))

    def _drop_token(self, challenge: Challenge, scope: tuple[str, bool] | None, sent: str) -> None:
        realm, service = challenge.get("realm") or "", challenge.get("service") or ""
        scopes = self._scopes(scope, None)
        cached = self.session.tokens.get(realm, service, scopes)
        if cached is not None and cached.value.reveal() == sent:
            self.session.tokens.drop(realm, service, scopes)

    def _token(
        self,
        endpoint: _Endpoint,
        challenge: Challenge,
        scope: tuple[str, bool] | None,
        deadline: Deadline,
        challenge_scope: str | None = None,
    ) -> Secret:
        realm, service = challenge.get("realm") or "", challenge.get("service") or ""
        scopes = self._scopes(scope, None)
        cached = self.session.tokens.get(realm, service, scopes)
        if cached is not None:
            return cached.value
        requested = self._scopes(scope, challenge_scope)
        token = self._fetch_token(endpoint, realm, service, requested, scope, deadline)
        self.session.tokens.put(realm, service, scopes, token)
        return token.value

    def _fetch_token(
        self,
        endpoint: _Endpoint,
        realm: str,
        service: str,
        scopes: tuple[str, ...],
        scope: tuple[str, bool] | None,
        deadline: Deadline,
    ) -> Token:
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise AuthError(f"registry {endpoint.host} names a token service that is not a URL")
        if parts.scheme == "http" and not (
            is_loopback(parts.netloc) or parts.netloc in self.session.settings.insecure
        ):
            raise AuthError(
                f"registry {endpoint.host} sends repro to a token service in plain HTTP "
                f"({parts.netloc}); credentials are not sent there",
                hint=f"list {parts.netloc} in [tool.repro] insecure-registries if that is intended",
            )
        credential = self.session.credential(endpoint.host, scope[0] if scope else None)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if credential is not None and credential.identity_token is not None:
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", credential.identity_token.reveal()),
                ("service", service),
                ("client_id", "repro"),
            ]
            if scopes:
                form.append(("scope", " ".join(scopes)))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = HttpRequest("POST", realm, headers, urlencode(form).encode())
        else:
            query = [("service", service)] if service else []
            query.extend(("scope", item) for item in scopes)
            if credential is not None:
                query.append(("account", credential.username))
                headers["Authorization"] = credential.basic_header()
            separator = "&" if parts.query else "?"
            url = realm + (separator + urlencode(query) if query else "")
            request = HttpRequest("GET", url, headers)
        where = f"the token service {parts.scheme}://{parts.netloc}{parts.path} for {endpoint.host}"
        attempts = 0
        while True:
            try:
                response = self.session.transport.send(request, timeout=deadline.remaining())
            except TransportError as error:
                raise self._transport_error(
                    _Endpoint(parts.netloc, insecure=False, scheme=parts.scheme),
                    error,
                    deadline,
                    realm,
                    what=where,
                ) from None
            status = response.status
            if status in RETRY_STATUSES and attempts + 1 < self.session.settings.max_attempts:
                detail = error_detail(response, deadline)
                attempts += 1
                wait = retry_after(response.headers, self.session.settings.clock) or 0.5
                if wait >= deadline.remaining():
                    raise RegistryError(f"{where} answered HTTP {status}{detail}")
                self.session.settings.sleep(wait)
                continue
            break
        if status in (401, 403):
            detail = error_detail(response, deadline)
            if credential is None:
                raise AuthError(
                    f"{where} refused an anonymous token (HTTP {status}{detail})",
                    hint=self._login_hint(endpoint.host),
                )
            raise AuthError(
                f"{where} refused the credentials for {credential.username or 'the token'!r} "
                f"from {credential.source} (HTTP {status}{detail})",
                hint=self._login_hint(endpoint.host),
            )
        if status != 200:
            detail = error_detail(response, deadline)
            raise RegistryError(
                f"{where} answered HTTP {status}{detail}",
                hint="the token service failed; try again later, or tell its operator",
            )
        try:
            body = read_limited(response, TOKEN_BODY_LIMIT, deadline, where)
        finally:
            response.close()
        token = parse_token_response(body, self.session.settings.clock())
        if token is None:
            raise RegistryError(f"{where} answered 200 but no token")
        return token

    # -- errors --------------------------------------------------------------------------

    def _login_hint(self, host: str) -> str:
        return f"log in with `docker login {host}` (or `podman login {host}`) and run again"

    def _no_credentials(self, endpoint: _Endpoint, scheme: str) -> AuthError:
        files = ", ".join(str(found.path) for found in self.session.credentials.files())
        return AuthError(
            f"registry {endpoint.host} asks for a login ({scheme}) and no credentials for it "
            f"were found (looked in {files})",
            hint=self._login_hint(endpoint.host),
        )

    def _refused(
        self, endpoint: _Endpoint, scope: tuple[str, bool] | None, detail: str
    ) -> AuthError:
        credential = self.session.credential(endpoint.host, scope[0] if scope else None)
        if endpoint.bearer is not None:
            realm = endpoint.bearer.get("realm")
            who = (
                f"for {credential.username!r} (credentials from {credential.source})"
                if credential
                else "anonymously"
            )
            action = "push to" if scope and scope[1] else "pull from"
            repository = f" {scope[0]}" if scope else ""
            return AuthError(
                f"registry {endpoint.host} refused the token {realm} issued {who} to {action}"
                f"{repository} (HTTP 401{detail})",
                hint=self._login_hint(endpoint.host)
                if credential is None
                else "check that this account may access the repository, or log in again",
            )
        if credential is not None:
            return AuthError(
                f"registry {endpoint.host} refused the credentials for {credential.username!r} "
                f"from {credential.source} (HTTP 401{detail})",
                hint=f"the password may be wrong or expired: {self._login_hint(endpoint.host)}",
            )
        return self._no_credentials(endpoint, "HTTP 401")

    def _throttled(
        self,
        endpoint: _Endpoint,
        status: int,
        detail: str,
        attempts: int,
        waited: float,
        wait: float,
    ) -> RegistryError:
        what = "429 Too Many Requests" if status == 429 else f"HTTP {status}"
        return RegistryError(
            f"registry {endpoint.host} throttled or failed: {what}{detail} on {attempts} "
            f"attempts over {waited:.1f} s (it asked to wait {wait:.0f} s more)",
            hint="wait and run again; a mirror ([tool.repro] mirrors) or a login raises most "
            "registries' rate limits",
        )

    def _timeout_error(
        self, endpoint: _Endpoint, deadline: Deadline, method: str, path: str
    ) -> RegistryError:
        return RegistryError(
            f"registry {endpoint.host} did not finish {method} {path} within "
            f"{deadline.seconds:g} s",
            hint=TIMEOUT_HINT,
        )

    def _transport_error(
        self,
        endpoint: _Endpoint,
        error: TransportError,
        deadline: Deadline,
        url: str,
        *,
        what: str | None = None,
    ) -> RegistryError:
        parts = urlsplit(url)
        host = parts.netloc
        subject = what or f"registry {endpoint.host}"
        if host != endpoint.host and what is None:
            subject += f" (redirected to {host})"
        failure = error.failure
        if failure is Failure.DNS:
            return RegistryError(
                f"{subject} is unreachable: {failure.value}: {error.detail}",
                hint="check the registry's name (in the reference or [tool.repro] mirrors) and "
                "this machine's DNS",
            )
        if failure is Failure.CONNECT:
            proxy = proxy_for(url)
            return RegistryError(
                f"{subject} is unreachable: {failure.value} to {parts.scheme}://{host} "
                f"({error.detail})",
                hint=f"is {'the token service' if what else 'the registry'} running, on that port?"
                + (f" (through the proxy {proxy})" if proxy else "")
                + " A proxy is set with HTTPS_PROXY; NO_PROXY lists the hosts that bypass it.",
            )
        if failure is Failure.TIMEOUT:
            return RegistryError(
                f"{subject} did not answer within {deadline.seconds:g} s ({error.detail})",
                hint=TIMEOUT_HINT,
            )
        if failure is Failure.TLS_VERIFY:
            return self._verify_error(subject, host, error)
        if failure is Failure.NOT_TLS:
            return RegistryError(
                f"{subject}: {failure.value} on {host} ({error.detail})",
                hint=f"if {host} is a plain-HTTP registry, list it in [tool.repro] "
                "insecure-registries",
            )
        return RegistryError(f"{subject}: {failure.value} ({error.detail})")

    def _verify_error(self, subject: str, host: str, error: TransportError) -> RegistryError:
        presented = self.session.presented_certificate(host)
        shown = f"; it presented {presented.describe()}" if presented is not None else ""
        trusted = self.session.trust.for_host(host).sources()
        reason = error.detail.rstrip(".")
        name = urlsplit(f"//{host}").hostname or host
        if "expired" in reason:
            hint = f"the certificate of {host} has expired: its operator must renew it"
        elif "Hostname mismatch" in reason or "IP address mismatch" in reason:
            hint = f"the certificate is not for {name}: use a name it was issued for"
        else:
            hint = (
                f"if {host} uses a private CA, put the CA certificate in "
                f"/etc/docker/certs.d/{host}/ca.crt (where Docker reads it), or name it in "
                "[tool.repro] ca-files or REPRO_CA_FILE"
            )
        return RegistryError(
            f"{subject}: {Failure.TLS_VERIFY.value}: {reason}{shown} "
            f"(trusted: {', '.join(trusted) or 'nothing'})",
            hint=hint,
        )

    def _status_error(
        self, endpoint: _Endpoint, status: int, detail: str, what: str
    ) -> RegistryError:
        if status == 403:
            return AuthError(
                f"registry {endpoint.host} denied {what} (HTTP 403{detail})",
                hint="the account lacks permission for this repository; check it, or log in "
                "as another user",
            )
        if status >= 500:
            return RegistryError(
                f"registry {endpoint.host} failed on {what} (HTTP {status}{detail})",
                hint="the registry has a problem of its own; try again later, or tell its operator",
            )
        return RegistryError(
            f"registry {endpoint.host} refused {what} (HTTP {status}{detail})",
            hint="check the reference; the registry rejected the request",
        )

    # -- reads through mirrors ----------------------------------------------------------

    def _read(self, operation: Callable[[_Endpoint], T]) -> T:
        failures: list[str] = []
        for endpoint in self._mirrors:
            try:
                answer = operation(endpoint)
            except (IntegrityError, InputError):
                raise
            except RegistryError as error:
                failures.append(f"mirror {endpoint.host}: {error.message}")
                continue
            if answer is not None:  # None: the mirror has no such blob; ask the registry
                return answer
            failures.append(f"mirror {endpoint.host}: not found")
        try:
            return operation(self._origin)
        except RegistryError as error:
            if failures:
                raise type(error)(
                    f"{error.message} (after {'; '.join(failures)})", hint=error.hint
                ) from error
            raise

    def _where(self, endpoint: _Endpoint, repository: str, reference: str) -> str:
        separator = "@" if ":" in reference else ":"
        where = f"{self.registry}/{repository}{separator}{reference}"
        if endpoint is not self._origin:
            where += f" (from the mirror {endpoint.host})"
        return where

    # -- manifests -----------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse:
        """The exact manifest bytes served for a tag or digest: read whole (4 MiB at most),
        hashed, checked against Docker-Content-Digest and the reference's digest, and
        validated as an OCI/Docker manifest or index. One GET per call."""
        return self._read(lambda endpoint: self._manifest_at(endpoint, repository, reference))

    def resolve(self, repository: str, reference: str) -> ManifestResponse:
        """What ``reference`` serves now (the same GET as get_manifest: the digest is the
        hash of the body, never a header's word)."""
        return self.get_manifest(repository, reference)

    def find_manifest(self, repository: str, reference: str) -> ManifestResponse | None:
        """Like get_manifest, but None when the registry has no such manifest."""
        try:
            return self.get_manifest(repository, reference)
        except NotFoundError:
            return None

    def _manifest_at(
        self, endpoint: _Endpoint, repository: str, reference: str
    ) -> ManifestResponse:
        where = self._where(endpoint, repository, reference)
        deadline = self.session.deadline()
        self.counter.add("GET")
        path = f"/v2/{repository}/manifests/{reference}"
        response = self._send(
            endpoint, "GET", path, scope=(repository, False), deadline=deadline, headers=_ACCEPT
        )
        try:
            status = response.status
            if status == 404:
                detail = error_detail(response, deadline)
                raise NotFoundError(
                    f"{where} was not found (HTTP 404{detail})",
                    hint="check the repository name and the tag or digest",
                )
            if status != 200:
                detail = error_detail(response, deadline)
                raise self._status_error(endpoint, status, detail, f"GET {path}")
            refuse_encoding(response, where)
            body = read_limited(response, MANIFEST_LIMIT, deadline, where)
        finally:
            response.close()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        served = response.headers.get("docker-content-digest")
        if served is not None:
            if not well_formed_digest(served):
                raise IntegrityError(
                    f"registry {endpoint.host} sent a malformed Docker-Content-Digest header "
                    f"({clip(served)}) for {where}",
                    hint="the registry is at fault, not the reference; tell its operator",
                )
            if hash_as(served, body) != served:
                raise IntegrityError(
                    f"{where}: the registry says {served} but the body it sent hashes to "
                    f"{hash_as(served, body)}",
                    hint="the registry (or something between) altered the manifest; nothing "
                    "was written",
                )
        if ":" in reference and hash_as(reference, body) != reference:
            raise IntegrityError(
                f"{where}: the body served hashes to {hash_as(reference, body)}, not the "
                "digest asked for",
                hint="the registry (or something between) altered the manifest; nothing was "
                "written",
            )
        document = validate_manifest(body, response.headers.get("content-type", ""), where)
        return ManifestResponse(
            digest=digest,
            media_type=document.media_type,
            body=body,
            endpoint=endpoint.host,
            platforms=document.platforms,
        )

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest under a tag or its own digest (to the registry named); its digest."""
        endpoint = self._origin
        deadline = self.session.deadline()
        path = f"/v2/{repository}/manifests/{reference}"
        response = self._send(
            endpoint,
            "PUT",
            path,
            scope=(repository, True),
            deadline=deadline,
            headers={"Content-Type": media_type},
            body=body,
        )
        try:
            if response.status not in (200, 201):
                detail = error_detail(response, deadline)
                raise self._status_error(endpoint, response.status, detail, f"PUT {path}")
        finally:
            response.close()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        served = response.headers.get("docker-content-digest")
        if served and served != digest:
            raise IntegrityError(
                f"registry {endpoint.host} stored {served} for {repository}, expected {digest}"
            )
        return digest

    # -- blobs ---------------------------------------------------------------------------

    def open_blob(self, repository: str, digest: str) -> BinaryIO | None:
        """Stream GET /v2/<repository>/blobs/<digest>; None on 404. Each MiB must arrive
        within the timeout. The bytes are not checked here: repro.oci verifies every blob
        against its digest."""

        def open_at(endpoint: _Endpoint) -> BinaryIO | None:
            deadline = self.session.deadline()
            path = f"/v2/{repository}/blobs/{digest}"
            response = self._send(
                endpoint, "GET", path, scope=(repository, False), deadline=deadline
            )
            if response.status == 404:
                response.close()
                return None
            if response.status != 200:
                detail = error_detail(response, deadline)
                response.close()
                raise self._status_error(endpoint, response.status, detail, f"GET {path}")
            label = f"blob {digest} of {self._where(endpoint, repository, digest)}"
            try:
                refuse_encoding(response, label)
            except RegistryError:
                response.close()
                raise
            settings = self.session.settings
            stream = ResponseStream(response, label, settings.timeout, settings.clock)
            return io.BufferedReader(stream, buffer_size=1 << 20)

        return self._read(open_at)

    def blob_size(self, repository: str, digest: str) -> int | None:
        """HEAD /v2/<repository>/blobs/<digest>: its Content-Length; None on 404."""

        def size_at(endpoint: _Endpoint) -> int | None:
            deadline = self.session.deadline()
            path = f"/v2/{repository}/blobs/{digest}"
            response = self._send(
                endpoint, "HEAD", path, scope=(repository, False), deadline=deadline
            )
            response.close()
            if response.status == 404:
                return None
            length = response.headers.get("content-length", "")
            if response.status != 200 or not length.isdigit():
                raise self._status_error(endpoint, response.status, "", f"HEAD {path}")
            return int(length)

        return self._read(size_at)

    def get_blob(self, repository: str, digest: str, limit: int = SMALL_BLOB_LIMIT) -> bytes:
        """A small blob's bytes (``limit`` at most), verified against its digest."""

        def get_at(endpoint: _Endpoint) -> bytes:
            where = f"blob {digest} of {self._where(endpoint, repository, digest)}"
            deadline = self.session.deadline()
            path = f"/v2/{repository}/blobs/{digest}"
            response = self._send(
                endpoint, "GET", path, scope=(repository, False), deadline=deadline
            )
            try:
                if response.status == 404:
                    detail = error_detail(response, deadline)
                    raise NotFoundError(
                        f"{where} is missing (HTTP 404{detail})",
                        hint="the registry lacks a blob the manifest names; push the image again",
                    )
                if response.status != 200:
                    detail = error_detail(response, deadline)
                    raise self._status_error(endpoint, response.status, detail, f"GET {path}")
                refuse_encoding(response, where)
                body = read_limited(response, limit, deadline, where)
            finally:
                response.close()
            if hash_as(digest, body) != digest:
                raise IntegrityError(f"{where}: the bytes served hash to {hash_as(digest, body)}")
            return body

        return self._read(get_at)

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` as a blob (POST, then one PUT) unless it is there; its digest."""
        endpoint = self._origin
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        deadline = self.session.deadline()
        scope = (repository, True)
        head = self._send(
            endpoint, "HEAD", f"/v2/{repository}/blobs/{digest}", scope=scope, deadline=deadline
        )
        head.close()
        if head.status == 200:
            return digest
        start_path = f"/v2/{repository}/blobs/uploads/"
        start = self._send(endpoint, "POST", start_path, scope=scope, deadline=deadline)
        try:
            location = start.headers.get("location", "")
            if start.status != 202 or not location:
                detail = error_detail(start, deadline)
                raise self._status_error(endpoint, start.status, detail, f"POST {start_path}")
        finally:
            start.close()
        base = f"{endpoint.scheme or 'https'}://{endpoint.host}"
        upload = urljoin(base + start_path, location)
        separator = "&" if "?" in upload else "?"
        done = self._send(
            endpoint,
            "PUT",
            "",
            scope=scope,
            deadline=deadline,
            headers={"Content-Type": "application/octet-stream"},
            body=data,
            url=f"{upload}{separator}digest={digest}",
        )
        try:
            if done.status != 201:
                detail = error_detail(done, deadline)
                raise self._status_error(endpoint, done.status, detail, f"uploading {digest}")
        finally:
            done.close()
        return digest

    # -- any request (the referrers API, ...) ----------------------------------------------

    def referrers(self, repository: str, digest: str) -> bytes | None:
        """GET /v2/<repository>/referrers/<digest> (distribution spec v1.1): the OCI index
        listing the manifests whose subject is ``digest``, or None when the registry has no
        referrers API (it answers 404; the caller then reads the referrers tag schema).

        Not digest-checked: the listing is computed by the registry, not stored content;
        the manifests it names are fetched, and checked, by their digests.
        """
        path = f"/v2/{repository}/referrers/{digest}"
        answer = self.request("GET", repository, path, headers={"Accept": OCI_INDEX})
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise RegistryError(
                f"{self.host}/{repository}: the referrers of {digest} answered HTTP {answer.status}"
            )
        return answer.body

    def request(
        self,
        method: str,
        repository: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        push: bool = False,
        limit: int = MANIFEST_LIMIT,
    ) -> RegistryResponse:
        """``method path`` on the registry named (``path`` from ``/v2/``), authenticated for
        ``repository`` (pull, or pull+push), with the deadline, retries and redirects of
        every request. Any HTTP status is returned; the body is read whole up to ``limit``
        bytes (more is a RegistryError). Failures below HTTP, auth refusals and throttling
        raise RegistryError."""
        if not path.startswith("/v2/"):
            raise ValueError(f"a registry path starts with /v2/, not {path!r}")
        endpoint = self._origin
        deadline = self.session.deadline()
        response = self._send(
            endpoint,
            method,
            path,
            scope=(repository, push),
            deadline=deadline,
            headers=headers,
            body=body,
        )
        try:
            where = f"{method} {path} on {endpoint.host}"
            if method == "HEAD":
                data = b""
            else:
                refuse_encoding(response, where)
                data = read_limited(response, limit, deadline, where)
        finally:
            response.close()
        return RegistryResponse(
            status=response.status,
            headers=dict(response.headers.items()),
            body=data,
            endpoint=endpoint.host,
        )

    # -- checks (`repro doctor`) and skopeo ---------------------------------------------

    def ping(self) -> RegistryStatus:
        """GET /v2/: 200 (open) or 401 (asks for credentials) both mean a live registry."""
        return self.diagnose(check_auth=False)

    def diagnose(self, *, check_auth: bool = True) -> RegistryStatus:
        """Reachable? over which scheme, verified by which trust source? credentials found
        where, accepted, token obtained? Nothing secret is in the answer."""
        from repro.registry.diagnose import diagnose

        return diagnose(self, self._origin, check_auth=check_auth)

    def skopeo_access(self) -> SkopeoAccess:
        """What skopeo needs to push to the registry named as repro would: the scheme, the
        CA files and client certificates trusted for it, and the credential."""
        plain = self.plain_http
        trust = self.session.trust.for_host(self.host)
        credential = self.session.credential(self.host, None)
        return SkopeoAccess(
            host=self.host,
            plain_http=plain,
            verify=self._origin.verify,
            ca_files=tuple(str(path) for path in trust.ca_files),
            client_certs=trust.client_certs,
            credential=credential,
        )


@dataclass(frozen=True)
class SkopeoAccess:
    host: str
    plain_http: bool
    verify: bool
    ca_files: tuple[str, ...]
    client_certs: tuple[ClientCertificate, ...]
    credential: Credential | None


# --- building clients -------------------------------------------------------------------


def client_for(
    registry: str,
    *,
    mirrors: Mapping[str, str] | None = None,
    session: RegistrySession | None = None,
) -> RegistryClient:
    """A client for ``registry`` (as normalised), reading through its mirror if any."""
    return (session or RegistrySession()).client(registry, mirrors)


def hosts_of(registries: Iterable[str], mirrors: Mapping[str, str]) -> list[str]:
    """Every host `repro doctor` should check: the registries and their mirrors."""
    hosts = list(registries)
    for registry in list(mirrors):
        for mirror in mirrors_for(registry, mirrors):
            hosts.append(mirror.host)
    return sorted(set(hosts))
