"""`repro verify` against two plain `docker buildx build --no-cache` runs, measured together.

Targets (issue 5): one builder <= 1.15x the two plain builds back to back; two builders
in parallel <= 0.7x. Measured on examples/driftwood and on a fixture with a large layer,
each in a fresh git repository; every measurement alternates with its baseline so that
machine noise hits both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Result, register

REPO_ROOT = Path(__file__).resolve().parents[1]
REPRO = str(Path(sys.executable).parent / "repro")
SECOND_BUILDER = os.environ.get("REPRO_SECOND_BUILDER", "repro-b")
ROUNDS = int(os.environ.get("REPRO_BENCH_ROUNDS", "2"))

LARGE_LAYER = """FROM localhost:5000/library/busybox:1.35
# 256 MiB of deterministic bytes: the cost of building, exporting and comparing a big layer.
RUN dd if=/dev/zero bs=1048576 count=256 2>/dev/null | tr '\\\\000' 'w' > /payload
"""


def _git_repo(source: Path | None, dest: Path, dockerfile: str | None = None) -> Path:
    if source is not None:
        shutil.copytree(source, dest)
    else:
        dest.mkdir()
    if dockerfile is not None:
        (dest / "Dockerfile").write_text(dockerfile)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True, env=env)
    return dest


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - started


def _plain_builds(context: Path, out: Path) -> float:
    epoch = subprocess.run(
        ["git", "-C", str(context), "log", "-1", "--pretty=%ct"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    total = 0.0
    for name in ("a", "b"):
        total += _seconds(
            [
                "docker",
                "buildx",
                "build",
                "--no-cache",
                "--provenance=false",
                "--sbom=false",
                "--build-arg",
                f"SOURCE_DATE_EPOCH={epoch}",
                "--output",
                f"type=oci,dest={out / name}.tar,rewrite-timestamp=true",
                str(context),
            ]
        )
    return total


def _measure(result: Result, label: str, context: Path, work: Path) -> None:
    baseline, single, double = [], [], []
    for _ in range(ROUNDS):
        baseline.append(_plain_builds(context, work))
        single.append(_seconds([REPRO, "verify", str(context)]))
        double.append(
            _seconds(
                [REPRO, "verify", str(context), "--builder", "default", "--builder", SECOND_BUILDER]
            )
        )
    base, one, two = min(baseline), min(single), min(double)
    result.add(f"{label}: 2 plain buildx builds s", round(base, 2))
    result.add(f"{label}: repro verify, 1 builder s", round(one, 2))
    result.add(f"{label}: repro verify, 2 builders s", round(two, 2))
    result.add(
        f"{label}: 1 builder / plain", round(one / base, 2), "<= 1.15", ok=one / base <= 1.15
    )
    result.add(
        f"{label}: 2 builders / plain", round(two / base, 2), "<= 0.70", ok=two / base <= 0.7
    )


@register("verify")
def bench_verify() -> Result:
    result = Result(f"verify: repro verify vs two plain no-cache builds (best of {ROUNDS})")
    with tempfile.TemporaryDirectory(prefix="repro-bench-verify-") as tmp:
        base = Path(tmp)
        driftwood = _git_repo(REPO_ROOT / "examples" / "driftwood", base / "driftwood")
        large = _git_repo(None, base / "large", LARGE_LAYER)
        _measure(result, "driftwood", driftwood, base)
        _measure(result, "256 MiB layer", large, base)
    return result
