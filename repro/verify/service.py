"""`repro verify` as a use case: build twice, independently, and compare the two OCI outputs.

Each build gets its own fresh checkout of the commit: A under umask 022 in UTC, B later,
in another directory, under umask 002, with another TZ and locale, built after A on the
second builder (the variations of repro.verify.variations, which a reproducible build
must not notice and a user can turn off one by one). Neither builds from the work tree
itself: a work tree keeps file times older than SOURCE_DATE_EPOCH, which
rewrite-timestamp leaves alone (it only clamps newer times), so a build from it would
depend on when each file was last touched rather than on the commit. When the builds
differ, the Dockerfile change that fixes what was seen comes with the result
(repro.verify.suggest).

The builds and the checkouts go through the Builder and SourceControl it is given
(buildx and git in the CLI, fakes in the unit tests); the Protocols are declared here.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from repro.build.model import BuildRequest
from repro.dockerfile import Dockerfile, find_references, parse_dockerfile
from repro.errors import InputError, VerdictError
from repro.oci import Comparison, compare_images, open_image
from repro.project import (
    EpochPolicy,
    check_epoch_build_arg,
    nearest_lockfile,
    repository_root,
    require_repository_root,
)
from repro.verify.model import (
    DEFAULT_BUILDER,
    BuildRecord,
    NotVaried,
    VariationRecord,
    VerifyResult,
)
from repro.verify.suggest import SuggestedChange, suggest_fixes
from repro.verify.variations import (
    DEFAULT_VARIATIONS,
    LOCALE_ARGS,
    LOCALE_B,
    TZ_ARGS,
    TZ_B_ARG,
    Variations,
    Vary,
    environment_args,
)

LogLine = Callable[[str], None]
_UMASK_LOCK = threading.Lock()


class Builder(Protocol):
    """Builds one OCI tar at ``request.dest``; raises BuildFailed/EngineError."""

    def build(self, request: BuildRequest, on_log: LogLine | None = None) -> Path: ...


class SourceControl(Protocol):
    """The git operations the build use cases need (repro.git.Git in the CLI)."""

    def head_commit(self, repo: Path) -> str: ...

    def dirty_paths(self, repo: Path, path: Path) -> list[str]: ...

    def commit_epoch(self, path: Path) -> int: ...

    def clone_at(
        self, source: Path, commit: str, dest: Path, *, umask: int, env: Mapping[str, str]
    ) -> Path: ...

    def tracked_files(self, repo: Path) -> list[str]: ...

    def exact_tag(self, repo: Path, commit: str = "HEAD") -> str | None: ...

    def log(self, repo: Path, old: str, new: str) -> list[str]: ...

    def has_commit(self, repo: Path, commit: str) -> bool: ...

    def remote_url(self, repo: Path) -> str | None: ...


@dataclass(frozen=True)
class Variation:
    """How one build's checkout is made. A and B differ in everything real checkouts vary."""

    umask: int
    env: Mapping[str, str]

    def describe(self) -> str:
        return f"umask {self.umask:03o}, TZ={self.env['TZ']}"


UMASK_A, UMASK_B = 0o022, 0o002
TZ_A, TZ_B = "UTC", "Pacific/Kiritimati"
LOCALE_A = "C.UTF-8"
VARIATION_A = Variation(UMASK_A, {"TZ": TZ_A, "LC_ALL": LOCALE_A, "LANG": LOCALE_A})
VARIATION_B = Variation(UMASK_B, {"TZ": TZ_B, "LC_ALL": LOCALE_B, "LANG": LOCALE_B})
# Where each build's checkout goes in the workspace: B's differs in name and depth.
SOURCE_A = "A-src"
SOURCE_B = "elsewhere/B-src"
# Times that only differ in a later interval of this many seconds cannot agree by chance,
# to the second or to the two seconds of a zip (DOS) time.
TIME_RESOLUTION = 2


def variation_b(variations: Variations) -> Variation:
    """B's checkout: A's, with each asked-for variation applied."""
    locale = LOCALE_B if Vary.LOCALE in variations else LOCALE_A
    return Variation(
        UMASK_B if Vary.UMASK in variations else UMASK_A,
        {"TZ": TZ_B if Vary.TZ in variations else TZ_A, "LC_ALL": locale, "LANG": locale},
    )


