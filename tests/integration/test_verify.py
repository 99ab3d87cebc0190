"""`repro verify` against the real engine: identical builds pass, each known bug is explained."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO_ROOT, git_repo_from, repro_bin

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "verify"


def verify(context: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [repro_bin(), "verify", str(context), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def record(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert not result.stdout.startswith("Traceback"), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_driftwood_verifies_identical(driftwood_repo: Path, registry: str) -> None:
    result = verify(driftwood_repo, "--json")
    assert result.returncode == 0, result.stderr
    data = record(result)
    assert data["verdict"] == "identical"
    assert data["source_date_epoch"] == 1700000000
    assert data["image_digest_a"] == data["image_digest_b"]
    assert data["manifests"][0]["platform"] == "linux/amd64"
    assert data["manifests"][0]["digest_a"] == data["manifests"][0]["digest_b"]
    sources = [build["source"] for build in data["builds"]]
    assert "umask 022" in sources[0] and "umask 002" in sources[1]


def test_human_output_names_epoch_digest_and_verdict(driftwood_repo: Path, registry: str) -> None:
    result = verify(driftwood_repo)
    assert result.returncode == 0, result.stderr
    assert "SOURCE_DATE_EPOCH  1700000000 (2023-11-14T22:13:20Z)" in result.stdout
    assert "reproducible: both builds are bit-identical" in result.stdout
    # Progress goes to stderr, with the step names.
    assert "[A]" in result.stderr and "[B]" in result.stderr
    assert "COPY requirements.txt" in result.stderr


@pytest.mark.parametrize(
    ("fixture", "args", "cause", "instruction", "path"),
    [
        ("clock", (), "clock-in-content", "RUN date > /built-at && sleep 1", "/built-at"),
        (
            "copy-mtime",
            ("--no-rewrite-timestamp",),
            "rewrite-timestamp",
            "COPY message.txt /srv/message.txt",
            "/srv/message.txt",
        ),
        ("pyc", (), "pyc-timestamp", "RUN python3 -m compileall -q /app", None),
        (
            "dpkg-log",
            (),
            "package-manager-state",
            "RUN mkdir -p /tmp/pkg/DEBIAN",
            "/var/log/dpkg.log",
        ),
        (
            "random-token",
            (),
            "random-content",
            "RUN cat /proc/sys/kernel/random/uuid > /etc/instance-token",
            "/etc/instance-token",
        ),
    ],
)
def test_known_bug_is_found_with_cause_and_instruction(
    fixture: str,
    args: tuple[str, ...],
    cause: str,
    instruction: str,
    path: str | None,
    tmp_path: Path,
    registry: str,
) -> None:
    repo = git_repo_from(FIXTURES / fixture, tmp_path / fixture)
    result = verify(repo, "--json", *args)
    assert result.returncode == 1, result.stderr
    data = record(result)
    assert data["verdict"] == "differs"
    matching = [d for d in data["comparison"]["differences"] if d["cause"]["id"] == cause]
    assert matching, [
        (d["path"], d["field"], d["cause"]["id"]) for d in data["comparison"]["differences"]
    ]
    assert any((d["instruction"] or "").startswith(instruction) for d in matching), matching
    if path is not None:
        assert any(d["path"] == path for d in matching), matching
    else:
        assert any(d["path"].endswith(".pyc") for d in matching), matching
    assert all(d["cause"]["fix"] for d in matching)


def test_human_output_explains_the_difference(tmp_path: Path, registry: str) -> None:
    repo = git_repo_from(FIXTURES / "random-token", tmp_path / "random-token")
    result = verify(repo)
    assert result.returncode == 1, result.stderr
    out = " ".join(result.stdout.split())
    assert "not reproducible" in out
    assert "/etc/instance-token" in out
    assert "random-content" in out
    assert "fix:" in out


def test_require_locked_refuses_an_unpinned_base(tmp_path: Path, registry: str) -> None:
    repo = git_repo_from(FIXTURES / "unpinned", tmp_path / "unpinned")
    result = verify(repo, "--require-locked")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "Dockerfile:2: localhost:5000/library/busybox:1.35" in message
    assert "repro lock" in message
    assert "Traceback" not in result.stderr


def test_keep_keeps_both_oci_tars(tmp_path: Path, registry: str) -> None:
    repo = git_repo_from(FIXTURES / "random-token", tmp_path / "repo")
    keep = tmp_path / "kept"
    result = verify(repo, "--keep", str(keep))
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in keep.iterdir()) == ["a.oci.tar", "b.oci.tar"]


def test_build_failure_exits_3_with_the_failing_step(tmp_path: Path, registry: str) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "Dockerfile").write_text(
        "FROM localhost:5000/library/busybox:1.35\nRUN echo tide-table-missing >&2 && exit 4\n"
    )
    repo = git_repo_from(source, tmp_path / "repo")
    result = verify(repo)
    assert result.returncode == 3
    assert "exit code: 4" in result.stderr
    assert "tide-table-missing" in result.stderr
    assert "Traceback" not in result.stderr
