"""Integration tests run against the real engine and registry that scripts/setup starts.

They never skip: a missing engine fails them loudly, so CI cannot pass without one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from repro.build.buildx import probe_engine
from repro.environment import EngineFacts
from repro.errors import ReproError
from repro.registry import RegistryClient

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
    repo = tmp_path / "driftwood"
    shutil.copytree(REPO_ROOT / "examples" / "driftwood", repo)
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "@1700000000 +0000",
        "GIT_COMMITTER_DATE": "@1700000000 +0000",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "driftwood"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    return repo
