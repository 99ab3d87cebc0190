"""The adapter to git (a subprocess; there is no library we trust more than git itself).

Finding the repository root needs no git process: that rule is repro.project's.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from repro.errors import GitError


def git_version() -> str | None:
    """``git --version`` output, or None when git is not installed."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def run_git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, umask: int | None = None
) -> str:
    try:
        # umask= is set in the child by C code: unlike a preexec_fn it is safe while other
        # threads run (repro verify --all checks out and builds several images at once).
        result = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            check=False,
            env=dict(env) if env is not None else None,
            umask=-1 if umask is None else umask,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed", hint="apt-get install git") from exc
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def head_commit(repo: Path) -> str:
    return run_git(repo, "rev-parse", "HEAD").strip()


def dirty_paths(repo: Path, path: Path) -> list[str]:
    """Uncommitted changes (tracked or untracked, not ignored) under ``path``."""
    out = run_git(repo, "status", "--porcelain", "--untracked-files=all", "--", str(path))
    return [line[3:] for line in out.splitlines() if line.strip()]


def commit_epoch(path: Path) -> int:
    """SOURCE_DATE_EPOCH for ``path``: the commit time of the last commit touching it."""
    repo = path if path.is_dir() else path.parent
    out = run_git(repo, "log", "-1", "--pretty=%ct", "--", ".").strip()
    if not out:
        raise GitError(
            f"{path} has no commits", hint="Commit the build context, or pass --epoch N."
        )
    return int(out)


def clone_at(source: Path, commit: str, dest: Path, *, umask: int, env: Mapping[str, str]) -> Path:
    """A fresh, independent clone of ``source`` checked out at ``commit`` under ``umask``."""
    run_git(
        source.parent,
        "clone",
        "--quiet",
        "--no-hardlinks",
        "--no-checkout",
        str(source),
        str(dest),
        env=env,
        umask=umask,
    )
    run_git(
        dest, "-c", "advice.detachedHead=false", "checkout", "--quiet", commit, env=env, umask=umask
    )
    return dest


def tracked_and_untracked(repo: Path) -> list[str]:
    """Every file git would commit: tracked plus untracked-but-not-ignored, repo-relative."""
    out = run_git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({name for name in out.split("\0") if name})


def exact_tag(repo: Path, commit: str = "HEAD") -> str | None:
    """``git describe --exact-match --tags``: the tag naming ``commit``, or None."""
    try:
        return run_git(repo, "describe", "--exact-match", "--tags", commit).strip() or None
    except GitError:
        return None


def log_oneline(repo: Path, old: str, new: str) -> list[str]:
    """``git log --oneline old..new``: the commits in ``new`` that ``old`` lacks."""
    out = run_git(repo, "log", "--oneline", "--no-decorate", f"{old}..{new}")
    return [line for line in out.splitlines() if line.strip()]


def has_commit(repo: Path, commit: str) -> bool:
    try:
        run_git(repo, "cat-file", "-e", f"{commit}^{{commit}}")
    except GitError:
        return False
    return True


def remote_url(repo: Path, remote: str = "origin") -> str | None:
    """``git remote get-url origin`` without any credentials in it, or None (no remote)."""
    try:
        url = run_git(repo, "remote", "get-url", remote).strip()
    except GitError:
        return None
    return without_credentials(url) or None


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed (scp-like ``git@host:path`` is kept: it
    names an SSH user, no secret)."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class Git:
    """The SourceControl the use cases receive: the git operations above, as methods."""

    def head_commit(self, repo: Path) -> str:
        return head_commit(repo)

    def dirty_paths(self, repo: Path, path: Path) -> list[str]:
        return dirty_paths(repo, path)

    def commit_epoch(self, path: Path) -> int:
        return commit_epoch(path)

    def clone_at(
        self, source: Path, commit: str, dest: Path, *, umask: int, env: Mapping[str, str]
    ) -> Path:
        return clone_at(source, commit, dest, umask=umask, env=env)

    def tracked_files(self, repo: Path) -> list[str]:
        return tracked_and_untracked(repo)

    def exact_tag(self, repo: Path, commit: str = "HEAD") -> str | None:
        return exact_tag(repo, commit)

    def log(self, repo: Path, old: str, new: str) -> list[str]:
        return log_oneline(repo, old, new)

    def has_commit(self, repo: Path, commit: str) -> bool:
        return has_commit(repo, commit)

    def remote_url(self, repo: Path) -> str | None:
        return remote_url(repo)
