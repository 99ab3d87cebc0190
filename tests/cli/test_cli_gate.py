"""The CLI as a CI gate: formats, help that reads as a command line, shell completion,
and the typer-free fast path of `repro lock --check` (same answers, lighter imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import COMMANDS, app
from repro.entry import fast_check_arguments

runner = CliRunner()
REPRO = str(Path(sys.executable).parent / "repro")
D2 = "sha256:" + "2" * 64
LOCK = f"""schema_version = 2

[[image]]
reference = "r.io/a:1"
name = "r.io/a"
tag = "1"
digest = "{D2}"
media_type = "application/vnd.oci.image.manifest.v1+json"
resolved_at = "2026-01-01T00:00:00Z"
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "Dockerfile").write_text(f"FROM r.io/a:1@{D2}\n")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "api.Dockerfile").write_text("# api\nFROM r.io/b:2\n")
    (tmp_path / "repro.lock").write_text(LOCK)
    return tmp_path


def _run(cwd: Path, *args: str, entry: str = "repro.entry") -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.argv = ['repro', *sys.argv[1:]]; from {entry} import main; main()"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


# -- formats -------------------------------------------------------------------------------------


def test_check_formats(project: Path) -> None:
    text = runner.invoke(app, ["lock", "--check"])
    assert text.exit_code == 1
    assert "svc/api.Dockerfile:2: r.io/b:2 is not pinned to a digest; fix: run `repro lock`" in (
        text.stdout
    )
    as_json = runner.invoke(app, ["lock", "--check", "--format", "json"])
    alias = runner.invoke(app, ["lock", "--check", "--json"])
    assert as_json.stdout == alias.stdout
    document = json.loads(as_json.stdout)
    assert (document["kind"], document["ok"], document["online"]) == ("lock-check", False, False)
    github = runner.invoke(app, ["lock", "--check", "--format", "github"])
    assert github.exit_code == 1
    assert github.stdout.splitlines()[0].startswith(
        "::error file=svc/api.Dockerfile,line=2,col=6,title=repro lock --check%3A unpinned::"
    )
    sarif = json.loads(runner.invoke(app, ["lock", "--check", "--format", "sarif"]).stdout)
    assert sarif["version"] == "2.1.0"
    markdown = runner.invoke(app, ["lock", "--check", "--format", "markdown"])
    assert markdown.stdout.startswith("### repro lock --check: FAIL")


def test_summary_appends_the_markdown_report(project: Path) -> None:
    summary = project / "summary.md"
    summary.write_text("earlier step\n")
    result = runner.invoke(
        app, ["lock", "--check", "--format", "github", "--summary", str(summary)]
    )
    assert result.exit_code == 1
    assert summary.read_text().startswith("earlier step\n### repro lock --check: FAIL")


