"""The adapter to git (a subprocess; there is no library we trust more than git itself)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from repro.errors import GitError


def git_version() -> str | None:
    """``git --version`` output, or None when git is not installed."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def run_git(repo: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed", hint="apt-get install git") from exc
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def commit_epoch(path: Path) -> int:
    """SOURCE_DATE_EPOCH for ``path``: the commit time of the last commit touching it."""
    repo = path if path.is_dir() else path.parent
    out = run_git(repo, "log", "-1", "--pretty=%ct", "--", ".").strip()
    if not out:
        raise GitError(
            f"{path} has no commits", hint="Commit the build context, or pass --epoch N."
        )
    return int(out)
