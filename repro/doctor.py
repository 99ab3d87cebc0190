"""`repro doctor`: gather facts about the environment through an EnvironmentProbe, and
judge them (the judging is pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from repro.environment import MIN_BUILDKIT, EngineFacts, RegistryStatus, buildkit_version
from repro.errors import EngineError

SETUP_FIX = "Run ./scripts/setup, which installs and starts a suitable engine."


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)


def _engine_checks(engine: EngineFacts) -> list[Check]:
    buildkit = buildkit_version(engine)
    minimum = ".".join(map(str, MIN_BUILDKIT))
    buildkit_detail = (
        f"{buildkit.text} (builder {engine.builder.name!r}, driver {engine.builder.driver})"
    )
    checks = [
        Check(
            "docker engine", Status.OK, f"server {engine.server_version} (API {engine.api_version})"
        ),
        Check("buildx", Status.OK, engine.buildx_version),
        Check(
            "buildkit",
            Status.OK if buildkit.supports_rewrite_timestamp else Status.FAIL,
            buildkit_detail,
            None
            if buildkit.supports_rewrite_timestamp
            else f"BuildKit >= {minimum} is needed. {SETUP_FIX}",
        ),
        Check(
            "rewrite-timestamp",
            Status.OK if buildkit.supports_rewrite_timestamp else Status.FAIL,
            "supported" if buildkit.supports_rewrite_timestamp else f"needs BuildKit >= {minimum}",
            None if buildkit.supports_rewrite_timestamp else SETUP_FIX,
        ),
        Check(
            "containerd image store",
            Status.OK if engine.containerd_snapshotter else Status.WARN,
            "on"
            if engine.containerd_snapshotter
            else "off (multi-platform images cannot be loaded)",
            None
            if engine.containerd_snapshotter
            else 'Add {"features":{"containerd-snapshotter":true}} to /etc/docker/daemon.json '
            "and restart dockerd.",
        ),
        Check("platforms", Status.OK, ", ".join(engine.builder.platforms) or "none reported"),
    ]
    return checks


def diagnose(
    engine: EngineFacts | EngineError,
    git: str | None,
    registries: Sequence[RegistryStatus],
) -> DoctorReport:
    checks: list[Check] = []
    if isinstance(engine, EngineError):
        checks.append(Check("docker engine", Status.FAIL, engine.message, engine.hint or SETUP_FIX))
    else:
        checks.extend(_engine_checks(engine))
    checks.append(
        Check("git", Status.OK, git)
        if git
        else Check("git", Status.FAIL, "not installed", "apt-get install git")
    )
    if not registries:
        checks.append(
            Check(
                "registries",
                Status.OK,
                "none configured",
                None,
            )
        )
    for status in registries:
        checks.extend(_registry_checks(status))
    return DoctorReport(tuple(checks))


_FINDING_STATUS = {True: Status.OK, None: Status.WARN, False: Status.FAIL}


def _registry_checks(status: RegistryStatus) -> list[Check]:
    """One row for reachability, then one per finding (TLS, auth)."""
    name = f"registry {status.host}"
    if not status.reachable:
        fix = status.fix or f"Check that the registry {status.host} runs and its address is right."
        return [Check(name, Status.FAIL, status.detail, fix)]
    rows = [Check(name, Status.OK, status.detail)]
    for finding in status.findings:
        rows.append(
            Check(
                f"{name} {finding.aspect}",
                _FINDING_STATUS[finding.ok],
                finding.detail,
                finding.fix,
            )
        )
    return rows


class EnvironmentProbe(Protocol):
    """Asks the engine, git and a registry what they are (buildx, git, HTTP in the CLI)."""

    def engine(self, builder: str | None) -> EngineFacts: ...  # raises EngineError

    def git_version(self) -> str | None: ...  # None: git is not installed

    def registry(self, host: str) -> RegistryStatus: ...


def run_doctor(
    probe: EnvironmentProbe, hosts: Iterable[str], *, builder: str | None = None
) -> DoctorReport:
    """Check the engine (with ``builder``), git and every registry in ``hosts``, sorted."""
    engine: EngineFacts | EngineError
    try:
        engine = probe.engine(builder)
    except EngineError as error:
        engine = error
    statuses = [probe.registry(host) for host in sorted(set(hosts))]
    return diagnose(engine, probe.git_version(), statuses)
