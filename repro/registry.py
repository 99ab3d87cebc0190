"""The one adapter to OCI registries (through oras-py).

oras-py retries failed requests for minutes and sets no timeouts; a registry that is
down must fail within seconds and name itself, so requests here go through an adapter
with explicit timeouts and skip oras' retry loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import oras.provider
import requests
from requests.adapters import HTTPAdapter

from repro.environment import RegistryStatus
from repro.errors import AuthError, RegistryError

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


class RegistryClient:
    """A registry endpoint: ``host`` is ``name[:port]``; credentials from the docker config."""

    def __init__(
        self,
        host: str,
        *,
        insecure: frozenset[str] = frozenset(),
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.host = host
        self.plain_http = is_plain_http_host(host, insecure)
        self._oras = oras.provider.Registry(hostname=host, insecure=self.plain_http)
        adapter = _TimeoutAdapter(timeout)
        self._oras.session.mount("http://", adapter)
        self._oras.session.mount("https://", adapter)
        # Bypass oras' minutes-long retry decorator; failures surface at once.
        self._request = oras.provider.Registry.do_request.__wrapped__

    @property
    def base_url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"

    def _do(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> Any:
        try:
            response = self._request(self._oras, url, method, headers=dict(headers or {}))
        except requests.exceptions.RequestException as exc:
            raise RegistryError(
                f"registry {self.host} is unreachable: {type(exc).__name__}",
                hint=f"Check that {self.base_url}/v2/ answers "
                "(./scripts/setup starts the local one).",
            ) from exc
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

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse:
        """The exact manifest bytes served for a tag or digest, verified against their digest."""
        url = f"{self.base_url}/v2/{repository}/manifests/{reference}"
        response = self._do("GET", url, {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
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
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return ManifestResponse(digest=digest, media_type=media_type, body=body)
