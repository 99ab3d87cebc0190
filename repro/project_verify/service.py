"""`repro verify --all` as a use case: every image of a project, across a pool of builders.

Each image is verified by the single-image use case (repro.verify.service: two fresh
checkouts, two builds, one comparison); this module finds the images, checks every
image's inputs before anything is built, and hands each verification the builders the
pool gives it. A build that fails is that image's verdict and the others go on; a
builder that stops answering gets no more work, and the images it was building start
again on the others. The builder adapter (buildx in the CLI, a fake in the unit tests)
is the Protocol below.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from repro.build.model import BuilderStatus
from repro.errors import EngineError, EnvironmentProblem, InputError, ReproError, VerdictError
from repro.project import EpochPolicy, repository_root
from repro.project_verify.images import find_images, select_images
from repro.project_verify.model import (
    ImageOutcome,
    PoolBuilder,
    ProjectImage,
    ProjectResult,
    Verdict,
)
from repro.project_verify.pool import DEFAULT_BUILDS_PER_NODE, Estimate, Pool, order
from repro.project_verify.timings import context_bytes, read_timings, write_timings
from repro.verify.service import (
    Builder,
    SourceControl,
    VerifyOptions,
    VerifyPlan,
    plan_verify,
    run_verify,
)


class PoolBuilders(Builder, Protocol):
    """The builder adapter: it builds (repro.verify.service.Builder) and says which
    builders of a pool answer."""

    def statuses(self, names: Sequence[str]) -> tuple[BuilderStatus, ...]: ...

    def current(self) -> str: ...


class ProjectEvents(Protocol):
    """What the run tells its progress display, from several threads at once."""

    def begin(self, total: int, builders: tuple[str, ...]) -> None: ...

    def started(self, image: ProjectImage, builders: tuple[str, ...]) -> None: ...

    def phase(self, image: ProjectImage, text: str) -> None: ...

    def log(self, image: ProjectImage, build: str, line: str) -> None: ...

    def finished(self, outcome: ImageOutcome, done: int, total: int) -> None: ...

    def builder_down(self, name: str, detail: str) -> None: ...


class NoEvents:
    def begin(self, total: int, builders: tuple[str, ...]) -> None:
        pass

    def started(self, image: ProjectImage, builders: tuple[str, ...]) -> None:
        pass

    def phase(self, image: ProjectImage, text: str) -> None:
        pass

    def log(self, image: ProjectImage, build: str, line: str) -> None:
        pass

    def finished(self, outcome: ImageOutcome, done: int, total: int) -> None:
        pass

    def builder_down(self, name: str, detail: str) -> None:
        pass


@dataclass(frozen=True)
class ProjectOptions:
    root: Path
    names: tuple[str, ...] = ()  # --image NAME...; empty: every image
    excludes: tuple[str, ...] = ()
    builders: tuple[str, ...] = ()  # empty: the current builder
    builds_per_node: int = DEFAULT_BUILDS_PER_NODE
    build_args: Mapping[str, str] = field(default_factory=dict)  # over every image's own
    epoch: EpochPolicy = field(default_factory=EpochPolicy)
    keep: Path | None = None  # keep each image's tars in keep/<image>/
    allow_dirty: bool = False
    require_locked: bool | None = None
    rewrite_timestamp: bool = True
    attest: tuple[str, ...] = ()  # BuildKit attestations built into every image
    sbom_generator: str | None = None


@dataclass(frozen=True)
class _Job:
    image: ProjectImage
    plan: VerifyPlan
    moved: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Attempt:
    outcome: ImageOutcome | None  # None: a builder went down under it; build it elsewhere
    down: tuple[tuple[str, str], ...] = ()  # (builder, why)


def _kept_as(name: str) -> str:
    return name.replace("/", "_").replace(":", "_")


def image_options(options: ProjectOptions, root: Path, image: ProjectImage) -> VerifyOptions:
    """The single-image verification of ``image``: its own inputs, the run's policies."""
    return VerifyOptions(
        context=root / image.context,
        dockerfile=root / image.dockerfile,
        target=image.target,
        platforms=image.platforms,
        build_args={**dict(image.build_args), **options.build_args},
        epoch=options.epoch,
        keep=options.keep / _kept_as(image.name) if options.keep is not None else None,
        allow_dirty=options.allow_dirty,
        require_locked=options.require_locked,
        rewrite_timestamp=options.rewrite_timestamp,
        attest=options.attest,
        sbom_generator=options.sbom_generator,
    )


