"""`repro verify --all` from the command line, with fake builders: the report as printed,
the JSON record, the exit codes, and the options that cannot go together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import _wiring, app
from tests.unit.fakes import DEAD, FakePool, FakeSourceControl

runner = CliRunner()


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> FakePool:
    fake = FakePool()
    monkeypatch.setattr(_wiring, "builder", lambda: fake)
    monkeypatch.setattr(_wiring, "source_control", FakeSourceControl)
    monkeypatch.setattr(
        "repro.verify.service._wait_for_a_later_interval", lambda _clock, _moment: None
    )
    monkeypatch.setenv("COLUMNS", "100")
    return fake


def project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    for name in ("api", "web"):
        (root / name).mkdir()
        (root / name / "Dockerfile").write_text(f"FROM scratch\nCOPY . /{name}\n")
    (root / "compose.yaml").write_text("services:\n  site:\n    build: ./web\n")
    return root


def test_every_image_in_one_table_then_the_ones_that_differ(tmp_path: Path, pool: FakePool) -> None:
    root = project(tmp_path / "p")
    pool.varying = {"api"}
    result = runner.invoke(
        app, ["verify", "--all", str(root), "--builder", "default", "--builder", "repro-b"]
    )
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["image", "verdict", "digest", "differences", "time", "builders"]
    api, site = lines[1], lines[2]
    assert api.startswith("api/Dockerfile") and " differs " in api and "default, repro-b" in api
    assert site.startswith("compose.yaml:site") and " identical " in site
    assert "sha256:" in site and len(site.split()[2]) == 71  # the whole digest
    assert "2 images: 1 identical, 1 differs; builders: default (2 builds), repro-b (2 builds)" in (
        result.stdout
    )
    assert "✘ not reproducible: 1 of 2 differs" in result.stdout
    # Below the table, the differing image explained by the single-image report.
    below = result.stdout[result.stdout.index("✘ not reproducible") :]
    assert "api/Dockerfile differs" in below and "/etc/built-as" in below
    assert "compose.yaml:site identical" not in below
    # Progress is plain lines on stderr without a terminal.
    assert "==> verifying 2 images on default, repro-b" in result.stderr
    assert "[2/2]" in result.stderr


def test_json_is_the_complete_record(tmp_path: Path, pool: FakePool) -> None:
    root = project(tmp_path / "p")
    for flags in (["--format", "json"], ["--json"]):
        result = runner.invoke(app, ["verify", "--all", str(root), *flags])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["kind"] == "project-verification" and data["verdict"] == "identical"
        assert [i["name"] for i in data["images"]] == ["api/Dockerfile", "compose.yaml:site"]
        assert data["builders"][0]["name"] == "default"  # the current builder


def test_sarif_and_github_annotations_place_each_difference_at_its_dockerfile_line(
    tmp_path: Path, pool: FakePool
) -> None:
    root = project(tmp_path / "p")
    pool.varying = {"api"}
    sarif = runner.invoke(app, ["verify", "--all", str(root), "--format", "sarif"])
    assert sarif.exit_code == 1, sarif.output
    (run,) = json.loads(sarif.stdout)["runs"]
    places = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in run["results"]
    }
    assert places == {("verify/differs", "api/Dockerfile")}
    github = runner.invoke(app, ["verify", "--all", str(root), "--format", "github"])
    assert github.exit_code == 1, github.output
    annotations = [line for line in github.stdout.splitlines() if line.startswith("::error")]
    assert annotations and all("file=api/Dockerfile,line=" in line for line in annotations)
    assert github.stdout.endswith("verify --all: differs, 2 images\n")
    refused = runner.invoke(app, ["verify", "--all", str(root), "--format", "markdown"])
    assert refused.exit_code == 2 and "not markdown" in refused.output


def test_image_names_pick_and_a_dead_builder_is_reported(tmp_path: Path, pool: FakePool) -> None:
    root = project(tmp_path / "p")
    pool.up["dead"] = False
    result = runner.invoke(
        app, ["verify", str(root), "--image", "site", "--builder", "default", "--builder", "dead"]
    )
    assert result.exit_code == 0, result.output
    assert "compose.yaml:site" in result.stdout and "api/Dockerfile" not in result.stdout
    assert f"builder down: dead: its share went to the others ({DEAD})" in result.stdout
    assert f"builder down: dead: {DEAD}" in result.stderr


def test_builders_come_from_the_configuration(tmp_path: Path, pool: FakePool) -> None:
    root = project(tmp_path / "p")
    (root / "repro.toml").write_text('builders = ["repro-b", "default"]\n')
    result = runner.invoke(app, ["verify", "--all", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [b["name"] for b in json.loads(result.stdout)["builders"]] == ["repro-b", "default"]


def test_every_builder_down_is_exit_3_naming_each(tmp_path: Path, pool: FakePool) -> None:
    root = project(tmp_path / "p")
    pool.up = {"default": False, "repro-b": False}
    result = runner.invoke(
        app, ["verify", "--all", str(root), "--builder", "default", "--builder", "repro-b"]
    )
    assert result.exit_code == 3
    assert f"default: {DEAD}" in result.output and f"repro-b: {DEAD}" in result.output
    assert pool.built == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "-f", "x/Dockerfile"], "--file cannot be combined with --all or --image"),
        (["--image", "api", "--target", "t", "--platform", "linux/arm64"], "--target, --platform"),
        (["--all", "--format", "yaml"], "--format must be one of text, json"),
        (["--all", "--jobs", "0"], "--jobs must be at least 1"),
        (["--image", "db"], "the project builds no image named 'db'"),
        (
            ["--all", "--suggest", "--no-vary", "umask"],
            "--suggest, --no-vary cannot be combined with --all or --image yet",
        ),
        (["--image", "api", "--vary", "tz"], "--vary cannot be combined with --all or --image"),
        (["--all", "--suggest", "--json"], "--suggest prints a diff and --json a record"),
    ],
)
def test_usage_errors_are_exit_2_before_any_build(
    tmp_path: Path, pool: FakePool, args: list[str], message: str
) -> None:
    root = project(tmp_path / "p")
    result = runner.invoke(app, ["verify", str(root), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert pool.built == []


def test_a_directory_without_images_is_exit_2(tmp_path: Path, pool: FakePool) -> None:
    result = runner.invoke(app, ["verify", "--all", str(tmp_path)])
    assert result.exit_code == 2
    assert "no images found" in result.output
