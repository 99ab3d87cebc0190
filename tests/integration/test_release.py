"""Releases end to end: record, push, sign and publish 1.3.0 and 1.4.0 of driftwood with a
base bump between them, then ask what shipped, diff, rebuild and detect tampering."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repro.build.buildx import build_oci
from repro.build.model import BuildRequest
from repro.oci.mediatypes import SIGSTORE_BUNDLE_V03
from repro.registry.client import client_for
from repro.registry.skopeo import push_oci_archive
from tests.integration.conftest import GIT_ENV, REPO_ROOT, git_repo_from, run_repro, skopeo_copy

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

SEEDED = "localhost:5000/library/python:3.11-slim"
# Unique per run: the registry is shared by every engineer's test runs.
RUN_ID = uuid.uuid4().hex[:10]
BASE = f"localhost:5000/test-release-{RUN_ID}/python:3.11-slim"
IMAGE = f"localhost:5000/test-release-{RUN_ID}/driftwood"
PASSWORD = {"COSIGN_PASSWORD": "test-release"}  # for keygen and every signing command


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_repro(repo, *args, env=PASSWORD)


def git(repo: Path, *args: str, when: int) -> None:
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": f"@{when} +0000"}
    env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"]
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


@dataclass(frozen=True)
class Released:
    repo: Path
    key: Path
    pub: Path


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, registry: str) -> Released:
    work = tmp_path_factory.mktemp("release")
    skopeo_copy(SEEDED, BASE)  # our own base tag, at the seeded image
    staging = work / "staging"
    shutil.copytree(REPO_ROOT / "examples" / "driftwood", staging)
    (staging / "Dockerfile.naive").unlink()
    dockerfile = staging / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(SEEDED, BASE))
    repo = git_repo_from(staging, work / "driftwood", commit_time=1700000000)

    assert run(repo, "lock").returncode == 0
    git(repo, "add", "-A", when=1700000100)
    git(repo, "commit", "-qm", "pin bases", when=1700000100)
    git(repo, "tag", "v1.3.0", when=1700000100)
    assert run(repo, "keygen", "--out", str(work / "release")).returncode == 0
    key, pub = work / "release.key", work / "release.pub"

    first = run(repo, "release", "1.3.0", "--push", f"{IMAGE}:1.3.0", "--sign", str(key))
    assert first.returncode == 0, first.stdout + first.stderr
    assert (
        run(repo, "publish", "1.3.0", "--to", f"{IMAGE}:1.3.0", "--key", str(key)).returncode == 0
    )

    # Bump the base: a different image under the same tag.
    bump = work / "bump"
    bump.mkdir()
    (bump / "Dockerfile").write_text(f"FROM {SEEDED}\nRUN echo bump > /etc/bump\n")
    build_oci(BuildRequest(context=bump, dest=work / "bump.tar", source_date_epoch=1700000000))
    push_oci_archive(work / "bump.tar", BASE, client_for("localhost:5000").skopeo_access())
    assert run(repo, "lock", "--update").returncode == 0
    git(repo, "add", "-A", when=1700000200)
    git(repo, "commit", "-qm", "bump python base", when=1700000200)

    second = run(repo, "release", "1.4.0", "--push", f"{IMAGE}:1.4.0", "--sign", str(key))
    assert second.returncode == 0, second.stdout + second.stderr
    assert (
        run(repo, "publish", "1.4.0", "--to", f"{IMAGE}:1.4.0", "--key", str(key)).returncode == 0
    )

    git(repo, "add", "-A", when=1700000300)
    git(repo, "commit", "-qm", "record 1.4.0", when=1700000300)
    (repo / "driftwood" / "__init__.py").write_text("# later work\n")
    git(repo, "commit", "-qam", "later work", when=1700000400)
    return Released(repo, key, pub)


def show(released: Released, version: str) -> dict[str, Any]:
    result = run(released.repo, "show", version, "--json", "--pubkey", str(released.pub))
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def registry_digest(reference: str) -> str:
    out = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            f"docker://{reference}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def test_show_says_what_shipped_in_1_4_0(released: Released) -> None:
    data = show(released, "1.4.0")
    record = data["release"]
    assert record["version"] == "1.4.0" and "tag" not in record  # HEAD had no tag
    assert record["digest"] == registry_digest(f"{IMAGE}:1.4.0")
    assert record["repository"] == f"{IMAGE}:1.4.0"
    assert record["source_date_epoch"] == 1700000200
    assert [b["reference"] for b in record["base"]] == [BASE]
    assert record["base"][0]["digest"] == registry_digest(BASE)
    (image,) = record["image"]
    assert image["platform"] == "linux/amd64"
    assert "RUN echo bump > /etc/bump" in [layer.get("instruction") for layer in image["layer"]]
    assert image["size"] > sum(layer["size"] for layer in image["layer"])  # + config
    assert data["signature"]["present"] and data["signature"]["verified"] is True
    human = " ".join(run(released.repo, "show", "1.4.0").stdout.split())
    assert "RUN echo bump > /etc/bump" in human and "not checked (pass --pubkey)" in human
    assert show(released, "1.3.0")["release"]["tag"] == "v1.3.0"


def test_which_names_the_release_platform_and_instruction(released: Released) -> None:
    layers = show(released, "1.4.0")["release"]["image"][0]["layer"]
    bump = next(
        layer for layer in layers if layer.get("instruction") == "RUN echo bump > /etc/bump"
    )
    result = run(released.repo, "which", bump["digest"][:19])
    assert result.returncode == 0, result.stderr
    assert bump["digest"] in result.stdout
    assert "1.4.0" in result.stdout and "linux/amd64" in result.stdout
    assert "1.3.0" not in result.stdout
    shared = run(released.repo, "which", layers[0]["digest"], "--json")
    assert {hit["release"] for hit in json.loads(shared.stdout)["found"]} == {"1.3.0", "1.4.0"}
    assert run(released.repo, "which", "sha256:" + "0" * 64).returncode == 1


def test_diff_shows_the_base_bump_and_the_commits(released: Released) -> None:
    old = show(released, "1.3.0")["release"]["base"][0]["digest"]
    new = show(released, "1.4.0")["release"]["base"][0]["digest"]
    assert old != new
    result = run(released.repo, "diff", "1.3.0", "1.4.0")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert BASE in out and f"    {old}\n -> {new}" in out
    assert "bump python base" in out
    assert "added    layer 2  RUN echo bump > /etc/bump" in out


def test_rebuild_of_1_3_0_after_later_commits_matches_the_pushed_image(
    released: Released,
) -> None:
    result = run(released.repo, "rebuild", "1.3.0", "--against", f"{IMAGE}:1.3.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identical: the rebuild of 1.3.0 matches" in result.stdout
    assert registry_digest(f"{IMAGE}:1.3.0") in result.stdout


def test_verify_release_from_the_registry_and_tampering(released: Released) -> None:
    repo, pub = released.repo, str(released.pub)
    ok = run(repo, "verify-release", "1.3.0", "--pubkey", pub, "--from", f"{IMAGE}:1.3.0")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "matches repro.lock" in ok.stdout

    lockfile = repo / "repro.lock"
    original = lockfile.read_text()
    layer = show(released, "1.3.0")["release"]["image"][0]["layer"][-1]["digest"]
    flipped = layer[:-1] + ("0" if layer[-1] != "0" else "1")
    try:
        lockfile.write_text(original.replace(layer, flipped))
        for extra in ((), ("--from", f"{IMAGE}:1.3.0")):
            bad = run(repo, "verify-release", "1.3.0", "--pubkey", pub, *extra)
            assert bad.returncode == 1, bad.stdout + bad.stderr
            assert "predicate.image[0].layer[3].digest" in bad.stdout
            assert flipped in " ".join(bad.stdout.split())
    finally:
        lockfile.write_text(original)

    envelope = repo / ".repro" / "releases" / "1.3.0.dsse.json"
    saved = envelope.read_bytes()
    document = json.loads(saved)
    payload = document["payload"]
    document["payload"] = payload[:40] + ("A" if payload[40] != "A" else "B") + payload[41:]
    try:
        envelope.write_text(json.dumps(document))
        bad = run(repo, "verify-release", "1.3.0", "--pubkey", pub)
        assert bad.returncode == 1
        assert "signature does not verify" in bad.stderr
    finally:
        envelope.write_bytes(saved)
    assert run(repo, "verify-release", "1.3.0", "--pubkey", pub).returncode == 0


def test_signoff_report_is_stored_with_the_release_and_published_beside_it(
    released: Released,
) -> None:
    repo, key = released.repo, str(released.key)
    wrong = run(repo, "signoff", ".", "--image", f"{IMAGE}:1.4.0", "--release", "1.3.0")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert "release 1.3.0 is" in " ".join(wrong.stderr.split())

    signed = run(
        repo,
        "signoff",
        ".",
        "--image",
        f"{IMAGE}:1.4.0",
        "--release",
        "1.4.0",
        "--format",
        "json",
        "--sign",
        key,
    )
    assert signed.returncode in (0, 1), signed.stdout + signed.stderr
    stored = repo / ".repro" / "releases" / "1.4.0.signoff.json"
    assert json.loads(stored.read_text())["payloadType"] == "application/vnd.in-toto+json"

    published = run(repo, "publish", "1.4.0", "--to", f"{IMAGE}:1.4.0", "--key", key)
    assert published.returncode == 0, published.stdout + published.stderr
    assert "published 3 signed statements" in published.stdout
    digest = registry_digest(f"{IMAGE}:1.4.0")

    def raw(tag: str) -> dict[str, Any]:
        out = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{IMAGE}:{tag}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        document: dict[str, Any] = json.loads(out)
        return document

    # Beside the release statement and its provenance (published by `release --sign`
    # and `publish` before), the sign-off: a Sigstore-bundle referrer and a .att layer.
    listed = raw(digest.replace(":", "-"))["manifests"]
    bundles = [m for m in listed if m["artifactType"] == SIGSTORE_BUNDLE_V03]
    assert sorted(m["annotations"]["dev.sigstore.bundle.predicateType"] for m in bundles) == [
        "https://repro.dev/release/v1",
        "https://repro.dev/signoff/v1",
        "https://slsa.dev/provenance/v1",
    ]
    layers = raw(digest.replace(":", "-") + ".att")["layers"]
    assert sorted(layer["annotations"]["predicateType"] for layer in layers) == sorted(
        m["annotations"]["dev.sigstore.bundle.predicateType"] for m in bundles
    )
    # The release signature is still the one verify-release finds in the registry.
    check = run(
        repo, "verify-release", "1.4.0", "--pubkey", str(released.pub), "--from", f"{IMAGE}:1.4.0"
    )
    assert check.returncode == 0, check.stdout + check.stderr
