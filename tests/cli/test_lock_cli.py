"""`repro lock` exit codes and messages that need no registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import app
from tests.cli.expect import input_error

runner = CliRunner()


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("FROM localhost:5000/a:1\nCOPY --link=maybe a b\n", "Dockerfile:2:6"),
        ("FROM --bogus=x localhost:5000/a:1\n", "Dockerfile:1:6"),
        ("FROM\n", "Dockerfile:1:"),
        ("FROM localhost:5000/UPPER:1\n", "Dockerfile:1:6"),
    ],
)
def test_bad_dockerfile_exits_2_with_position_and_writes_nothing(
    project: Path, text: str, where: str
) -> None:
    (project / "ok.Dockerfile").write_text("FROM localhost:5000/a:1\n")
    (project / "Dockerfile").write_text(text)
    result = runner.invoke(app, ["lock"])
    assert result.exit_code == 2, result.output
    assert where in result.output
    assert "Traceback" not in result.output
    assert (project / "ok.Dockerfile").read_text() == "FROM localhost:5000/a:1\n"
    assert not (project / "repro.lock").exists()


def test_malformed_lockfile_exits_2_with_its_line(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM localhost:5000/a:1\n")
    (project / "repro.lock").write_text("schema_version = 1\n\n[[image]\n")
    result = runner.invoke(app, ["lock", "--check"])
    assert result.exit_code == 2
    assert "repro.lock" in result.output and "line 3" in result.output


def test_check_on_an_unpinned_from_exits_1_with_file_and_line(project: Path) -> None:
    (project / "Dockerfile").write_text("# base\nFROM localhost:5000/a:1\n")
    result = runner.invoke(app, ["lock", "--check"])
    assert result.exit_code == 1
    assert "Dockerfile:2: localhost:5000/a:1 is not pinned to a digest" in result.output


def test_check_json_is_stable(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM localhost:5000/a:1\n")
    first = runner.invoke(app, ["lock", "--check", "--json"])
    second = runner.invoke(app, ["lock", "--check", "--json"])
    assert first.exit_code == 1 and first.stdout == second.stdout
    assert '"schema_version": 1' in first.stdout and '"ok": false' in first.stdout


def test_usage_errors_exit_2(project: Path) -> None:
    input_error(runner.invoke(app, ["lock"]), "no Dockerfiles found in")
    (project / "Dockerfile").write_text("FROM localhost:5000/a:1\n")
    input_error(
        runner.invoke(app, ["lock", "--check", "--update"]),
        "--check changes nothing; it cannot be combined with --update",
    )
    input_error(
        runner.invoke(app, ["lock", "missing/Dockerfile"]),
        "missing/Dockerfile: no such file or directory",
    )
    input_error(
        runner.invoke(app, ["lock", "--update", "NOT A REF"]),
        "--update NOT A REF: neither an existing path nor an image reference",
    )


def test_symlink_outside_the_project_is_skipped(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "Dockerfile"
    outside.write_text("FROM localhost:5000/a:1\n")
    (project / "Dockerfile").write_text("FROM localhost:5000/a:1\n")
    (project / "linked.Dockerfile").symlink_to(outside)
    result = runner.invoke(app, ["lock", "--check"])
    assert result.exit_code == 1
    assert "linked.Dockerfile:1" not in result.output
    assert "linked.Dockerfile: skipped" in result.output and "outside the project" in result.output
    assert outside.read_text() == "FROM localhost:5000/a:1\n"
