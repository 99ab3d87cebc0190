"""Resolve many image references at once, each unique one once (for `repro lock`).

A tag is resolved by one GET of its manifest: the digest is the sha256 of the body read,
an index's platforms come from that same body, so a tag costs exactly one request.
Workers are daemon threads the caller never waits on past an error or a Ctrl-C: a
registry that trickles cannot keep the process alive after repro has given up.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from repro.registry.client import RegistryClient, RegistrySession, RequestCounter, mirrors_for
from repro.registry.model import ManifestKey, ManifestResponse, Resolution

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class ImageResolver:
    """Resolves each unique ManifestKey once, concurrently, through mirrors, with
    credentials; ``session`` carries the trust, credentials and deadlines."""

    mirrors: Mapping[str, str] = field(default_factory=dict)
    session: RegistrySession = field(default_factory=RegistrySession)
    max_workers: int = 8
    _clients: dict[str, RegistryClient] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def counter(self) -> RequestCounter:
        return self.session.counter

    def _client(self, registry: str) -> RegistryClient:
        with self._lock:
            client = self._clients.get(registry)
            if client is None:
                client = RegistryClient(registry, self.session, mirrors_for(registry, self.mirrors))
                self._clients[registry] = client
            return client

    def resolve_all(
        self,
        keys: Iterable[ManifestKey],
        known_platforms: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[ManifestKey, Resolution]:
        unique = sorted(set(keys))
        for key in unique:
            self._client(key.registry)  # configuration errors (a bad mirror) before any request
        served = run_parallel(unique, self._fetch, self.max_workers)
        result: dict[ManifestKey, Resolution] = {}
        for key in unique:
            answer = served[key]
            client = self._client(key.registry)
            result[key] = Resolution(
                key=key,
                digest=answer.digest,
                media_type=answer.media_type,
                platforms=answer.platforms,
                endpoint=answer.endpoint or client.host,
                mirror=answer.endpoint if answer.endpoint not in ("", client.host) else None,
            )
        return result

    def _fetch(self, key: ManifestKey) -> ManifestResponse:
        return self._client(key.registry).get_manifest(key.repository, key.reference)


def run_parallel(keys: list[K], work: Callable[[K], V], max_workers: int) -> dict[K, V]:
    """``work`` over ``keys`` on at most ``max_workers`` daemon threads; the first failure
    is raised at once (the others are abandoned, never waited for)."""
    if not keys:
        return {}
    if len(keys) == 1 or max_workers <= 1:
        return {key: work(key) for key in keys}
    pending: queue.SimpleQueue[K] = queue.SimpleQueue()
    for key in keys:
        pending.put(key)
    results: queue.SimpleQueue[tuple[K, V | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                key = pending.get_nowait()
            except queue.Empty:
                return
            try:
                results.put((key, work(key), None))
            except BaseException as error:  # handed to the caller's thread, raised there
                results.put((key, None, error))
                return

    for number in range(min(max_workers, len(keys))):
        threading.Thread(target=worker, name=f"repro-resolve-{number}", daemon=True).start()
    done: dict[K, V] = {}
    try:
        while len(done) < len(keys):
            try:
                key, value, error = results.get(timeout=0.25)  # Ctrl-C is seen at once
            except queue.Empty:
                continue
            if error is not None:
                raise error
            done[key] = value  # type: ignore[assignment]
    finally:
        stop.set()
    return done
