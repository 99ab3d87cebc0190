"""Atomic file writes: user data is never half-written or lost."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from repro.errors import EnvironmentProblem, InputError, ReproError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename.

    The existing file's permission bits are kept unless ``mode`` is given; a new file
    gets ``mode`` or 0o644. The data is fsynced before the rename, so a crash leaves
    either the old or the new content, never a mix.
    """
    path = Path(path)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        except OSError as exc:
            raise _write_error(path, exc) from exc
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise


def _write_error(path: Path, exc: OSError) -> ReproError:
    """A path the user named that cannot be written to is an input error; a refusal by the
    system (permissions, a full or read-only disk) is an environment error."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return InputError(
            f"cannot write {path}: the directory {path.parent} does not exist",
            hint="create the directory first, or give another path",
        )
    if isinstance(exc, IsADirectoryError):
        return InputError(f"cannot write {path}: it is a directory")
    return EnvironmentProblem(f"cannot write {path}: {reason}")


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if needed) for the block.

    Two repro processes writing the same repro.lock serialise here instead of
    interleaving their read-modify-write cycles.
    """
    import fcntl

    path = Path(path)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_regular_file(path: Path, *, limit: int, what: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Anything else (missing, a FIFO or device that would block or never end, larger than
    ``limit``, unreadable) is an InputError naming ``what`` (default: the path).
    """
    label = what or str(path)
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InputError(f"{label} is not a regular file")
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{label} does not exist") from None
    except OSError as exc:
        raise InputError(f"{label} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(f"{label} is too large (more than {limit} bytes)")
    return data


def _open_nonblocking(path: str, flags: int) -> int:
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    return os.open(path, flags | os.O_NONBLOCK)
