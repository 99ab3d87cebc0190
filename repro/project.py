"""Project rules, from the filesystem alone (no git process, no network).

Where the project, its git repository and its repro.lock are; what an image argument
names (a path or a registry reference); and the SOURCE_DATE_EPOCH policy every build
command shares (``--epoch git|N``, and a ``--build-arg SOURCE_DATE_EPOCH`` may not
contradict it). git itself is run only by repro.git.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from repro.errors import InputError
from repro.lockfile import LOCKFILE_NAME
from repro.records import MAX_EPOCH

# -- the project and its repository -------------------------------------------------------


def repository_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside one.

    The nearest directory at or above ``path`` with a ``.git`` (a directory, or the file
    a linked worktree or a submodule has).
    """
    start = path.resolve()
    directory = start if start.is_dir() or not start.exists() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def require_repository_root(path: Path) -> Path:
    """:func:`repository_root`, for a build whose epoch is the commit time."""
    root = repository_root(path)
    if root is None:
        raise InputError(
            f"{path} is not inside a git repository, so there is no commit to take "
            "SOURCE_DATE_EPOCH from",
            hint="Run `git init` and commit, or pass --epoch N.",
        )
    return root


def project_root(paths: Sequence[Path], cwd: Path) -> Path:
    """`repro lock`'s project: the directory given when it is the only PATH, else the cwd."""
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0]
    return cwd


def guard_path(root: Path) -> Path:
    """Where runs on one project serialise: a per-user, per-project file outside it,
    so the project is not littered and repro.lock itself can be replaced atomically."""
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"repro-{os.getuid()}-{digest}.lock"


# -- repro.lock ---------------------------------------------------------------------------


def nearest_lockfile(start: Path, *, stop: Path | None = None) -> Path | None:
    """The nearest repro.lock at or above ``start``, looking no higher than ``stop``."""
    for directory in (start, *start.parents):
        candidate = directory / LOCKFILE_NAME
        if candidate.is_file():
            return candidate
        if stop is not None and directory == stop:
            break
    return None


def find_lockfile(start: Path) -> Path:
    """The nearest repro.lock at or above ``start``, for commands that read releases."""
    start = start.resolve()
    found = nearest_lockfile(start)
    if found is None:
        raise InputError(
            f"no {LOCKFILE_NAME} in {start} or any parent directory",
            hint="record a release with `repro release VERSION` first",
        )
    return found


def release_lockfile(context: Path, root: Path) -> Path:
    """Where a release of ``context`` is recorded: the repro.lock nearest the context (up
    to the repository root), else a new one at the root."""
    return nearest_lockfile(context, stop=root) or root / LOCKFILE_NAME


# -- image arguments ----------------------------------------------------------------------


class ImageArgument(Enum):
    PATH = "path"  # an OCI layout directory, an OCI tar or a `docker save` tar
    REGISTRY = "registry"  # host[:port]/name:tag or host[:port]/name@sha256:...


def looks_like_registry_reference(text: str) -> bool:
    """True when ``text`` names a registry host explicitly (``host[:port]/name...``).

    Short names (``busybox:1.35``) and anything ending in ``.tar`` are taken as paths.
    """
    first, slash, _ = text.partition("/")
    if not slash or text.endswith(".tar") or text.startswith((".", "/", "~")):
        return False
    return "." in first or ":" in first or first == "localhost"


def image_argument(text: str) -> ImageArgument:
    """What an image argument names. An existing path wins over a registry reference."""
    if Path(text).exists() or not looks_like_registry_reference(text):
        return ImageArgument.PATH
    return ImageArgument.REGISTRY


# -- SOURCE_DATE_EPOCH --------------------------------------------------------------------

EPOCH_FROM_GIT = "git"


@dataclass(frozen=True)
class EpochPolicy:
    """Where SOURCE_DATE_EPOCH comes from: ``seconds``, or (None) the commit time."""

    seconds: int | None = None

    @property
    def from_commit(self) -> bool:
        return self.seconds is None

    def __str__(self) -> str:
        return EPOCH_FROM_GIT if self.seconds is None else str(self.seconds)


def parse_epoch(text: str) -> EpochPolicy:
    """``--epoch``: ``git`` (the commit time) or a number of seconds since 1970."""
    value = text.strip()
    if value == EPOCH_FROM_GIT:
        return EpochPolicy()
    if value.isascii() and value.isdigit() and len(value) <= 20 and int(value) <= MAX_EPOCH:
        return EpochPolicy(int(value))
    raise InputError(
        f"--epoch must be a number of seconds or {EPOCH_FROM_GIT!r}, not {text!r}",
        hint=f"e.g. --epoch 1700000000 (at most {MAX_EPOCH}, the end of the year 9999), "
        "or --epoch git for the commit time",
    )


def check_epoch_build_arg(build_args: Mapping[str, str], epoch: int) -> None:
    """A ``--build-arg SOURCE_DATE_EPOCH`` must say what repro builds with, or the record
    would state one epoch while the build used another."""
    given = build_args.get("SOURCE_DATE_EPOCH")
    if given is not None and given.strip() != str(epoch):
        raise InputError(
            f"--build-arg SOURCE_DATE_EPOCH={given} disagrees with the epoch repro builds "
            f"with ({epoch})",
            hint="Drop that --build-arg: repro passes SOURCE_DATE_EPOCH to the build itself "
            "(choose it with --epoch N where the command has --epoch; the default is the "
            "commit time).",
        )
