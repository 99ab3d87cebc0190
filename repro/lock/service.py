"""`repro lock` end to end: discover, parse, resolve, plan, then write everything or nothing.

The registry is reached only through the ``Resolver`` passed in, so the flow runs in
unit tests with a fake one. Nothing is written until every reference has resolved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from repro.dockerfile import ImageRef, parse_image_ref
from repro.errors import InputError
from repro.fsutil import atomic_write_bytes, atomic_write_text, file_lock
from repro.lock.discover import discover
from repro.lock.plan import Mode, Plan, SourceFile, load_source, plan, required_keys, unified_diff
from repro.lock.policy import source_policy_json
from repro.lockfile import LOCKFILE_NAME, Lockfile, dump_lockfile, read_lockfile, utc_now
from repro.project import guard_path, project_root
from repro.registry.model import ManifestKey, Resolution

_MAX_ROUNDS = 3  # tags first, then pinned digests the tags did not describe


class Resolver(Protocol):
    def resolve_all(
        self,
        keys: Iterable[ManifestKey],
        known_platforms: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[ManifestKey, Resolution]: ...


@dataclass(frozen=True)
class LockRequest:
    paths: tuple[Path, ...] = ()
    mode: Mode = Mode.LOCK
    update_refs: tuple[str, ...] = ()
    dry_run: bool = False
    platforms: tuple[str, ...] = ()
    source_policy: Path | None = None
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockOutcome:
    plan: Plan
    root: Path
    lockfile_path: Path
    files_scanned: tuple[str, ...]
    skipped: tuple[str, ...]
    written: tuple[str, ...]  # files written (Dockerfiles, repro.lock, the policy)
    diff: str  # --dry-run: what would change
    lockfile_changed: bool
    dry_run: bool


def split_arguments(
    arguments: Sequence[str], *, update: bool, exists: Callable[[str], bool]
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """``repro lock [PATH...] --update [REF...]``: with --update, an argument that is not
    an existing path is an image reference to update."""
    paths: list[Path] = []
    refs: list[str] = []
    for argument in arguments:
        if exists(argument) or not update:
            paths.append(Path(argument))
        else:
            refs.append(argument)
    return tuple(paths), tuple(refs)


def normalise_platforms(values: Iterable[str]) -> tuple[str, ...]:
    """``--platform`` may be repeated or comma-separated."""
    found: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in found:
                found.append(part)
    return tuple(found)


def run_lock(
    request: LockRequest,
    *,
    cwd: Path,
    resolver: Resolver,
    now: Callable[[], str] = utc_now,
) -> LockOutcome:
    root = project_root(request.paths, cwd)
    paths = [path if path.is_absolute() else cwd / path for path in request.paths]
    lockfile_path = root / LOCKFILE_NAME
    selectors = _selectors(request.update_refs)
    writing = request.mode is not Mode.CHECK and not request.dry_run
    guard = file_lock(guard_path(root)) if writing else contextlib.nullcontext()
    with guard:
        discovery = discover(paths, root, request.excludes)
        if not discovery.files:
            where = ", ".join(str(path) for path in request.paths) or str(root)
            raise InputError(
                f"no Dockerfiles found in {where}",
                hint="name them Dockerfile, *.Dockerfile, Dockerfile.* or Containerfile, "
                "or pass the files",
            )
        sources = [
            load_source(found.display, found.target.read_bytes()) for found in discovery.files
        ]
        lock = read_lockfile(lockfile_path)
        resolutions = _resolve(sources, request.mode, lock, resolver)
        result = plan(
            sources,
            mode=request.mode,
            lock=lock,
            resolutions=resolutions,
            now=now(),
            selectors=selectors,
            platforms=request.platforms,
            prune=not request.paths or paths == [root],
        )
        targets = {found.display: found.target for found in discovery.files}
        old_lock_bytes = _read_or_empty(lockfile_path)
        new_lock_text = dump_lockfile(result.lockfile) if result.lockfile is not None else None
        lockfile_changed = (
            new_lock_text is not None and new_lock_text.encode("utf-8") != old_lock_bytes
        )
        diff = ""
        written: list[str] = []
        if request.dry_run and result.lockfile is not None:
            diff = _dry_run_diff(result, old_lock_bytes, new_lock_text or "", lockfile_changed)
        elif writing and result.lockfile is not None:
            written = _write_all(
                result, targets, lockfile_path, new_lock_text or "", lockfile_changed
            )
            if request.source_policy is not None:
                policy_path = (
                    request.source_policy
                    if request.source_policy.is_absolute()
                    else cwd / request.source_policy
                )
                policy = source_policy_json(result.lockfile)
                if _read_or_empty(policy_path) != policy.encode("utf-8"):
                    atomic_write_text(policy_path, policy)
                    written.append(str(request.source_policy))
    return LockOutcome(
        plan=result,
        root=root,
        lockfile_path=lockfile_path,
        files_scanned=tuple(found.display for found in discovery.files),
        skipped=discovery.skipped,
        written=tuple(written),
        diff=diff,
        lockfile_changed=lockfile_changed,
        dry_run=request.dry_run,
    )


def _selectors(refs: Sequence[str]) -> tuple[ImageRef, ...]:
    selectors: list[ImageRef] = []
    for ref in refs:
        try:
            selectors.append(parse_image_ref(ref))
        except InputError as error:
            raise InputError(
                f"--update {ref}: neither an existing path nor an image reference "
                f"({error.message})",
                hint=error.hint,
            ) from error
    return tuple(selectors)


def _resolve(
    sources: Sequence[SourceFile], mode: Mode, lock: Lockfile | None, resolver: Resolver
) -> dict[ManifestKey, Resolution]:
    known = {
        entry.digest: dict(entry.platforms)
        for entry in (lock.images.values() if lock is not None else ())
        if entry.platforms
    }
    resolutions: dict[ManifestKey, Resolution] = {}
    for _ in range(_MAX_ROUNDS):
        wanted = required_keys(sources, mode, lock, resolutions)
        if not wanted:
            break
        resolutions.update(resolver.resolve_all(sorted(wanted), known))
    return resolutions


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _dry_run_diff(result: Plan, old_lock: bytes, new_lock: str, changed: bool) -> str:
    parts = [unified_diff(change.display, change.old, change.new) for change in result.changes]
    if changed:
        parts.append(unified_diff(LOCKFILE_NAME, old_lock, new_lock.encode("utf-8")))
    return "".join(parts)


def _write_all(
    result: Plan,
    targets: Mapping[str, Path],
    lockfile_path: Path,
    lock_text: str,
    lockfile_changed: bool,
) -> list[str]:
    for change in result.changes:  # refuse to overwrite an edit made while we resolved
        if targets[change.display].read_bytes() != change.old:
            raise InputError(
                f"{change.display} changed while repro lock ran; nothing was written",
                hint="run `repro lock` again",
            )
    written: list[str] = []
    for change in result.changes:
        atomic_write_bytes(targets[change.display], change.new)
        written.append(change.display)
    if lockfile_changed:
        atomic_write_text(lockfile_path, lock_text)
        written.append(LOCKFILE_NAME)
    return written
