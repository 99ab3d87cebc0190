import os
import stat
from pathlib import Path

import pytest

from repro.errors import EnvironmentProblem, InputError
from repro.fsutil import atomic_write_bytes, atomic_write_text, file_lock, read_regular_file


def test_new_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "repro.lock"
    atomic_write_text(target, "schema = 1\n")
    assert target.read_text() == "schema = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["repro.lock"]


def test_existing_mode_is_preserved(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text("FROM busybox\n")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"FROM busybox@sha256:ab\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes() == b"FROM busybox@sha256:ab\n"


def test_explicit_mode_for_secrets(tmp_path: Path) -> None:
    target = tmp_path / "key"
    atomic_write_bytes(target, b"secret", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_failed_write_keeps_the_old_content_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text("original\n")

    def broken_replace(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(EnvironmentProblem, match=r"cannot write .*/Dockerfile: disk full"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_a_missing_directory_is_an_input_error_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "k.key"
    with pytest.raises(InputError, match=r"the directory .*/missing does not exist"):
        atomic_write_bytes(target, b"secret", mode=0o600)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_in_the_way_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        atomic_write_text(tmp_path / "out", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_read_regular_file_reads_at_most_the_limit(tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    small.write_bytes(b"{}")
    assert read_regular_file(small, limit=2) == b"{}"
    with pytest.raises(InputError, match=r"small.json is too large \(more than 1 bytes\)"):
        read_regular_file(small, limit=1)
    with pytest.raises(InputError, match="does not exist"):
        read_regular_file(tmp_path / "nothing", limit=10)


def test_read_regular_file_refuses_fifos_and_devices_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a blocking open would hang here
    with pytest.raises(InputError, match="fifo is not a regular file"):
        read_regular_file(fifo, limit=10, what=str(fifo))
    with pytest.raises(InputError, match="/dev/zero is not a regular file"):
        read_regular_file(Path("/dev/zero"), limit=10)


def test_file_lock_is_reentrant_across_blocks(tmp_path: Path) -> None:
    lock = tmp_path / ".repro.lock.lock"
    with file_lock(lock):
        assert lock.exists()
    with file_lock(lock):
        pass
