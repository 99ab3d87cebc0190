"""Digest checks: every blob byte we read is hashed and compared with its digest."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol, TypeGuard

from repro.errors import InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_SIZE = 1 << 20
# Only sha256 is accepted: digests come from untrusted JSON and become file names.
_DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")


class ReadCancelled(Exception):
    """A read stopped because the work it was for was abandoned (another job failed, or
    the user pressed Ctrl-C); never reported, the failure that caused it is."""


_cancel: ContextVar[threading.Event | None] = ContextVar("repro_oci_cancel", default=None)


def cancel_reads_on(event: threading.Event) -> None:
    """From now on, reads in this thread raise ReadCancelled once ``event`` is set."""
    _cancel.set(event)


def check_interrupted() -> None:
    event = _cancel.get()
    if event is not None and event.is_set():
        raise ReadCancelled


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_sha256_digest(digest: object) -> TypeGuard[str]:
    """``sha256:<64 lowercase hex>``, the only digests repro accepts."""
    return isinstance(digest, str) and _DIGEST_PATTERN.fullmatch(digest) is not None


def check_digest(digest: object, *, where: str) -> str:
    """Return ``digest`` if it is a well-formed sha256 digest, else raise InputError."""
    if not is_sha256_digest(digest):
        raise InputError(
            f"{where}: unsupported or malformed digest {digest!r}",
            hint="repro reads sha256 digests only (sha256:<64 lowercase hex digits)",
        )
    return digest


def digest_hex(digest: str) -> str:
    return check_digest(digest, where="blob").removeprefix("sha256:")


class HashingReader(io.RawIOBase):
    """Pass bytes through from ``inner`` while hashing them.

    With ``expected_digest`` set it is a verifier: at end of stream (or on ``finish``) the
    size and sha256 must match, otherwise InputError names the blob and its file.
    """

    def __init__(
        self,
        inner: Readable,
        *,
        expected_digest: str | None = None,
        expected_size: int | None = None,
        label: str = "blob",
    ) -> None:
        super().__init__()
        self._inner = inner
        self._hash = hashlib.sha256()
        self._expected_digest = expected_digest
        self._expected_size = expected_size
        self._label = label
        self._count = 0
        self._at_end = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if len(view) == 0:
            return 0
        data = self._next(len(view))
        view[: len(data)] = data
        return len(data)

    def _next(self, size: int) -> bytes:
        """Up to ``size`` bytes from ``inner``, hashed and counted; b"" at the (checked) end."""
        if self._at_end:
            return b""
        check_interrupted()
        data = self._inner.read(size)
        if not data:
            self._at_end = True
            self._check_complete()
            return b""
        self._count += len(data)
        if self._expected_size is not None and self._count > self._expected_size:
            raise InputError(
                f"{self._label} is longer than its declared size {self._expected_size}",
                hint="the image is corrupted; export it again",
            )
        self._hash.update(data)
        return data

    def close(self) -> None:
        if not self.closed:
            close_inner = getattr(self._inner, "close", None)
            if close_inner is not None:
                close_inner()
        super().close()

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._count

    def finish(self) -> str:
        """Read whatever is left, verify, and return the digest of everything read."""
        while self._next(CHUNK_SIZE):
            pass
        return self.digest

    def _check_complete(self) -> None:
        if self._expected_size is not None and self._count != self._expected_size:
            raise InputError(
                f"{self._label} is truncated: {self._count} of {self._expected_size} bytes",
                hint="the image file is incomplete; export it again",
            )
        if self._expected_digest is not None and self.digest != self._expected_digest:
            raise InputError(
                f"{self._label} is corrupted: its content hashes to {self.digest}",
                hint="the image file was modified or damaged; export it again",
            )


def buffered(raw: io.RawIOBase) -> io.BufferedReader:
    """A BinaryIO view of ``raw`` with a large buffer (fewer, bigger reads)."""
    return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)
