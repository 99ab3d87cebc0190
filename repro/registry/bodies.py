"""Reading what a registry sends, within bounds: bodies read whole up to a limit and a
deadline, error codes from error bodies, Retry-After, and blob streams that must keep
delivering. Nothing here knows auth or endpoints (that is repro.registry.client)."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from repro.errors import RegistryError
from repro.registry.transport import Failure, Headers, HttpResponse, TransportError

TIMEOUT_ENV = "REPRO_REGISTRY_TIMEOUT"
ERROR_BODY_LIMIT = 64 * 1024
STREAM_WINDOW = 1024 * 1024  # a blob stream must deliver this much per timeout
TIMEOUT_HINT = f"set {TIMEOUT_ENV} or [tool.repro] registry-timeout to wait longer"


class Deadline:
    """Seconds left for one operation, on an injectable clock."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


class IntegrityError(RegistryError):
    """A registry served bytes that are not what they claim: never retried elsewhere."""


def hash_as(digest: str, body: bytes) -> str:
    """``body`` hashed with the algorithm ``digest`` names (sha256 unless sha512)."""
    algorithm = digest.split(":", 1)[0]
    if algorithm == "sha512":
        return "sha512:" + hashlib.sha512(body).hexdigest()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def byte_count(count: int) -> str:
    return f"{count:,} byte" + ("" if count == 1 else "s")


def clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refuse_encoding(response: HttpResponse, where: str) -> None:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise IntegrityError(
            f"{where}: the registry sent the body with Content-Encoding {encoding!r}, which "
            "repro did not ask for (it asks for identity)",
            hint="the registry (or a proxy) compresses what it must send as is; tell its operator",
        )


def read_limited(response: HttpResponse, limit: int, deadline: Deadline, where: str) -> bytes:
    """The whole body, at most ``limit`` bytes, within the deadline."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise IntegrityError(
            f"{where}: the registry announces {int(declared):,} bytes, over the "
            f"{limit:,}-byte limit for this document",
            hint="a manifest is a few KiB; this is not one",
        )
    chunks: list[bytes] = []
    total = 0
    while True:
        if deadline.expired:
            raise RegistryError(
                f"{where}: the body did not arrive within {deadline.seconds:g} s "
                f"({byte_count(total)} came)",
                hint=TIMEOUT_HINT,
            )
        try:
            chunk = response.read(min(65536, limit + 1 - total), deadline.remaining())
        except TransportError as error:
            if error.failure is Failure.TIMEOUT:
                raise RegistryError(
                    f"{where}: the body did not arrive within {deadline.seconds:g} s "
                    f"({byte_count(total)} came)",
                    hint=TIMEOUT_HINT,
                ) from None
            raise RegistryError(f"{where}: {error.failure.value} ({error.detail})") from None
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise IntegrityError(
                f"{where}: the body is over the {limit:,}-byte limit for this document",
                hint="a manifest is a few KiB; this is not one",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def error_detail(response: HttpResponse, deadline: Deadline) -> str:
    """``": CODE: message"`` from a registry's error body (bounded), and close it."""
    try:
        if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
            return ""
        data = b""
        remaining = min(deadline.remaining(), 5.0)
        if remaining > 0:
            try:
                while len(data) <= ERROR_BODY_LIMIT:
                    chunk = response.read(ERROR_BODY_LIMIT + 1 - len(data), remaining)
                    if not chunk:
                        break
                    data += chunk
            except TransportError:
                pass
        return error_code(data)
    finally:
        response.close()


def error_code(data: bytes) -> str:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code, message = errors[0].get("code"), errors[0].get("message")
        parts = [str(part) for part in (code, message) if isinstance(part, str) and part]
        return (": " + clip(": ".join(parts), 160)) if parts else ""
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return ": " + clip(str(document["error"]), 160)
    return ""


def retry_after(headers: Headers, clock: Callable[[], float]) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ResponseStream(io.RawIOBase):
    """A blob body as a file; every STREAM_WINDOW bytes must come within the timeout, so a
    registry that trickles cannot keep a read alive."""

    def __init__(
        self, response: HttpResponse, label: str, timeout: float, clock: Callable[[], float]
    ) -> None:
        super().__init__()
        self._response = response
        self._label = label
        self._timeout = timeout
        self._clock = clock
        self._window = Deadline(timeout, clock)
        self._windowbytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._windowbytes >= STREAM_WINDOW:
            self._window = Deadline(self._timeout, self._clock)
            self._windowbytes = 0
        stalled = RegistryError(
            f"reading {self._label} stalled: less than 1 MiB in {self._timeout:g} s",
            hint=TIMEOUT_HINT,
        )
        if self._window.expired:
            raise stalled
        try:
            data = self._response.read(len(view), self._window.remaining())
        except TransportError as error:
            if error.failure is Failure.TIMEOUT:
                raise stalled from None
            raise RegistryError(
                f"reading {self._label} failed: {error.failure.value} ({error.detail})"
            ) from None
        if self._window.expired and data:
            raise stalled
        view[: len(data)] = data
        self._windowbytes += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()
