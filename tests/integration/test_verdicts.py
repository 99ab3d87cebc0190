"""Verdict accuracy on real builds: tests/fixtures/verdicts, verified as a user would.

Each fixture is committed to a fresh git repository and verified with `repro verify` on
the two builders scripts/setup starts (A on one, then B on the other: the clock
variation). Its expected.toml states the verdict, the causes that must be named, and
whether repro's suggested change reaches identical in one round: a fixture expected to
differ is verified with `--suggest`, and for the fixable ones the test applies what that
printed, as a user would (`repro verify --suggest > fix.diff; git apply fix.diff`),
commits it and verifies again.

All fixtures run in one pass, several at a time, before the assertions; every assertion
reads the results of that pass, so each build serves them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.dockerfile import parse_dockerfile
from repro.oci import Comparison, compare_images, open_image
from repro.verify.suggest import SuggestedChange, suggest_fixes
from tests.integration.conftest import GIT_ENV, REGISTRY, REPO_ROOT, repro_bin

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "verdicts"
TOOLS_DOCKERFILE = FIXTURES / "_tools" / "Dockerfile"
TOOLS_PLACEHOLDER = "@TOOLS@"
BUILDERS = ("--builder", "default", "--builder", "repro-b")
COMMIT_TIME = 1700000000
# Each verify builds A, then B: this many fixtures keep both builders and both cores busy.
CONCURRENT_FIXTURES = 4
# What `npm pack` brings from the registry once per machine (kept outside the tree).
NPM_PACKS = ("npm@10.9.2", "is-number@7.0.0")
CACHE = Path(os.environ.get("REPRO_TEST_CACHE", Path.home() / ".cache" / "repro-tests"))
RUN_ENV = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Expected:
    verdict: str
    causes: tuple[str, ...]
    one_round_fix: bool
    platforms: tuple[str, ...]
    prepare: str | None
    identical_paths: tuple[str, ...]  # files that must not differ, though others do
    tools: bool  # builds FROM the toolchain image (_tools/Dockerfile)


def _expected(name: str) -> Expected:
    data = tomllib.loads((FIXTURES / name / "expected.toml").read_text())
    return Expected(
        verdict=data["verdict"],
        causes=tuple(data["causes"]),
        one_round_fix=bool(data.get("one_round_fix", False)),
        platforms=tuple(data.get("platforms", ())),
        prepare=data.get("prepare"),
        identical_paths=tuple(data.get("identical_paths", ())),
        tools=TOOLS_PLACEHOLDER in (FIXTURES / name / "Dockerfile").read_text(),
    )


NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())
EXPECTED = {name: _expected(name) for name in NAMES}
DIFFERING = [n for n in NAMES if EXPECTED[n].verdict == "differs"]
FIXABLE = [n for n in DIFFERING if EXPECTED[n].one_round_fix]


def _heavy_first(name: str) -> tuple[int, str]:
    """apt and pip first, so that the pool does not end on one of them; the fixtures on
    the toolchain image last, so that it is built by the time they need it."""
    dockerfile = (FIXTURES / name / "Dockerfile").read_text()
    heavy = "apt-get" in dockerfile or "venv" in dockerfile or EXPECTED[name].platforms
    return (0 if heavy else 2 if EXPECTED[name].tools else 1, name)


@dataclass(frozen=True)
class Round:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def report(self) -> str:
        """The text report of a --suggest run (stderr, after the progress lines)."""
        start = self.stderr.rfind("\ncommit ")
        return self.stderr[start + 1 :] if start >= 0 else self.stderr


@dataclass(frozen=True)
class FixtureRun:
    first: Round
    comparison: Comparison | None  # of round one's kept images (None when identical)
    suggestion: SuggestedChange | None  # repro.verify.suggest on that comparison
    second: Round | None  # verify after applying what --suggest printed

    @property
    def causes(self) -> set[str]:
        if self.comparison is None:
            return set()
        return set(self.comparison.counts_by_cause) - {"follows-from-layers"}


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        **GIT_ENV,
        "GIT_AUTHOR_DATE": f"@{COMMIT_TIME} +0000",
        "GIT_COMMITTER_DATE": f"@{COMMIT_TIME} +0000",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def _tools_image() -> str:
    """The toolchain image, by digest: built and pushed once per machine (per content)."""
    tag = hashlib.sha256(TOOLS_DOCKERFILE.read_bytes()).hexdigest()[:16]
    reference = f"{REGISTRY}/test-verdicts/tools:{tag}"
    inspect = ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
    found = _run([*inspect, f"docker://{reference}"], timeout=60)
    if found.returncode != 0:
        with tempfile.TemporaryDirectory() as work:
            archive = Path(work) / "tools.oci.tar"
            built = _run(
                [
                    "docker",
                    "buildx",
                    "build",
                    "--provenance=false",
                    "--sbom=false",
                    "--output",
                    f"type=oci,dest={archive}",
                    str(TOOLS_DOCKERFILE.parent),
                ],
                timeout=900,
            )
            assert built.returncode == 0, built.stderr[-3000:]
            pushed = _run(
                [
                    "skopeo",
                    "copy",
                    "--quiet",
                    "--dest-tls-verify=false",
                    f"oci-archive:{archive}",
                    f"docker://{reference}",
                ],
                timeout=300,
            )
            assert pushed.returncode == 0, pushed.stderr
        found = _run([*inspect, f"docker://{reference}"], timeout=60)
    assert found.returncode == 0, found.stderr
    return f"{REGISTRY}/test-verdicts/tools@{found.stdout.strip()}"


def _npm_packs(dest: Path) -> None:
    """`npm pack` on the host: the registry's tarballs (cached) and the fixture's own."""
    cache = CACHE / "npm-packs"
    cache.mkdir(parents=True, exist_ok=True)
    for spec in NPM_PACKS:
        name = spec.replace("@", "-", 1).lstrip("-") + ".tgz"
        if not (cache / name).is_file():
            subprocess.run(
                ["npm", "pack", "--quiet", "--pack-destination", str(cache), spec],
                check=True,
                capture_output=True,
                timeout=300,
            )
        shutil.copyfile(cache / name, dest / name)
    subprocess.run(
        ["npm", "pack", "--quiet", "--pack-destination", str(dest), str(dest.parent / "tide")],
        check=True,
        capture_output=True,
        timeout=300,
    )


def _repository(name: str, root: Path, tools: Future[str]) -> Path:
    repo = root / name
    shutil.copytree(FIXTURES / name, repo)
    (repo / "expected.toml").unlink()
    if EXPECTED[name].tools:
        dockerfile = repo / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text().replace(TOOLS_PLACEHOLDER, tools.result()))
    if EXPECTED[name].prepare == "npm-pack":
        (repo / "packs").mkdir()
        _npm_packs(repo / "packs")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fixture")
    return repo


def _verify(name: str, repo: Path, *extra: str) -> Round:
    platforms = [arg for p in EXPECTED[name].platforms for arg in ("--platform", p)]
    args = [repro_bin(), "verify", str(repo), *BUILDERS, *platforms, *extra]
    started = time.monotonic()
    result = subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=900, env=RUN_ENV
    )
    seconds = round(time.monotonic() - started, 1)
    return Round(result.returncode, result.stdout, result.stderr, seconds)


def _run_fixture(name: str, root: Path, tools: Future[str]) -> FixtureRun:
    repo = _repository(name, root, tools)
    keep = root / f"{name}-images"
    if EXPECTED[name].verdict != "differs":
        return FixtureRun(_verify(name, repo, "--json"), None, None, None)
    first = _verify(name, repo, "--suggest", "--keep", str(keep))
    if first.returncode != 1:
        shutil.rmtree(keep, ignore_errors=True)
        return FixtureRun(first, None, None, None)
    try:
        comparison = compare_images(open_image(keep / "a.oci.tar"), open_image(keep / "b.oci.tar"))
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    suggestion = suggest_fixes(
        parse_dockerfile((repo / "Dockerfile").read_bytes(), "Dockerfile"), comparison
    )
    second = None
    if name in FIXABLE and first.stdout:
        # What a user does with it: save the diff, apply it, commit, verify again.
        patch = root / f"{name}.diff"
        patch.write_text(first.stdout)
        _git(repo, "apply", str(patch))
        _git(repo, "commit", "-q", "-am", "repro's suggested fix")
        second = _verify(name, repo, "--json")
    return FixtureRun(first, comparison, suggestion, second)


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, engine: object, registry: str
) -> Iterator[dict[str, FixtureRun]]:
    root = tmp_path_factory.mktemp("verdicts")
    started = time.monotonic()
    tools: Future[str] = Future()

    def build_tools() -> None:
        try:
            tools.set_result(_tools_image())
        except BaseException as error:  # the fixtures that wait for it fail with this
            tools.set_exception(error)

    threading.Thread(target=build_tools, daemon=True).start()
    with ThreadPoolExecutor(max_workers=CONCURRENT_FIXTURES) as pool:
        futures = {
            name: pool.submit(_run_fixture, name, root, tools)
            for name in sorted(NAMES, key=_heavy_first)
        }
        results = {name: future.result() for name, future in futures.items()}
    load = os.getloadavg()
    print(
        f"\nverdict fixtures: {time.monotonic() - started:.0f}s in all, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    for name, run in sorted(results.items()):
        second = run.second.returncode if run.second else None
        seconds = (run.first.seconds, run.second.seconds if run.second else None)
        causes = sorted(run.causes)
        print(f"  {name}: exit {run.first.returncode}, {causes}, fixed: {second}, {seconds}")
    yield results


def _record(round_: Round) -> dict[str, Any]:
    assert not round_.stdout.startswith("Traceback"), round_.stderr
    data: dict[str, Any] = json.loads(round_.stdout)
    return data


@pytest.mark.parametrize("name", NAMES)
def test_every_verdict_is_right(name: str, runs: dict[str, FixtureRun]) -> None:
    run = runs[name]
    expected = EXPECTED[name]
    assert run.first.returncode == (0 if expected.verdict == "identical" else 1), run.first.stderr[
        -3000:
    ]
    if expected.verdict == "identical":
        assert _record(run.first)["verdict"] == "identical"
    else:
        assert "not reproducible" in run.first.report


@pytest.mark.parametrize("name", DIFFERING)
def test_each_fixture_names_its_expected_causes(name: str, runs: dict[str, FixtureRun]) -> None:
    run = runs[name]
    assert set(EXPECTED[name].causes) <= run.causes, run.causes


@pytest.mark.parametrize("name", [n for n in DIFFERING if EXPECTED[n].identical_paths])
def test_what_is_reproducible_beside_a_difference_is_not_reported(
    name: str, runs: dict[str, FixtureRun]
) -> None:
    comparison = runs[name].comparison
    assert comparison is not None
    reported = {d.path for d in comparison.differences}
    assert not reported & set(EXPECTED[name].identical_paths)


def test_the_right_cause_for_nine_in_ten_differing_fixtures(
    runs: dict[str, FixtureRun],
) -> None:
    right = [
        name
        for name in DIFFERING
        if set(EXPECTED[name].causes) <= runs[name].causes
        and "unclassified" not in runs[name].causes
    ]
    wrong = {name: sorted(runs[name].causes) for name in DIFFERING if name not in right}
    assert len(right) >= 0.9 * len(DIFFERING), wrong


@pytest.mark.parametrize("name", DIFFERING)
def test_suggest_prints_the_change_repro_makes_from_the_differences(
    name: str, runs: dict[str, FixtureRun]
) -> None:
    run = runs[name]
    assert run.suggestion is not None
    printed = run.first.stdout
    assert printed == (run.suggestion.unified_diff() if run.suggestion.changed else "")
    if printed:
        assert printed.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")
        assert "becomes: " in run.first.report  # the report shows the replacement lines


@pytest.mark.parametrize("name", FIXABLE)
def test_each_fixable_group_gets_a_change_that_places_every_edit(
    name: str, runs: dict[str, FixtureRun]
) -> None:
    run = runs[name]
    assert run.suggestion is not None and run.suggestion.changed, run.causes
    assert not run.suggestion.unresolved, run.suggestion.unresolved


@pytest.mark.parametrize("name", FIXABLE)
def test_the_suggested_fix_reaches_identical_in_one_round(
    name: str, runs: dict[str, FixtureRun]
) -> None:
    run = runs[name]
    assert run.second is not None, run.first.stderr[-2000:]
    record = _record(run.second)
    differences = [
        (d["path"], d["field"], d["cause"]["id"]) for d in record["comparison"]["differences"]
    ]
    assert record["verdict"] == "identical", (run.first.stdout, differences)


@pytest.mark.parametrize("name", [n for n in DIFFERING if n not in FIXABLE])
def test_what_no_edit_fixes_is_left_to_the_text(name: str, runs: dict[str, FixtureRun]) -> None:
    run = runs[name]
    assert run.comparison is not None and run.suggestion is not None
    groups = [g for g in run.comparison.groups if g.cause_id in EXPECTED[name].causes]
    assert groups and all(g.fix.text for g in groups)
    # Either no mechanical edit is known, or none fits this Dockerfile: never a guess.
    manual = {g.cause_id for g in groups if g.fix.scope == "manual"}
    unresolved = {u.cause_id for u in run.suggestion.unresolved}
    assert set(EXPECTED[name].causes) <= manual | unresolved
    assert not run.suggestion.changed and run.first.stdout == ""


def _group_lines(text: str, cause: str) -> list[str]:
    return [line for line in text.splitlines() if f"── {cause}  " in line]


def test_apt_report_is_one_line_per_cause_with_a_fix_naming_what_was_seen(
    runs: dict[str, FixtureRun],
) -> None:
    out = runs["apt-jq"].first.report
    assert "not reproducible" in out
    [line] = _group_lines(out, "package-manager-state")
    assert " files, " in line and "/var/" in line
    assert sum("fix:" in line for line in out.splitlines()) == 1
    text = " ".join(out.split())
    assert "fix: delete them at the end of this RUN: `&& rm -rf" in text
    # The fix names the apt state the layer holds, by glob, lists and caches included.
    for path in ("/var/cache/apt/*.bin", "/var/lib/apt/lists/*", "/var/log/apt/*"):
        assert path in text
    assert out.count("package-manager-state") == 2  # the verdict line and its group
    assert "Dockerfile:2 becomes: RUN apt-get update" in text


def test_pip_report_counts_hundreds_of_pycs_in_one_line(runs: dict[str, FixtureRun]) -> None:
    out = runs["pip-venv"].first.report
    [line] = _group_lines(out, "pyc-timestamp")
    count = int(line.split("timestamps. ")[1].split(" files")[0])
    assert count > 500
    assert "more)" in " ".join(out.split())
    assert " ".join(out.split()).count("ARG SOURCE_DATE_EPOCH") == 2  # the fix, and its line


def test_the_report_states_the_variations_applied(runs: dict[str, FixtureRun]) -> None:
    out = " ".join(runs["apt-jq"].first.report.split())
    assert "varied umask, tz (checkout only), locale (checkout only), path (checkout only), " in out
    assert "time, clock, builder" in out
    tz = _record(runs["tz-arg"].second) if runs["tz-arg"].second else None
    assert tz is not None
    # After the fix (ARG TZ=UTC) no builder's TZ reaches the build: the checkout's only.
    [varied] = [v for v in tz["variations"] if v["name"] == "tz"]
    assert varied["reaches_build"] is False
