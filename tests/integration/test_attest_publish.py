"""A release published as the ecosystem verifies it, checked with the real oracles.

`repro release --push --sign --attest provenance,sbom` to the local registry (no referrers
API: the referrers tag schema), then `repro publish` of the same image on the registry WITH
the OCI 1.1 referrers API (127.0.0.1:5446, started by scripts/setup). On both, the real
cosign 2.5 verifies each statement (`cosign verify-attestation`, the .att tag and the
Sigstore-bundle referrer), `cosign tree` lists them and `oras discover` finds the
referrers; `repro verify-release --from` finds them again, and also finds what `cosign
attest` attached. The SLSA statement is checked against the SLSA v1 schema.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repro.oci.mediatypes import SIGSTORE_BUNDLE_V03
from tests.integration.conftest import GIT_ENV, REPO_ROOT, git_repo_from, run_repro, skopeo_copy
from tests.integration.cosign_cli import (
    EMPTY_TRUSTED_ROOT,
    PLAIN,
    run_cosign,
    verify_attestation,
)
from tests.support.machine import LOCAL_REGISTRY, REFERRERS_REGISTRY, sbom_generator

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.slow]

RELEASE_TYPE = "https://repro.dev/release/v1"
SLSA_TYPE = "https://slsa.dev/provenance/v1"
PASSWORD = "test-attest-publish"
SCHEMA = json.loads(
    (REPO_ROOT / "tests" / "fixtures" / "slsa" / "provenance-v1.statement.schema.json").read_text()
)
REMOTE = "https://git.example/team/attest-app.git"


@dataclass(frozen=True)
class Published:
    repo: Path
    work: Path
    key: Path
    pub: Path
    digest: str  # the released image (its index, with BuildKit's attestations)
    repository: str  # test-attest-<run>/app, on both registries
    release_output: str

    def image(self, registry: str) -> str:
        return f"{registry}/{self.repository}@{self.digest}"

    def tag(self, registry: str) -> str:
        return f"{registry}/{self.repository}:1.0.0"


def repro(repo: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    return run_repro(repo, *args, env={"COSIGN_PASSWORD": password})


def oracle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, registry: str) -> Published:
    work = tmp_path_factory.mktemp("attest")
    staging = work / "staging"
    staging.mkdir()
    (staging / "Dockerfile").write_text(
        f"FROM {LOCAL_REGISTRY}/library/busybox:1.35\nRUN echo attested > /etc/attested\n"
    )
    repo = git_repo_from(staging, work / "app", commit_time=1700000000)
    git = ["git", "-C", str(repo)]
    env = {**os.environ, **GIT_ENV}
    # Credentials in the remote must never reach the provenance.
    subprocess.run(
        [*git, "remote", "add", "origin", REMOTE.replace("https://", "https://ci:s3cret@")],
        check=True,
    )
    assert repro(repo, "lock").returncode == 0
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-qm", "pin bases"], check=True, env=env)
    made = repro(repo, "keygen", "--out", str(work / "release"))
    assert made.returncode == 0, made.stdout + made.stderr
    key, pub = work / "release.key", work / "release.pub"

    repository = f"test-attest-{uuid.uuid4().hex[:10]}/app"
    target = f"{registry}/{repository}:1.0.0"
    released = repro(
        repo,
        "release",
        "1.0.0",
        "--push",
        target,
        "--sign",
        str(key),
        "--attest",
        "provenance,sbom",
        "--sbom-generator",
        sbom_generator(),
    )
    assert released.returncode == 0, released.stdout + released.stderr
    digest = json.loads(repro(repo, "show", "1.0.0", "--json").stdout)["release"]["digest"]
    # The same image on the registry with the referrers API, published there too.
    skopeo_copy(target, f"{REFERRERS_REGISTRY}/{repository}:1.0.0")
    again = repro(
        repo,
        "publish",
        "1.0.0",
        "--to",
        f"{REFERRERS_REGISTRY}/{repository}:1.0.0",
        "--key",
        str(key),
    )
    assert again.returncode == 0, again.stdout + again.stderr
    return Published(repo, work, key, pub, digest, repository, released.stdout)


def statements(output: str) -> Iterator[dict[str, Any]]:
    """The statements in `cosign verify-attestation`'s output (an envelope per line)."""
    for line in output.splitlines():
        envelope = json.loads(line)
        statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
        yield statement


