"""`repro compare` with registry references: fixtures pushed to the real local registry."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import REPO_ROOT, repro_bin

pytestmark = [pytest.mark.registry]

FIXTURES = REPO_ROOT / "fixtures"
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}


def _push(tar: Path, ref: str, digest_file: Path) -> str:
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--digestfile",
            str(digest_file),
            f"oci-archive:{tar}",
            f"docker://{ref}",
        ],
        check=True,
    )
    return digest_file.read_text().strip()


@pytest.fixture(scope="module")
def pushed(registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """name -> tag reference; name + '@' -> digest reference."""
    work = tmp_path_factory.mktemp("pushed")
    refs: dict[str, str] = {}
    for name, tar in {
        "clock-a": FIXTURES / "clock-in-content" / "a.tar",
        "clock-b": FIXTURES / "clock-in-content" / "b.tar",
    }.items():
        ref = f"{registry}/test-compare/clock:{name}"
        digest = _push(tar, ref, work / f"{name}.digest")
        refs[name] = ref
        refs[name + "@"] = f"{registry}/test-compare/clock@{digest}"
    return refs


def _compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [repro_bin(), "compare", *args], capture_output=True, text=True, env=ENV, timeout=120
    )


def test_tag_vs_tag_names_the_file_instruction_and_cause(pushed: dict[str, str]) -> None:
    result = _compare(pushed["clock-a"], pushed["clock-b"])
    assert result.returncode == 1, result.stderr
    assert "RUN date > /built-at && sleep 1" in result.stdout
    assert "/built-at" in result.stdout
    assert "clock-in-content" in result.stdout


def test_registry_json_matches_the_local_tars(pushed: dict[str, str]) -> None:
    remote = _compare("--json", pushed["clock-a@"], pushed["clock-b"])
    local = _compare(
        "--json",
        str(FIXTURES / "clock-in-content" / "a.tar"),
        str(FIXTURES / "clock-in-content" / "b.tar"),
    )
    assert remote.returncode == local.returncode == 1
    assert json.loads(remote.stdout)["differences"] == json.loads(local.stdout)["differences"]


def test_digest_ref_vs_its_local_tar_is_identical(pushed: dict[str, str]) -> None:
    result = _compare(pushed["clock-b@"], str(FIXTURES / "clock-in-content" / "b.tar"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("identical")


def test_ref_vs_differing_local_tar_differs(pushed: dict[str, str]) -> None:
    result = _compare(pushed["clock-a"], str(FIXTURES / "clock-in-content" / "b.tar"))
    assert result.returncode == 1
    assert "/built-at" in result.stdout


def test_unreachable_registry_is_exit_3_quickly() -> None:
    started = time.monotonic()
    result = _compare("localhost:5999/test-compare/clock:a", "localhost:5999/test-compare/clock:b")
    assert result.returncode == 3
    assert "localhost:5999 is unreachable" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 15


def test_missing_local_path_is_still_exit_2(tmp_path: Path) -> None:
    result = _compare(str(tmp_path / "nope.tar"), str(FIXTURES / "identical" / "a.tar"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr + result.stdout
