"""Resolve many image references at once, each unique one once (for `repro lock`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from repro.errors import RegistryError
from repro.oci.mediatypes import INDEX_TYPES
from repro.registry.auth import load_docker_config
from repro.registry.client import (
    DEFAULT_TIMEOUT,
    RegistryClient,
    RequestCounter,
    endpoint_for,
)
from repro.registry.model import ManifestKey, ManifestResponse, Resolution


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
            if served.media_type in INDEX_TYPES and served.digest not in known:
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
            platforms = known.get(served.digest) if served.media_type in INDEX_TYPES else None
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
