"""`repro signoff` on real images built by the real engine: the naive Driftwood fails the
checks the book names, the shipped Dockerfile (pinned with `repro lock`) passes, and a key
copied then deleted in a later layer is caught as a secret that still ships."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repro.environment import EngineFacts
from tests.integration.conftest import REPO_ROOT, git_repo_from, repro_bin

pytestmark = [pytest.mark.docker, pytest.mark.registry]
EPOCH = 1700000000
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "signoff"


def _signoff(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [repro_bin(), "signoff", ".", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"NO_COLOR": "1", "COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in report["checks"]}


@pytest.fixture(scope="module")
def naive(
    engine: EngineFacts, registry: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, Any]]:
    repo = git_repo_from(
        REPO_ROOT / "examples" / "driftwood",
        tmp_path_factory.mktemp("naive") / "driftwood",
        commit_time=EPOCH,
    )
    out = repo.parent / "signoff.json"
    result = _signoff(
        repo,
        "-f",
        "Dockerfile.naive",
        "--size-budget",
        "200MB",
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert result.stdout == "", "with --out the report goes to the file only"
    return result.returncode, json.loads(out.read_text())


def test_naive_dockerfile_fails_with_the_expected_checks(naive: tuple[int, dict[str, Any]]) -> None:
    code, report = naive
    assert code == 1 and report["verdict"] == "fail"
    checks = _checks(report)
    failed = {check_id for check_id, check in checks.items() if check["status"] == "fail"}
    assert {
        "non-root",
        "base-pinned",
        "no-build-toolchain",
        "size",
        "healthcheck",
        "exec-form",
    } <= failed
    assert (
        "Dockerfile.naive:5: localhost:5000/library/python:3.11 is not pinned by digest"
        in (checks["base-pinned"]["evidence"])
    )
    toolchain = "\n".join(checks["no-build-toolchain"]["evidence"])
    assert "/usr/bin/gcc" in toolchain and "/usr/include" in toolchain
    assert "/root/.cache/pip" in toolchain  # the pip cache left behind
    assert "(shell form)" in checks["exec-form"]["evidence"][0]
    assert checks["no-secrets"]["status"] == "pass"  # no false positives in the base


def test_naive_size_teardown_finds_the_wasted_bytes(naive: tuple[int, dict[str, Any]]) -> None:
    _, report = naive
    (size,) = report["size"]
    assert size["uncompressed_bytes"] > report["size_budget_bytes"] == 200_000_000
    assert "EXCEEDED" in _checks(report)["size"]["evidence"][0]
    wheel = next(w for w in size["wasted_files"] if w["path"].startswith("/app/wheels/"))
    assert wheel["reason"] == "deleted in layer 4" and wheel["layer"] == 2
    assert size["wasted_bytes"] >= wheel["bytes"] > 0
    assert 0 < size["efficiency"] < 1
    instructions = [layer["instruction"] for layer in size["layers"]]
    assert instructions[2] == "COPY . /app" and instructions[4] == "RUN rm -rf /app/wheels"


def test_shipped_dockerfile_passes_once_pinned(
    engine: EngineFacts, registry: str, tmp_path: Path
) -> None:
    repo = git_repo_from(
        REPO_ROOT / "examples" / "driftwood", tmp_path / "driftwood", commit_time=EPOCH
    )
    locked = subprocess.run(
        [repro_bin(), "lock", "Dockerfile"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    result = _signoff(
        repo,
        "--size-budget",
        "200MB",
        "--build-arg",
        "VERSION=1.4.0",
        "--build-arg",
        "REVISION=0123abc",
        "--build-arg",
        "CREATED=2023-11-14T22:13:20Z",
        "--epoch",
        str(EPOCH),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    markdown = result.stdout
    assert markdown.startswith("## Release sign-off: PASS")
    assert "| | Check | Status | Evidence | Fix |" in markdown
    for check_id in (
        "base-pinned",
        "no-build-toolchain",
        "non-root",
        "no-secrets",
        "exec-form",
        "healthcheck",
        "expose",
        "size",
        "oci-labels",
    ):
        assert f"| ✅ | `{check_id}`" in markdown, check_id
    assert "matches repro.lock" in markdown
    assert "### Size teardown (linux/amd64)" in markdown and "█" in markdown


def test_deleted_key_is_caught_as_a_secret_that_still_ships(
    engine: EngineFacts, registry: str, tmp_path: Path
) -> None:
    repo = git_repo_from(FIXTURES / "deleted-key", tmp_path / "deleted-key", commit_time=EPOCH)
    result = _signoff(repo, "--format", "json", "--allow", "base-pinned")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    secrets = _checks(report)["no-secrets"]
    assert secrets["status"] == "fail"
    (line,) = secrets["evidence"]
    assert "layer 1 (COPY deploy_key /root/.ssh/id_deploy): /root/.ssh/id_deploy" in line
    assert "private key" in line and "still ships in layer 1" in line
    body = (FIXTURES / "deleted-key" / "deploy_key").read_text().splitlines()[1]
    # Masked as repro.masking shows every secret: a short hash and the length, no prefix.
    assert body not in result.stdout and re.search(r"sha256:[0-9a-f]{8}…\(\d+ chars\)", line)
    assert _checks(report)["base-pinned"]["waived"] == "allowed on the command line (--allow)"
