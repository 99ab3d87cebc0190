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
    path_text: str  # as found (may be a symlink)
    target_text: str  # the real file behind it; what gets read and written

    @property
    def path(self) -> Path:
        return Path(self.path_text)

    @property
    def target(self) -> Path:
        return Path(self.target_text)


@dataclass(frozen=True)
class Discovery:
    files: tuple[FoundFile, ...]
    skipped: tuple[str, ...]  # one message per file left out on purpose


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    """``.dockerignore``-style: a pattern matching a directory excludes all below it."""
    if not patterns:
        return False
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
    with a message: repro never writes through it. Paths are handled as strings (a
    big project has thousands of files; pathlib would cost more than reading them).
    """
    root_abs = os.path.abspath(root)
    real_root = os.path.realpath(root_abs)
    candidates: list[tuple[str, str, str | None]] = []  # display, path, real path if known
    for given in paths or [root]:
        if given.is_dir():
            _walk(os.path.abspath(given), root_abs, excludes, candidates)
        elif given.exists() or given.is_symlink():
            candidates.append(
                (_display(os.path.abspath(given), root_abs, str(given)), str(given), None)
            )
        else:
            raise InputError(f"{given}: no such file or directory")
    files: list[FoundFile] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for display, path, known in candidates:
        target = known if known is not None else os.path.realpath(path)
        if not (target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)):
            skipped.append(
                f"{display}: skipped, it is a symlink to {target} outside the project"
                if os.path.islink(path) or target != os.path.abspath(path)
                else f"{display}: skipped, it is outside the project {root}"
            )
            continue
        if known is None and not os.path.isfile(target):
            skipped.append(f"{display}: skipped, not a regular file")
            continue
        if target in seen:
            continue
        seen.add(target)
        files.append(FoundFile(display=display, path_text=path, target_text=target))
    return Discovery(files=tuple(files), skipped=tuple(skipped))


def _walk(
    directory: str,
    root_abs: str,
    excludes: Sequence[str],
    found: list[tuple[str, str, str | None]],
    real_directory: str | None = None,
) -> None:
    """Like os.walk (top-down, sorted, symlinked directories not followed), with scandir."""
    real = real_directory if real_directory is not None else os.path.realpath(directory)
    prefix = _display(directory, root_abs, directory)
    prefix = "" if prefix == "." else prefix + "/"
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    subdirectories: list[os.DirEntry[str]] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            subdirectories.append(entry)
            continue
        if not is_dockerfile_name(entry.name) or is_excluded(prefix + entry.name, excludes):
            continue
        plain = not entry.is_symlink() and entry.is_file(follow_symlinks=False)
        known = os.path.join(real, entry.name) if plain else None
        found.append((prefix + entry.name, entry.path, known))
    for entry in subdirectories:
        if entry.name in SKIPPED_DIRECTORIES or is_excluded(prefix + entry.name, excludes):
            continue
        if entry.is_symlink():
            continue  # as os.walk: a symlinked directory is listed, never descended
        _walk(entry.path, root_abs, excludes, found, os.path.join(real, entry.name))


def _display(absolute: str, root_abs: str, given: str) -> str:
    """``absolute`` relative to the project root, posix separators; as given outside it."""
    if absolute == root_abs:
        return "."
    base = root_abs.rstrip(os.sep) + os.sep
    if absolute.startswith(base):
        return absolute[len(base) :].replace(os.sep, "/")
    return given
