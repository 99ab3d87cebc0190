from repro.doctor import Status, diagnose, run_doctor
from repro.environment import BuilderFacts, EngineFacts, RegistryStatus
from repro.errors import EngineError


def engine(server: str = "26.1.5", snapshotter: bool = True) -> EngineFacts:
    return EngineFacts(
        server_version=server,
        api_version="1.45",
        client_version="26.1.5",
        buildx_version="0.13.1",
        containerd_snapshotter=snapshotter,
        builder=BuilderFacts("default", "docker", "v0.0.0+unknown", ("linux/amd64",)),
    )


def by_name(report_checks: tuple[object, ...]) -> dict[str, object]:
    return {check.name: check for check in report_checks}  # type: ignore[attr-defined]


def test_healthy_environment() -> None:
    report = diagnose(
        engine(), "git version 2.39.5", [RegistryStatus("localhost:5000", True, "ok")]
    )
    assert report.healthy
    names = [check.name for check in report.checks]
    assert names[:4] == ["docker engine", "buildx", "buildkit", "rewrite-timestamp"]
    assert "registry localhost:5000" in names


def test_missing_engine_fails_with_a_fix() -> None:
    report = diagnose(EngineError("the Docker daemon does not answer"), "git 2.39", [])
    assert not report.healthy
    failed = [check for check in report.checks if check.status is Status.FAIL]
    assert failed[0].name == "docker engine"
    assert failed[0].fix and "scripts/setup" in failed[0].fix


def test_old_buildkit_fails_rewrite_timestamp() -> None:
    report = diagnose(engine(server="20.10.24"), "git", [])
    checks = {check.name: check for check in report.checks}
    assert checks["rewrite-timestamp"].status is Status.FAIL
    assert checks["buildkit"].fix and "0.13" in checks["buildkit"].fix
    assert not report.healthy


def test_classic_image_store_is_a_warning_not_a_failure() -> None:
    report = diagnose(engine(snapshotter=False), "git", [])
    checks = {check.name: check for check in report.checks}
    assert checks["containerd image store"].status is Status.WARN
    assert report.healthy


def test_unreachable_registry_and_missing_git_fail() -> None:
    report = diagnose(engine(), None, [RegistryStatus("localhost:5000", False, "unreachable")])
    checks = {check.name: check for check in report.checks}
    assert checks["git"].status is Status.FAIL
    assert checks["registry localhost:5000"].status is Status.FAIL
    assert not report.healthy


class FakeEnvironment:
    def __init__(self, engine_facts: EngineFacts | EngineError) -> None:
        self._engine = engine_facts
        self.asked: list[str] = []

    def engine(self, builder: str | None) -> EngineFacts:
        self.asked.append(f"engine {builder}")
        if isinstance(self._engine, EngineError):
            raise self._engine
        return self._engine

    def git_version(self) -> str | None:
        return None

    def registry(self, host: str) -> RegistryStatus:
        self.asked.append(host)
        return RegistryStatus(host, host != "down:5000", "checked")


def test_run_doctor_asks_each_registry_once_in_order_and_judges() -> None:
    probe = FakeEnvironment(EngineError("the Docker daemon does not answer"))
    report = run_doctor(probe, ["down:5000", "localhost:5000", "down:5000"], builder="repro-b")
    assert probe.asked == ["engine repro-b", "down:5000", "localhost:5000"]
    checks = by_name(report.checks)
    assert not report.healthy
    assert checks["docker engine"].status is Status.FAIL  # type: ignore[attr-defined]
    assert checks["git"].detail == "not installed"  # type: ignore[attr-defined]
    assert checks["registry localhost:5000"].status is Status.OK  # type: ignore[attr-defined]
    assert run_doctor(FakeEnvironment(engine()), []).checks[0].name == "docker engine"
