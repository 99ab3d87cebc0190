import os
import stat
from pathlib import Path

import pytest

from repro.fsutil import atomic_write_bytes, atomic_write_text, file_lock


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
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_file_lock_is_reentrant_across_blocks(tmp_path: Path) -> None:
    lock = tmp_path / ".repro.lock.lock"
    with file_lock(lock):
        assert lock.exists()
    with file_lock(lock):
        pass