LogSink = Callable[[str, str], None]  # (build name, log line)


class Clock(Protocol):
    """The wall clock the variations time B by (a fake in the unit tests)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class VerifyOptions:
    context: Path
    dockerfile: Path | None = None
    target: str | None = None
    platforms: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    epoch: EpochPolicy = field(default_factory=EpochPolicy)
    builders: tuple[str, ...] = ()
    keep: Path | None = None
    allow_dirty: bool = False
    require_locked: bool | None = None  # None: required when repro.lock exists
    rewrite_timestamp: bool = True
    attest: tuple[str, ...] = ()  # BuildKit attestations to build in, compared apart
    sbom_generator: str | None = None
    variations: Variations = DEFAULT_VARIATIONS


@dataclass(frozen=True)
class UnpinnedReference:
    path: str
    line: int
    reference: str


def unpinned_references(dockerfile: Path, data: bytes) -> list[UnpinnedReference]:
    """Base references (FROM, COPY --from, RUN --mount from=) without a digest."""
    parsed = parse_dockerfile(data, str(dockerfile))
    return [
        UnpinnedReference(str(dockerfile), ref.line, ref.resolved)
        for ref in find_references(parsed)
        if ref.kind.value != "syntax" and "@sha256:" not in ref.resolved
    ]


def _resolve_dockerfile(options: VerifyOptions) -> Path:
    dockerfile = options.dockerfile or options.context / "Dockerfile"
    if not dockerfile.is_file():
        raise InputError(f"{dockerfile} not found", hint="Pass the Dockerfile with -f.")
    return dockerfile


def _check_locked(options: VerifyOptions, dockerfile: Path, data: bytes, root: Path) -> None:
    required = options.require_locked
    if required is None:
        required = nearest_lockfile(options.context, stop=root) is not None
    if not required:
        return
    unpinned = unpinned_references(dockerfile, data)
    if unpinned:
        listing = "; ".join(f"{u.path}:{u.line}: {u.reference}" for u in unpinned)
        raise VerdictError(
            f"unpinned base image{'s' if len(unpinned) > 1 else ''}: {listing}",
            hint="Run `repro lock` to pin bases by digest, or drop --require-locked.",
        )


def _copy_files(source_root: Path, names: Sequence[str], dest: Path, umask: int) -> None:
    """Create each file afresh under ``dest``, as a checkout would: this process's umask
    and the current time, not the source's modes and mtimes."""
    for name in names:
        source = source_root / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copyfile(source, target)
            if os.access(source, os.X_OK):
                target.chmod(0o777 & ~umask)


def _all_files(directory: Path) -> list[str]:
    return sorted(
        str(path.relative_to(directory)) for path in directory.rglob("*") if not path.is_dir()
    )


def _checkout(
    git: SourceControl,
    source: Path,
    in_git: bool,
    commit: str,
    dest: Path,
    dirty: bool,
    variation: Variation,
) -> Path:
    """A fresh checkout of ``commit`` (or, for a dirty tree or no git, a fresh copy of
    the files) at ``dest``, made under ``variation``."""
    if in_git and not dirty:
        return fresh_checkout(git, source, commit, dest, variation)
    names = git.tracked_files(source) if in_git else _all_files(source)
    with _UMASK_LOCK:  # the umask is the process's: one copy at a time sets it
        previous = os.umask(variation.umask)
        try:
            dest.mkdir()
            _copy_files(source, names, dest, variation.umask)
        finally:
            os.umask(previous)
    return dest


def fresh_checkout(
    git: SourceControl, repo: Path, commit: str, dest: Path, variation: Variation
) -> Path:
    """A fresh, independent clone of ``repo`` at ``commit``, made under ``variation``."""
    env = {**os.environ, **variation.env}
    return git.clone_at(repo, commit, dest, umask=variation.umask, env=env)


def _wait_for_a_later_interval(clock: Clock, moment: float) -> None:
    """Sleep until the next TIME_RESOLUTION-second interval after ``moment`` begins."""
    remaining = (math.floor(moment / TIME_RESOLUTION) + 1) * TIME_RESOLUTION - clock.now()
    if remaining > 0:
        clock.sleep(remaining + 0.01)


