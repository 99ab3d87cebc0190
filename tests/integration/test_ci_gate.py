"""repro as a CI gate, against the real registry and engine: the hermetic check opens no
socket, a kill -9 mid-write is completed or rolled back, bots' pins are recorded, moved
tags are reported (never failed), and the integrations (pre-commit, the GitHub Action's
script, the GitLab template, the Renovate and Dependabot examples) run as written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import GIT_ENV, REPO_ROOT, skopeo_copy
from tests.support.netguard import guarded_env, socket_events

pytestmark = [pytest.mark.registry]

BUSYBOX = "localhost:5000/library/busybox:1.35"
SLIM = "localhost:5000/library/python:3.11-slim"
VENV_BIN = Path(sys.executable).parent
REPRO = str(VENV_BIN / "repro")
DIGEST = re.compile(r"sha256:[0-9a-f]+")


def repro(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The installed CLI as CI runs it: no terminal, COLUMNS=80."""
    result = subprocess.run(
        [REPRO, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**(env if env is not None else os.environ), "NO_COLOR": "1", "COLUMNS": "80"},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def raw(ref: str) -> bytes:
    return subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def digest_of(ref: str) -> str:
    return "sha256:" + hashlib.sha256(raw(ref)).hexdigest()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    ).stdout


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def repository(root: Path, files: dict[str, str]) -> Path:
    project(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    return root


def moving_tag(registry: str, start: str = SLIM) -> str:
    """A tag of our own, copied from ``start`` (skopeo, byte for byte)."""
    tag = f"{registry}/test-cigate/moving-{uuid.uuid4().hex[:10]}:v1"
    skopeo_copy(start, tag)
    return tag


# -- the hermetic check --------------------------------------------------------------------------


def test_the_check_opens_no_socket_even_when_the_registry_is_a_closed_port(
    registry: str, tmp_path: Path
) -> None:
    closed = "127.0.0.1:1/library/busybox:1.35"  # nothing listens on port 1
    root = project(
        tmp_path / "p",
        {
            "Dockerfile": f"FROM {closed}\nFROM {BUSYBOX} AS other\n",
            "repro.toml": f'[mirrors]\n"127.0.0.1:1" = "http://{registry}"\n',
        },
    )
    locked = repro(root, "lock")
    assert locked.returncode == 0, locked.stderr
    (root / "repro.toml").unlink()  # from now on the registry is a closed port
    log = tmp_path / "sockets.log"
    guarded = guarded_env(tmp_path / "guard", log)
    for args in (["--check"], ["--check", "--reparse"], ["--check", "--format", "sarif"]):
        result = repro(root, "lock", *args, env=guarded)
        assert result.returncode == 0, result.stdout + result.stderr
        assert socket_events(log) == [], args
    assert "ok: 2 references in 1 files" in repro(root, "lock", "--check", env=guarded).stdout
    # the guard is real: the online check does try to connect, and is refused
    online = repro(root, "lock", "--check", "--online", env=guarded)
    assert online.returncode == 3 and socket_events(log) != []


def test_a_moved_tag_never_fails_the_check_and_outdated_names_it(
    registry: str, tmp_path: Path
) -> None:
    tag = moving_tag(registry)
    root = project(tmp_path / "p", {"Dockerfile": f"FROM {tag}\nFROM {BUSYBOX}\n"})
    assert repro(root, "lock").returncode == 0
    old = digest_of(tag)
    skopeo_copy(BUSYBOX, tag)  # upstream re-pushes the tag
    new = digest_of(tag)
    check = repro(root, "lock", "--check")
    assert check.returncode == 0, check.stdout
    online = repro(root, "lock", "--check", "--online", "--json")
    assert online.returncode == 0
    report = json.loads(online.stdout)
    assert [(m["old_digest"], m["new_digest"]) for m in report["moved"]] == [(old, new)]
    assert report["manifest_requests"] == 2  # one per unique tag
    outdated = repro(root, "lock", "--outdated", "--json")
    assert outdated.returncode == 1
    document = json.loads(outdated.stdout)
    assert document["manifest_requests"] == 2 and document["tags"] == 2
    (pin,) = document["outdated"]
    assert (pin["tag"], pin["old_digest"], pin["new_digest"]) == (tag, old, new)
    assert pin["sites"] == ["Dockerfile:1"] and pin["age_days"] == 0
    text = repro(root, "lock", "--outdated")
    assert text.returncode == 1
    assert f"  old {old}\n  new {new}\n  at  Dockerfile:1\n" in text.stdout


# -- bots welcome --------------------------------------------------------------------------------


def _bump(root: Path, tag: str, old: str, new: str) -> None:
    """What Renovate and Dependabot do to a pinned FROM line."""
    dockerfile = root / "Dockerfile"
    text = dockerfile.read_text()
    assert f"{tag}@{old}" in text
    dockerfile.write_text(text.replace(f"{tag}@{old}", f"{tag}@{new}"))


def test_a_bot_bump_is_recorded_by_repro_lock_with_its_platforms(
    registry: str, tmp_path: Path
) -> None:
    tag = moving_tag(registry)
    root = project(tmp_path / "p", {"Dockerfile": f"FROM {tag}\nRUN true\n"})
    assert repro(root, "lock").returncode == 0
    old = digest_of(tag)
    skopeo_copy(BUSYBOX, tag)  # the tag now serves an index
    new = digest_of(tag)
    _bump(root, tag, old, new)
    check = repro(root, "lock", "--check")
    assert check.returncode == 1
    assert (
        f"Dockerfile:1: pinned {new} but repro.lock has {old}; fix: run `repro lock` to record"
        in check.stdout
    )
    dockerfile_before = (root / "Dockerfile").read_bytes()
    locked = repro(root, "lock", "--json")
    assert locked.returncode == 0, locked.stderr
    (ref,) = json.loads(locked.stdout)["references"]
    assert ref["action"] == "recorded" and ref["new_digest"] == new
    assert (root / "Dockerfile").read_bytes() == dockerfile_before  # the bot's line stays
    lock = (root / "repro.lock").read_text()
    assert f'digest = "{new}"' in lock
    children = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in json.loads(raw(BUSYBOX))["manifests"]
        if m.get("platform", {}).get("os") not in (None, "unknown")
    }
    for platform, child in children.items():
        assert f'"{platform}" = "{child}"' in lock
    assert repro(root, "lock", "--check").returncode == 0
    # a digest pinned by hand that the tag no longer serves is accepted too
    _bump(root, tag, new, old)
    by_hand = repro(root, "lock", "--json")
    assert by_hand.returncode == 0
    assert json.loads(by_hand.stdout)["references"][0]["action"] == "drifted"
    assert f'digest = "{old}"' in (root / "repro.lock").read_text()
    assert repro(root, "lock", "--check").returncode == 0


