"""The engine and registry scripts/setup provides are what repro needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repro.environment import EngineFacts, buildkit_version

pytestmark = [pytest.mark.docker, pytest.mark.registry]


def repro(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "repro"), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def test_engine_supports_rewrite_timestamp(engine: EngineFacts) -> None:
    assert buildkit_version(engine).supports_rewrite_timestamp
    assert engine.containerd_snapshotter


def test_doctor_reports_engine_buildx_buildkit_and_registry(registry: str) -> None:
    result = repro("doctor", "--json", "--registry", registry)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    checks = {check["name"]: check for check in report["checks"]}
    for name in ("docker engine", "buildx", "buildkit", "rewrite-timestamp", "git"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks[f"registry {registry}"]["status"] == "ok"


def test_doctor_without_a_daemon_exits_3_with_a_fix(tmp_path: object) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    result = repro("doctor", env=env)
    assert result.returncode == 3
    assert "Traceback" not in result.stdout + result.stderr
    assert "does not answer" in result.stdout
    assert "scripts/setup" in result.stdout


def test_unreachable_registry_fails_fast(registry: str) -> None:
    result = repro("doctor", "--json", "--registry", "127.0.0.1:1")
    assert result.returncode == 3
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["registry 127.0.0.1:1"]["status"] == "fail"


def test_seeded_busybox_is_a_two_platform_index(registry: str) -> None:
    raw = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry}/library/busybox:1.35",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    platforms = sorted(
        f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index["manifests"]
    )
    assert platforms == ["linux/amd64", "linux/arm64"]


def test_seeded_python_base_has_python(registry: str) -> None:
    result = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            f"{registry}/library/python:3.11-slim",
            "python3",
            "-c",
            "import sys, venv; print(sys.version_info[:2])",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 11)"