@pytest.mark.parametrize(
    "args",
    [
        ["lock", "--check", "--json", "--format", "sarif"],
        ["lock", "--check", "--format", "xml"],
        ["lock", "--format", "sarif"],  # SARIF is a verdict's format
        ["lock", "--online"],
        ["lock", "--check", "--outdated"],
        ["lock", "--check", "--update"],
        ["lock", "--summary", "s.md"],
    ],
)
def test_conflicting_options_exit_2(project: Path, args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_a_misspelled_config_key_exits_2_with_a_suggestion(project: Path) -> None:
    (project / "repro.toml").write_text('[mirorrs]\n"docker.io" = "http://localhost:5000"\n')
    result = runner.invoke(app, ["lock", "--check"])
    assert result.exit_code == 2
    assert "unknown key `mirorrs`" in result.output and "did you mean `mirrors`?" in result.output


def test_a_conflicted_lockfile_exits_2_naming_the_line(project: Path) -> None:
    (project / "repro.lock").write_text(LOCK.replace('tag = "1"', "<<<<<<< HEAD\ntag = '1'"))
    result = _run(project, "lock", "--check")
    assert result.returncode == 2
    assert "repro.lock:6: a merge left conflict markers" in result.stderr
    assert "Traceback" not in result.stderr


# -- help and completion ------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_reads_as_a_command_line(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    for odd in ("<", ">", "{", "}", "[[", "list[", "str]"):
        assert odd not in result.stdout, (command, odd, result.stdout)
    usage = result.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: repro {command} [OPTIONS]")


def test_usage_lines() -> None:
    def usage(command: str) -> str:
        return runner.invoke(app, [command, "--help"]).stdout.splitlines()[0]

    assert usage("lock") == "Usage: repro lock [OPTIONS] [PATH]..."
    assert usage("show") == "Usage: repro show [OPTIONS] VERSION"
    assert usage("release") == "Usage: repro release [OPTIONS] VERSION [CONTEXT]"
    assert usage("compare") == "Usage: repro compare [OPTIONS] A B"
    verify_help = runner.invoke(app, ["verify", "--help"]).stdout
    assert "--epoch git|N" in verify_help and "--build-arg KEY=VALUE" in verify_help


@pytest.mark.parametrize(
    ("shell", "env", "expected"),
    [
        ("bash", {"COMP_WORDS": "repro lo", "COMP_CWORD": "1"}, "lock"),
        ("zsh", {"_TYPER_COMPLETE_ARGS": "repro lo"}, "lock"),
        (
            "fish",
            {"_TYPER_COMPLETE_ARGS": "repro lock --che", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
            "--check",
        ),
    ],
)
def test_shell_completion(shell: str, env: dict[str, str], expected: str, tmp_path: Path) -> None:
    script = subprocess.run(
        [REPRO, "--show-completion", shell], capture_output=True, text=True, check=False
    )
    assert script.returncode == 0 and "_REPRO_COMPLETE" in script.stdout, script.stderr
    answer = subprocess.run(
        [REPRO],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "_REPRO_COMPLETE": f"complete_{shell}", **env},
    )
    assert expected in answer.stdout, (answer.stdout, answer.stderr)


def test_bash_completes_for_real(tmp_path: Path) -> None:
    script = subprocess.run(
        [REPRO, "--show-completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "completion.bash").write_text(script)
    probe = (
        f"source {tmp_path / 'completion.bash'}\n"
        "COMP_WORDS=(repro lock --ch); COMP_CWORD=2; _repro_completion repro; "
        'echo "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{Path(REPRO).parent}:{os.environ['PATH']}"},
    )
    assert "--check" in result.stdout, result.stderr


# -- the fast path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fast"),
    [
        (["lock", "--check"], True),
        (["--debug", "lock", "--check", "--format=sarif", "svc"], True),
        (["lock", "--check", "--exclude", "svc", "--json", "--reparse"], True),
        (["lock", "--check", "--summary", "s.md"], True),
        (["lock"], False),
        (["lock", "--check", "--online"], False),
        (["lock", "--check", "--help"], False),
        (["lock", "--check", "--format"], False),
        (["lock", "--check", "--no-such-option"], False),
        (["verify", "--check"], False),
    ],
)
def test_fast_check_takes_only_the_plain_hermetic_check(argv: list[str], fast: bool) -> None:
    assert (fast_check_arguments(argv) is not None) is fast


@pytest.mark.parametrize(
    "args",
    [
        ["lock", "--check"],
        ["lock", "--check", "--format", "json"],
        ["lock", "--check", "--format=github"],
        ["lock", "--check", "--format", "sarif", "svc"],
        ["lock", "--check", "--exclude", "svc"],
        ["lock", "--check", "--format", "xml"],
        ["lock", "--check", "missing"],
    ],
)
def test_the_fast_path_answers_as_the_cli_does(project: Path, args: list[str]) -> None:
    fast = _run(project, *args)
    full = _run(project, *args, entry="repro.cli")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )


def test_the_fast_path_loads_no_cli_framework_registry_or_rich(project: Path) -> None:
    import hashlib

    # repro.lock remembers the Dockerfile's bytes: not even the parser is needed
    sha = hashlib.sha256((project / "Dockerfile").read_bytes()).hexdigest()
    record = f"\n[files]\ndockerfile = '''\n{sha} Dockerfile 1:6:from:r.io/a:1@{D2}\n'''\n"
    (project / "repro.lock").write_text(LOCK + record)
    heavy: tuple[str, ...] = ("typer", "click", "rich", "pydantic", "urllib3", "truststore")
    heavy += ("repro.registry", "repro.oci", "repro.cli", "repro.dockerfile.parser")
    result = run_loading(project, ["lock", "--check", "--exclude", "svc"], heavy)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stderr


def run_loading(
    cwd: Path, args: list[str], heavy: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    """``repro ARGS`` through the console script; stderr ends with ``LOADED [...]``: the
    modules starting with one of ``heavy`` that the run imported."""
    code = (
        "import sys, atexit\n"
        f"heavy = {heavy!r}\n"
        "atexit.register(lambda: print('LOADED', sorted({m for m in sys.modules "
        "if m.startswith(heavy)}), file=sys.stderr))\n"
        f"sys.argv = ['repro', *{args!r}]\n"
        "from repro.entry import main\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )
