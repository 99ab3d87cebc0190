"""Output is a function of the input alone: the JSON of compare, lock --check and the
verification record is byte-identical across processes with different PYTHONHASHSEED
(set and dict-of-set orders change with the seed; two runs in one process never show it)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.unit.oci_factory import LayerFiles, write_image

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("0", "1", "2", "3141592")
TIMEOUT_SECONDS = 120


def _run(args: list[str], seed: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONHASHSEED": seed,
        "PYTHONPATH": str(REPO_ROOT),  # the tests package, for the record's fakes
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def _outputs(args: list[str], cwd: Path, expected_code: int) -> list[str]:
    outputs = []
    for seed in SEEDS:
        result = _run(args, seed, cwd)
        assert result.returncode == expected_code, result.stderr
        outputs.append(result.stdout)
    return outputs


DIR = {"type": tarfile.DIRTYPE, "mode": 0o755}


def _side(tag: str) -> tuple[LayerFiles, LayerFiles]:
    """Two layers whose files differ between the sides in many ways and causes at once."""
    base: LayerFiles = {
        "etc/": (b"", DIR),
        "etc/machine-id": (tag.encode() * 16, {}),
        "etc/ssh/ssh_host_rsa_key": (tag.encode() * 40, {}),
        "var/log/dpkg.log": (f"2024-01-0{tag} install\n".encode(), {}),
        "var/lib/apt/lists/a_Packages": (tag.encode(), {}),
        "var/lib/apt/lists/b_Packages": (tag.encode(), {}),
    }
    app: LayerFiles = {
        "app/": (b"", DIR),
        "app/one.txt": (b"same\n", {"mtime": 1700000000 + int(tag)}),
        "app/two.txt": (b"same\n", {"mode": 0o644 if tag == "1" else 0o664}),
        # Several fields of one entry differ at once: their order must not follow a set's.
        "app/three.txt": (
            b"same\n",
            {"mtime": 1700000000 + int(tag), "mode": 0o600 + int(tag), "uid": int(tag)},
        ),
        "app/list.txt": (b"a\nb\nc\n" if tag == "1" else b"c\nb\na\n", {}),
        "app/__pycache__/m.cpython-311.pyc": (
            b"\xa7\x0d\x0d\x0a\0\0\0\0" + bytes([int(tag)]) * 4 + b"\0\0\0\0code",
            {},
        ),
        "app/built-by": (f"built in /tmp/tmp.{tag * 6}/x\n".encode(), {}),
        "tmp/scratch-" + tag: (b"x", {}),
        "root/.cache/pip/http/" + tag: (b"x", {}),
        f"app/only-in-{tag}": (b"x", {"uid": int(tag)}),
    }
    return base, app


def test_compare_json_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    for tag in ("1", "2"):
        write_image(
            tmp_path / f"image-{tag}",
            list(_side(tag)),
            labels={"version": tag, "b": "x", "a": "y"},
            env=("PATH=/usr/bin", f"BUILD={tag}"),
        )
    outputs = _outputs(
        ["-m", "repro", "compare", "--json", "image-1", "image-2"], tmp_path, expected_code=1
    )
    assert outputs[0].startswith("{\n") and '"verdict": "differs"' in outputs[0]
    assert all(output == outputs[0] for output in outputs)


def test_lock_check_json_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name in ("api", "web", "worker"):
        (project / name).mkdir(parents=True)
        (project / name / "Dockerfile").write_text(
            "ARG BASE=localhost:5000/library/python:3.11-slim\n"
            f"FROM $BASE AS build-{name}\n"
            f"FROM localhost:5000/{name}/tools:1 AS tools\n"
            "FROM localhost:5000/library/busybox:1.35\n"
            f"COPY --from=localhost:5000/{name}/assets:2 /a /a\n"
            f"COPY --from=build-{name} /b /b\n"
            "RUN --mount=type=bind,from=localhost:5000/library/busybox:1.36,target=/m true\n"
        )
    outputs = _outputs(["-m", "repro", "lock", "--check", "--json"], project, expected_code=1)
    assert '"ok": false' in outputs[0]
    assert all(output == outputs[0] for output in outputs)


VERIFY_RECORD = """
import dataclasses, sys
from pathlib import Path
from repro.jsonout import dumps_stable
from repro.verify.service import VerifyOptions, verify
from tests.unit.fakes import FakeBuilder, FakeSourceControl, git_project

project = git_project(Path(sys.argv[1]))
for index in range(12):
    (project / f"file-{index}.txt").write_text(f"content {index}\\n")
result = verify(
    VerifyOptions(context=project, build_args={"Z": "1", "A": "2", "M": "3"}),
    builder=FakeBuilder(vary=True),
    source_control=FakeSourceControl(),
)
record = result.record()
# How long each build took is the one field that is not a function of the input.
builds = tuple(dataclasses.replace(build, seconds=0.0) for build in record.builds)
sys.stdout.write(dumps_stable(dataclasses.replace(record, builds=builds).to_json()))
"""


@pytest.mark.parametrize("seed", SEEDS[1:])
def test_verification_record_is_byte_identical_across_hash_seeds(tmp_path: Path, seed: str) -> None:
    first = _run(["-c", VERIFY_RECORD, str(tmp_path / "first")], SEEDS[0], REPO_ROOT)
    again = _run(["-c", VERIFY_RECORD, str(tmp_path / "again")], seed, REPO_ROOT)
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert '"verdict": "differs"' in first.stdout
    assert first.stdout == again.stdout
