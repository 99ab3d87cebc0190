"""Two independent no-cache builds of examples/driftwood give the same bytes."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from repro.build.buildx import build_oci
from repro.build.model import BuildRequest
from repro.environment import EngineFacts
from repro.errors import BuildFailed
from repro.git import commit_epoch

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]


def index_digest(oci_tar: Path) -> str:
    with tarfile.open(oci_tar) as archive:
        member = archive.extractfile("index.json")
        assert member is not None
        index = json.load(member)
    (manifest,) = index["manifests"]
    return str(manifest["digest"])


def test_driftwood_builds_bit_identical_twice(
    engine: EngineFacts, registry: str, driftwood_repo: Path, tmp_path: Path
) -> None:
    epoch = commit_epoch(driftwood_repo)
    assert epoch == 1700000000
    digests = []
    for name in ("a", "b"):
        dest = build_oci(
            BuildRequest(
                context=driftwood_repo, dest=tmp_path / f"{name}.tar", source_date_epoch=epoch
            )
        )
        digests.append(index_digest(dest))
    assert digests[0] == digests[1]
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_without_rewrite_timestamp_the_builds_differ(
    engine: EngineFacts, registry: str, driftwood_repo: Path, tmp_path: Path
) -> None:
    # The control experiment: what rewrite-timestamp buys us.
    epoch = commit_epoch(driftwood_repo)
    digests = []
    for name in ("a", "b"):
        request = BuildRequest(
            context=driftwood_repo,
            dest=tmp_path / f"{name}.tar",
            source_date_epoch=epoch,
            rewrite_timestamp=False,
        )
        digests.append(index_digest(build_oci(request)))
        time.sleep(1.1)  # file times inside the build are taken at second resolution
    assert digests[0] != digests[1]


def test_build_failure_names_the_step(engine: EngineFacts, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM localhost:5000/library/busybox:1.35\nRUN echo about to fail && exit 7\n"
    )
    with pytest.raises(BuildFailed) as caught:
        build_oci(BuildRequest(context=tmp_path, dest=tmp_path / "x.tar", source_date_epoch=0))
    assert "exit code: 7" in caught.value.message or "exit code: 7" in caught.value.log_tail
    assert caught.value.exit_code == 3


def test_driftwood_image_serves_its_health_endpoint(engine: EngineFacts, registry: str) -> None:
    tag = f"repro-test/driftwood:{uuid.uuid4().hex[:8]}"
    context = Path(__file__).resolve().parents[2] / "examples" / "driftwood"
    subprocess.run(
        ["docker", "buildx", "build", "--load", "-t", tag, "--provenance=false", str(context)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", tag], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        probe = "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/healthz').read().decode())"
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(
                ["docker", "exec", container, "python3", "-c", probe],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "ok"}
        user = subprocess.run(
            ["docker", "exec", container, "id", "-u"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert user == "10001"
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
