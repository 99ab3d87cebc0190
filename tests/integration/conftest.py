"""Integration tests run against the real engine and registry that scripts/setup starts.

They never skip: a missing engine fails them loudly, so CI cannot pass without one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from repro.build.buildx import probe_engine
from repro.environment import EngineFacts
from repro.errors import ReproError
from repro.registry.client import RegistryClient

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY = os.environ.get("REPRO_TEST_REGISTRY", "localhost:5000")


@pytest.fixture(scope="session")
def engine() -> EngineFacts:
    try:
        return probe_engine()
    except ReproError as error:
        pytest.fail(f"the container engine is required (run ./scripts/setup): {error.message}")


@pytest.fixture(scope="session")
def registry() -> str:
    status = RegistryClient(REGISTRY).ping()
    if not status.reachable:
        pytest.fail(
            f"the local registry {REGISTRY} is required (run ./scripts/setup): {status.detail}"
        )
    return REGISTRY


@pytest.fixture()
def driftwood_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of examples/driftwood, committed at a fixed time."""
    return git_repo_from(
        REPO_ROOT / "examples" / "driftwood", tmp_path / "driftwood", commit_time=1700000000
    )


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git_repo_from(source: Path, dest: Path, *, commit_time: int | None = None) -> Path:
    """Copy ``source`` to ``dest`` and commit it there as a new repository."""
    shutil.copytree(source, dest)
    env = {**os.environ, **GIT_ENV}
    if commit_time is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{commit_time} +0000"
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fixture"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True, env=env)
    return dest


def repro_bin() -> str:
    import sys

    return str(Path(sys.executable).parent / "repro")


def run_repro(
    cwd: Path, *args: str, timeout: int = 900, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `repro` in ``cwd``, plain and wide (``env`` added to the
    environment); an expected failure never prints a traceback."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    result = subprocess.run(
        [repro_bin(), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def skopeo_copy(source: str, dest: str) -> None:
    """Copy a registry image to another tag, every manifest byte for byte (skopeo, not repro)."""
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{source}",
            f"docker://{dest}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
