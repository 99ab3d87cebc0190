"""Two processes on one project: `repro lock` waits for the project's lock held by another
process, writes nothing while it waits, and finishes once the lock is released."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HOLDER = """
import sys
from pathlib import Path
from repro.fsutil import file_lock
from repro.project import guard_path
with file_lock(guard_path(Path(sys.argv[1]))):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""
DEADLINE_SECONDS = 60


def _waiters(pid: int) -> bool:
    """Whether ``pid`` is blocked waiting for a flock (``->`` lines of /proc/locks)."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "->" and fields[2] == "FLOCK" and fields[5] == str(pid):
            return True
    return False


def test_repro_lock_waits_for_another_process_holding_the_project_lock(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # guard_path lives in the temp directory
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert holder.stdin is not None and holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    locker = subprocess.Popen(
        [sys.executable, "-m", "repro", "lock", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not _waiters(locker.pid):
            assert locker.poll() is None, (
                "repro lock finished while another process held the project's lock:\n"
                + locker.communicate()[1]
            )
            assert time.monotonic() < deadline, "repro lock neither waited nor finished"
            time.sleep(0.02)
        # Blocked on the lock: nothing written yet.
        assert not (project / "repro.lock").exists()
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(DEADLINE_SECONDS) == 0
        stdout, stderr = locker.communicate(timeout=DEADLINE_SECONDS)
    finally:
        for process in (holder, locker):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert locker.returncode == 0, stderr
    assert "written: repro.lock" in stdout
    assert (project / "repro.lock").read_text().startswith("# repro.lock: image references")