def _bot_branch(registry: str, tmp_path: Path) -> tuple[Path, Path, str]:
    """A repository with a bare origin, locked, then a bot's branch that bumps the pin."""
    tag = moving_tag(registry)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    root = project(tmp_path / "work", {"Dockerfile": f"FROM {tag}\n"})
    assert repro(root, "lock").returncode == 0
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "locked")
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    old = digest_of(tag)
    skopeo_copy(BUSYBOX, tag)
    git(root, "checkout", "-q", "-b", "renovate/moving")
    _bump(root, tag, old, digest_of(tag))
    git(root, "commit", "-q", "-am", "chore(deps): update moving digest")
    git(root, "push", "-q", "origin", "renovate/moving")
    assert repro(root, "lock", "--check").returncode == 1
    return root, origin, tag


def test_renovate_post_upgrade_tasks_keep_repro_lock_in_step(registry: str, tmp_path: Path) -> None:
    root, _, _ = _bot_branch(registry, tmp_path)
    config = json.loads((REPO_ROOT / "examples" / "ci" / "renovate.json").read_text())
    tasks = config["postUpgradeTasks"]
    for command in tasks["commands"]:  # what self-hosted Renovate runs after its update
        done = subprocess.run(
            shlex.split(command),
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        )
        assert done.returncode == 0, done.stderr
    changed = [line[3:] for line in git(root, "status", "--porcelain").splitlines()]
    assert changed == tasks["fileFilters"] == ["repro.lock"]  # Renovate commits these
    assert repro(root, "lock", "--check").returncode == 0


