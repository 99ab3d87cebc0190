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


# -- several files as one transaction ------------------------------------------------------
#
# `repro lock` rewrites Dockerfiles and repro.lock together: a project with some files
# pinned and no repro.lock is not one any run produced. So the new bytes are staged next
# to their targets, a journal names them, and only then are they renamed into place. The
# next run finds the journal and completes the renames (the journal said "commit") or
# deletes the staged files (it was still "staging"). Every name is fixed in advance, so a
# kill -9 at any point leaves nothing that recovery does not know to remove.

JOURNAL_STAGING = "staging"
JOURNAL_COMMIT = "commit"
_STAGED_SUFFIX = ".repro-staged"
# Tests stop a real process at a named point of a transaction (then kill -9 it there).
PAUSE_AT_ENV = "REPRO_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "REPRO_TEST_PAUSE_FILE"


def staged_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{_STAGED_SUFFIX}")


def _pause_point(point: str) -> None:
    if os.environ.get(PAUSE_AT_ENV) != point:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(point)
    while True:  # until the test kills the process
        import time

        time.sleep(60)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_journal(journal: Path, state: str, targets: list[Path]) -> None:
    import json

    body = json.dumps(
        {"state": state, "files": [str(target) for target in targets]}, indent=1
    ).encode("utf-8")
    pending = journal.with_name(journal.name + ".new")
    with open(pending, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pending, journal)
    _fsync_directory(journal.parent)


def write_transaction(writes: list[tuple[Path, bytes]], journal: Path) -> None:
    """Write every ``(path, bytes)`` or, after a crash, let the next run finish or undo it.

    Permission bits of existing files are kept; new files get 0o644.
    """
    if not writes:
        return
    targets = [Path(os.path.abspath(path)) for path, _ in writes]
    _write_journal(journal, JOURNAL_STAGING, targets)
    _pause_point("journal")
    for number, (target, (_, data)) in enumerate(zip(targets, writes, strict=True), start=1):
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        staged = staged_path(target)
        with open(staged, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staged, mode)
        _pause_point(f"staged-{number}")
    _write_journal(journal, JOURNAL_COMMIT, targets)
    _pause_point("commit")
    _finish(targets, journal, pause=True)


def _finish(targets: list[Path], journal: Path, *, pause: bool = False) -> None:
    directories: set[Path] = set()
    for number, target in enumerate(targets, start=1):
        staged = staged_path(target)
        if staged.exists():
            os.replace(staged, target)
            directories.add(target.parent)
        if pause:
            _pause_point(f"renamed-{number}")
    for directory in sorted(directories):
        _fsync_directory(directory)
    journal.unlink()
    _fsync_directory(journal.parent)


def recover_transaction(journal: Path) -> str | None:
    """Finish or undo a transaction a killed run left: "completed", "rolled back" or None."""
    import json

    pending = journal.with_name(journal.name + ".new")
    if not journal.exists():
        if pending.exists():  # killed while writing the first journal: nothing staged yet
            pending.unlink()
            return "rolled back"
        return None
    try:
        document = json.loads(journal.read_text(encoding="utf-8"))
        state = document["state"]
        targets = [Path(name) for name in document["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        from repro.errors import InputError

        raise InputError(
            f"{journal}: the journal of an interrupted `repro lock` cannot be read ({exc})",
            hint="look at the files it names, then delete it",
        ) from exc
    with contextlib.suppress(FileNotFoundError):
        pending.unlink()
    if state == JOURNAL_COMMIT:
        _finish(targets, journal)
        return "completed"
    for target in targets:
        with contextlib.suppress(FileNotFoundError):
            staged_path(target).unlink()
    journal.unlink()
    _fsync_directory(journal.parent)
    return "rolled back"
