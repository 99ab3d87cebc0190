"""`repro verify --all`'s orchestration against fakes: a pool, failures, builders going down."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from repro.errors import EngineError, InputError
from repro.project_verify.model import (
    ImageOutcome,
    ProjectImage,
    ProjectRecord,
    ProjectResult,
    Verdict,
)
from repro.project_verify.service import ProjectOptions, verify_project
from repro.project_verify.timings import read_timings, timings_path
from repro.render.project_verify import project_details, project_json, project_summary
from tests.unit.fakes import COMMIT, DEAD, FakePool, FakeSourceControl


@pytest.fixture(autouse=True)
def _no_second_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    # B's checkout waits for the next second (its files must carry other times); the
    # fakes do not look at times.
    monkeypatch.setattr(
        "repro.verify.service._wait_for_a_later_interval", lambda _clock, _moment: None
    )


@dataclass
class Events:
    seen: list[tuple[str, str]] = field(default_factory=list)

    def begin(self, total: int, builders: tuple[str, ...]) -> None:
        self.seen.append(("begin", f"{total} {','.join(builders)}"))

    def started(self, image: ProjectImage, builders: tuple[str, ...]) -> None:
        self.seen.append(("started", f"{image.name} {','.join(builders)}"))

    def phase(self, image: ProjectImage, text: str) -> None:
        pass

    def log(self, image: ProjectImage, build: str, line: str) -> None:
        pass

    def finished(self, outcome: ImageOutcome, done: int, total: int) -> None:
        self.seen.append(("finished", f"{done}/{total} {outcome.image.name} {outcome.verdict}"))

    def builder_down(self, name: str, detail: str) -> None:
        self.seen.append(("down", name))


def project(root: Path, names: Sequence[str] = ("api", "web", "worker")) -> Path:
    """A git work tree (for repro.project) with one Dockerfile per directory."""
    (root / ".git").mkdir(parents=True)
    for name in names:
        (root / name).mkdir()
        (root / name / "Dockerfile").write_text(f"FROM scratch\nCOPY . /{name}\n")
        (root / name / f"{name}.txt").write_text(name * 100)
    return root


def run(
    root: Path, pool: FakePool, events: Events | None = None, **options: object
) -> tuple[dict[str, ImageOutcome], ProjectResult]:
    result = verify_project(
        ProjectOptions(root=root, builders=("default", "repro-b"), **options),  # type: ignore[arg-type]
        builder=pool,
        source_control=FakeSourceControl(),
        events=events,
    )
    return {o.image.name: o for o in result.outcomes}, result


def test_every_image_is_verified_with_a_and_b_on_two_builders(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool, events = FakePool(), Events()
    outcomes, result = run(root, pool, events)
    assert {n: o.verdict for n, o in outcomes.items()} == {
        "api/Dockerfile": Verdict.IDENTICAL,
        "web/Dockerfile": Verdict.IDENTICAL,
        "worker/Dockerfile": Verdict.IDENTICAL,
    }
    for outcome in outcomes.values():
        assert set(outcome.builders) == {"default", "repro-b"}
        assert outcome.result is not None and outcome.result.commit == COMMIT
    # Each image's two builds ran on the two builders, one each.
    for context in ("api", "web", "worker"):
        assert sorted(str(b) for c, b in pool.built if c == context) == ["default", "repro-b"]
    assert events.seen[0] == ("begin", "3 default,repro-b")
    assert [e for e in events.seen if e[0] == "finished"][-1][1].startswith("3/3 ")
    assert result.verdict is Verdict.IDENTICAL


def test_the_run_s_policies_reach_every_build(tmp_path: Path) -> None:
    root = project(tmp_path / "p", ["api", "web"])
    (root / "compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: web\n      args: {ROLE: site}\n"
    )
    pool = FakePool()
    run(root, pool, build_args={"VERSION": "2"}, attest=("provenance",), rewrite_timestamp=False)
    assert len(pool.requests) == 4
    assert {r.attest for r in pool.requests} == {("provenance",)}
    assert {r.rewrite_timestamp for r in pool.requests} == {False}
    args = {r.context.name: dict(r.build_args) for r in pool.requests}
    # The image's own args, then the command line's over them.
    assert args == {"api": {"VERSION": "2"}, "web": {"ROLE": "site", "VERSION": "2"}}


def test_a_failed_build_is_exit_3_and_the_others_still_finish(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    outcomes, result = run(root, FakePool(failing={"web"}, varying={"worker"}))
    web = outcomes["web/Dockerfile"]
    assert web.verdict is Verdict.FAILED and "exit code: 1" in (web.error or "")
    assert "RUN false" in web.log_tail
    assert outcomes["api/Dockerfile"].verdict is Verdict.IDENTICAL
    assert outcomes["worker/Dockerfile"].verdict is Verdict.DIFFERS
    assert int(result.verdict.exit_code) == 3


def test_any_image_that_differs_is_exit_1(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    _, result = run(root, FakePool(varying={"api"}))
    assert int(result.verdict.exit_code) == 1


def test_a_builder_down_from_the_start_leaves_its_share_to_the_others(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool, events = FakePool(up={"default": True, "repro-b": False}), Events()
    outcomes, result = run(root, pool, events)
    assert all(o.verdict is Verdict.IDENTICAL for o in outcomes.values())
    assert {b for _, b in pool.built} == {"default"}
    assert all(o.builders == ("default", "default") for o in outcomes.values())
    builders = {b.name: b for b in result.builders}
    assert not builders["repro-b"].up and DEAD in builders["repro-b"].detail
    assert builders["repro-b"].builds == 0 and builders["default"].builds == 6
    assert ("down", "repro-b") in events.seen
    report = " ".join(_text(result).split())
    assert f"builder down: repro-b: its share went to the others ({DEAD})" in report


def test_a_builder_that_goes_down_mid_run_moves_its_images(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool = FakePool(dies_after={"repro-b": 1})
    outcomes, result = run(root, pool, builds_per_node=1)
    assert all(o.verdict is Verdict.IDENTICAL for o in outcomes.values()), outcomes
    moved = [o for o in outcomes.values() if o.moved]
    assert len(moved) == 1 and "moved off repro-b" in moved[0].moved[0]
    assert moved[0].builders == ("default", "default")
    builders = {b.name: b for b in result.builders}
    assert builders["repro-b"].up and builders["repro-b"].went_down
    report = " ".join(_text(result).split())
    assert "builder went down: repro-b" in report and "moved off repro-b" in report


def test_when_every_builder_goes_down_the_rest_is_not_run_exit_3(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool = FakePool(dies_after={"default": 0, "repro-b": 0})
    outcomes, result = run(root, pool)
    assert {o.verdict for o in outcomes.values()} == {Verdict.NOT_RUN}
    assert "no builder of the pool is left" in (outcomes["api/Dockerfile"].error or "")
    assert int(result.verdict.exit_code) == 3


def test_all_builders_down_at_the_start_is_exit_3_with_the_list(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool = FakePool(up={"default": False, "repro-b": False})
    with pytest.raises(EngineError, match=f"no builder of the pool answers.*default: {DEAD}"):
        run(root, pool)
    assert pool.built == []


def test_an_unknown_builder_is_an_input_error_before_anything_is_built(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    pool = FakePool()
    with pytest.raises(InputError, match="no buildx builder or docker context named 'typo'"):
        verify_project(
            ProjectOptions(root=root, builders=("default", "typo")),
            builder=pool,
            source_control=FakeSourceControl(),
        )
    assert pool.built == []


def test_inputs_are_checked_first_and_a_bad_image_does_not_stop_the_others(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "p", ["api"])
    (root / "compose.yaml").write_text(
        "services:\n"
        "  gone:\n    build: {context: ., dockerfile: missing.Dockerfile}\n"
        "  inline:\n    build: {dockerfile_inline: 'FROM scratch'}\n"
    )
    outcomes, result = run(root, FakePool())
    assert outcomes["api/Dockerfile"].verdict is Verdict.IDENTICAL
    assert outcomes["compose.yaml:gone"].verdict is Verdict.INVALID
    assert "not found" in (outcomes["compose.yaml:gone"].error or "")
    assert outcomes["compose.yaml:inline"].verdict is Verdict.INVALID
    assert int(result.verdict.exit_code) == 2


def test_a_build_that_leads_out_of_the_repository_is_invalid_and_not_built(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "p", ["api"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Dockerfile").write_text("FROM scratch\n")
    (root / "linked").symlink_to(elsewhere)
    (root / "compose.yaml").write_text(
        "services:\n"
        "  up:\n    build: {context: ../elsewhere}\n"
        "  linked:\n    build: {context: linked}\n"
        f"  absolute:\n    build: {{context: api, dockerfile: {elsewhere / 'Dockerfile'}}}\n"
    )
    pool = FakePool()
    outcomes, result = run(root, pool)
    for name in ("up", "linked", "absolute"):
        outcome = outcomes[f"compose.yaml:{name}"]
        assert outcome.verdict is Verdict.INVALID
        assert f"outside the project's repository {root}" in (outcome.error or "")
    # Only the image inside the repository was built (once for A, once for B).
    assert sorted(c for c, _ in pool.built) == ["api", "api"]
    assert int(result.verdict.exit_code) == 2


def test_names_pick_images_and_an_empty_project_is_an_input_error(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    outcomes, _ = run(root, FakePool(), names=("web/Dockerfile",))
    assert list(outcomes) == ["web/Dockerfile"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no images found"):
        run(empty, FakePool())


def test_durations_are_cached_and_order_the_next_run(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    run(root, FakePool())
    cached = read_timings(root)
    assert sorted(cached.seconds) == ["api/Dockerfile", "web/Dockerfile", "worker/Dockerfile"]
    assert (root / ".repro" / "cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    timings_path(root).write_text(
        json.dumps(
            {
                "kind": "verify-timings",
                "schema_version": 1,
                "seconds": {"api/Dockerfile": 1, "web/Dockerfile": 30, "worker/Dockerfile": 5},
            }
        )
    )
    events = Events()
    run(root, FakePool(), events, builds_per_node=1)
    started = [text.split()[0] for kind, text in events.seen if kind == "started"]
    assert started == ["web/Dockerfile", "worker/Dockerfile", "api/Dockerfile"]


def test_a_broken_timings_cache_is_ignored_and_said_so(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    timings_path(root).parent.mkdir(parents=True)
    timings_path(root).write_text("{not json")
    outcomes, result = run(root, FakePool())
    assert all(o.verdict is Verdict.IDENTICAL for o in outcomes.values())
    assert any("not read" in note for note in result.notes)


def test_the_record_is_complete_and_reads_back(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    _, result = run(root, FakePool(failing={"web"}, varying={"worker"}))
    data = json.loads(project_json(result))
    assert (data["kind"], data["schema_version"], data["verdict"], data["exit_code"]) == (
        "project-verification",
        1,
        "failed",
        3,
    )
    assert data["counts"]["identical"] == 1 and data["counts"]["differs"] == 1
    images = {image["name"]: image for image in data["images"]}
    assert images["api/Dockerfile"]["digest_a"] == images["api/Dockerfile"]["digest_b"]
    assert images["api/Dockerfile"]["verification"]["kind"] == "verification"
    assert images["worker/Dockerfile"]["differences"] >= 1
    assert images["web/Dockerfile"]["verification"] is None
    assert "exit code: 1" in images["web/Dockerfile"]["error"]
    parsed = ProjectRecord.from_json(data, "verify.json")
    assert parsed.to_json() == data
    assert parsed.verdict is Verdict.FAILED and len(parsed.images) == 3


def test_a_record_that_is_not_one_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"not a `repro verify --all --format json` record"):
        ProjectRecord.from_json({"kind": "verification"}, "x.json")
    bad = {"kind": "project-verification", "commit": "c", "seconds": 1, "images": [{}]}
    with pytest.raises(InputError, match=r"x\.json: an image `verdict` is missing"):
        ProjectRecord.from_json(bad, "x.json")


def _text(result: ProjectResult) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(project_summary(result))
    console.print(project_details(result, max_diffs=10) or "")
    return console.export_text()


def test_unpinned_bases_are_refused_where_repro_lock_asks_for_pins(tmp_path: Path) -> None:
    root = project(tmp_path / "p", ["api", "web"])
    (root / "web" / "Dockerfile").write_text("FROM busybox:1.35\nCOPY . /web\n")
    (root / "repro.lock").write_text("")
    outcomes, result = run(root, FakePool(), keep=tmp_path / "kept")
    web = outcomes["web/Dockerfile"]
    assert web.verdict is Verdict.REFUSED and "web/Dockerfile:1: busybox:1.35" in (web.error or "")
    assert outcomes["api/Dockerfile"].verdict is Verdict.IDENTICAL
    assert int(result.verdict.exit_code) == 1
    # --keep keeps each image's two tars under its own name.
    assert sorted(p.name for p in (tmp_path / "kept" / "api_Dockerfile").iterdir()) == [
        "a.oci.tar",
        "b.oci.tar",
    ]