def test_the_follow_up_workflow_for_hosted_bots_pushes_repro_lock(
    registry: str, tmp_path: Path
) -> None:
    root, origin, _ = _bot_branch(registry, tmp_path)
    workflow = yaml.safe_load(
        (REPO_ROOT / "examples" / "ci" / "github" / "repro-lock-bots.yml").read_text()
    )
    (step,) = [
        s
        for s in workflow["jobs"]["relock"]["steps"]
        if s.get("name") == "record the bumped pins in repro.lock"
    ]
    run = subprocess.run(
        ["bash", "-e", "-c", step["run"]],  # as GitHub runs a step: bash -e
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    log = subprocess.run(
        [
            "git",
            "--git-dir",
            str(origin),
            "log",
            "-1",
            "--name-only",
            "--format=%s",
            "renovate/moving",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert log[:4] == ["repro.lock:", "record", "the", "pins"] and log[-1] == "repro.lock"
    assert workflow["jobs"]["relock"]["if"].count("[bot]") == 2


# -- one transaction, interrupted by a real kill -9 ------------------------------------------------


@pytest.mark.parametrize(
    ("point", "outcome"),
    [
        ("journal", "rolled back"),
        ("staged-2", "rolled back"),
        ("commit", "completed"),
        ("renamed-2", "completed"),
    ],
)
def test_kill_9_during_lock_is_completed_or_rolled_back_by_the_next_run(
    registry: str, tmp_path: Path, point: str, outcome: str
) -> None:
    files = {f"svc{n}/Dockerfile": f"FROM {BUSYBOX}\nRUN echo {n}\n" for n in range(3)}
    root = project(tmp_path / "p", files)
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "REPRO_TEST_PAUSE_AT": point,
        "REPRO_TEST_PAUSE_FILE": str(marker),
    }
    process = subprocess.Popen(
        [REPRO, "lock"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "repro lock never reached the pause point"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # kill -9: no handler, no cleanup
    process.wait(timeout=30)
    if process.stderr is not None:
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert (root / ".repro-lock.journal").exists()
    after = repro(root, "lock")
    assert after.returncode == 0, after.stderr
    assert f"an interrupted repro lock was found and {outcome}" in after.stderr
    leftovers = [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.endswith((".repro-staged", ".tmp", ".journal", ".journal.new"))
    ]
    assert leftovers == []
    digest = digest_of(BUSYBOX)
    for name in files:
        assert (root / name).read_text().startswith(f"FROM {BUSYBOX}@{digest}\n")
    assert repro(root, "lock", "--check").returncode == 0


# -- pre-commit --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(root: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "pre-commit"), "try-repo", str(REPO_ROOT), hook, "--all-files"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={
            **os.environ,
            **GIT_ENV,
            "PRE_COMMIT_HOME": str(home),
            # the hook's own virtualenv installs repro with the versions CI pins
            "PIP_CONSTRAINT": str(REPO_ROOT / "constraints.txt"),
            "NO_COLOR": "1",
        },
    )


def test_pre_commit_hooks_run_from_the_repository(
    registry: str, tmp_path: Path, pre_commit_home: Path
) -> None:
    root = repository(tmp_path / "p", {"Dockerfile": f"FROM {BUSYBOX}\nRUN true\n"})
    failed = _try_repo(root, "repro-lock-check", pre_commit_home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Dockerfile:1: localhost:5000/library/busybox:1.35 is not pinned" in failed.stdout
    pinned = _try_repo(root, "repro-lock", pre_commit_home)
    # pre-commit fails a hook that changed files, so that they are looked at and added
    assert pinned.returncode == 1 and "files were modified by this hook" in pinned.stdout
    assert f"{BUSYBOX}@{digest_of(BUSYBOX)}" in (root / "Dockerfile").read_text()
    assert (root / "repro.lock").exists()
    git(root, "add", "-A")
    passed = _try_repo(root, "repro-lock-check", pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "repro lock --check" in passed.stdout and "Passed" in passed.stdout


# -- the GitHub Action's script, and the GitLab template ----------------------------------------


def _action(
    root: Path, tmp_path: Path, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], str, str]:
    """Run scripts/ci/github-action.sh as the runner does for action.yml's step."""
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    (step,) = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    assert "scripts/ci/github-action.sh" in step["run"]
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    for name, spec in action["inputs"].items():
        value = inputs.get(name, spec.get("default", ""))
        variable = re.sub(
            r"\$\{\{ inputs\.(\w+) \}\}", lambda m: m.group(1), step["env"][f"REPRO_{name.upper()}"]
        )
        assert variable == name  # every input reaches the script
        env[f"REPRO_{name.upper()}"] = value
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("")
    output.write_text("")
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_ACTION_PATH=str(REPO_ROOT),
        GITHUB_WORKSPACE=str(root),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
    )
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=600,
    )
    return result, summary.read_text(), output.read_text()


def test_the_action_checks_annotates_and_summarises(registry: str, tmp_path: Path) -> None:
    root = repository(tmp_path / "p", {"Dockerfile": f"# base\nFROM {BUSYBOX}\n"})
    failed, summary, output = _action(root, tmp_path)
    assert failed.returncode == 1
    assert failed.stdout.startswith(
        "::error file=Dockerfile,line=2,col=6,title=repro lock --check%3A unpinned::"
    )
    assert summary.startswith("### repro lock --check: FAIL") and output == "verdict=fail\n"
    assert repro(root, "lock").returncode == 0
    passed, summary, output = _action(root, tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "::error" not in passed.stdout
    assert summary.startswith("### repro lock --check: PASS") and output == "verdict=pass\n"
    wrong, _, output = _action(root, tmp_path, command="deploy")
    assert wrong.returncode == 2 and output == ""


def test_the_example_workflow_runs_the_action_as_configured(registry: str, tmp_path: Path) -> None:
    workflow = yaml.safe_load((REPO_ROOT / "examples" / "ci" / "github" / "repro.yml").read_text())
    uses = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("OWNER/repro@")
    ]
    assert [step["with"]["command"] for step in uses] == ["lock --check", "verify"]
    root = repository(
        tmp_path / "p",
        {"Dockerfile": f"FROM {BUSYBOX}\nRUN echo reproducible > /message\n"},
    )
    assert repro(root, "lock").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "locked")
    for step in uses:
        result, summary, output = _action(root, tmp_path, **step["with"])
        assert result.returncode == 0, result.stdout + result.stderr
        assert output == "verdict=pass\n"
    assert summary.startswith("### repro verify: reproducible")


