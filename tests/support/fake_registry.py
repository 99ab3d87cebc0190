"""A registry that misbehaves on purpose, per repository name, for the hostile test suite.

A real threaded HTTP server on 127.0.0.1 (a random free port; optionally TLS with one of
setup's certificates) speaking enough of the distribution API to pull the canned image
(tests/support/oci_image.py): ``GET``/``HEAD`` on ``/v2/``, ``/v2/<name>/manifests/<ref>``,
``/v2/<name>/blobs/<digest>`` and ``GET /v2/<name>/tags/list``. It is read-only: every
write answers 405.

The LAST component of the repository name picks the behaviour, so ``fake/correct``,
``team/app/correct`` and ``correct`` all behave alike and are counted apart:
``reference(Behaviour.TRICKLE)`` gives ``127.0.0.1:PORT/fake/trickle:latest``. The tag
``single`` names the image manifest itself; every other tag names the index
(manifest-deep, manifest-huge and gzip-bomb answer every tag with their document). ``GET /v2/``
answers 200 unless ``base_behaviour`` says otherwise (clients that ping first, as skopeo
does, learn a registry's auth scheme there).

Every request is recorded (method, repository, endpoint, reference, the auth scheme sent,
never the credentials), so tests can assert "one request per tag" or "no request at all".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.support.loopback import BackgroundServer, BodyTooLargeError, read_request_body
from tests.support.machine import Credentials
from tests.support.oci_image import (
    OCI_INDEX,
    OCI_MANIFEST,
    Blob,
    CannedImage,
    canned_image,
    canonical_json,
)

TAG_INDEX = "latest"  # any tag but TAG_MANIFEST names the index
TAG_MANIFEST = "single"
FAKE_CREDENTIALS = Credentials("fake-user", "fake-password")  # what basic-auth accepts
HUGE_MANIFEST_BYTES = 200 * 1024 * 1024
DEEP_NESTING = 100_000
MALFORMED_DIGEST = "sha256:not-a-hex-digest"


class Behaviour(StrEnum):
    CORRECT = "correct"
    HEAD_DIGEST_MISMATCH = "head-digest-mismatch"  # Docker-Content-Digest is another body's
    BODY_DIGEST_MISMATCH = "body-digest-mismatch"  # bodies (manifests, blobs) are tampered
    CONTENT_TYPE_HTML = "content-type-html"  # manifests served as text/html
    CONTENT_TYPE_UNKNOWN = "content-type-unknown"  # ... as application/vnd.example.unknown+json
    INDEX_NOT_OBJECT = "index-not-object"  # the "index" is [1,2,3]
    INDEX_PLATFORM_STRING = "index-platform-string"  # manifests[0].platform = "linux/amd64"
    INDEX_ANNOTATIONS_LIST = "index-annotations-list"  # annotations = ["a", "b"]
    MANIFEST_DEEP = "manifest-deep"  # a manifest nested 100,000 objects deep
    MANIFEST_HUGE = "manifest-huge"  # a 200 MiB manifest, streamed
    GZIP_BOMB = "gzip-bomb"  # ~1 MiB sent with Content-Encoding: gzip, inflates to 1 GiB
    TRICKLE = "trickle"  # manifest bodies: one byte, then one more every trickle_interval
    HANG = "hang"  # reads the request, never answers
    BEARER_NO_REALM = "bearer-no-realm"  # 401, WWW-Authenticate: Bearer without realm
    BASIC_AUTH = "basic-auth"  # 401 Basic unless FAKE_CREDENTIALS are sent
    RATE_LIMITED = "rate-limited"  # 429 Retry-After for the first N requests, then correct
    RATE_LIMIT_STORM = "rate-limit-storm"  # 429 Retry-After, always
    SERVER_ERROR = "server-error"  # 500
    NOT_FOUND = "not-found"  # 404 MANIFEST_UNKNOWN / BLOB_UNKNOWN
    MALFORMED_DIGEST_HEADER = "malformed-digest-header"  # Docker-Content-Digest: sha256:not-...
    NO_DIGEST_HEADER = "no-digest-header"  # no Docker-Content-Digest (allowed: hash the body)
    MISSING_BLOBS = "missing-blobs"  # manifests fine, every blob 404 BLOB_UNKNOWN
    BLOB_REDIRECT = "blob-redirect"  # blobs: 307 to another host (127.0.0.2), as CDNs do


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    host: str  # which server: "registry" or "cdn"
    repository: str | None
    endpoint: str  # "base", "manifests", "blobs", "tags", "referrers", "cdn", "other"
    reference: str | None
    auth_scheme: str | None  # "Basic", "Bearer" or None; the credentials are never kept


@dataclass(frozen=True)
class Served:
    """A response body and the headers that describe it."""

    media_type: str
    digest: str | None  # the Docker-Content-Digest header; None sends none
    length: int
    chunks: Callable[[], Iterator[bytes]]
    content_encoding: str | None = None

    @classmethod
    def of(cls, blob: Blob, *, media_type: str | None = None, digest: str | None = "") -> Served:
        data = blob.data
        return cls(
            media_type=media_type or blob.media_type,
            digest=blob.digest if digest == "" else digest,
            length=len(data),
            chunks=lambda: iter((data,)),
        )


# --- generated documents (made once per process, never held twice) -----------------------
def _index_with(**changes: Any) -> Blob:
    index = json.loads(canned_image().index.data)
    for key, value in changes.items():
        if key == "platform":
            index["manifests"][0]["platform"] = value
        else:
            index[key] = value
    return Blob(OCI_INDEX, canonical_json(index))


@cache
def deep_manifest() -> Blob:
    head = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","config":'
    nested = b'{"a":' * DEEP_NESTING + b"{}" + b"}" * DEEP_NESTING
    return Blob(OCI_MANIFEST, head + nested + b"}")


_HUGE_HEAD = (
    b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","annotations":{"pad":"'
)
_HUGE_TAIL = b'"}}'
_CHUNK = 1024 * 1024
_BOMB_BLOCKS = 1024
GZIP_BOMB_INFLATED_BYTES = len(_HUGE_HEAD) + _BOMB_BLOCKS * _CHUNK + len(_HUGE_TAIL)  # > 1 GiB


def _huge_chunks() -> Iterator[bytes]:
    yield _HUGE_HEAD
    remaining = HUGE_MANIFEST_BYTES - len(_HUGE_HEAD) - len(_HUGE_TAIL)
    block = b"a" * _CHUNK
    while remaining > 0:
        yield block[: min(remaining, _CHUNK)]
        remaining -= _CHUNK
    yield _HUGE_TAIL


@cache
def huge_manifest_digest() -> str:
    digest = hashlib.sha256()
    for chunk in _huge_chunks():
        digest.update(chunk)
    return "sha256:" + digest.hexdigest()


@cache
def gzip_bomb() -> bytes:
    """One gzip member (RFC 1952) holding a JSON-looking manifest of GZIP_BOMB_INFLATED_BYTES,
    about 1 MiB on the wire. Each 1 MiB block is compressed once and repeated: after a full
    flush deflate starts afresh, so the same block always gives the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = compressor.compress(_HUGE_HEAD) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = b"a" * _CHUNK
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(_HUGE_TAIL) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(_HUGE_HEAD)
    for _ in range(_BOMB_BLOCKS):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(_HUGE_TAIL, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0
    trailer = struct.pack("<II", crc, GZIP_BOMB_INFLATED_BYTES & 0xFFFFFFFF)
    return header + head + piece * _BOMB_BLOCKS + tail + trailer


def _special_document(behaviour: Behaviour) -> Blob | None:
    """The document that replaces the index for the behaviours that serve bad JSON."""
    if behaviour is Behaviour.INDEX_NOT_OBJECT:
        return Blob(OCI_INDEX, b"[1,2,3]")
    if behaviour is Behaviour.INDEX_PLATFORM_STRING:
        return _index_with(platform="linux/amd64")
    if behaviour is Behaviour.INDEX_ANNOTATIONS_LIST:
        return _index_with(annotations=["a", "b"])
    if behaviour is Behaviour.MANIFEST_DEEP:
        return deep_manifest()
    return None


def _tampered(blob: Blob) -> Blob:
    return Blob(blob.media_type, blob.data + b"\n")


def _wrong_digest(blob: Blob) -> str:
    return "sha256:" + hashlib.sha256(blob.data + b"other bytes").hexdigest()


# --- the registry -------------------------------------------------------------------------
class FakeRegistry(BackgroundServer):
    """The fake registry; ``start()`` it (the fixtures do) and ``stop()`` it."""

    def __init__(
        self,
        *,
        tls: tuple[Path, Path] | None = None,
        trickle_interval: float = 5.0,
        rate_limited_requests: int = 2,
        retry_after_seconds: int = 1,
        base_behaviour: Behaviour | None = None,
    ) -> None:
        super().__init__(_RegistryHandler, host="127.0.0.1", tls=tls)
        self.scheme = "https" if tls else "http"
        self.trickle_interval = trickle_interval
        self.rate_limited_requests = rate_limited_requests
        self.retry_after_seconds = retry_after_seconds
        # What GET /v2/ (the ping, no repository) does: by default 200, no challenge, so a
        # client meets a repository's 401 only on its request; BASIC_AUTH, BEARER_NO_REALM,
        # HANG, SERVER_ERROR or RATE_LIMIT_STORM make the ping misbehave too.
        self.base_behaviour = base_behaviour
        self.image: CannedImage = canned_image()
        self.cdn = _BlobCdn(self)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def repository(self, behaviour: Behaviour, namespace: str = "fake") -> str:
        return f"{namespace}/{behaviour.value}" if namespace else behaviour.value

    def reference(
        self, behaviour: Behaviour, tag: str = TAG_INDEX, *, namespace: str = "fake"
    ) -> str:
        """``127.0.0.1:PORT/<namespace>/<behaviour>:<tag>``."""
        return f"{self.address}/{self.repository(behaviour, namespace)}:{tag}"

    def start(self) -> None:
        self.cdn.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.cdn.stop()

    # --- what tests read ----------------------------------------------------------------
    def requests(
        self,
        repository: str | None = None,
        *,
        method: str | None = None,
        endpoint: str | None = None,
    ) -> list[RecordedRequest]:
        with self._lock:
            recorded = list(self._requests)
        return [
            r
            for r in recorded
            if (repository is None or r.repository == repository)
            and (method is None or r.method == method)
            and (endpoint is None or r.endpoint == endpoint)
        ]

    def count(
        self,
        repository: str | None = None,
        *,
        method: str | None = None,
        endpoint: str | None = None,
    ) -> int:
        return len(self.requests(repository, method=method, endpoint=endpoint))

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # --- what it serves -----------------------------------------------------------------
    def manifest(self, behaviour: Behaviour, reference: str) -> Served | None:
        image = self.image
        by_tag = not reference.startswith("sha256:")
        default = image.manifest if reference == TAG_MANIFEST else image.index
        special = _special_document(behaviour)
        if behaviour is Behaviour.MANIFEST_HUGE:
            if by_tag or reference == huge_manifest_digest():
                return Served(
                    OCI_MANIFEST, huge_manifest_digest(), HUGE_MANIFEST_BYTES, _huge_chunks
                )
            return None
        if behaviour is Behaviour.GZIP_BOMB:
            bomb = gzip_bomb()
            bomb_digest = "sha256:" + hashlib.sha256(bomb).hexdigest()
            if by_tag or reference == bomb_digest:
                return Served(OCI_MANIFEST, bomb_digest, len(bomb), lambda: iter((bomb,)), "gzip")
            return None
        documents = dict(image.manifests)
        if special is not None:
            documents[special.digest] = special
            # index-* replace the index; manifest-deep answers every tag, `single` too.
            if behaviour is Behaviour.MANIFEST_DEEP or reference != TAG_MANIFEST:
                default = special
        if behaviour is Behaviour.HEAD_DIGEST_MISMATCH:
            wrong = {_wrong_digest(b): b for b in documents.values()}
            blob = default if by_tag else documents.get(reference) or wrong.get(reference)
            return Served.of(blob, digest=_wrong_digest(blob)) if blob else None
        blob = default if by_tag else documents.get(reference)
        if blob is None:
            return None
        if behaviour is Behaviour.BODY_DIGEST_MISMATCH:
            return Served.of(_tampered(blob), digest=blob.digest)
        media_type = {
            Behaviour.CONTENT_TYPE_HTML: "text/html; charset=utf-8",
            Behaviour.CONTENT_TYPE_UNKNOWN: "application/vnd.example.unknown+json",
        }.get(behaviour)
        digest = {
            Behaviour.MALFORMED_DIGEST_HEADER: MALFORMED_DIGEST,
            Behaviour.NO_DIGEST_HEADER: None,
        }.get(behaviour, "")
        return Served.of(blob, media_type=media_type, digest=digest)

    def blob(self, behaviour: Behaviour, digest: str) -> Served | None:
        blob = self.image.blobs.get(digest)
        if blob is None or behaviour is Behaviour.MISSING_BLOBS:
            return None
        if behaviour is Behaviour.BODY_DIGEST_MISMATCH:
            return Served.of(_tampered(blob), media_type="application/octet-stream", digest=digest)
        return Served.of(blob, media_type="application/octet-stream")


class _BlobCdn(BackgroundServer):
    """Where blob-redirect sends blob GETs: another host (127.0.0.2), as S3 or a CDN."""

    def __init__(self, registry: FakeRegistry) -> None:
        super().__init__(_CdnHandler, host="127.0.0.2")
        self.registry = registry

    @property
    def url(self) -> str:
        return f"http://127.0.0.2:{self.port}"


_ROUTE = re.compile(
    r"^/v2/(?P<name>.+)/(?P<endpoint>manifests|blobs|tags|referrers)/(?P<ref>[^/]+)$"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "repro-fake-registry"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def auth_scheme(self) -> str | None:
        value = self.headers.get("Authorization")
        return value.split(" ", 1)[0] if value else None

    def send_json(
        self,
        status: int,
        body: object,
        headers: dict[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def send_error_code(
        self, status: int, code: str, message: str, *, head: bool = False, **headers: str
    ) -> None:
        self.send_json(status, {"errors": [{"code": code, "message": message}]}, headers, head=head)

    def send_served(self, served: Served, *, head: bool, trickle: float | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", served.media_type)
        self.send_header("Content-Length", str(served.length))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if served.digest is not None:
            self.send_header("Docker-Content-Digest", served.digest)
        if served.content_encoding:
            self.send_header("Content-Encoding", served.content_encoding)
        self.end_headers()
        if head:
            return
        stopping: threading.Event = self.server.stopping  # type: ignore[attr-defined]
        try:
            for chunk in served.chunks():
                if trickle is None:
                    self.wfile.write(chunk)
                    continue
                for offset in range(len(chunk)):
                    if offset and stopping.wait(trickle):
                        self.close_connection = True
                        return
                    self.wfile.write(chunk[offset : offset + 1])
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up: what the tests want to see

    def refuse_write(self) -> None:
        with contextlib.suppress(BodyTooLargeError, ValueError, OSError):
            read_request_body(self, limit=64 << 20)
        self.close_connection = True
        self.send_error_code(
            405, "UNSUPPORTED", "the fake registry is read-only", Connection="close"
        )


class _RegistryHandler(_Handler):
    @property
    def registry(self) -> FakeRegistry:
        owner: FakeRegistry = self.server.owner  # type: ignore[attr-defined]
        return owner

    def do_GET(self) -> None:
        self.serve(head=False)

    def do_HEAD(self) -> None:
        self.serve(head=True)

    def do_PUT(self) -> None:
        self.record_request()
        self.refuse_write()

    do_POST = do_PATCH = do_DELETE = do_PUT

    def record_request(self) -> re.Match[str] | None:
        path = self.path.split("?", 1)[0]
        route = _ROUTE.match(path)
        if path in ("/v2", "/v2/"):
            endpoint, name, ref = "base", None, None
        elif route:
            endpoint, name, ref = route["endpoint"], route["name"], route["ref"]
            if endpoint == "tags":
                ref = None
        else:
            endpoint, name, ref = "other", None, None
        self.registry.record(
            RecordedRequest(
                self.command, self.path, "registry", name, endpoint, ref, self.auth_scheme()
            )
        )
        return route

    def serve(self, *, head: bool) -> None:
        route = self.record_request()
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            base = self.registry.base_behaviour
            if base is not None and self.misbehave_first(base, "", "base", head=head):
                return None
            return self.send_json(200, {}, head=head)
        if route is None:
            return self.send_error_code(404, "NOT_FOUND", f"no route for {path}", head=head)
        name, endpoint, ref = route["name"], route["endpoint"], route["ref"]
        try:
            behaviour = Behaviour(name.rsplit("/", 1)[-1])
        except ValueError:
            return self.send_error_code(
                404, "NAME_UNKNOWN", f"no behaviour named {name.rsplit('/', 1)[-1]!r}", head=head
            )
        if self.misbehave_first(behaviour, name, endpoint, head=head):
            return
        if endpoint == "tags":
            return self.send_json(200, {"name": name, "tags": [TAG_INDEX, TAG_MANIFEST]}, head=head)
        if endpoint == "referrers":
            return self.send_error_code(404, "UNSUPPORTED", "no referrers API here", head=head)
        if endpoint == "manifests":
            served = self.registry.manifest(behaviour, ref)
            if served is None:
                return self.send_error_code(404, "MANIFEST_UNKNOWN", "manifest unknown", head=head)
            trickle = self.registry.trickle_interval if behaviour is Behaviour.TRICKLE else None
            return self.send_served(served, head=head, trickle=trickle)
        if behaviour is Behaviour.BLOB_REDIRECT and ref in self.registry.image.blobs:
            location = (
                f"{self.registry.cdn.url}/cdn/{name}/blobs/{ref}?X-Signature={secrets.token_hex(8)}"
            )
            return self.send_json(307, {}, {"Location": location}, head=head)
        served = self.registry.blob(behaviour, ref)
        if served is None:
            return self.send_error_code(404, "BLOB_UNKNOWN", "blob unknown to registry", head=head)
        self.send_served(served, head=head)

    def challenge(self, www_authenticate: str, head: bool) -> None:
        self.send_error_code(
            401, "UNAUTHORIZED", "authentication required", head=head,
            **{"WWW-Authenticate": www_authenticate},
        )  # fmt: skip

    def misbehave_first(
        self, behaviour: Behaviour, name: str, endpoint: str, *, head: bool
    ) -> bool:
        """The behaviours that answer before any content: True when one did."""
        registry = self.registry
        if behaviour is Behaviour.HANG:
            stopping: threading.Event = self.server.stopping  # type: ignore[attr-defined]
            stopping.wait()
            self.close_connection = True
            return True
        if behaviour is Behaviour.BEARER_NO_REALM:
            self.challenge(f'Bearer service="fake-registry",scope="repository:{name}:pull"', head)
            return True
        if behaviour is Behaviour.BASIC_AUTH:
            expected = (
                "Basic "
                + base64.b64encode(
                    f"{FAKE_CREDENTIALS.username}:{FAKE_CREDENTIALS.password}".encode()
                ).decode()
            )
            if self.headers.get("Authorization") != expected:
                self.challenge('Basic realm="fake-registry"', head)
                return True
            return False
        limited = behaviour is Behaviour.RATE_LIMIT_STORM or (
            behaviour is Behaviour.RATE_LIMITED
            and registry.count(name) <= registry.rate_limited_requests
        )
        if limited:
            self.send_error_code(
                429,
                "TOOMANYREQUESTS",
                "rate limit exceeded",
                head=head,
                **{"Retry-After": str(registry.retry_after_seconds)},
            )
            return True
        if behaviour is Behaviour.SERVER_ERROR:
            self.send_error_code(500, "UNKNOWN", "internal server error", head=head)
            return True
        if behaviour is Behaviour.NOT_FOUND:
            code = {"manifests": "MANIFEST_UNKNOWN", "blobs": "BLOB_UNKNOWN"}.get(
                endpoint, "NAME_UNKNOWN"
            )
            self.send_error_code(404, code, "not found", head=head)
            return True
        return False


class _CdnHandler(_Handler):
    def do_GET(self) -> None:
        self.serve(head=False)

    def do_HEAD(self) -> None:
        self.serve(head=True)

    def serve(self, *, head: bool) -> None:
        cdn: _BlobCdn = self.server.owner  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        match = re.match(r"^/cdn/(?P<name>.+)/blobs/(?P<digest>[^/]+)$", path)
        cdn.registry.record(
            RecordedRequest(
                self.command,
                self.path,
                "cdn",
                match["name"] if match else None,
                "cdn",
                match["digest"] if match else None,
                self.auth_scheme(),
            )
        )
        blob = cdn.registry.image.blobs.get(match["digest"]) if match else None
        if blob is None:
            return self.send_error_code(404, "BLOB_UNKNOWN", "blob unknown", head=head)
        self.send_served(Served.of(blob, media_type="application/octet-stream"), head=head)
