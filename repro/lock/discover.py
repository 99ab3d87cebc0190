"""Find the files of a project that name images (pure file-system walking, no network).

Dockerfiles by their names; image files (compose, bake, Kubernetes, Helm values, GitHub
workflows) by the name rules of ``repro.imagefiles.discover``: they are only candidates
here, their kind is decided from their bytes when they are read (a ``*.yaml`` counts only
if it holds Kubernetes objects). ``include`` globs add files the names do not cover: a
YAML, HCL or JSON one is an image file whose kind is read from its content; any other
is a YAML image file when it reads like one (``apiVersion:``, ``services:`` or
``jobs:`` at the top level), else a Dockerfile (``build/app.df``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from repro.errors import InputError

SKIPPED_DIRECTORIES = frozenset({".git"})
# Other people's files: a YAML under these is never one of the project's image files.
DEPENDENCY_DIRECTORIES = frozenset({"node_modules", "vendor"})
DOCKERFILE = "dockerfile"
IMAGE_FILE = "image-file"  # a candidate: compose, bake, Kubernetes, Helm values, workflow
INCLUDED = "included"  # named by an include glob only: a Dockerfile or YAML, by content
_IMAGE_FILE_SUFFIXES = (".yaml", ".yml", ".hcl", ".json")


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
    kind: str = DOCKERFILE  # or IMAGE_FILE

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


def file_kind(relative: str, includes: Sequence[str] = ()) -> str | None:
    """DOCKERFILE, IMAGE_FILE (a candidate, classified when read), INCLUDED or None."""
    from repro.imagefiles.discover import kind_by_name, matches_any

    name = relative.rpartition("/")[2]
    if is_dockerfile_name(name):
        return DOCKERFILE
    if kind_by_name(relative) is not None:
        return IMAGE_FILE
    if includes and matches_any(relative, tuple(includes)):
        return IMAGE_FILE if name.endswith(_IMAGE_FILE_SUFFIXES) else INCLUDED
    return None


def discover(
    paths: Sequence[Path],
    root: Path,
    excludes: Sequence[str] = (),
    includes: Sequence[str] = (),
    *,
    image_files: bool = True,
) -> Discovery:
    """Dockerfiles and image-file candidates under ``paths`` (default: ``root``), sorted,
    each real file once.

    A file named on the command line is taken whatever its name (an image file when the
    image-file rules know its name, else a Dockerfile); directories are searched by name,
    skipping ``.git`` and the ``excludes`` globs (relative to ``root``), ``includes``
    adding names. Without ``image_files`` only Dockerfiles are looked for. A symlink
    whose target lies outside ``root`` is skipped with a message: repro never writes
    through it. Paths are handled as strings (a
    big project has thousands of files; pathlib would cost more than reading them).
    """
    root_abs = os.path.abspath(root)
    real_root = os.path.realpath(root_abs)
    # display, path, real path if known, kind
    candidates: list[tuple[str, str, str | None, str]] = []
    for given in paths or [root]:
        if given.is_dir():
            _walk(os.path.abspath(given), root_abs, excludes, includes, candidates, image_files)
        elif given.exists() or given.is_symlink():
            display = _display(os.path.abspath(given), root_abs, str(given))
            kind = file_kind(display, includes) or DOCKERFILE
            candidates.append((display, str(given), None, kind))
        else:
            raise InputError(f"{given}: no such file or directory")
    files: list[FoundFile] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for display, path, known, kind in candidates:
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
        files.append(FoundFile(display=display, path_text=path, target_text=target, kind=kind))
    return Discovery(files=tuple(files), skipped=tuple(skipped))


def _walk(
    directory: str,
    root_abs: str,
    excludes: Sequence[str],
    includes: Sequence[str],
    found: list[tuple[str, str, str | None, str]],
    image_files: bool,
    real_directory: str | None = None,
    dependencies: bool = False,
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
        kind = file_kind(prefix + entry.name, includes)
        if kind is None or (kind == IMAGE_FILE and (dependencies or not image_files)):
            continue
        if is_excluded(prefix + entry.name, excludes):
            continue
        plain = not entry.is_symlink() and entry.is_file(follow_symlinks=False)
        known = os.path.join(real, entry.name) if plain else None
        found.append((prefix + entry.name, entry.path, known, kind))
    for entry in subdirectories:
        if entry.name in SKIPPED_DIRECTORIES or is_excluded(prefix + entry.name, excludes):
            continue
        if entry.is_symlink():
            continue  # as os.walk: a symlinked directory is listed, never descended
        _walk(
            entry.path,
            root_abs,
            excludes,
            includes,
            found,
            image_files,
            os.path.join(real, entry.name),
            dependencies or entry.name in DEPENDENCY_DIRECTORIES,
        )


def _display(absolute: str, root_abs: str, given: str) -> str:
    """``absolute`` relative to the project root, posix separators; as given outside it."""
    if absolute == root_abs:
        return "."
    base = root_abs.rstrip(os.sep) + os.sep
    if absolute.startswith(base):
        return absolute[len(base) :].replace(os.sep, "/")
    return given