def test_the_gitlab_template_jobs_run_as_written(registry: str, tmp_path: Path) -> None:
    template = yaml.safe_load(
        (REPO_ROOT / "examples" / "ci" / "gitlab" / "repro.gitlab-ci.yml").read_text()
    )
    job = template["repro-lock-check"]
    lines = template[job["extends"]]["before_script"] + job["script"]
    root = repository(tmp_path / "p", {"Dockerfile": f"FROM {BUSYBOX}\n"})
    env = {
        **os.environ,
        **{k: str(v) for k, v in template["variables"].items()},
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(root),
        "NO_COLOR": "1",
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
    }

    def run_job() -> subprocess.CompletedProcess[str]:
        # GitLab runs the lines in one shell and stops at the first that fails
        return subprocess.run(
            ["bash", "-e", "-c", "\n".join(lines)],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )

    failed = run_job()
    assert failed.returncode == 1
    assert "Dockerfile:1: localhost:5000/library/busybox:1.35 is not pinned" in failed.stdout
    for artifact in job["artifacts"]["paths"]:
        assert (root / artifact).stat().st_size > 0
    sarif = json.loads((root / "repro-lock-check.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "lock/unpinned"
    assert repro(root, "lock").returncode == 0
    assert run_job().returncode == 0
    verify_job = template["repro-verify"]
    assert any(line.startswith("repro verify") for line in verify_job["script"])


# -- whole values in logs ----------------------------------------------------------------------


def _whole(text: str) -> list[str]:
    """Digests in ``text`` that are cut (fewer than 64 hex digits) or followed by '…'."""
    cut = [m.group(0) for m in DIGEST.finditer(text) if len(m.group(0)) != 71]
    return cut + [line for line in text.splitlines() if "…" in line]


def test_without_a_terminal_nothing_is_cut_at_80_columns(
    registry: str, tmp_path: Path, engine: Any
) -> None:
    deep = "a/very/deep/directory/of/services/with/a/long/name/that/passes/eighty/columns"
    root = repository(
        tmp_path / "p",
        {
            f"{deep}/Dockerfile": f"FROM {BUSYBOX}\nRUN cat /proc/sys/kernel/random/uuid > /t\n",
            "Dockerfile": f"FROM {BUSYBOX}\nRUN cat /proc/sys/kernel/random/uuid > /etc/token\n",
        },
    )
    outputs: dict[str, str] = {}
    lock = repro(root, "lock")
    assert lock.returncode == 0, lock.stderr
    outputs["lock"] = lock.stdout
    digest = digest_of(BUSYBOX)
    assert f"{deep}/Dockerfile:1" in lock.stdout and digest in lock.stdout
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "locked")
    (root / f"{deep}/Dockerfile").write_text(f"FROM {BUSYBOX}@{digest}\nFROM {SLIM}\n")
    check = repro(root, "lock", "--check")
    assert check.returncode == 1
    outputs["lock --check"] = check.stdout
    assert f"{deep}/Dockerfile:2: {SLIM} is not pinned to a digest" in check.stdout
    verify = repro(root, "verify", ".", "--allow-dirty")
    assert verify.returncode == 1, verify.stderr
    outputs["verify"] = verify.stdout
    assert "/etc/token" in verify.stdout
    pair = REPO_ROOT / "fixtures" / "checkout-umask"
    compare = repro(root, "compare", str(pair / "a.tar"), str(pair / "b.tar"))
    assert compare.returncode == 1
    outputs["compare"] = compare.stdout
    signoff = repro(root, "signoff", ".", "--image", str(pair / "a.tar"))
    outputs["signoff"] = signoff.stdout
    show_root = _released(tmp_path / "released")
    show = repro(show_root, "show", "1.0.0")
    assert show.returncode == 0, show.stderr
    outputs["show"] = show.stdout
    doctor = repro(root, "doctor")
    outputs["doctor"] = doctor.stdout
    for name, text in outputs.items():
        assert _whole(text) == [], (name, text)
        assert all(not line.endswith(" ") for line in text.splitlines()), name
        assert "│" not in text and "┃" not in text, name  # plain lines, no table boxes
    assert f"{digest}" in outputs["lock --check"]
    assert any(len(line) > 80 for line in outputs["lock"].splitlines())  # not wrapped


def _released(root: Path) -> Path:
    """A repro.lock with one release record (the model's own writer), for `repro show`."""
    from dataclasses import replace

    from repro.lockfile import Lockfile, dump_lockfile, with_release
    from tests.cli.test_release_cli import release

    root.mkdir(parents=True)
    recorded = replace(
        release("1.0.0", 0x100, 0xBBBB10),
        dockerfile="services/with/a/long/directory/name/that/passes/eighty/columns/Dockerfile",
    )
    (root / "repro.lock").write_text(dump_lockfile(with_release(Lockfile(), recorded)))
    return root
