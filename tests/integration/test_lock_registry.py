"""`repro lock` against the real local registry and engine: no mocks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from repro.registry.model import ManifestKey
from repro.registry.resolver import ImageResolver
from tests.integration.conftest import skopeo_copy

pytestmark = [pytest.mark.registry]

BUSYBOX = "localhost:5000/library/busybox"
PYTHON = "localhost:5000/library/python"
DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})")


def repro(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "repro"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def skopeo_digest(ref: str) -> str:
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


EVERY_KIND = f"""\
# syntax={BUSYBOX}:1.35
ARG BASE={BUSYBOX}:1.35
FROM --platform=linux/amd64 ${{BASE}} AS build
from {PYTHON}:3.11-slim as Py
COPY --from={BUSYBOX}:latest --link --chown=0:0 /bin/busybox /tmp/bb
ADD --from={PYTHON}:3.11 --link /etc/os-release /tmp/os
COPY --from=build /bin/true /t
COPY --from=py /etc/hostname /h
COPY --from=0 /etc/hostname /h0
RUN --mount=type=bind,from={BUSYBOX}:1.35,target=/a \\
    --mount=type=cache,target=/c --mount=type=bind,target=/b,from={PYTHON}:3.11-slim true
FROM scratch
"""


def test_every_reference_kind_is_pinned_to_what_skopeo_sees(registry: str, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(EVERY_KIND)
    result = repro(tmp_path, "lock", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    kinds = sorted({ref["kind"] for ref in report["references"]})
    assert kinds == ["copy-from", "from", "mount-from", "syntax"]
    assert {ref["action"] for ref in report["references"]} == {"pinned"}
    assert len(report["references"]) == 7  # stages, stage index and scratch left out
    text = dockerfile.read_text()
    expected = {
        f"{BUSYBOX}:1.35": skopeo_digest(f"{BUSYBOX}:1.35"),
        f"{BUSYBOX}:latest": skopeo_digest(f"{BUSYBOX}:latest"),
        f"{PYTHON}:3.11-slim": skopeo_digest(f"{PYTHON}:3.11-slim"),
        f"{PYTHON}:3.11": skopeo_digest(f"{PYTHON}:3.11"),
    }
    for ref, digest in expected.items():
        assert f"{ref}@{digest}" in text
    # the exact lines: syntax directive, ARG default (not the FROM ${BASE}), flags kept
    lines = text.splitlines()
    assert lines[0] == f"# syntax={BUSYBOX}:1.35@{expected[f'{BUSYBOX}:1.35']}"
    assert lines[1] == f"ARG BASE={BUSYBOX}:1.35@{expected[f'{BUSYBOX}:1.35']}"
    assert lines[2] == "FROM --platform=linux/amd64 ${BASE} AS build"
    assert DIGEST.sub("", text) == EVERY_KIND
    lock = (tmp_path / "repro.lock").read_text()
    assert f'digest = "{expected[f"{BUSYBOX}:1.35"]}"' in lock
    assert '"linux/amd64" = "sha256:' in lock and '"linux/arm64" = "sha256:' in lock

    before = (dockerfile.read_bytes(), (tmp_path / "repro.lock").read_bytes())
    again = repro(tmp_path, "lock")
    assert again.returncode == 0, again.stderr
    assert (dockerfile.read_bytes(), (tmp_path / "repro.lock").read_bytes()) == before
    check = repro(tmp_path, "lock", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


BUILDABLE = f"""\
ARG BASE={BUSYBOX}:1.35
FROM ${{BASE}} AS build
RUN echo hi > /hi
FROM {BUSYBOX}:latest
COPY --from=build /hi /hi
COPY --from={BUSYBOX}:1.35 --link /bin/busybox /bb
RUN --mount=type=bind,from={BUSYBOX}:1.35,target=/m \\
    --mount=type=bind,from={BUSYBOX}:latest,target=/n test -e /m/bin/busybox -a -e /n/bin/busybox
