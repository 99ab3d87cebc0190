"""`repro verify --all` against the real engine and both builders setup starts.

The sample project (examples/harbour) verified across `default` and `repro-b` with one
report, as text and as JSON; a pool with a builder that is down (a docker context whose
socket is dead); a build that fails among good ones.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import REPO_ROOT, git_repo_from, run_repro

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

HARBOUR = REPO_ROOT / "examples" / "harbour"
BOTH = ("--builder", "default", "--builder", "repro-b")
BUSYBOX = "localhost:5000/library/busybox:1.35"


def small_project(root: Path, images: dict[str, str]) -> Path:
    """One directory per image, each a reproducible busybox build unless told otherwise."""
    root.mkdir()
    for name, run in images.items():
        (root / name).mkdir()
        (root / name / "message.txt").write_text(f"{name}\n")
        (root / name / "Dockerfile").write_text(
            f"FROM {BUSYBOX}\nCOPY --chmod=0644 message.txt /srv/message.txt\nRUN {run}\n"
        )
    source = root.parent / f"{root.name}-source"
    root.rename(source)
    return git_repo_from(source, root, commit_time=1700000000)


@pytest.fixture()
def dead_context() -> Iterator[str]:
    """A docker context whose daemon does not exist: a builder that is down."""
    name = f"test-projects-dead-{os.getpid()}"
    subprocess.run(
        ["docker", "context", "create", name, "--docker", f"host=unix:///tmp/{name}.sock"],
        check=True,
        capture_output=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["docker", "context", "rm", "--force", name], capture_output=True)


def test_the_sample_project_verifies_on_both_builders_in_one_report(
    tmp_path: Path, registry: str
) -> None:
    repo = git_repo_from(HARBOUR, tmp_path / "harbour", commit_time=1700000000)
    result = run_repro(repo, "verify", "--all", *BOTH)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:5]}
    assert sorted(rows) == [
        "compose.yaml:app",
        "compose.yaml:site",
        "compose.yaml:worker",
        "docker-bake.hcl:site",
    ]
    for row in rows.values():
        assert " identical " in row, row
        assert "default, repro-b" in row or "repro-b, default" in row, row
    # One build, two names: compose and bake define the app and the worker alike.
    assert "(also docker-bake.hcl:app)" in rows["compose.yaml:app"]
    assert "(also docker-bake.hcl:worker)" in rows["compose.yaml:worker"]
    assert "4 images: 4 identical; builders: default (4 builds), repro-b (4 builds)" in (
        result.stdout
    )
    assert "✔ reproducible: all 4 images are bit-identical" in result.stdout
    assert "==> verifying 4 images on default, repro-b" in result.stderr
    # The durations are cached for the next run's order, outside git's view.
    assert (repo / ".repro" / "cache" / "verify-timings.json").is_file()
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""

    # JSON, as a user sees it: the two site images (bake's own args and platforms).
    result = run_repro(repo, "verify", "--image", "site", *BOTH, "--format", "json")
    assert result.returncode == 2 and "'site' names 2 images" in result.stderr
    result = run_repro(
        repo,
        "verify",
        "--image",
        "compose.yaml:site",
        "--image",
        "docker-bake.hcl:site",
        *BOTH,
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["kind"], data["verdict"], data["exit_code"]) == (
        "project-verification",
        "identical",
        0,
    )
    assert {b["name"]: b["builds"] for b in data["builders"]} == {"default": 2, "repro-b": 2}
    compose_site, bake_site = data["images"]
    assert bake_site["build_args"] == {"SITE_TITLE": "Harbour 1.4.0"}
    assert bake_site["platforms"] == ["linux/amd64", "linux/arm64"]
    platforms = [m["platform"] for m in bake_site["verification"]["manifests"]]
    assert platforms == ["linux/amd64", "linux/arm64"]
    for image in (compose_site, bake_site):
        assert image["digest_a"] == image["digest_b"]
        assert sorted(image["builders"]) == ["default", "repro-b"]
        builds = image["verification"]["builds"]
        assert {b["builder"] for b in builds} == {"default", "repro-b"}
    # The label carries bake's arg, so the two site images differ from each other.
    assert compose_site["digest_a"] != bake_site["digest_a"]


def test_a_builder_that_is_down_leaves_its_share_to_the_others(
    tmp_path: Path, registry: str, dead_context: str
) -> None:
    repo = small_project(tmp_path / "small", {"one": "true", "two": "true"})
    result = run_repro(repo, "verify", "--all", *BOTH, "--builder", dead_context)
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert f"builder down: {dead_context}: its share went to the others (Cannot connect" in out
    assert "2 images: 2 identical" in out
    assert "✔ reproducible: both images are bit-identical" in out
    assert dead_context not in result.stdout.splitlines()[1]  # nothing was built there

    alone = run_repro(repo, "verify", "--all", "--builder", dead_context)
    assert alone.returncode == 3
    assert f"no builder of the pool answers ({dead_context}: Cannot connect" in " ".join(
        alone.stderr.split()
    )


def test_a_failing_build_is_exit_3_and_the_others_are_still_reported(
    tmp_path: Path, registry: str
) -> None:
    repo = small_project(
        tmp_path / "mixed",
        {
            "good": "true",
            "broken": "cat /no/such/file",
            "random": "cat /proc/sys/kernel/random/uuid > /id",
        },
    )
    result = run_repro(repo, "verify", "--all", *BOTH)
    assert result.returncode == 3, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:4]}
    assert rows == {
        "broken/Dockerfile": "failed",
        "good/Dockerfile": "identical",
        "random/Dockerfile": "differs",
    }
    out = " ".join(result.stdout.split())
    assert "3 images: 1 identical, 1 differs, 1 failed" in out
    assert "✘ not reproducible: 1 of 3 differs, 1 of 3 not verified" in out
    # Below: why the build failed (the failing step) and why the other one differs.
    assert "broken/Dockerfile failed" in out and "cat /no/such/file" in out
    assert "random/Dockerfile differs" in out and "/id" in out
