"""Paths that cannot be written or read: a missing directory, a file where a directory
should be, a FIFO or device given as a key. Input errors (exit 2) that write nothing."""

from __future__ import annotations

import os
from pathlib import Path

from tests.hostile.crafted import assert_refused, run
from tests.hostile.fixtures import Pair


def test_keygen_into_a_missing_directory_writes_nothing(tmp_path: Path) -> None:
    outcome = run("keygen", "--out", str(tmp_path / "missing" / "dir" / "k"), cwd=tmp_path)
    assert_refused(outcome, 2, f"cannot write {tmp_path}/missing/dir/k.key", "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_keygen_under_a_file_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    outcome = run("keygen", "--out", str(tmp_path / "file" / "k"), cwd=tmp_path)
    assert_refused(outcome, 2, "cannot write", "does not exist")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_report_written_into_a_missing_directory_is_an_input_error(
    identical_pair: Pair, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    context.mkdir()
    report = tmp_path / "missing" / "signoff.md"
    outcome = run("signoff", str(context), "--image", str(identical_pair.a), "--out", str(report))
    assert_refused(outcome, 2, f"cannot write {report}", "does not exist")
    assert not (tmp_path / "missing").exists()


def test_a_key_that_is_a_fifo_or_a_device_is_refused_without_blocking(
    release_project: Path,
) -> None:
    fifo = release_project / "k.key"
    os.mkfifo(fifo)
    outcome = run("sign", "1.0.0", "--key", str(fifo), cwd=release_project, deadline=20)
    assert_refused(outcome, 2, f"{fifo} is not a regular file", deadline=20)
    outcome = run("verify-release", "1.0.0", "--pubkey", "/dev/zero", cwd=release_project)
    assert_refused(outcome, 2, "/dev/zero is not a regular file", deadline=20)
