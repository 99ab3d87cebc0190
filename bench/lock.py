"""`repro lock` on a generated project: 500 Dockerfiles, 2,000 references, 50 unique tags.

Targets (issue 4): lock < 3 s with exactly one request per unique tag, >= 10x faster than
`skopeo inspect --raw` per reference, and `repro lock --check` with nothing to do < 1 s.
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
from repro.errors import RegistryError
from repro.lock.plan import Mode
from repro.lock.service import LockRequest, run_lock
from repro.registry.model import ManifestKey
from repro.registry.resolver import ImageResolver

REGISTRY = os.environ.get("REPRO_TEST_REGISTRY", "localhost:5000")
SOURCE = f"{REGISTRY}/library/busybox:1.35"
REPOSITORY = "bench/lock"
FILES, REFERENCES, TAGS = 500, 2000, 50
REPRO = str(Path(sys.executable).parent / "repro")


def tag(index: int) -> str:
    return f"t{index:02d}"


def _exists(key: ManifestKey) -> bool:
    try:
        ImageResolver().resolve_all([key])
    except RegistryError:
        return False
    return True


def ensure_tags() -> None:
    """Create the 50 tags (copies of busybox) that are not there yet."""
    for index in range(TAGS):
        if _exists(ManifestKey(REGISTRY, REPOSITORY, tag(index))):
            continue
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--all",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                f"docker://{SOURCE}",
                f"docker://{REGISTRY}/{REPOSITORY}:{tag(index)}",
            ],
            check=True,
        )


def references() -> list[str]:
    return [f"{REGISTRY}/{REPOSITORY}:{tag(i % TAGS)}" for i in range(REFERENCES)]


def generate(root: Path) -> None:
    refs = references()
    per_file = REFERENCES // FILES
    for number in range(FILES):
        a, b, c, d = refs[number * per_file : (number + 1) * per_file]
        directory = root / f"svc{number // 50:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        name = "Dockerfile" if number % 50 == 0 else f"app{number:03d}.Dockerfile"
        (directory / name).write_text(
            f"# service {number}\n"
            f"FROM {a} AS build\n"
            "RUN echo build > /out\n"
            f"FROM {b}\n"
            f"COPY --from={c} --link /bin/busybox /usr/local/bin/bb\n"
            f"RUN --mount=type=bind,from={d},target=/m \\\n"
            "    --mount=type=cache,target=/c true\n"
            "COPY --from=build /out /out\n"
        )


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started, done.returncode


@register("lock")
def bench_lock() -> Result:
    result = Result("lock: 500 Dockerfiles, 2,000 references, 50 tags")
    ensure_tags()
    with tempfile.TemporaryDirectory(prefix="repro-bench-lock-") as temp:
        base = Path(temp)
        pristine = base / "pristine"
        generate(pristine)

        # 1. in-process, counting manifest requests
        project = base / "inproc"
        shutil.copytree(pristine, project)
        resolver = ImageResolver()
        started = time.perf_counter()
        outcome = run_lock(LockRequest(), cwd=project, resolver=resolver)
        lock_seconds = time.perf_counter() - started
        pinned = sum(1 for ref in outcome.plan.references if ref.action.value == "pinned")
        tag_requests = resolver.counter.by_method.get("GET", 0)
        result.add(
            "files", len(outcome.files_scanned), str(FILES), ok=len(outcome.files_scanned) == FILES
        )
        result.add("references pinned", pinned, str(REFERENCES), ok=pinned == REFERENCES)
        result.add("repro lock (in-process) s", lock_seconds, "< 3 s", ok=lock_seconds < 3)
        result.add(
            "tag manifest requests (GET, body hashed)",
            tag_requests,
            f"== {TAGS}",
            ok=tag_requests == TAGS,
        )
        result.add(
            "manifest requests, total",
            resolver.counter.manifest_requests,
            f"== {TAGS}",
            ok=resolver.counter.manifest_requests == TAGS,
        )

        # 2. the CLI, a fresh process, as a user runs it
        project = base / "cli"
        shutil.copytree(pristine, project)
        cli_seconds, code = timed([REPRO, "lock", "--json"], project)
        result.add(
            "repro lock (CLI process) s", cli_seconds, "< 3 s", ok=code == 0 and cli_seconds < 3
        )

        # 3. --check with nothing to do
        check_started = time.perf_counter()
        check = run_lock(LockRequest(mode=Mode.CHECK), cwd=project, resolver=ImageResolver())
        check_seconds = time.perf_counter() - check_started
        result.add(
            "repro lock --check (in-process) s",
            check_seconds,
            "< 1 s",
            ok=check_seconds < 1 and not check.plan.offenders,
        )
        cli_check, code = timed([REPRO, "lock", "--check", "--json"], project)
        result.add(
            "repro lock --check (CLI process) s", cli_check, "< 1 s", ok=code == 0 and cli_check < 1
        )

        # 4. the baseline: one skopeo process per reference
        started = time.perf_counter()
        for ref in references():
            subprocess.run(
                ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
                capture_output=True,
                check=True,
            )
        skopeo_seconds = time.perf_counter() - started
        result.add("skopeo inspect --raw x 2,000 s", skopeo_seconds)
        ratio = skopeo_seconds / cli_seconds
        result.add("speed-up vs skopeo (CLI lock)", round(ratio, 1), ">= 10x", ok=ratio >= 10)
        result.add("speed-up vs skopeo (in-process)", round(skopeo_seconds / lock_seconds, 1))
    return result