def _pool_statuses(builder: PoolBuilders, names: Sequence[str]) -> tuple[BuilderStatus, ...]:
    statuses = builder.statuses(names)
    unknown = [status.name for status in statuses if not status.known]
    if unknown:
        raise InputError(
            f"no buildx builder or docker context named {', '.join(map(repr, unknown))}",
            hint="`docker buildx ls` lists the builders and contexts; --builder takes those names.",
        )
    if not any(status.up for status in statuses):
        listing = "; ".join(f"{status.name}: {status.detail}" for status in statuses)
        raise EngineError(
            f"no builder of the pool answers ({listing})",
            hint="Start one of them, or name others with --builder.",
        )
    return statuses


def verify_project(
    options: ProjectOptions,
    *,
    builder: PoolBuilders,
    source_control: SourceControl,
    events: ProjectEvents | None = None,
) -> ProjectResult:
    """Verify every image of the project at ``options.root`` (or those ``names`` names)."""
    started = time.monotonic()
    tell: ProjectEvents = events or NoEvents()
    root = options.root.resolve()
    if not root.is_dir():
        raise InputError(f"{options.root} is not a directory")
    found = find_images(root, options.excludes)
    images = select_images(found.images, options.names) if options.names else found.images
    if not images:
        raise InputError(
            f"no images found under {options.root}",
            hint="repro verify --all verifies each Dockerfile, each compose service with a "
            "build: section and each bake target under the directory.",
        )
    statuses = _pool_statuses(builder, options.builders or (builder.current(),))
    pool = Pool(statuses, options.builds_per_node)
    tell.begin(len(images), pool.up)
    for name, detail in pool.down.items():
        tell.builder_down(name, detail)

    # Every image's inputs are checked before anything is built.
    outcomes: list[ImageOutcome] = []
    jobs: list[_Job] = []
    holder = repository_root(root) or root
    for image in images:
        if image.invalid is not None:
            outcomes.append(ImageOutcome(image, Verdict.INVALID, error=image.invalid))
            continue
        verify_options = image_options(options, root, image)
        outside = outside_the_project(verify_options, holder)
        if outside is not None:
            outcomes.append(ImageOutcome(image, Verdict.INVALID, error=outside))
            continue
        try:
            plan = plan_verify(verify_options, source_control)
        except ReproError as error:
            outcomes.append(_refusal(image, error))
            continue
        jobs.append(_Job(image, plan))
    for done, outcome in enumerate(outcomes, start=1):
        tell.finished(outcome, done, len(images))

    timings = read_timings(root)
    sizes: dict[Path, int] = {}

    def estimate(job: _Job) -> Estimate:
        context = job.plan.options.context
        if context not in sizes:
            sizes[context] = context_bytes(context)
        return Estimate(timings.seconds.get(job.image.name), sizes[context])

    run = _Run(builder, source_control, pool, tell, len(images), len(outcomes))
    outcomes.extend(run.all(order(jobs, estimate)))

    notes = list(found.notes)
    if timings.problem:
        notes.append(timings.problem)
    verified = {
        o.image.name: o.seconds
        for o in outcomes
        if o.verdict in (Verdict.IDENTICAL, Verdict.DIFFERS)
    }
    if verified:
        try:
            write_timings(root, timings.seconds, verified)
        except OSError as error:
            notes.append(f"the timings cache was not written: {error}")
    commits = sorted({job.plan.commit for job in jobs})
    return ProjectResult(
        commit=", ".join(commits) or "none",
        builders=_pool_report(statuses, pool),
        outcomes=tuple(sorted(outcomes, key=lambda o: o.image.name)),
        seconds=round(time.monotonic() - started, 2),
        notes=tuple(notes),
    )


def outside_the_project(options: VerifyOptions, holder: Path) -> str | None:
    """Why ``options`` build something the project's commit does not hold, if they do.

    ``holder`` is the project's repository (its directory outside git). A context or
    Dockerfile that leads out of it (``..``, an absolute path, a symlink) would build the
    same host files twice, or another repository's commit, and call that a verification.
    """
    paths = (("build context", options.context), ("Dockerfile", options.dockerfile))
    for what, given in paths:
        if given is None:  # the context's Dockerfile, checked with the context
            continue
        path = given.resolve()
        if path != holder and holder not in path.parents:
            return f"its {what} {path} is outside the project's repository {holder}"
    return None


