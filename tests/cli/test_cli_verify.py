"""`repro verify` input errors: exit 2 with the fix, before any build starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from repro.cli import app
from tests.cli.expect import input_error

runner = CliRunner()


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_context_outside_git_without_epoch_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 2
    assert "not inside a git repository" in result.output
    assert "--epoch" in result.output


def test_dirty_work_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "x")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY x /x\n")
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 2
    assert "uncommitted changes" in result.output
    assert "--allow-dirty" in result.output


def test_missing_dockerfile_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path), "--epoch", "0"])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_bad_epoch_and_build_arg_are_exit_2(tmp_path: Path) -> None:
    yesterday = runner.invoke(app, ["verify", str(tmp_path), "--epoch", "yesterday"])
    input_error(yesterday, "--epoch must be a number of seconds or 'git', not 'yesterday'")
    result = runner.invoke(app, ["verify", str(tmp_path), "--epoch", "0", "--build-arg", "NOVALUE"])
    input_error(result, "--build-arg needs KEY=VALUE")


def test_a_build_arg_epoch_that_disagrees_with_epoch_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    fixed = runner.invoke(
        app, ["verify", str(tmp_path), "--epoch", "5", "--build-arg", "SOURCE_DATE_EPOCH=6"]
    )
    assert fixed.exit_code == 2, fixed.output
    assert "--build-arg SOURCE_DATE_EPOCH=6 disagrees with the epoch repro builds with (5)" in (
        " ".join(fixed.output.split())
    )
    assert "hint:" in fixed.output

    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "x")
    for command in (["verify", str(tmp_path)], ["release", "1.0.0", str(tmp_path)]):
        result = runner.invoke(app, [*command, "--build-arg", "SOURCE_DATE_EPOCH=1"])
        assert result.exit_code == 2, result.output
        assert "SOURCE_DATE_EPOCH=1 disagrees" in result.output
    assert not (tmp_path / "repro.lock").exists()


def test_suggest_and_json_together_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = runner.invoke(app, ["verify", str(tmp_path), "--suggest", "--json"])
    assert result.exit_code == 2, result.output
    assert "choose one" in result.output


def test_an_unknown_variation_is_exit_2_with_the_names_repro_knows(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = runner.invoke(app, ["verify", str(tmp_path), "--no-vary", "umsk"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "unknown variation `umsk`" in text and "did you mean `umask`" in text
    (tmp_path / "repro.toml").write_text('[verify]\nvary = ["tz", "cpus"]\n')
    for command in (["verify", str(tmp_path)], ["release", "1.0.0", str(tmp_path)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "verify.vary: unknown variation `cpus`" in " ".join(result.output.split())