FileTimes = dict[str, tuple[int, int]]  # relative path -> (atime_ns, mtime_ns)


def _file_times(root: Path) -> FileTimes:
    stat = root.stat()
    times: FileTimes = {".": (stat.st_atime_ns, stat.st_mtime_ns)}
    for path in root.rglob("*"):
        stat = path.lstat()
        times[str(path.relative_to(root))] = (stat.st_atime_ns, stat.st_mtime_ns)
    return times


def _give_times(root: Path, times: FileTimes) -> None:
    """Give each file and directory under ``root`` the time its namesake had in ``times``
    (setting a file's time leaves its directory's alone)."""
    for path in root.rglob("*"):
        found = times.get(str(path.relative_to(root)))
        if found is not None:
            os.utime(path, ns=found, follow_symlinks=False)
    own = times.get(".")
    if own is not None:
        os.utime(root, ns=own)


def _source_text(dirty: bool, variation: Variation) -> str:
    kind = "copy of the work tree" if dirty else "fresh checkout"
    return f"{kind}, {variation.describe()}"


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` ("." for base itself); absolute when outside it."""
    if path == base or base in path.parents:
        return str(path.relative_to(base))
    return str(path)


@dataclass(frozen=True)
class VerifyPlan:
    """A verification whose inputs were checked: what to check out, and with which epoch."""

    options: VerifyOptions  # with the context resolved
    dockerfile: Path
    dockerfile_data: bytes
    root: Path | None  # the repository root; None outside git (with a fixed --epoch)
    commit: str  # "none" outside git
    dirty: bool
    epoch: int
    parsed: Dockerfile | None = None  # None: repro's parser refused it (BuildKit may not)
    parse_problem: str | None = None

    @property
    def base(self) -> Path:
        """What both checkouts copy: the repository, else the context itself."""
        return self.root or self.options.context


def plan_verify(options: VerifyOptions, source_control: SourceControl) -> VerifyPlan:
    """Check every input before anything is built; InputError/VerdictError on bad input."""
    git = source_control
    context = options.context.resolve()
    if not context.is_dir():
        raise InputError(f"build context {options.context} is not a directory")
    options = replace(options, context=context)
    dockerfile = _resolve_dockerfile(options).resolve()
    data = dockerfile.read_bytes()

    # Without --epoch the commit is the source of SOURCE_DATE_EPOCH, so git is required.
    policy = options.epoch
    root = require_repository_root(context) if policy.from_commit else repository_root(context)
    commit = git.head_commit(root) if root else "none"
    dirty = bool(root and git.dirty_paths(root, context))
    if dirty and not options.allow_dirty:
        raise InputError(
            f"{context} has uncommitted changes, so the result would not correspond to a commit",
            hint="Commit first, or pass --allow-dirty.",
        )
    epoch = policy.seconds if policy.seconds is not None else git.commit_epoch(context)
    check_epoch_build_arg(options.build_args, epoch)
    _check_locked(options, dockerfile, data, root or context)
    parsed, problem = None, None
    try:
        parsed = parse_dockerfile(data, _relative(dockerfile, root or context))
    except InputError as exc:
        # The engine is the judge of what builds: repro only cannot read this one.
        problem = exc.message
    return VerifyPlan(options, dockerfile, data, root, commit, dirty, epoch, parsed, problem)


def verify(
    options: VerifyOptions,
    *,
    builder: Builder,
    source_control: SourceControl,
    on_log: LogSink | None = None,
    on_phase: Callable[[str], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> VerifyResult:
    """Build ``options.context`` twice, independently, and compare. Raises on bad input."""
    plan = plan_verify(options, source_control)
    return run_verify(
        plan,
        builder=builder,
        source_control=source_control,
        on_log=on_log,
        on_phase=on_phase,
        clock=clock,
    )


@dataclass(frozen=True)
class _Schedule:
    """How A and B are made under the variations asked for, and what that applies."""

    builder_a: str | None
    builder_b: str | None
    checkout_b: Variation
    source_b: str  # B's checkout, in the workspace
    build_args_b: Mapping[str, str]
    sequential: bool  # B is checked out and built after A's build
    applied: tuple[VariationRecord, ...]
    not_varied: tuple[NotVaried, ...]


def _environment_build_args(plan: VerifyPlan) -> tuple[dict[str, str], list[str], list[str]]:
    """B's TZ/locale build arguments (the Dockerfile's own ARGs without a default that
    --build-arg does not set), and which names of each kind it declares."""
    declared = environment_args(plan.parsed) if plan.parsed else frozenset()
    declared -= set(plan.options.build_args)
    variations = plan.options.variations
    tz = sorted(declared & TZ_ARGS)
    locale = sorted(declared & LOCALE_ARGS)
    extra: dict[str, str] = {}
    if Vary.TZ in variations:
        extra.update({name: TZ_B_ARG for name in tz})
    if Vary.LOCALE in variations:
        extra.update({name: LOCALE_B for name in locale})
    return extra, tz, locale


def _with_args(text: str, names: Sequence[str], value: str) -> str:
    if not names:
        return f"{text} (checkout only: the Dockerfile declares no such ARG)"
    return text + "".join(f", --build-arg {name}={value}" for name in names)


def schedule(plan: VerifyPlan) -> _Schedule:
    """What B varies from A, from the variations asked for and what there is to vary."""
    variations = plan.options.variations
    builders: Sequence[str | None] = plan.options.builders or (None,)
    builder_a = builders[0]
    builder_b = builders[-1] if Vary.BUILDER in variations else builder_a
    extra, tz, locale = _environment_build_args(plan)
    applied: list[VariationRecord] = []
    left_out: list[NotVaried] = []

    def note(
        name: Vary, a: str, b: str, instead: str, *, possible: bool = True, reaches: bool = True
    ) -> None:
        if name in variations and possible:
            applied.append(VariationRecord(str(name), a, b, reaches))
        else:
            left_out.append(NotVaried(str(name), instead))

    note(Vary.UMASK, f"umask {UMASK_A:03o}", f"umask {UMASK_B:03o}", f"umask {UMASK_A:03o}")
    note(
        Vary.TZ,
        f"TZ={TZ_A}",
        _with_args(f"TZ={TZ_B}", tz, TZ_B_ARG),
        f"TZ={TZ_A}",
        reaches=bool(tz),
    )
    note(
        Vary.LOCALE,
        f"LC_ALL={LOCALE_A}",
        _with_args(f"LC_ALL={LOCALE_B}", locale, LOCALE_B),
        f"LC_ALL={LOCALE_A}",
        reaches=bool(locale),
    )
    note(
        Vary.PATH,
        SOURCE_A,
        SOURCE_B,
        f"B checked out at A's path ({SOURCE_A}) once A is built",
        reaches=False,
    )
    note(
        Vary.TIME,
        "checked out first",
        f"checked out in a later {TIME_RESOLUTION}-second interval",
        "B's files carry A's times",
    )
    note(
        Vary.CLOCK,
        "built first",
        f"built after A, from a later {TIME_RESOLUTION}-second interval",
        "A and B built at the same time",
    )
    name_a, name_b = builder_a or DEFAULT_BUILDER, builder_b or DEFAULT_BUILDER
    note(
        Vary.BUILDER,
        name_a,
        name_b,
        f"both on {name_a}" + ("" if Vary.BUILDER not in variations else " (give --builder twice)"),
        possible=builder_a != builder_b,
    )
    return _Schedule(
        builder_a=builder_a,
        builder_b=builder_b,
        checkout_b=variation_b(variations),
        source_b=SOURCE_B if Vary.PATH in variations else SOURCE_A,
        build_args_b={**plan.options.build_args, **extra},
        sequential=Vary.CLOCK in variations or Vary.PATH not in variations,
        applied=tuple(applied),
        not_varied=tuple(left_out),
    )


def _suggestion(plan: VerifyPlan, comparison: Comparison) -> SuggestedChange | None:
    if comparison.bit_identical or plan.parsed is None:
        return None
    return suggest_fixes(plan.parsed, comparison, target=plan.options.target)


def run_verify(
    plan: VerifyPlan,
    *,
    builder: Builder,
    source_control: SourceControl,
    on_log: LogSink | None = None,
    on_phase: Callable[[str], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> VerifyResult:
    """Check out twice, build twice (A and B), compare; ``plan`` says what."""
    git = source_control
    phase = on_phase or (lambda _text: None)
    options, dockerfile, data = plan.options, plan.dockerfile, plan.dockerfile_data
    context, root, commit, dirty, epoch, base = (
        options.context,
        plan.root,
        plan.commit,
        plan.dirty,
        plan.epoch,
        plan.base,
    )
    variations = options.variations
    how = schedule(plan)
    workspace = Path(tempfile.mkdtemp(prefix="repro-verify-"))
    try:

        def checkout(name: str, variation: Variation, where: str) -> Path:
            phase(f"checking out {commit[:12]} for build {name} ({variation.describe()})")
            dest = workspace / where
            dest.parent.mkdir(parents=True, exist_ok=True)
            return _checkout(git, base, root is not None, commit, dest, dirty, variation)

        def request(
            name: str, source_base: Path, builder_name: str | None, args: Mapping[str, str]
        ) -> BuildRequest:
            return BuildRequest(
                context=source_base / _relative(context, base),
                # A Dockerfile outside the repository is the same file for both builds.
                dockerfile=source_base / _relative(dockerfile, base),
                dest=workspace / f"{name.lower()}.oci.tar",
                source_date_epoch=epoch,
                target=options.target,
                platforms=options.platforms,
                build_args=args,
                rewrite_timestamp=options.rewrite_timestamp,
                builder=builder_name,
                attest=options.attest,
                sbom_generator=options.sbom_generator,
            )

        def run(name: str, req: BuildRequest) -> float:
            started = time.monotonic()
            builder.build(req, on_log=(lambda line: on_log(name, line)) if on_log else None)
            return round(time.monotonic() - started, 2)

        source_a = checkout("A", VARIATION_A, SOURCE_A)
        a_checked_out = clock.now()
        times_a = _file_times(source_a) if Vary.TIME not in variations else None
        req_a = request("A", source_a, how.builder_a, options.build_args)

        def prepare_b(a_built: float | None) -> BuildRequest:
            if Vary.TIME in variations:
                # B's files must carry other times than A's, even to two seconds.
                _wait_for_a_later_interval(clock, a_checked_out)
            if a_built is not None:
                _wait_for_a_later_interval(clock, a_built)
            if how.source_b == SOURCE_A:
                shutil.rmtree(source_a)
            source_b = checkout("B", how.checkout_b, how.source_b)
            if times_a is not None:
                _give_times(source_b, times_a)
            return request("B", source_b, how.builder_b, how.build_args_b)

        on_a = f" on {how.builder_a}" if how.builder_a else ""
        on_b = f" on {how.builder_b}" if how.builder_b else ""
        if how.sequential:
            phase(f"building A{on_a}")
            seconds_a = run("A", req_a)
            req_b = prepare_b(clock.now() if Vary.CLOCK in variations else None)
            phase(f"building B{on_b}, after A")
            seconds = (seconds_a, run("B", req_b))
        else:
            phase(f"building A{on_a} and B{on_b} at the same time")
            with ThreadPoolExecutor(max_workers=2) as pool:
                future_a = pool.submit(run, "A", req_a)
                req_b = prepare_b(None)  # while A builds
                future_b = pool.submit(run, "B", req_b)
                seconds = (future_a.result(), future_b.result())

        phase("comparing A and B")
        comparison = compare_images(
            open_image(req_a.dest), open_image(req_b.dest), attestations_apart=bool(options.attest)
        )
        if options.keep is not None:
            options.keep.mkdir(parents=True, exist_ok=True)
            for req in (req_a, req_b):
                shutil.move(req.dest, options.keep / req.dest.name)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)

    return VerifyResult(
        commit=commit,
        epoch=epoch,
        dockerfile=_relative(dockerfile, base),
        dockerfile_sha256=hashlib.sha256(data).hexdigest(),
        build_args=dict(sorted(options.build_args.items())),
        platforms=options.platforms,
        target=options.target,
        builds=(
            BuildRecord("A", how.builder_a, _source_text(dirty, VARIATION_A), seconds[0]),
            BuildRecord("B", how.builder_b, _source_text(dirty, how.checkout_b), seconds[1]),
        ),
        comparison=comparison,
        attest=options.attest,
        variations=how.applied,
        not_varied=how.not_varied,
        suggestion=_suggestion(plan, comparison),
        suggestion_problem=None if comparison.bit_identical else plan.parse_problem,
    )