def publication(published: Published, registry: str) -> dict[str, Any]:
    shown = json.loads(repro(published.repo, "show", "1.0.0", "--json").stdout)
    (found,) = [p for p in shown["published"] if p["image"] == published.image(registry)]
    return dict(found)


@pytest.mark.parametrize(
    ("registry_host", "listed_by"),
    [(LOCAL_REGISTRY, "the referrers tag"), (REFERRERS_REGISTRY, "the referrers API")],
    ids=["referrers-tag", "referrers-api"],
)
def test_cosign_verifies_each_statement_tree_lists_them_oras_discovers_them(
    published: Published, tmp_path: Path, registry_host: str, listed_by: str
) -> None:
    image = published.image(registry_host)
    record = publication(published, registry_host)
    assert {s["listed_by"] for s in record["statements"]} == {listed_by}

    for predicate_type, name in [(RELEASE_TYPE, RELEASE_TYPE), (SLSA_TYPE, "slsaprovenance1")]:
        verified = verify_attestation(image, published.pub, name)
        assert verified.returncode == 0, verified.stderr
        assert "The signatures were verified against the specified public key" in verified.stderr
        (statement,) = statements(verified.stdout)
        assert statement["predicateType"] == predicate_type
        assert statement["subject"][0]["digest"]["sha256"] == published.digest.split(":")[1]
    # The same statements as OCI 1.1 Sigstore bundles (cosign's --new-bundle-format).
    trusted_root = tmp_path / "trusted_root.json"
    trusted_root.write_text(EMPTY_TRUSTED_ROOT)
    bundled = verify_attestation(
        image,
        published.pub,
        RELEASE_TYPE,
        "--new-bundle-format",
        "--trusted-root",
        str(trusted_root),
    )
    assert bundled.returncode == 0, bundled.stderr
    other = tmp_path / "other"
    assert (
        run_cosign("generate-key-pair", "--output-key-prefix", str(other), password="x").returncode
        == 0
    )
    wrong_key = verify_attestation(image, Path(f"{other}.pub"), RELEASE_TYPE)
    assert wrong_key.returncode != 0 and "no matching attestations" in wrong_key.stderr

    tree = run_cosign("tree", *PLAIN, image)
    assert tree.returncode == 0, tree.stderr
    att_tag = published.digest.replace(":", "-") + ".att"
    assert f"Attestations for an image tag: {registry_host}/{published.repository}:{att_tag}" in (
        tree.stdout
    )
    for statement in record["statements"]:
        assert f"🍒 {statement['envelope']}" in tree.stdout

    discovered = oracle("oras", "discover", "--plain-http", "--format", "json", image)
    assert discovered.returncode == 0, discovered.stderr
    found = json.loads(discovered.stdout)["manifests"]
    assert sorted((m["digest"], m["artifactType"]) for m in found) == sorted(
        (s["referrer"], SIGSTORE_BUNDLE_V03) for s in record["statements"]
    )
    tags = json.loads(
        oracle("curl", "-fsS", f"http://{registry_host}/v2/{published.repository}/tags/list").stdout
    )["tags"]
    fallback_tag = published.digest.replace(":", "-")
    # Where the registry has the API, it lists them itself: no referrers tag is written.
    assert (fallback_tag in tags) is (registry_host == LOCAL_REGISTRY)