"""


@pytest.mark.docker
def test_rewritten_dockerfile_builds(registry: str, tmp_path: Path, engine: object) -> None:
    (tmp_path / "Dockerfile").write_text(BUILDABLE)
    result = repro(tmp_path, "lock", "--source-policy", "policy.json")
    assert result.returncode == 0, result.stderr
    assert DIGEST.search((tmp_path / "Dockerfile").read_text())
    build = subprocess.run(
        ["docker", "buildx", "build", "--progress=plain", "-o", "type=cacheonly", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    digest = skopeo_digest(f"{BUSYBOX}:1.35")
    assert f"{BUSYBOX}:1.35@{digest}" in build.stderr


@pytest.mark.docker
def test_source_policy_pins_an_unedited_dockerfile(
    registry: str, tmp_path: Path, engine: object
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {BUSYBOX}:1.35\nRUN true\n")
    result = repro(tmp_path, "lock", "--dry-run", "--source-policy", "policy.json")
    assert result.returncode == 0 and not (tmp_path / "policy.json").exists()
    assert repro(tmp_path, "lock", "--source-policy", "policy.json").returncode == 0
    (tmp_path / "Dockerfile").write_text(f"FROM {BUSYBOX}:1.35\nRUN true\n")  # unpin again
    env = {**os.environ, "EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": str(tmp_path / "policy.json")}
    build = subprocess.run(
        ["docker", "buildx", "build", "--progress=plain", "-o", "type=cacheonly", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert f"{BUSYBOX}:1.35@{skopeo_digest(f'{BUSYBOX}:1.35')}" in build.stderr


def test_check_fails_on_one_unpinned_from_then_passes(registry: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(f"# base\n\nFROM {BUSYBOX}:1.35\nRUN true\n")
    failed = repro(tmp_path, "lock", "--check")
    assert failed.returncode == 1
    assert "Dockerfile:3:" in failed.stdout
    assert not (tmp_path / "repro.lock").exists()
    assert repro(tmp_path, "lock").returncode == 0
    passed = repro(tmp_path, "lock", "--check")
    assert passed.returncode == 0, passed.stdout
    (tmp_path / "repro.lock").unlink()
    unlocked = repro(tmp_path, "lock", "--check")
    assert unlocked.returncode == 1 and "repro.lock has no entry for it" in unlocked.stdout


def test_dry_run_prints_a_diff_and_writes_nothing(registry: str, tmp_path: Path) -> None:
    original = f"FROM {BUSYBOX}:1.35\r\n"
    (tmp_path / "Containerfile").write_bytes(original.encode())
    result = repro(tmp_path, "lock", "--dry-run")
    assert result.returncode == 0, result.stderr
    digest = skopeo_digest(f"{BUSYBOX}:1.35")
    assert f"-FROM {BUSYBOX}:1.35" in result.stdout
    assert f"+FROM {BUSYBOX}:1.35@{digest}" in result.stdout
    assert "+++ b/repro.lock" in result.stdout
    assert (tmp_path / "Containerfile").read_bytes() == original.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Containerfile"]


def test_update_after_retag_shows_old_and_new(registry: str, tmp_path: Path) -> None:
    tagged = f"{registry}/lock-test/retag-{uuid.uuid4().hex[:12]}:v1"
    skopeo_copy(f"{BUSYBOX}:1.35", tagged)
    (tmp_path / "Dockerfile").write_text(f"FROM {tagged}\n")
    assert repro(tmp_path, "lock").returncode == 0
    old = skopeo_digest(f"{BUSYBOX}:1.35")
    skopeo_copy(f"{PYTHON}:3.11-slim", tagged)  # the tag moves
    new = skopeo_digest(tagged)
    assert new != old

    kept = repro(tmp_path, "lock", "--json")
    assert kept.returncode == 0
    (ref,) = json.loads(kept.stdout)["references"]
    assert ref["action"] == "drifted" and ref["new_digest"] == old
    assert f"{tagged}@{old}" in (tmp_path / "Dockerfile").read_text()
    check = repro(tmp_path, "lock", "--check")  # the commit did not change: it passes
    assert check.returncode == 0 and "now serves" not in check.stdout + check.stderr
    online = repro(tmp_path, "lock", "--check", "--online")
    assert online.returncode == 0 and "now serves" in online.stderr  # a warning

    updated = repro(tmp_path, "lock", "--update", tagged.rsplit(":", 1)[0])
    assert updated.returncode == 0, updated.stderr
    assert f"{old} -> {new}" in updated.stdout  # whole: no terminal, nothing cut
    assert f"{tagged}@{new}" in (tmp_path / "Dockerfile").read_text()
    assert f'digest = "{new}"' in (tmp_path / "repro.lock").read_text()
    assert repro(tmp_path, "lock", "--check").returncode == 0


def test_down_registry_exits_3_quickly_and_writes_nothing(registry: str, tmp_path: Path) -> None:
    (tmp_path / "a.Dockerfile").write_text(f"FROM {BUSYBOX}:1.35\n")
    (tmp_path / "b.Dockerfile").write_text("FROM 127.0.0.1:1/library/busybox:1.35\n")
    started = time.monotonic()
    result = repro(tmp_path, "lock", timeout=30)
    assert result.returncode == 3
    assert time.monotonic() - started < 10
    assert "127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "a.Dockerfile").read_text() == f"FROM {BUSYBOX}:1.35\n"
    assert not (tmp_path / "repro.lock").exists()


def test_mirror_resolves_while_the_dockerfile_keeps_its_name(registry: str, tmp_path: Path) -> None:
    (tmp_path / "repro.toml").write_text(f'[mirrors]\n"docker.io" = "http://{registry}"\n')
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.35\n")
    result = repro(tmp_path, "lock")
    assert result.returncode == 0, result.stderr
    digest = skopeo_digest(f"{BUSYBOX}:1.35")
    assert (tmp_path / "Dockerfile").read_text() == f"FROM busybox:1.35@{digest}\n"
    assert 'reference = "docker.io/library/busybox:1.35"' in (tmp_path / "repro.lock").read_text()


def test_platform_restricts_what_is_recorded(registry: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {BUSYBOX}:1.35\n")
    result = repro(tmp_path, "lock", "--platform", "linux/arm64")
    assert result.returncode == 0, result.stderr
    lock = (tmp_path / "repro.lock").read_text()
    assert '"linux/arm64"' in lock and '"linux/amd64"' not in lock


def test_each_unique_reference_is_resolved_once(registry: str) -> None:
    resolver = ImageResolver()
    keys = [ManifestKey(registry, "library/busybox", "1.35")] * 5 + [
        ManifestKey(registry, "library/busybox", "latest"),
        ManifestKey(registry, "library/python", "3.11-slim"),
    ]
    resolved = resolver.resolve_all(keys)
    assert len(resolved) == 3
    # one GET per tag: its body gives the digest and the index's platforms
    assert resolver.counter.by_method == {"GET": 3}
    index = resolved[ManifestKey(registry, "library/busybox", "1.35")]
    assert index.digest == skopeo_digest(f"{BUSYBOX}:1.35")
    assert set(index.platforms or {}) == {"linux/amd64", "linux/arm64"}
