"""`repro verify` as a use case: build twice, independently, and compare the two OCI outputs.

Each build gets its own fresh checkout of the commit: A under umask 022 in UTC, B later,
in another directory, under umask 002, with another TZ and locale (the variations
reprotest applies, which a reproducible build must not notice). Neither builds from the
work tree itself: a work tree keeps file times older than SOURCE_DATE_EPOCH, which
rewrite-timestamp leaves alone (it only clamps newer times), so a build from it would
depend on when each file was last touched rather than on the commit.

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
from repro.dockerfile import find_references, parse_dockerfile
from repro.errors import InputError, VerdictError
from repro.oci import compare_images, open_image
from repro.project import (
    EpochPolicy,
    check_epoch_build_arg,
    nearest_lockfile,
    repository_root,
    require_repository_root,
)
from repro.verify.model import BuildRecord, VerifyResult

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


VARIATION_A = Variation(0o022, {"TZ": "UTC", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
VARIATION_B = Variation(0o002, {"TZ": "Pacific/Kiritimati", "LC_ALL": "POSIX", "LANG": "POSIX"})

LogSink = Callable[[str, str], None]  # (build name, log line)


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


def _sleep_until_second_after(moment: float) -> None:
    remaining = math.floor(moment) + 1 - time.time()
    if remaining > 0:
        time.sleep(remaining + 0.01)


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
    return VerifyPlan(options, dockerfile, data, root, commit, dirty, epoch)


def verify(
    options: VerifyOptions,
    *,
    builder: Builder,
    source_control: SourceControl,
    on_log: LogSink | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> VerifyResult:
    """Build ``options.context`` twice, independently, and compare. Raises on bad input."""
    plan = plan_verify(options, source_control)
    return run_verify(
        plan, builder=builder, source_control=source_control, on_log=on_log, on_phase=on_phase
    )


def run_verify(
    plan: VerifyPlan,
    *,
    builder: Builder,
    source_control: SourceControl,
    on_log: LogSink | None = None,
    on_phase: Callable[[str], None] | None = None,
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
    builders: Sequence[str | None] = options.builders or (None,)
    workspace = Path(tempfile.mkdtemp(prefix="repro-verify-"))
    try:

        def checkout(name: str, variation: Variation) -> Path:
            phase(f"checking out {commit[:12]} for build {name} ({variation.describe()})")
            return _checkout(
                git, base, root is not None, commit, workspace / f"{name}-src", dirty, variation
            )

        def request(name: str, source_base: Path, builder_name: str | None) -> BuildRequest:
            return BuildRequest(
                context=source_base / _relative(context, base),
                # A Dockerfile outside the repository is the same file for both builds.
                dockerfile=source_base / _relative(dockerfile, base),
                dest=workspace / f"{name.lower()}.oci.tar",
                source_date_epoch=epoch,
                target=options.target,
                platforms=options.platforms,
                build_args=options.build_args,
                rewrite_timestamp=options.rewrite_timestamp,
                builder=builder_name,
                attest=options.attest,
                sbom_generator=options.sbom_generator,
            )

        def run(name: str, req: BuildRequest) -> float:
            started = time.monotonic()
            builder.build(req, on_log=(lambda line: on_log(name, line)) if on_log else None)
            return round(time.monotonic() - started, 2)

        req_a = request("A", checkout("A", VARIATION_A), builders[0])
        a_checked_out = time.time()

        def prepare_b() -> BuildRequest:
            # B's files must carry other times than A's: check out in a later second.
            _sleep_until_second_after(a_checked_out)
            return request("B", checkout("B", VARIATION_B), builders[-1])

        if len(builders) > 1:
            phase(f"building A on {builders[0]} and B on {builders[-1]} concurrently")
            with ThreadPoolExecutor(max_workers=2) as pool:
                future_a = pool.submit(run, "A", req_a)
                req_b = prepare_b()  # while A builds
                future_b = pool.submit(run, "B", req_b)
                seconds = (future_a.result(), future_b.result())
        else:
            phase("building A")
            seconds_a = run("A", req_a)
            req_b = prepare_b()
            phase("building B")
            seconds = (seconds_a, run("B", req_b))

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
            BuildRecord("A", builders[0], _source_text(dirty, VARIATION_A), seconds[0]),
            BuildRecord("B", builders[-1], _source_text(dirty, VARIATION_B), seconds[1]),
        ),
        comparison=comparison,
        attest=options.attest,
    )
