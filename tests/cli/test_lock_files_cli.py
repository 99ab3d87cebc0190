"""`repro lock` on image files from the command line: what a user sees, no registry.

The check's verdicts and messages at file:line for compose, Kubernetes, Helm and workflow
files, bad input without a traceback, [tool.repro] include/exclude, and the typer-free
fast path answering the same and loading no YAML parser when repro.lock's record matches.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.cli.test_cli_gate import D2, LOCK, _run, run_loading

COMPOSE = "services:\n  cache:\n    image: r.io/a:1  # pinned by repro lock\n"
WORKFLOW = "on: push\njobs:\n  t:\n    runs-on: x\n    container: {image: r.io/b:2}\n"
POD = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - {name: a, image: r.io/a:1}\n"
BROKEN = "services:\n  web: [\n    image: r.io/a:1\n"
TEMPLATED = (
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
    "    - {name: a, image: '{{ .Values.image }}'}\n"
)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pod.yaml").write_text(POD)
    (tmp_path / "mkdocs.yml").write_text("site_name: image docs\n")
    return tmp_path


def test_check_names_every_unpinned_image_file_reference_at_its_line(project: Path) -> None:
    result = _run(project, "lock", "--check")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-4:] == [
        "compose.yaml:3: r.io/a:1 is not pinned to a digest; fix: run `repro lock`",
        ".github/workflows/ci.yml:5: r.io/b:2 is not pinned to a digest; fix: run `repro lock`",
        "deploy/pod.yaml:5: r.io/a:1 is not pinned to a digest; fix: run `repro lock`",
        "check failed: 3 of 3 references in 3 files "
        "(1 compose file, 1 Kubernetes manifest, 1 workflow)",
    ]
    full = _run(project, "lock", "--check", entry="repro.cli")
    assert (full.returncode, full.stdout, full.stderr) == (1, result.stdout, result.stderr)
    report = json.loads(_run(project, "lock", "--check", "--json").stdout)
    assert report["files_by_kind"] == {"compose": 1, "kubernetes": 1, "workflow": 1}
    assert {ref["kind"] for ref in report["references"]} == {
        "compose-image",
        "k8s-container",
        "workflow-container",
    }


def test_bad_input_is_reported_at_file_line_never_rewritten_never_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "compose.yaml").write_text(BROKEN)
    (tmp_path / "docker-compose.yml").write_text("services:\n  w:\n    image: ${REG}/w:1\n")
    (tmp_path / "pod.yaml").write_text(TEMPLATED)
    locked = _run(tmp_path, "lock")
    assert locked.returncode == 0, locked.stderr
    assert "Traceback" not in locked.stderr
    warnings = [line for line in locked.stderr.splitlines() if line.startswith("warning:")]
    assert [line.split(": ")[1] for line in warnings] == [
        "compose.yaml:4",
        "docker-compose.yml:3",
        "pod.yaml:5",
    ]
    assert "not valid YAML" in warnings[0]
    assert "it needs ${REG}, which compose takes from the environment or .env" in warnings[1]
    assert "it is a template ({{ }})" in warnings[2]
    assert (tmp_path / "compose.yaml").read_text() == BROKEN
    assert (tmp_path / "pod.yaml").read_text() == TEMPLATED
    check = _run(tmp_path, "lock", "--check")
    assert check.returncode == 1 and "Traceback" not in check.stderr
    offences = [line for line in check.stdout.splitlines() if "; fix: " in line]
    assert [line.split(": ")[0] for line in offences] == [
        "compose.yaml:4",
        "docker-compose.yml:3",
        "pod.yaml:5",
    ]
    sarif = json.loads(_run(tmp_path, "lock", "--check", "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [
        4,
        3,
        5,
    ]


def test_include_and_exclude_in_the_config(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.repro]\nexclude = ["deploy", ".github"]\ninclude = ["ops/*.txt"]\n'
    )
    (project / "ops").mkdir()
    (project / "ops" / "stack.txt").write_text("services:\n  x:\n    image: r.io/c:3\n")
    result = _run(project, "lock", "--check")
    assert result.returncode == 1
    assert "deploy/pod.yaml" not in result.stdout and "ci.yml" not in result.stdout
    assert "ops/stack.txt:3: r.io/c:3 is not pinned to a digest" in result.stdout
    assert "compose.yaml:3: r.io/a:1 is not pinned" in result.stdout


def test_a_recorded_image_file_is_checked_without_loading_a_yaml_parser(tmp_path: Path) -> None:
    pinned = COMPOSE.replace("r.io/a:1", f"r.io/a:1@{D2}")
    (tmp_path / "compose.yaml").write_text(pinned)
    sha = hashlib.sha256(pinned.encode()).hexdigest()
    record = f"\n[files]\ncompose = '''\n{sha} compose.yaml 3:12:compose-image:r.io/a:1@{D2}\n'''\n"
    (tmp_path / "repro.lock").write_text(LOCK + record)
    # YAML that names no image (most of a repository's) is left alone unparsed, too
    (tmp_path / ".pre-commit-config.yaml").write_text("repos:\n  - repo: local\n")
    heavy = ("yaml", "repro.imagefiles.scan", "hcl2", "typer", "rich")
    result = run_loading(tmp_path, ["lock", "--check"], heavy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 1 references in 1 files (1 compose file) are pinned" in result.stdout
    assert "LOADED []" in result.stderr
