"""Verdict accuracy on real builds: tests/fixtures/verdicts, verified as a user would.

Each fixture is committed to a fresh git repository and verified with `repro verify`
(A and B on the two builders scripts/setup starts, concurrently). Its expected.toml
states the verdict, the causes that must be named, and whether repro's suggested change
reaches identical in one round: for those, the test applies the change that
repro.verify.suggest makes from the comparison of the kept images, commits it and verifies
again. All fixtures run in one pass, two at a time, before the assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.dockerfile import parse_dockerfile
from repro.oci import Comparison, compare_images, open_image
from repro.verify.suggest import SuggestedChange, suggest_fixes
from tests.integration.conftest import GIT_ENV, REPO_ROOT, repro_bin

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "verdicts"
BUILDERS = ("--builder", "default", "--builder", "repro-b")
COMMIT_TIME = 1700000000
CONCURRENT_FIXTURES = 3  # each verify builds A and B at once: up to six builds
# What `npm pack` brings from the registry once per machine (kept outside the tree).
NPM_PACKS = ("npm@10.9.2", "is-number@7.0.0")
CACHE = Path(os.environ.get("REPRO_TEST_CACHE", Path.home() / ".cache" / "repro-tests"))
# Fixtures whose text report (what a user sees) is checked; the others run with --json.
TEXT_REPORTS = frozenset({"apt-jq", "pip-venv"})


@dataclass(frozen=True)
class Expected:
    verdict: str
    causes: tuple[str, ...]
    one_round_fix: bool
    builders: int
    platforms: tuple[str, ...]
    prepare: str | None
    identical_paths: tuple[str, ...]  # files that must not differ, though others do


def _expected(name: str) -> Expected:
    data = tomllib.loads((FIXTURES / name / "expected.toml").read_text())
    return Expected(
        verdict=data["verdict"],
        causes=tuple(data["causes"]),
        one_round_fix=bool(data.get("one_round_fix", False)),
        builders=int(data.get("builders", 2)),
        platforms=tuple(data.get("platforms", ())),
        prepare=data.get("prepare"),
        identical_paths=tuple(data.get("identical_paths", ())),
    )


NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())


def _heavy_first(name: str) -> tuple[bool, str]:
    """Longest builds first (apt, pip), so that the pool does not end on one of them."""
    dockerfile = (FIXTURES / name / "Dockerfile").read_text()
    return ("apt-get" not in dockerfile and "venv" not in dockerfile, name)


EXPECTED = {name: _expected(name) for name in NAMES}
DIFFERING = [n for n in NAMES if EXPECTED[n].verdict == "differs"]
FIXABLE = [n for n in DIFFERING if EXPECTED[n].one_round_fix]


@dataclass(frozen=True)
class Round:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass(frozen=True)
class FixtureRun:
    first: Round
    comparison: Comparison | None  # of round one's kept images (None when identical)
    suggestion: SuggestedChange | None
    second: Round | None  # verify after applying the suggestion

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


def _repository(name: str, root: Path) -> Path:
    repo = root / name
    shutil.copytree(FIXTURES / name, repo)
    (repo / "expected.toml").unlink()
    if EXPECTED[name].prepare == "npm-pack":
        (repo / "packs").mkdir()
        _npm_packs(repo / "packs")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "fixture")
    return repo


def _verify(name: str, repo: Path, *extra: str, json_output: bool = True) -> Round:
    expected = EXPECTED[name]
    builders = BUILDERS if expected.builders == 2 else BUILDERS[:2]
    platforms = [arg for p in expected.platforms for arg in ("--platform", p)]
    args = [repro_bin(), "verify", str(repo), *builders, *platforms, *extra]
    if json_output:
        args.append("--json")
    started = time.monotonic()
    result = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
    )
    seconds = round(time.monotonic() - started, 1)
    return Round(result.returncode, result.stdout, result.stderr, seconds)


def _run_fixture(name: str, root: Path) -> FixtureRun:
    repo = _repository(name, root)
    keep = root / f"{name}-images"
    first = _verify(name, repo, "--keep", str(keep), json_output=name not in TEXT_REPORTS)
    if first.returncode != 1:
        shutil.rmtree(keep, ignore_errors=True)
        return FixtureRun(first, None, None, None)
    try:
        comparison = compare_images(open_image(keep / "a.oci.tar"), open_image(keep / "b.oci.tar"))
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    dockerfile = repo / "Dockerfile"
    suggestion = suggest_fixes(parse_dockerfile(dockerfile.read_bytes(), "Dockerfile"), comparison)
    second = None
    if EXPECTED[name].one_round_fix and suggestion.changed:
        dockerfile.write_bytes(suggestion.updated)
        _git(repo, "commit", "-q", "-am", "repro's suggested fix")
        second = _verify(name, repo)
    return FixtureRun(first, comparison, suggestion, second)


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, engine: object, registry: str
) -> Iterator[dict[str, FixtureRun]]:
    root = tmp_path_factory.mktemp("verdicts")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENT_FIXTURES) as pool:
        futures = {
            name: pool.submit(_run_fixture, name, root) for name in sorted(NAMES, key=_heavy_first)
        }
        results = {name: future.result() for name, future in futures.items()}
    print(f"\nverdict fixtures: {time.monotonic() - started:.0f}s in all")
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
    if name in TEXT_REPORTS:
        assert "not reproducible" in run.first.stdout
    else:
        assert _record(run.first)["verdict"] == expected.verdict


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


@pytest.mark.parametrize("name", FIXABLE)
def test_the_suggested_fix_reaches_identical_in_one_round(
    name: str, runs: dict[str, FixtureRun]
) -> None:
    run = runs[name]
    assert run.suggestion is not None and run.suggestion.changed, run.causes
    assert not run.suggestion.unresolved, run.suggestion.unresolved
    assert run.second is not None
    record = _record(run.second)
    differences = [
        (d["path"], d["field"], d["cause"]["id"]) for d in record["comparison"]["differences"]
    ]
    assert record["verdict"] == "identical", (run.suggestion.unified_diff(), differences)


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
    assert not run.suggestion.changed


def _group_lines(text: str, cause: str) -> list[str]:
    return [line for line in text.splitlines() if f"── {cause}  " in line]


def test_apt_report_is_one_line_per_cause_with_a_fix_naming_what_was_seen(
    runs: dict[str, FixtureRun],
) -> None:
    out = runs["apt-jq"].first.stdout
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


def test_pip_report_counts_hundreds_of_pycs_in_one_line(runs: dict[str, FixtureRun]) -> None:
    out = runs["pip-venv"].first.stdout
    [line] = _group_lines(out, "pyc-timestamp")
    count = int(line.split("timestamps. ")[1].split(" files")[0])
    assert count > 500
    assert "more)" in " ".join(out.split())
    assert " ".join(out.split()).count("ARG SOURCE_DATE_EPOCH") == 1  # the fix, once
