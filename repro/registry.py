"""The one adapter to OCI registries (through oras-py).

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
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from repro.environment import RegistryStatus
from repro.errors import AuthError, InputError, RegistryError
from repro.lock.model import INDEX_MEDIA_TYPES, ManifestKey, Resolution

DEFAULT_TIMEOUT = (3.05, 20.0)  # (connect, read) seconds

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


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


@dataclass(frozen=True)
class ManifestResponse:
    digest: str
    media_type: str
    body: bytes | None  # None for a HEAD that gave a digest


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


# -- credentials from the docker config --------------------------------------------------

_DOCKER_HUB_AUTH_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")


def docker_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    directory = os.environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


def _auth_keys(host: str) -> list[str]:
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in ("registry-1.docker.io", "docker.io", "index.docker.io"):
        keys = [*_DOCKER_HUB_AUTH_KEYS, *keys]
    return keys


def credentials_for(
    host: str,
    config: Mapping[str, Any],
    helper: Callable[[str, str], tuple[str, str] | None] | None = None,
) -> tuple[str, str] | None:
    """(username, secret) for ``host`` from a parsed docker config, or None.

    Order as docker does it: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
    ``helper(suffix, server)`` runs ``docker-credential-<suffix> get``.
    """
    helper = helper or _run_credential_helper
    keys = _auth_keys(host)
    helpers = config.get("credHelpers") or {}
    for key in keys:
        if isinstance(helpers, dict) and isinstance(helpers.get(key), str):
            found = helper(helpers[key], key)
            if found is not None:
                return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        for key in keys[:1]:
            found = helper(store, key)
            if found is not None:
                return found
    auths = config.get("auths") or {}
    if isinstance(auths, dict):
        for key in keys:
            entry = auths.get(key)
            if not isinstance(entry, dict):
                continue
            encoded = entry.get("auth")
            if isinstance(encoded, str) and encoded:
                try:
                    user, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
                return user, secret
            name, password = entry.get("username"), entry.get("password")
            if isinstance(name, str) and isinstance(password, str):
                return name, password
    return None


def _run_credential_helper(suffix: str, server: str) -> tuple[str, str] | None:
    import subprocess

    try:
        proc = subprocess.run(
            [f"docker-credential-{suffix}", "get"],
            input=server.encode(),
            capture_output=True,
            check=True,
            timeout=10,
        )
        payload = json.loads(proc.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    user, secret = payload.get("Username"), payload.get("Secret")
    if isinstance(user, str) and isinstance(secret, str):
        return user, secret
    return None


def load_docker_config(path: Path | None = None) -> dict[str, Any]:
    path = path or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable docker config: {exc}") from exc
    return data if isinstance(data, dict) else {}


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
            media_type = _media_type_in(body)
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


_ACCEPT = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


def _media_type_in(body: bytes) -> str:
    try:
        value = json.loads(body).get("mediaType", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def index_platforms(body: bytes) -> dict[str, str]:
    """``os/arch[/variant]`` -> child manifest digest of an image index.

    Attestation children (``unknown/unknown``, or annotated as attestation manifests)
    are skipped; the first child for a platform wins, as a puller would choose it.
    """
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise RegistryError(f"an image index is not valid JSON: {exc}") from exc
    children: dict[str, str] = {}
    manifests = document.get("manifests") if isinstance(document, dict) else None
    for child in manifests if isinstance(manifests, list) else []:
        if not isinstance(child, dict) or not isinstance(child.get("digest"), str):
            continue
        annotations = child.get("annotations") or {}
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        platform = child.get("platform") or {}
        os_name, arch = platform.get("os", "unknown"), platform.get("architecture", "unknown")
        if os_name == "unknown" or arch == "unknown":
            continue
        name = f"{os_name}/{arch}" + (f"/{platform['variant']}" if platform.get("variant") else "")
        children.setdefault(name, child["digest"])
    return dict(sorted(children.items()))


# -- resolving many references at once ---------------------------------------------------

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


@dataclass
class ImageResolver:
    """Resolves each unique ManifestKey once, concurrently, through mirrors, with credentials.

    Tags are resolved with HEAD (GET when HEAD cannot answer); the body of an index is
    then fetched once per digest (content-addressed, so shared by every tag serving it)
    to record its platform children, unless ``known_platforms`` already has them.
    """

    mirrors: Mapping[str, str] = field(default_factory=dict)
    insecure: frozenset[str] = frozenset()
    max_workers: int = 8
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    docker_config: Mapping[str, Any] | None = None
    counter: RequestCounter = field(default_factory=RequestCounter)
    _clients: dict[str, RegistryClient] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _client(self, registry: str) -> RegistryClient:
        endpoint = endpoint_for(registry, self.mirrors, self.insecure)
        with self._lock:
            client = self._clients.get(endpoint.host)
            if client is None:
                if self.docker_config is None:
                    self.docker_config = load_docker_config()
                client = RegistryClient(
                    endpoint.host,
                    insecure=self.insecure,
                    timeout=self.timeout,
                    plain_http=endpoint.plain_http,
                    docker_config=self.docker_config,
                    counter=self.counter,
                )
                self._clients[endpoint.host] = client
            return client

    def resolve_all(
        self,
        keys: Iterable[ManifestKey],
        known_platforms: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[ManifestKey, Resolution]:
        unique = sorted(set(keys))
        for key in unique:
            self._client(key.registry)  # configuration errors before any request
        known = dict(known_platforms or {})
        heads = self._run(unique, self._resolve_one)
        wanted: dict[str, ManifestKey] = {}
        for key in unique:
            served = heads[key]
            if served.media_type in INDEX_MEDIA_TYPES and served.digest not in known:
                if served.body is not None:
                    known[served.digest] = index_platforms(served.body)
                else:
                    wanted.setdefault(served.digest, key)
        bodies = self._run(
            [ManifestKey(k.registry, k.repository, d) for d, k in sorted(wanted.items())],
            self._fetch_body,
        )
        for body_key, body in bodies.items():
            known[body_key.reference] = index_platforms(body.body or b"")
        result: dict[ManifestKey, Resolution] = {}
        for key in unique:
            served = heads[key]
            platforms = known.get(served.digest) if served.media_type in INDEX_MEDIA_TYPES else None
            result[key] = Resolution(
                key=key,
                digest=served.digest,
                media_type=served.media_type,
                platforms=platforms,
                endpoint=self._client(key.registry).host,
            )
        return result

    def _resolve_one(self, key: ManifestKey) -> ManifestResponse:
        client = self._client(key.registry)
        if key.reference.startswith("sha256:"):
            return client.get_manifest(key.repository, key.reference)
        return client.resolve(key.repository, key.reference)

    def _fetch_body(self, key: ManifestKey) -> ManifestResponse:
        return self._client(key.registry).get_manifest(key.repository, key.reference)

    def _run(
        self, keys: list[ManifestKey], work: Callable[[ManifestKey], ManifestResponse]
    ) -> dict[ManifestKey, ManifestResponse]:
        """Run ``work`` over ``keys`` in a bounded pool; the first failure stops the rest."""
        if not keys:
            return {}
        pool = ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(keys))))
        futures: dict[Future[ManifestResponse], ManifestKey] = {
            pool.submit(work, key): key for key in keys
        }
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
            return {futures[future]: future.result() for future in futures}
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# -- an image in a registry, read as a BlobSource for repro.oci ---------------------------


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


def _manifest_children(body: bytes) -> set[str]:
    """The digests an image index lists (fetched from /manifests/, not /blobs/)."""
    try:
        document = json.loads(body)
    except ValueError:
        return set()
    manifests = document.get("manifests") if isinstance(document, dict) else None
    return {
        child["digest"]
        for child in (manifests if isinstance(manifests, list) else [])
        if isinstance(child, dict) and isinstance(child.get("digest"), str)
    }


class RegistryImage:
    """A repro.oci.BlobSource for ``registry/repository:tag`` or ``@sha256:...``.

    The reference is resolved once to the digest of the manifest or index it names;
    everything after is fetched by digest. ``index_bytes`` is a synthesised OCI layout
    index.json with that one descriptor, so the same image gives the same index whether
    it was named by tag or by digest. repro.oci verifies every blob read against its digest.
    """

    def __init__(self, client: RegistryClient, repository: str, reference: str) -> None:
        self.client = client
        self.repository = repository
        self.reference = reference
        separator = "@" if reference.startswith("sha256:") else ":"
        self._location = f"{client.host}/{repository}{separator}{reference}"
        top = client.get_manifest(repository, reference)
        body = top.body or b""
        self.digest = top.digest
        self.media_type = top.media_type or _media_type_in(body)
        self._manifests: dict[str, bytes] = {top.digest: body}
        self._manifest_digests: set[str] = _manifest_children(body)
        self._lock = threading.Lock()
        descriptor = {"mediaType": self.media_type, "digest": top.digest, "size": len(body)}
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [descriptor],
        }
        self._index = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()

    @property
    def location(self) -> str:
        return self._location

    def index_bytes(self) -> bytes:
        return self._index

    def _manifest(self, digest: str) -> bytes:
        with self._lock:
            cached = self._manifests.get(digest)
        if cached is not None:
            return cached
        body = self.client.get_manifest(self.repository, digest).body or b""
        with self._lock:
            self._manifests[digest] = body
            self._manifest_digests |= _manifest_children(body)
        return body

    def _is_manifest(self, digest: str) -> bool:
        with self._lock:
            return digest in self._manifests or digest in self._manifest_digests

    def open_blob(self, digest: str) -> BinaryIO:
        if self._is_manifest(digest):
            return io.BytesIO(self._manifest(digest))
        stream = self.client.open_blob(self.repository, digest)
        if stream is None:  # not a blob: some registries keep manifests apart
            return io.BytesIO(self._manifest(digest))
        return stream

    def blob_size(self, digest: str) -> int:
        if self._is_manifest(digest):
            return len(self._manifest(digest))
        size = self.client.blob_size(self.repository, digest)
        if size is None:
            return len(self._manifest(digest))
        return size


def looks_like_registry_reference(text: str) -> bool:
    """True when ``text`` names a registry host explicitly (``host[:port]/name...``).

    Short names (``busybox:1.35``) and anything ending in ``.tar`` are taken as paths.
    """
    first, slash, _ = text.partition("/")
    if not slash or text.endswith(".tar") or text.startswith((".", "/", "~")):
        return False
    return "." in first or ":" in first or first == "localhost"


def open_registry_image(
    text: str,
    *,
    mirrors: Mapping[str, str] | None = None,
    insecure: frozenset[str] = frozenset(),
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    docker_config: Mapping[str, Any] | None = None,
) -> RegistryImage:
    """Resolve ``text`` (``host/name:tag`` or ``host/name@sha256:...``) to a RegistryImage.

    A digest in the reference wins over a tag. Raises InputError for a malformed
    reference, RegistryError (exit 3) when the registry cannot be reached.
    """
    from repro.dockerfile import parse_image_ref

    ref = parse_image_ref(text)
    endpoint = endpoint_for(ref.registry, mirrors or {}, insecure)
    client = RegistryClient(
        endpoint.host,
        insecure=insecure,
        timeout=timeout,
        plain_http=endpoint.plain_http,
        docker_config=docker_config,
    )
    reference = ref.digest or ref.tag or "latest"
    return RegistryImage(client, ref.repository, reference)
