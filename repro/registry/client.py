"""The one HTTP client for OCI registries: endpoints, mirrors, timeouts, credentials.

oras-py retries failed requests for minutes and sets no timeouts; a registry that is
down must fail within seconds and name itself, so requests here go through an adapter
with explicit timeouts and skip oras' retry loop.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from repro.environment import RegistryStatus
from repro.errors import AuthError, InputError, RegistryError
from repro.oci.mediatypes import MANIFEST_ACCEPT, OCI_INDEX
from repro.registry.auth import credentials_for, load_docker_config
from repro.registry.model import ManifestResponse

DEFAULT_TIMEOUT = (3.05, 20.0)  # (connect, read) seconds


def is_plain_http_host(host: str, insecure: frozenset[str] = frozenset()) -> bool:
    """Plain HTTP only for loopback registries and those the user listed as insecure."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in {"localhost", "127.0.0.1", "[::1]"} or host in insecure


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class RequestCounter:
    """Counts manifest requests (thread-safe), so a run can prove it asked once per reference."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.manifest_requests = 0
        self.by_method: dict[str, int] = {}

    def add(self, method: str) -> None:
        with self._lock:
            self.manifest_requests += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1


class _ResponseStream(io.RawIOBase):
    """The raw body of a streamed response; a lost connection is a RegistryError."""

    def __init__(self, response: Any, label: str) -> None:
        super().__init__()
        self._response = response
        self._label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data: bytes = self._response.raw.read(len(view), decode_content=False)
        except Exception as exc:  # urllib3/requests errors: the connection broke mid-blob
            raise RegistryError(
                f"reading {self._label} failed: {type(exc).__name__}: {exc}"
            ) from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class RegistryClient:
    """A registry endpoint: ``host`` is ``name[:port]``; credentials from the docker config.

    ``plain_http`` overrides the loopback/insecure rule (a mirror URL that says http://
    and is allowed to); ``counter`` counts manifest requests.
    """

    def __init__(
        self,
        host: str,
        *,
        insecure: frozenset[str] = frozenset(),
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        plain_http: bool | None = None,
        docker_config: Mapping[str, Any] | None = None,
        counter: RequestCounter | None = None,
    ) -> None:
        self.host = host
        self.plain_http = is_plain_http_host(host, insecure) if plain_http is None else plain_http
        self._timeout = timeout
        # Manifest requests use a plain session; oras (slow to import) is built only when
        # a registry asks for a token, or for ping().
        self._session = requests.Session()
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._mount(self._session)
        self._docker_config = docker_config
        self._credentials: tuple[str, str] | None = None
        self._credentials_loaded = False
        self._auth_lock = threading.Lock()
        self._auth_headers: dict[str, str] = {}  # repository -> Authorization value
        self.counter = counter or RequestCounter()

    def _mount(self, session: requests.Session) -> None:
        adapter = _TimeoutAdapter(self._timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)

    @functools.cached_property
    def _oras(self) -> Any:
        import oras.provider

        registry = oras.provider.Registry(hostname=self.host, insecure=self.plain_http)
        self._mount(registry.session)
        if self._credentials is not None:
            registry.auth.set_basic_auth(*self._credentials)
        return registry

    def _request(self, registry: Any, url: str, method: str, headers: dict[str, str]) -> Any:
        import oras.provider

        # Bypass oras' minutes-long retry decorator; failures surface at once.
        return oras.provider.Registry.do_request.__wrapped__(registry, url, method, headers=headers)

    @property
    def base_url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"

    def _unreachable(self, exc: Exception) -> RegistryError:
        return RegistryError(
            f"registry {self.host} is unreachable: {type(exc).__name__}",
            hint=f"Check that {self.base_url}/v2/ answers (./scripts/setup starts the local one).",
        )

    def _do(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> Any:
        try:
            response = self._request(self._oras, url, method, headers=dict(headers or {}))
        except requests.exceptions.RequestException as exc:
            raise self._unreachable(exc) from exc
        except ValueError as exc:  # oras: "Cannot respond to request for authentication."
            raise AuthError(
                f"registry {self.host} refused authentication: {exc}",
                hint=f"Run `docker login {self.host}` or fix credentials in the docker config.",
            ) from exc
        if response.status_code in (401, 403):
            raise AuthError(
                f"registry {self.host} refused access ({response.status_code}) to {url}",
                hint=f"Run `docker login {self.host}`.",
            )
        return response

    # -- authenticated manifest requests ---------------------------------------------

    def _load_credentials(self) -> tuple[str, str] | None:
        if not self._credentials_loaded:
            config = self._docker_config
            if config is None:
                config = load_docker_config()
            self._credentials = credentials_for(self.host, config)
            self._credentials_loaded = True
            if self._credentials is not None and "_oras" in self.__dict__:
                self._oras.auth.set_basic_auth(*self._credentials)
        return self._credentials

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        stream: bool = False,
        data: bytes | None = None,
    ) -> Any:
        try:
            return self._session.request(
                method, url, headers=dict(headers), stream=stream, data=data
            )
        except requests.exceptions.RequestException as exc:
            raise self._unreachable(exc) from exc

    def _authorized(
        self,
        method: str,
        repository: str,
        url: str,
        headers: Mapping[str, str],
        *,
        stream: bool = False,
        data: bytes | None = None,
    ) -> Any:
        """One request; on a 401 answer the Basic or Bearer challenge once and retry."""
        base = dict(headers)
        cached = self._auth_headers.get(repository) or self._auth_headers.get("*")
        response = self._send(
            method,
            url,
            {**base, **({"Authorization": cached} if cached else {})},
            stream=stream,
            data=data,
        )
        if response.status_code != 401:
            return self._refused(response, url)
        response.close()
        challenge = response.headers.get("Www-Authenticate", "")
        with self._auth_lock:
            credentials = self._load_credentials()
            if challenge.lower().startswith("basic"):
                if credentials is None:
                    raise self._auth_error(url, "asks for a password and none is configured")
                token = base64.b64encode(":".join(credentials).encode()).decode()
                value, key = f"Basic {token}", "*"
            elif challenge.lower().startswith("bearer"):
                try:
                    answered, changed = self._oras.auth.authenticate_request(
                        response, dict(base), refresh=True
                    )
                except requests.exceptions.RequestException as exc:
                    raise self._unreachable(exc) from exc
                if not changed or "Authorization" not in answered:
                    raise self._auth_error(url, "refused to issue a token")
                value, key = str(answered["Authorization"]), repository
            else:
                raise self._auth_error(url, f"sent an unknown challenge {challenge!r}")
            self._auth_headers[key] = value
        retry = self._send(method, url, {**base, "Authorization": value}, stream=stream, data=data)
        return self._refused(retry, url)

    def _auth_error(self, url: str, why: str) -> AuthError:
        return AuthError(
            f"registry {self.host} {why} ({url})",
            hint=f"Run `docker login {self.host}` or fix credentials in the docker config.",
        )

    def _refused(self, response: Any, url: str) -> Any:
        if response.status_code in (401, 403):
            raise self._auth_error(url, f"refused access ({response.status_code})")
        return response

    def ping(self) -> RegistryStatus:
        """GET /v2/: 200 (open) or 401 (asks for credentials) both mean a live registry."""
        try:
            response = self._request(self._oras, f"{self.base_url}/v2/", "GET", headers={})
        except requests.exceptions.RequestException as exc:
            return RegistryStatus(self.host, False, f"unreachable ({type(exc).__name__})")
        except ValueError:
            return RegistryStatus(self.host, True, "reachable (authentication required)")
        if response.status_code in (200, 401):
            return RegistryStatus(self.host, True, f"reachable over {self.base_url.split(':')[0]}")
        return RegistryStatus(self.host, False, f"answered HTTP {response.status_code}")

    def head_manifest(self, repository: str, reference: str) -> ManifestResponse | None:
        """HEAD a manifest: its digest and media type, or None when HEAD gave no digest."""
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        self.counter.add("HEAD")
        response = self._authorized("HEAD", repository, url, _ACCEPT)
        if response.status_code == 404:
            raise RegistryError(f"{self.host}/{repository}:{reference} was not found")
        if response.status_code != 200:
            return None  # some registries refuse HEAD: fall back to GET
        digest = response.headers.get("Docker-Content-Digest", "")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not digest.startswith("sha256:") or len(digest) != 71 or not media_type:
            return None
        return ManifestResponse(digest=digest, media_type=media_type, body=None)

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse:
        """The exact manifest bytes served for a tag or digest, verified against their digest."""
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        self.counter.add("GET")
        response = self._authorized("GET", repository, url, _ACCEPT)
        if response.status_code == 404:
            raise RegistryError(f"{self.host}/{repository}:{reference} was not found")
        if response.status_code != 200:
            raise RegistryError(f"{url} answered HTTP {response.status_code}")
        body: bytes = response.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        served = response.headers.get("Docker-Content-Digest")
        if served and served != digest:
            raise RegistryError(
                f"{self.host}/{repository}:{reference}: the registry says {served} "
                f"but the body hashes to {digest}"
            )
        if reference.startswith("sha256:") and reference != digest:
            raise RegistryError(
                f"{self.host}/{repository}@{reference}: the body served hashes to {digest}"
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not media_type:
            media_type = media_type_in(body)
        return ManifestResponse(digest=digest, media_type=media_type, body=body)

    def resolve(self, repository: str, reference: str) -> ManifestResponse:
        """HEAD, then GET when HEAD cannot say: the digest of the exact bytes served."""
        head = self.head_manifest(repository, reference)
        if head is not None:
            return head
        return self.get_manifest(repository, reference)

    def open_blob(self, repository: str, digest: str) -> BinaryIO | None:
        """Stream GET /v2/<repository>/blobs/<digest> (read timeout per chunk); None on 404.

        The bytes are not checked here: repro.oci verifies every blob against its digest.
        """
        url = f"{self.base_url}/v2/{repository}/blobs/{digest}"
        response = self._authorized("GET", repository, url, {}, stream=True)
        if response.status_code == 404:
            response.close()
            return None
        if response.status_code != 200:
            response.close()
            raise RegistryError(f"{url} answered HTTP {response.status_code}")
        label = f"blob {digest} from {self.host}/{repository}"
        return io.BufferedReader(_ResponseStream(response, label), buffer_size=1 << 20)

    def blob_size(self, repository: str, digest: str) -> int | None:
        """HEAD /v2/<repository>/blobs/<digest>: its Content-Length; None on 404."""
        url = f"{self.base_url}/v2/{repository}/blobs/{digest}"
        response = self._authorized("HEAD", repository, url, {})
        if response.status_code == 404:
            return None
        length = response.headers.get("Content-Length", "")
        if response.status_code != 200 or not length.isdigit():
            raise RegistryError(f"HEAD {url} answered HTTP {response.status_code}")
        return int(length)

    # -- pushing small documents (repro publish) ---------------------------------------

    def find_manifest(self, repository: str, reference: str) -> ManifestResponse | None:
        """Like get_manifest, but None when the registry has no such manifest."""
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        self.counter.add("HEAD")
        if self._authorized("HEAD", repository, url, _ACCEPT).status_code == 404:
            return None
        return self.get_manifest(repository, reference)

    def get_blob(self, repository: str, digest: str) -> bytes:
        """A small blob's bytes, verified against its digest."""
        url = f"{self.base_url}/v2/{repository}/blobs/{digest}"
        response = self._authorized("GET", repository, url, {})
        if response.status_code != 200:
            raise RegistryError(
                f"{self.host}/{repository}@{digest}: blob answered HTTP {response.status_code}"
            )
        body: bytes = response.content
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise RegistryError(f"{self.host}/{repository}@{digest}: the blob served hashes wrong")
        return body

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` as a blob (POST, then one PUT) unless it is there; its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        url = f"{self.base_url}/v2/{repository}/blobs/{digest}"
        if self._authorized("HEAD", repository, url, {}).status_code == 200:
            return digest
        start = self._authorized(
            "POST", repository, f"{self.base_url}/v2/{repository}/blobs/uploads/", {}
        )
        location = start.headers.get("Location", "")
        if start.status_code != 202 or not location:
            raise RegistryError(
                f"{self.host}/{repository}: starting a blob upload answered HTTP "
                f"{start.status_code}"
            )
        if location.startswith("/"):
            location = self.base_url + location
        separator = "&" if "?" in location else "?"
        done = self._authorized(
            "PUT",
            repository,
            f"{location}{separator}digest={digest}",
            {"Content-Type": "application/octet-stream"},
            data=data,
        )
        if done.status_code != 201:
            raise RegistryError(
                f"{self.host}/{repository}: uploading {digest} answered HTTP {done.status_code}"
            )
        return digest

    def referrers(self, repository: str, digest: str) -> bytes | None:
        """GET /v2/<repository>/referrers/<digest> (distribution spec v1.1): the OCI index
        listing the manifests whose subject is ``digest``, or None when the registry has no
        referrers API (it answers 404; the caller then reads the referrers tag schema).

        Not digest-checked: the listing is computed by the registry, not stored content;
        the manifests it names are fetched, and checked, by their digests.
        """
        url = f"{self.base_url}/v2/{repository}/referrers/{digest}"
        response = self._authorized("GET", repository, url, {"Accept": OCI_INDEX})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryError(
                f"{self.host}/{repository}: the referrers of {digest} answered HTTP "
                f"{response.status_code}"
            )
        body: bytes = response.content
        return body

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest under a tag or its own digest; returns its digest."""
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        response = self._authorized("PUT", repository, url, {"Content-Type": media_type}, data=body)
        if response.status_code != 201:
            raise RegistryError(
                f"{self.host}/{repository}:{reference}: pushing a manifest answered HTTP "
                f"{response.status_code}: {response.text[:300]}"
            )
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        served = response.headers.get("Docker-Content-Digest")
        if served and served != digest:
            raise RegistryError(f"{self.host}/{repository}: stored {served}, expected {digest}")
        return digest


_ACCEPT = {"Accept": ", ".join(MANIFEST_ACCEPT)}


def media_type_in(body: bytes) -> str:
    try:
        value = json.loads(body).get("mediaType", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


# -- endpoints and mirrors ----------------------------------------------------------------

DOCKER_HUB_ENDPOINT = "registry-1.docker.io"


@dataclass(frozen=True)
class Endpoint:
    host: str
    plain_http: bool | None  # None: the loopback/insecure rule decides


def endpoint_for(
    registry: str, mirrors: Mapping[str, str], insecure: frozenset[str] = frozenset()
) -> Endpoint:
    """The host to ask for ``registry``: its mirror if one is configured."""
    mirror = mirrors.get(registry)
    if mirror is None and registry == "docker.io":
        mirror = mirrors.get("index.docker.io") or mirrors.get("registry-1.docker.io")
    if mirror is None:
        return Endpoint(DOCKER_HUB_ENDPOINT if registry == "docker.io" else registry, None)
    if "://" not in mirror:
        return Endpoint(mirror.rstrip("/"), None)
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"mirror {mirror!r} for {registry} is not an http(s) URL")
    if parts.scheme == "http" and not is_plain_http_host(parts.netloc, insecure):
        raise InputError(
            f"mirror {mirror} for {registry} uses plain HTTP",
            hint=f"list {parts.netloc} in insecure-registries, or use https://",
        )
    return Endpoint(parts.netloc, parts.scheme == "http")


def client_for(
    registry: str,
    *,
    mirrors: Mapping[str, str] | None = None,
    insecure: frozenset[str] = frozenset(),
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    docker_config: Mapping[str, Any] | None = None,
    counter: RequestCounter | None = None,
) -> RegistryClient:
    """A client for ``registry`` (as normalised), through its mirror if one is configured."""
    endpoint = endpoint_for(registry, mirrors or {}, insecure)
    return RegistryClient(
        endpoint.host,
        insecure=insecure,
        timeout=timeout,
        plain_http=endpoint.plain_http,
        docker_config=docker_config,
        counter=counter,
    )
