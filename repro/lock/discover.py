"""Find the Dockerfiles of a project (pure file-system walking, no network)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from repro.errors import InputError

SKIPPED_DIRECTORIES = frozenset({".git"})


def is_dockerfile_name(name: str) -> bool:
    """``Dockerfile``, ``Containerfile``, ``Dockerfile.*`` and ``*.Dockerfile``.

    ``Dockerfile.dockerignore`` (a per-Dockerfile ignore file) is not a Dockerfile.
    """
    if name.endswith(".dockerignore"):
        return False
    return (
        name in ("Dockerfile", "Containerfile")
        or (name.startswith("Dockerfile.") and len(name) > len("Dockerfile."))
        or (name.endswith(".Dockerfile") and len(name) > len(".Dockerfile"))
    )


@dataclass(frozen=True)
class FoundFile:
    display: str  # relative to the project root when inside it, posix separators
    path: Path  # as found (may be a symlink)
    target: Path  # the real file behind it; what gets read and written


@dataclass(frozen=True)
class Discovery:
    files: tuple[FoundFile, ...]
    skipped: tuple[str, ...]  # one message per file left out on purpose


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    """``.dockerignore``-style: a pattern matching a directory excludes all below it."""
    parts = PurePosixPath(relative).parts
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for raw in patterns:
        pattern = raw.strip().removeprefix("./").strip("/")
        if not pattern:
            continue
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/"):
                tail = prefix.split("/")
                rest = pattern[3:]
                if any(fnmatch.fnmatchcase("/".join(tail[i:]), rest) for i in range(len(tail))):
                    return True
    return False


def discover(paths: Sequence[Path], root: Path, excludes: Sequence[str] = ()) -> Discovery:
    """Dockerfiles under ``paths`` (default: ``root``), sorted, each real file once.

    A file named on the command line is taken whatever its name; directories are
    searched for Dockerfile names, skipping ``.git`` and the ``excludes`` globs
    (relative to ``root``). A symlink whose target lies outside ``root`` is skipped
    with a message: repro never writes through it.
    """
    real_root = root.resolve()
    candidates: list[Path] = []
    for given in paths or [root]:
        if given.is_dir():
            candidates.extend(_walk(given, real_root, root, excludes))
        elif given.exists() or given.is_symlink():
            candidates.append(given)
        else:
            raise InputError(f"{given}: no such file or directory")
    files: list[FoundFile] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for path in candidates:
        display = _display(path, root)
        target = path.resolve()
        if not _inside(target, real_root):
            skipped.append(
                f"{display}: skipped, it is a symlink to {target} outside the project"
                if path.is_symlink() or target != path.absolute()
                else f"{display}: skipped, it is outside the project {root}"
            )
            continue
        if not target.is_file():
            skipped.append(f"{display}: skipped, not a regular file")
            continue
        if target in seen:
            continue
        seen.add(target)
        files.append(FoundFile(display=display, path=path, target=target))
    return Discovery(files=tuple(files), skipped=tuple(skipped))


def _walk(directory: Path, real_root: Path, root: Path, excludes: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(directory):
        here = Path(current)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in SKIPPED_DIRECTORIES
            and not is_excluded(_display(here / name, root), excludes)
        )
        for name in sorted(filenames):
            if is_dockerfile_name(name) and not is_excluded(_display(here / name, root), excludes):
                found.append(here / name)
    return found


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _display(path: Path, root: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path(os.path.abspath(root))).as_posix()
    except ValueError:
        return str(path)
