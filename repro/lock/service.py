"""`repro lock` end to end: discover, scan, then lock (write all or nothing), check or
list what is outdated.

The registry is reached only through the adapters passed in (a ``Resolver`` to pin, a
``TagReader`` to see what tags serve now), so the flows run in unit tests with fakes.
The hermetic check takes no adapter at all unless ``--online`` asks for one, and imports
nothing of the registry wing: that is what keeps it fast and offline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from repro.errors import InputError
from repro.fsutil import file_lock, recover_transaction, write_transaction
from repro.lock.check import CheckResult, check_files, moved_pins, pinned_tags
from repro.lock.discover import Discovery, discover
from repro.lock.model import FileChange, Mode, PlannedRef, ScannedFile
from repro.lock.scan import scan_bytes, scan_files, scanned_image_file, to_record
from repro.lockfile import LOCKFILE_NAME, FileRecord, Lockfile, read_lockfile, utc_now
from repro.project import guard_path, project_root

if TYPE_CHECKING:
    from repro.dockerfile import ImageRef
    from repro.lock.plan import Plan
    from repro.registry.model import ManifestKey, Resolution

_MAX_ROUNDS = 3  # tags first, then pinned digests the tags did not describe
JOURNAL_NAME = ".repro-lock.journal"


class Resolver(Protocol):
    def resolve_all(
        self,
        keys: Iterable[ManifestKey],
        known_platforms: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[ManifestKey, Resolution]: ...


class TagReader(Protocol):
    """What each tag serves now: one request per unique tag, nothing else fetched."""

    def served_digests(self, keys: Sequence[ManifestKey]) -> dict[ManifestKey, str]: ...


@dataclass(frozen=True)
class LockRequest:
    paths: tuple[Path, ...] = ()
    mode: Mode = Mode.LOCK
    update_refs: tuple[str, ...] = ()
    dry_run: bool = False
    platforms: tuple[str, ...] = ()
    source_policy: Path | None = None
    excludes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()  # [tool.repro] include: more files to read
    allow_unpinnable: tuple[str, ...] = ()  # [tool.repro] allow-unpinnable
    reparse: bool = False  # parse every file, even those repro.lock's record matches


@dataclass(frozen=True)
class Scanned:
    """What every mode starts from: the project, its repro.lock and its files' sites."""

    root: Path
    lockfile_path: Path
    lock: Lockfile | None
    discovery: Discovery
    files: tuple[ScannedFile, ...]
    whole_project: bool  # no PATH narrowed the run: records of files gone are dropped

    @property
    def displays(self) -> tuple[str, ...]:
        """The files read that name images (a ``*.yaml`` that is no image file is not)."""
        return tuple(file.display for file in self.files)

    @property
    def reused(self) -> int:
        return sum(1 for file in self.files if file.cached)

    @property
    def kinds(self) -> tuple[tuple[str, int], ...]:
        return files_by_kind(self.files)


def files_by_kind(files: Iterable[ScannedFile]) -> tuple[tuple[str, int], ...]:
    """How many files of each kind were read (dockerfile, compose, kubernetes...), sorted."""
    counts: dict[str, int] = {}
    for file in files:
        counts[file.kind] = counts.get(file.kind, 0) + 1
    return tuple(sorted(counts.items()))


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
    recovered: str | None = None  # an interrupted run this one completed or rolled back
    kinds: tuple[tuple[str, int], ...] = ()  # files read, by kind

    @property
    def mode(self) -> Mode:
        return self.plan.mode

    @property
    def references(self) -> tuple[PlannedRef, ...]:
        return self.plan.references

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.plan.warnings


@dataclass(frozen=True)
class CheckOutcome:
    result: CheckResult
    root: Path
    lockfile_path: Path
    files_scanned: tuple[str, ...]
    skipped: tuple[str, ...]
    reused: int  # files whose sites came from repro.lock's record (bytes unchanged)
    online: bool
    warnings: tuple[str, ...] = ()
    kinds: tuple[tuple[str, int], ...] = ()  # files read, by kind

    @property
    def mode(self) -> Mode:
        return Mode.CHECK

    @property
    def references(self) -> tuple[PlannedRef, ...]:
        return self.result.references

    @property
    def offenders(self) -> tuple[PlannedRef, ...]:
        return self.result.offenders


@dataclass(frozen=True)
class OutdatedPin:
    tag: str  # name:tag
    old_digest: str
    new_digest: str
    sites: tuple[str, ...]  # file:line
    locked_at: str | None  # when repro.lock recorded the old digest
    age_days: int | None  # days since then


@dataclass(frozen=True)
class OutdatedOutcome:
    root: Path
    files_scanned: tuple[str, ...]
    tags_asked: int
    pins: int
    outdated: tuple[OutdatedPin, ...]
    kinds: tuple[tuple[str, int], ...] = ()  # files read, by kind


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