@pytest.mark.parametrize(
    ("registry_host", "listed_by"),
    [(LOCAL_REGISTRY, "the referrers tag"), (REFERRERS_REGISTRY, "the referrers API")],
)
def test_verify_release_from_finds_them_on_both_paths(
    published: Published, registry_host: str, listed_by: str
) -> None:
    checked = repro(
        published.repo,
        "verify-release",
        "1.0.0",
        "--pubkey",
        str(published.pub),
        "--from",
        published.tag(registry_host),
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    out = " ".join(checked.stdout.split())
    assert f"(from {listed_by})" in out
    assert "SLSA provenance v1 verifies:" in out
    assert "✔ the signed statement matches repro.lock" in out


def test_the_slsa_statement_is_slsa_v1_and_states_the_run(published: Published) -> None:
    verified = verify_attestation(
        published.image(REFERRERS_REGISTRY), published.pub, "slsaprovenance1"
    )
    assert verified.returncode == 0, verified.stderr
    (statement,) = statements(verified.stdout)
    errors = sorted(
        e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(statement)
    )
    assert errors == []

    record = json.loads(repro(published.repo, "show", "1.0.0", "--json").stdout)["release"]
    lock = (published.repo / "repro.lock").read_text()
    predicate = statement["predicate"]
    definition, details = predicate["buildDefinition"], predicate["runDetails"]
    assert definition["externalParameters"]["repository"] == REMOTE  # credentials stripped
    assert "s3cret" not in verified.stdout and "s3cret" not in lock
    assert definition["externalParameters"]["attest"] == ["provenance", "sbom"]
    dependencies = definition["resolvedDependencies"]
    assert dependencies[0] == {
        "uri": f"git+{REMOTE}@{record['commit']}",
        "digest": {"gitCommit": record["commit"]},
    }
    (base,) = record["base"]
    assert base["digest"] in lock  # the pin repro.lock holds
    assert dependencies[2]["digest"] == {"sha256": base["digest"].split(":")[1]}
    assert details["builder"]["version"]["buildkit"] == record["buildkit"]
    assert details["builder"]["version"]["buildx"] == record["buildx"]
    metadata = details["metadata"]
    assert metadata["startedOn"] == record["started_at"] < metadata["finishedOn"]
    assert metadata["finishedOn"] == record["verified_at"]
    evidence = predicate["repro_reproducibility"]
    builds = evidence["builds"]
    assert [(b["name"], b["builder"]) for b in builds] == [("A", "default"), ("B", "default")]
    # Each build's index carries its own BuildKit attestations, so the two index digests
    # differ; the images (platform manifests) are the same, and that is the evidence.
    assert builds[0]["digest"] == published.digest != builds[1]["digest"]
    assert evidence["identical"] is True
    assert evidence["attestationsApart"] == ["provenance", "sbom"]
    assert details["byproducts"] == [
        {"name": image["platform"], "digest": {"sha256": image["manifest"].split(":")[1]}}
        for image in record["image"]
    ]


def test_release_push_pushes_buildkits_attestations_compared_apart(published: Published) -> None:
    out = " ".join(published.release_output.split())
    assert "their BuildKit attestations (provenance, sbom) differ" in out
    assert "attestations A" in out and "attestations B" in out
    raw = oracle(
        "skopeo",
        "inspect",
        "--raw",
        "--tls-verify=false",
        f"docker://{published.tag(LOCAL_REGISTRY)}",
    )
    index = json.loads(raw.stdout)
    kinds = [m.get("annotations", {}).get("vnd.docker.reference.type") for m in index["manifests"]]
    assert kinds.count("attestation-manifest") == 1
    (attestation,) = [m for m in index["manifests"] if m.get("annotations")]
    manifest = json.loads(
        oracle(
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{LOCAL_REGISTRY}/{published.repository}@{attestation['digest']}",
        ).stdout
    )
    predicates = sorted(
        layer["annotations"]["in-toto.io/predicate-type"] for layer in manifest["layers"]
    )
    assert predicates == ["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"]


def test_show_lists_both_statements_and_where_they_were_published(published: Published) -> None:
    shown = json.loads(
        repro(published.repo, "show", "1.0.0", "--json", "--pubkey", str(published.pub)).stdout
    )
    assert [(s["name"], s["verified"]) for s in shown["statements"]] == [
        ("release", True),
        ("provenance", True),
    ]
    assert sorted(p["image"] for p in shown["published"]) == sorted(
        [published.image(LOCAL_REGISTRY), published.image(REFERRERS_REGISTRY)]
    )
    human = " ".join(repro(published.repo, "show", "1.0.0").stdout.split())
    assert "SLSA provenance v1 signed by SHA256:" in human
    short = published.digest[:19]
    assert f"published beside {LOCAL_REGISTRY}/{published.repository}@{short}" in human
    assert f"published beside {REFERRERS_REGISTRY}/{published.repository}@{short}" in human
    assert "in the referrers API" in human and "in the referrers tag" in human


def test_verify_release_from_an_image_attested_with_cosign_attest(
    published: Published, tmp_path: Path
) -> None:
    made = run_cosign("generate-key-pair", password="cosign-made", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    record = json.loads(repro(published.repo, "show", "1.0.0", "--json").stdout)["release"]
    predicate = tmp_path / "release.json"
    predicate.write_text(json.dumps(record))
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"anything": true}')

    def attested(name: str, *attestations: tuple[Path, str]) -> str:
        """A copy of the release in its own repository (the .att tag is per repository
        and digest), attested with `cosign attest`."""
        base = f"{LOCAL_REGISTRY}/{published.repository}-{name}"
        skopeo_copy(published.tag(LOCAL_REGISTRY), f"{base}:1.0.0")
        for path, predicate_type in attestations:
            done = run_cosign(
                "attest",
                "--key",
                str(tmp_path / "cosign.key"),
                "--tlog-upload=false",
                *PLAIN,
                "--type",
                predicate_type,
                "--predicate",
                str(path),
                f"{base}@{published.digest}",
                password="cosign-made",
            )
            assert done.returncode == 0, done.stderr
        return f"{base}:1.0.0"

    def verify(reference: str, pub: Path) -> subprocess.CompletedProcess[str]:
        return repro(
            published.repo, "verify-release", "1.0.0", "--pubkey", str(pub), "--from", reference
        )

    image = attested(
        "cosign", (unknown, "https://example.com/unknown/v1"), (predicate, RELEASE_TYPE)
    )
    ok = verify(image, tmp_path / "cosign.pub")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Found in cosign's .att tag (the output wraps: compare without whitespace).
    att_tag = published.digest.replace(":", "-") + ".att"
    assert f"app-cosign:{att_tag}layer" in "".join(ok.stdout.split())
    # With repro's key, cosign's attestation is someone else's: a verdict in one line.
    refused = verify(image, published.pub)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    (line,) = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert "(signed with another key, or altered)" in " ".join(refused.stderr.split())
    assert f"no attestation of type {RELEASE_TYPE}" in line

    only_unknown = attested("cosign-unknown", (unknown, "https://example.com/unknown/v1"))
    unknown_only = verify(only_unknown, tmp_path / "cosign.pub")
    assert unknown_only.returncode == 1
    assert "(found: https://example.com/unknown/v1)" in " ".join(unknown_only.stderr.split())
    assert "Traceback" not in unknown_only.stderr


def test_a_wrong_cosign_password_is_exit_2_in_one_line(published: Published) -> None:
    wrong = repro(
        published.repo,
        "publish",
        "1.0.0",
        "--to",
        published.tag(LOCAL_REGISTRY),
        "--key",
        str(published.key),
        password="not the password",
    )
    assert wrong.returncode == 2
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {published.key}: wrong password for this encrypted key"]
    assert "not the password" not in wrong.stderr + wrong.stdout
    key_body = published.key.read_text().splitlines()[1]
    assert key_body not in wrong.stderr + wrong.stdout
