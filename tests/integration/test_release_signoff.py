"""`repro release`, then `repro signoff` reading that release: the reproducible check
compares the signed-off image with the released one (issue 11: it used to read keys a
[[release]] never has, and so passed for any image)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import GIT_ENV, git_repo_from, run_repro

pytestmark = [pytest.mark.docker, pytest.mark.registry]

BASE = "localhost:5000/library/busybox:1.35"
IMAGE = "localhost:5000/test-arch/release-signoff"


def reproducible(repo: Path, image: str) -> dict[str, Any]:
    result = run_repro(repo, "signoff", ".", "--image", image, "--format", "json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    (check,) = [c for c in report["checks"] if c["id"] == "reproducible"]
    return {"digest": report["image_digest"], **check}


def test_signoff_compares_the_image_with_the_released_one(
    tmp_path: Path, registry: str, engine: object
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Dockerfile").write_text(f"FROM {BASE}\nCOPY --chmod=0644 hello.txt /hello.txt\n")
    (source / "hello.txt").write_text("hello\n")
    repo = git_repo_from(source, tmp_path / "tiny", commit_time=1700000000)
    assert run_repro(repo, "lock").returncode == 0
    env = {**os.environ, **GIT_ENV}
    for args in (["add", "-A"], ["commit", "-qm", "pin the base"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)

    released = run_repro(repo, "release", "0.1.0", "--push", f"{IMAGE}:0.1.0")
    assert released.returncode == 0, released.stdout + released.stderr
    shown = json.loads(run_repro(repo, "show", "0.1.0", "--json").stdout)["release"]

    same = reproducible(repo, f"{IMAGE}:0.1.0")
    assert same["digest"] == shown["digest"]
    assert same["status"] == "pass", same
    assert f"the signed-off image is the verified one ({shown['digest']})" in same["evidence"]
    assert "repro.lock [[release]] 0.1.0" in same["evidence"][0]

    other = reproducible(repo, BASE)  # not the released image
    assert other["digest"] != shown["digest"]
    assert other["status"] == "fail", other
    assert (
        f"verified image {shown['digest']}, signed-off image {other['digest']}"
        in (other["evidence"])
    )

    stored = run_repro(repo, "signoff", ".", "--image", BASE, "--release", "0.1.0")
    assert stored.returncode == 2, stored.stdout + stored.stderr
    assert "release 0.1.0 is" in " ".join(stored.stderr.split())