def _scan(
    request: LockRequest, cwd: Path, *, parse_unpinned: bool, reparse: bool = False
) -> Scanned:
    root = project_root(request.paths, cwd)
    paths = [path if path.is_absolute() else cwd / path for path in request.paths]
    lockfile_path = root / LOCKFILE_NAME
    discovery = discover(paths, root, request.excludes, request.includes)
    lock = read_lockfile(lockfile_path) if discovery.files else None
    files = scan_files(
        ((found.display, found.target_text, found.kind) for found in discovery.files),
        lock.files if lock is not None else {},
        reuse=not (request.reparse or reparse),
        parse_unpinned=parse_unpinned,
        includes=request.includes,
    )
    if not files:
        where = ", ".join(str(path) for path in request.paths) or str(root)
        raise InputError(
            f"no Dockerfiles found in {where}, nor compose, bake, Kubernetes, Helm values "
            "or GitHub workflow files",
            hint="name them Dockerfile, *.Dockerfile, Dockerfile.* or Containerfile "
            "(compose*.yaml, docker-bake.hcl, .github/workflows/*.yml...), list them in "
            "[tool.repro] include, or pass the files",
        )
    return Scanned(
        root=root,
        lockfile_path=lockfile_path,
        lock=lock,
        discovery=discovery,
        files=tuple(files),
        whole_project=not request.paths or paths == [root],
    )


def _refuse_interrupted(root: Path) -> None:
    if (root / JOURNAL_NAME).exists():
        raise InputError(
            f"an interrupted `repro lock` left {JOURNAL_NAME} in {root}: the files may be "
            "half written",
            hint="run `repro lock` to complete (or roll back) it, then check again",
        )


def run_check(request: LockRequest, *, cwd: Path, tags: TagReader | None = None) -> CheckOutcome:
    """The hermetic verdict; with ``tags`` (``--online``) moved tags become warnings."""
    scanned = _scan(request, cwd, parse_unpinned=False)
    _refuse_interrupted(scanned.root)
    result = check_files(scanned.files, scanned.lock, request.allow_unpinnable)
    # What the parser read leniently: such a file has no record, so it is said every run.
    warnings = [warning for file in scanned.files for warning in file.warnings]
    if scanned.lock is not None and scanned.whole_project:
        seen = set(scanned.displays)
        gone = sorted(path for path in scanned.lock.files if path not in seen)
        warnings.extend(f"{path}: recorded in repro.lock but no longer found" for path in gone)
    if tags is not None:
        from repro.lock.online import served_now

        pins = pinned_tags(scanned.files)
        moved = moved_pins(pins, served_now(pins, tags))
        result = CheckResult(result.references, moved)
        warnings.extend(f"{ref.file}:{ref.line}: {ref.message}" for ref in moved)
    return CheckOutcome(
        result=result,
        root=scanned.root,
        lockfile_path=scanned.lockfile_path,
        files_scanned=scanned.displays,
        skipped=scanned.discovery.skipped,
        reused=scanned.reused,
        online=tags is not None,
        warnings=tuple(warnings),
        kinds=scanned.kinds,
    )