def _refusal(image: ProjectImage, error: ReproError) -> ImageOutcome:
    """An image whose inputs were refused before anything was built."""
    if isinstance(error, VerdictError):
        verdict = Verdict.REFUSED
    elif isinstance(error, EnvironmentProblem):
        verdict = Verdict.FAILED
    else:
        verdict = Verdict.INVALID
    return ImageOutcome(image, verdict, error=error.message)


def _pool_report(statuses: Sequence[BuilderStatus], pool: Pool) -> tuple[PoolBuilder, ...]:
    builds = pool.builds()
    return tuple(
        PoolBuilder(
            name=status.name,
            up=status.up,
            driver=status.driver,
            nodes=status.nodes,
            detail=pool.went_down.get(status.name, status.detail),
            went_down=status.name in pool.went_down,
            builds=builds.get(status.name, 0),
        )
        for status in statuses
    )


class _Run:
    """The scheduling loop: hand out jobs while the pool has room, collect what finishes."""

    def __init__(
        self,
        builder: PoolBuilders,
        source_control: SourceControl,
        pool: Pool,
        events: ProjectEvents,
        total: int,
        done: int,
    ) -> None:
        self.builder = builder
        self.source_control = source_control
        self.pool = pool
        self.events = events
        self.total = total
        self.done = done

    def all(self, jobs: Sequence[_Job]) -> list[ImageOutcome]:
        queue = deque(jobs)
        outcomes: list[ImageOutcome] = []
        running: dict[Future[_Attempt], tuple[_Job, tuple[str, ...]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.pool.capacity)) as executor:
            while queue or running:
                while queue and (builders := self.pool.reserve()) is not None:
                    job = queue.popleft()
                    self.events.started(job.image, builders)
                    running[executor.submit(self._attempt, job, builders)] = (job, builders)
                if not running:
                    break  # work is left and no builder: the pool is exhausted
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job, builders = running.pop(future)
                    self.pool.release(builders)
                    attempt = future.result()
                    if attempt.outcome is None:
                        queue.appendleft(self._moved(job, attempt.down))
                    else:
                        outcomes.append(self._finish(attempt.outcome))
        for job in queue:
            outcomes.append(self._finish(self._not_run(job)))
        return outcomes

    def _finish(self, outcome: ImageOutcome) -> ImageOutcome:
        self.done += 1
        self.events.finished(outcome, self.done, self.total)
        return outcome

    def _moved(self, job: _Job, down: Sequence[tuple[str, str]]) -> _Job:
        for name, detail in down:
            if name not in self.pool.went_down:
                self.pool.mark_down(name, detail)
                self.events.builder_down(name, detail)
        names = ", ".join(name for name, _ in down)
        return replace(job, moved=(*job.moved, f"moved off {names}: it stopped answering"))

    def _not_run(self, job: _Job) -> ImageOutcome:
        down = {**self.pool.down, **self.pool.went_down}
        listing = "; ".join(f"{name}: {detail}" for name, detail in down.items())
        return ImageOutcome(
            job.image,
            Verdict.NOT_RUN,
            moved=job.moved,
            error=f"no builder of the pool is left to build it ({listing})",
        )

    def _attempt(self, job: _Job, builders: tuple[str, ...]) -> _Attempt:
        image = job.image
        plan = replace(job.plan, options=replace(job.plan.options, builders=builders))
        started = time.monotonic()
        try:
            result = run_verify(
                plan,
                builder=self.builder,
                source_control=self.source_control,
                on_log=lambda build, line: self.events.log(image, build, line),
                on_phase=lambda text: self.events.phase(image, text),
            )
        except EnvironmentProblem as error:
            seconds = round(time.monotonic() - started, 2)
            down = self._down(builders)
            if down:
                return _Attempt(None, down)
            return _Attempt(
                ImageOutcome(
                    image,
                    Verdict.FAILED,
                    seconds=seconds,
                    builders=(builders[0], builders[-1]),
                    moved=job.moved,
                    error=error.message,
                    log_tail=str(getattr(error, "log_tail", "")),
                )
            )
        seconds = round(time.monotonic() - started, 2)
        verdict = Verdict.IDENTICAL if result.identical else Verdict.DIFFERS
        return _Attempt(
            ImageOutcome(
                image,
                verdict,
                result=result,
                seconds=seconds,
                builders=(builders[0], builders[-1]),
                moved=job.moved,
            )
        )

    def _down(self, builders: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """Which of ``builders`` stopped answering: a failure there is the builder's."""
        try:
            statuses = self.builder.statuses(builders)
        except EnvironmentProblem as error:
            return tuple((name, error.message) for name in builders)
        return tuple((s.name, s.detail or "it stopped answering") for s in statuses if not s.up)