def run_outdated(
    request: LockRequest,
    *,
    cwd: Path,
    tags: TagReader,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> OutdatedOutcome:
    """Every pin whose tag now serves another digest: exactly one request per unique tag."""
    from repro.lock.online import served_now

    scanned = _scan(request, cwd, parse_unpinned=False)
    pins = pinned_tags(scanned.files)
    served = served_now(pins, tags)
    grouped: dict[tuple[str, str], list[str]] = {}
    for ref in moved_pins(pins, served):
        assert ref.old_digest is not None
        grouped.setdefault((ref.key, ref.old_digest), []).append(f"{ref.file}:{ref.line}")
    outdated: list[OutdatedPin] = []
    for (tag, old), sites in sorted(grouped.items()):
        entry = scanned.lock.get(tag) if scanned.lock is not None else None
        locked_at = entry.resolved_at if entry is not None and entry.digest == old else None
        outdated.append(
            OutdatedPin(
                tag=tag,
                old_digest=old,
                new_digest=served[tag],
                sites=tuple(sites),
                locked_at=locked_at,
                age_days=_age_days(locked_at, now()),
            )
        )
    return OutdatedOutcome(
        root=scanned.root,
        files_scanned=scanned.displays,
        tags_asked=len(pins),
        pins=sum(len(sites) for sites in pins.values()),
        outdated=tuple(outdated),
        kinds=scanned.kinds,
    )


def _age_days(stamp: str | None, now: datetime) -> int | None:
    if stamp is None:
        return None
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return max(0, (now - then).days)


def run_lock(
    request: LockRequest,
    *,
    cwd: Path,
    resolver: Resolver,
    now: Callable[[], str] = utc_now,
) -> LockOutcome:
    """Pin (or, with --update, move) every reference; write every file or none."""
    from repro.lock.plan import plan, unified_diff, with_records
    from repro.lock.policy import source_policy_json
    from repro.lockfile import dump_lockfile

    if request.mode is Mode.CHECK:
        raise ValueError("use run_check for --check")
    root = project_root(request.paths, cwd)
    selectors = _selectors(request.update_refs)
    writing = not request.dry_run
    guard = file_lock(guard_path(root)) if writing else contextlib.nullcontext()
    with guard:
        recovered = recover_transaction(root / JOURNAL_NAME) if writing else None
        if not writing:
            _refuse_interrupted(root)
        # A lock run rewrites unpinned references, --update moved pins: those files are
        # parsed; the others may come from repro.lock's record.
        scanned = _scan(request, cwd, parse_unpinned=True, reparse=request.mode is Mode.UPDATE)
        lock = scanned.lock
        resolutions = _resolve(scanned.files, request.mode, lock, resolver)
        result = plan(
            scanned.files,
            mode=request.mode,
            lock=lock,
            resolutions=resolutions,
            now=now(),
            selectors=selectors,
            platforms=request.platforms,
            prune=scanned.whole_project,
        )
        records = _records(scanned.files, result.changes)
        new_lock = with_records(result.lockfile, records, prune=scanned.whole_project)
        lockfile_path = scanned.lockfile_path
        old_lock_bytes = _read_or_empty(lockfile_path)
        new_lock_text = dump_lockfile(new_lock)
        lockfile_changed = new_lock_text.encode("utf-8") != old_lock_bytes
        targets = {found.display: found.target for found in scanned.discovery.files}
        writes: list[tuple[Path, bytes]] = []
        names: list[str] = []
        for change in result.changes:
            writes.append((targets[change.display], change.new))
            names.append(change.display)
        if lockfile_changed:
            writes.append((lockfile_path, new_lock_text.encode("utf-8")))
            names.append(LOCKFILE_NAME)
        if request.source_policy is not None:
            policy_path = (
                request.source_policy
                if request.source_policy.is_absolute()
                else cwd / request.source_policy
            )
            policy = source_policy_json(result.lockfile).encode("utf-8")
            if _read_or_empty(policy_path) != policy:
                writes.append((policy_path, policy))
                names.append(str(request.source_policy))
        diff = ""
        written: list[str] = []
        if request.dry_run:
            parts = [unified_diff(c.display, c.old, c.new) for c in result.changes]
            if lockfile_changed:
                parts.append(
                    unified_diff(LOCKFILE_NAME, old_lock_bytes, new_lock_text.encode("utf-8"))
                )
            diff = "".join(parts)
        else:
            _refuse_concurrent_edits(result.changes, targets)
            write_transaction(writes, root / JOURNAL_NAME)
            written = names
    return LockOutcome(
        plan=result,
        root=scanned.root,
        lockfile_path=lockfile_path,
        files_scanned=scanned.displays,
        skipped=scanned.discovery.skipped,
        written=tuple(written),
        diff=diff,
        lockfile_changed=lockfile_changed,
        dry_run=request.dry_run,
        recovered=recovered,
        kinds=scanned.kinds,
    )


def _records(files: Sequence[ScannedFile], changes: Sequence[FileChange]) -> dict[str, FileRecord]:
    """The ``[files]`` record of every file after the run: a changed file is scanned
    again from its new bytes (which also proves they read back)."""
    changed = {change.display: change for change in changes}
    records: dict[str, FileRecord] = {}
    for file in files:
        change = changed.get(file.display)
        final = file if change is None else _read_back(file, change)
        if final is None:  # plan's pin_file read it back already: a bug
            raise RuntimeError(f"{file.display}: the rewritten file does not read back")
        record = to_record(final)
        if record is not None:
            records[file.display] = record
    return records


def _read_back(file: ScannedFile, change: FileChange) -> ScannedFile | None:
    from repro.imagefiles import ImageFile

    if isinstance(change.parsed, ImageFile):
        return scanned_image_file(change.parsed)
    return scan_bytes(file.display, change.new, file.kind)


def _selectors(refs: Sequence[str]) -> tuple[ImageRef, ...]:
    from repro.dockerfile import parse_image_ref

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
    sources: Sequence[ScannedFile], mode: Mode, lock: Lockfile | None, resolver: Resolver
) -> dict[ManifestKey, Resolution]:
    from repro.lock.plan import required_keys

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


def _refuse_concurrent_edits(changes: Sequence[FileChange], targets: Mapping[str, Path]) -> None:
    for change in changes:  # refuse to overwrite an edit made while we resolved
        if targets[change.display].read_bytes() != change.old:
            raise InputError(
                f"{change.display} changed while repro lock ran; nothing was written",
                hint="run `repro lock` again",
            )


__all__ = [
    "CheckOutcome",
    "LockOutcome",
    "LockRequest",
    "OutdatedOutcome",
    "OutdatedPin",
    "Resolver",
    "TagReader",
    "normalise_platforms",
    "run_check",
    "run_lock",
    "run_outdated",
    "split_arguments",
]
