"""Hostile registries (issue 12 §1-3, §8): the fake registry misbehaves per repository and
`repro lock` / `repro compare` must exit 2 or 3 within the deadline, write nothing, print
no traceback and no secret. Run as a user runs repro: the installed CLI, a fresh process.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.crafted import Outcome, files_under
from tests.support.fake_registry import (
    FAKE_CREDENTIALS,
    TAG_MANIFEST,
    Behaviour,
    FakeRegistry,
)
from tests.support.machine import TLS
from tests.support.oci_image import canned_image

pytestmark = [pytest.mark.registry]

REPRO = str(Path(sys.executable).parent / "repro")
DEADLINE = 4  # REPRO_REGISTRY_TIMEOUT for these runs: small, to keep CI fast
WRONG_PASSWORD = "not-the-fake-password-0451"


def repro(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Outcome:
    environment = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "REPRO_REGISTRY_TIMEOUT": str(DEADLINE),
        "DOCKER_CONFIG": str(cwd / ".no-docker-config"),
        "HOME": str(cwd / ".home"),
        **(env or {}),
    }
    started = time.monotonic()
    done = subprocess.run(
        [REPRO, *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=timeout
    )
    return Outcome(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def project(tmp_path: Path, *references: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    lines = [f"FROM {ref} AS s{number}" for number, ref in enumerate(references)]
    (root / "Dockerfile").write_text("\n".join(lines) + "\nRUN true\n")
    (root / "repro.lock").write_text("# repro.lock: image references\n\nschema_version = 1\n")
    return root


def assert_refused(run: Outcome, code: int, *phrases: str, within: float = DEADLINE + 8) -> None:
    assert run.code == code, run.output
    assert "Traceback" not in run.output, run.output
    assert run.stderr.startswith("error: "), run.output
    assert "\nhint: " in run.stderr or run.stderr.count("\n") == 1, run.output
    for phrase in phrases:
        assert phrase in run.output, run.output
    assert run.seconds < within, f"took {run.seconds:.1f} s: {run.output}"


LOCK_REFUSALS: list[tuple[Behaviour, str, tuple[str, ...]]] = [
    (Behaviour.BEARER_NO_REALM, "latest", ("names no token service",)),
    (Behaviour.INDEX_NOT_OBJECT, "latest", ("a JSON list, not an object",)),
    (Behaviour.INDEX_PLATFORM_STRING, "latest", ("platform is not an object",)),
    (Behaviour.INDEX_ANNOTATIONS_LIST, "latest", ("annotations must map strings to strings",)),
    (Behaviour.HEAD_DIGEST_MISMATCH, "latest", ("the registry says sha256:",)),
    (Behaviour.BODY_DIGEST_MISMATCH, "latest", ("the registry says sha256:",)),
    (Behaviour.CONTENT_TYPE_HTML, "latest", ("Content-Type 'text/html'",)),
    (Behaviour.CONTENT_TYPE_UNKNOWN, "latest", ("not an image manifest or index",)),
    (Behaviour.MANIFEST_DEEP, "latest", ("nested too deeply",)),
    (Behaviour.MANIFEST_HUGE, "latest", ("over the 4,194,304-byte limit",)),
    (Behaviour.GZIP_BOMB, "latest", ("Content-Encoding 'gzip'",)),
    (Behaviour.TRICKLE, "latest", (f"did not arrive within {DEADLINE} s",)),
    (Behaviour.HANG, "latest", (f"did not answer within {DEADLINE} s",)),
    (Behaviour.RATE_LIMIT_STORM, "latest", ("throttled", "429 Too Many Requests")),
    (Behaviour.SERVER_ERROR, "latest", ("HTTP 500: UNKNOWN", "hint: the registry has a problem")),
    (Behaviour.NOT_FOUND, "latest", ("was not found (HTTP 404: MANIFEST_UNKNOWN", "hint: check")),
    (Behaviour.MALFORMED_DIGEST_HEADER, "latest", ("malformed Docker-Content-Digest",
                                                    "the registry is at fault")),
    (Behaviour.BASIC_AUTH, "latest", ("asks for a login (Basic)", "docker login")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("behaviour", "tag", "phrases"), LOCK_REFUSALS, ids=[b.value for b, _, _ in LOCK_REFUSALS]
)
def test_lock_refuses_a_hostile_registry_and_writes_nothing(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    behaviour: Behaviour,
    tag: str,
    phrases: tuple[str, ...],
) -> None:
    reference = fake_registry.reference(behaviour, tag)
    root = project(tmp_path, reference)
    before = files_under(root)
    run = repro(root, "lock")
    assert_refused(run, 3, fake_registry.address, *phrases)
    assert files_under(root) == before  # Dockerfile and repro.lock byte-identical
    check = repro(root, "lock", "--check")
    assert check.code == 1 and "Traceback" not in check.output  # still unpinned


def test_a_huge_manifest_is_refused_before_its_body_is_read(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    root = project(tmp_path, fake_registry.reference(Behaviour.MANIFEST_HUGE))
    run = repro(root, "lock", env={"REPRO_REGISTRY_TIMEOUT": "30"})
    assert_refused(run, 3, "announces 209,715,200 bytes")
    assert run.seconds < 10


@pytest.mark.parametrize(
    ("behaviour", "tag"),
    [(Behaviour.CORRECT, "latest"), (Behaviour.CORRECT, TAG_MANIFEST),
     (Behaviour.NO_DIGEST_HEADER, "latest"), (Behaviour.RATE_LIMITED, "latest")],
)  # fmt: skip
def test_lock_pins_the_sha256_of_the_body_it_read(
    fake_registry: FakeRegistry, tmp_path: Path, behaviour: Behaviour, tag: str
) -> None:
    image = canned_image()
    expected = image.manifest.digest if tag == TAG_MANIFEST else image.index.digest
    reference = fake_registry.reference(behaviour, tag)
    root = project(tmp_path, reference)
    run = repro(root, "lock")
    assert run.code == 0, run.output
    assert f"{reference}@{expected}" in (root / "Dockerfile").read_text()
    assert f'digest = "{expected}"' in (root / "repro.lock").read_text()
    repository = fake_registry.repository(behaviour)
    gets = fake_registry.count(repository, method="GET", endpoint="manifests")
    assert fake_registry.count(repository, method="HEAD") == 0
    # one GET per tag (a rate-limited registry answered 429 twice first)
    assert gets == (3 if behaviour is Behaviour.RATE_LIMITED else 1)


def test_basic_auth_from_a_docker_config_and_a_wrong_password_is_named_not_shown(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    reference = fake_registry.reference(Behaviour.BASIC_AUTH)
    root = project(tmp_path, reference)
    config = tmp_path / "docker"
    config.mkdir()

    def login(password: str) -> dict[str, str]:
        raw = f"{FAKE_CREDENTIALS.username}:{password}".encode()
        entry = {"auth": base64.b64encode(raw).decode()}
        (config / "config.json").write_text(json.dumps({"auths": {fake_registry.address: entry}}))
        return {"DOCKER_CONFIG": str(config)}

    before = files_under(root)
    wrong = repro(root, "lock", env=login(WRONG_PASSWORD))
    assert_refused(wrong, 3, f"refused the credentials for {FAKE_CREDENTIALS.username!r}")
    assert WRONG_PASSWORD not in wrong.output
    assert files_under(root) == before
    right = repro(root, "lock", "--json", env=login(FAKE_CREDENTIALS.password))
    assert right.code == 0, right.output
    assert FAKE_CREDENTIALS.password not in right.output


def test_an_error_on_one_reference_ends_the_run_while_another_trickles(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    root = project(
        tmp_path,
        fake_registry.reference(Behaviour.TRICKLE),
        fake_registry.reference(Behaviour.SERVER_ERROR),
    )
    run = repro(root, "lock", env={"REPRO_REGISTRY_TIMEOUT": "60"})
    # the worker still reading the trickle is a daemon: it cannot keep repro alive
    assert_refused(run, 3, "HTTP 500", within=15)


def test_ctrl_c_exits_130_at_once_while_a_registry_hangs(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    root = project(
        tmp_path,
        fake_registry.reference(Behaviour.HANG),
        fake_registry.reference(Behaviour.HANG, namespace="other"),
    )
    before = files_under(root)
    env = {**os.environ, "NO_COLOR": "1", "REPRO_REGISTRY_TIMEOUT": "60"}
    process = subprocess.Popen(
        [REPRO, "lock"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while fake_registry.count(endpoint="manifests") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    stdout, stderr = process.communicate(timeout=10)
    assert time.monotonic() - started < 3
    assert process.returncode == 130, stdout + stderr
    assert stderr.strip() == "interrupted (Ctrl-C): stopped; nothing is left half-written"
    assert files_under(root) == before


def test_an_empty_mirror_is_a_configuration_error(tmp_path: Path) -> None:
    root = project(tmp_path, "docker.io/library/busybox:1.35")
    (root / "repro.toml").write_text('[mirrors]\n"docker.io" = ""\n')
    before = files_under(root)
    run = repro(root, "lock")
    assert_refused(run, 2, "the mirror for docker.io is empty")
    assert files_under(root) == before


def test_a_mirror_that_fails_falls_back_to_the_registry_named_and_is_not_recorded(
    fake_registry: FakeRegistry, fake_registry_factory: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    reference = fake_registry.reference(Behaviour.CORRECT)
    root = project(tmp_path, reference)
    (root / "repro.toml").write_text(f'[mirrors]\n"{fake_registry.address}" = "127.0.0.1:1"\n')
    run = repro(root, "lock")
    assert run.code == 0, run.output
    lock = (root / "repro.lock").read_text()
    assert "served_by" not in lock
    mirror = fake_registry_factory()
    (root / "repro.toml").write_text(
        f'[mirrors]\n"{fake_registry.address}" = "http://{mirror.address}"\n'
    )
    (root / "repro.lock").unlink()
    again = repro(root, "lock")
    assert again.code == 0, again.output
    assert f'served_by = "{mirror.address}"' in (root / "repro.lock").read_text()
    assert mirror.count(method="GET", endpoint="manifests") == 1


# --- compare: blobs ------------------------------------------------------------------------
# The other side is a real, different image, so that compare reads every blob.
OTHER = "localhost:5000/library/busybox:1.35"


def test_compare_names_a_missing_blob_with_a_hint(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    missing = fake_registry.reference(Behaviour.MISSING_BLOBS, TAG_MANIFEST)
    run = repro(tmp_path, "compare", OTHER, missing)
    assert_refused(run, 3, "hint: ", "BLOB_UNKNOWN")


def test_compare_refuses_tampered_bytes(fake_registry: FakeRegistry, tmp_path: Path) -> None:
    tampered = fake_registry.reference(Behaviour.BODY_DIGEST_MISMATCH, TAG_MANIFEST)
    run = repro(tmp_path, "compare", OTHER, tampered)
    assert_refused(run, 3, "the registry says sha256:")


def test_compare_follows_a_blob_redirect_without_credentials(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    redirected = fake_registry.reference(Behaviour.BLOB_REDIRECT, TAG_MANIFEST)
    run = repro(tmp_path, "compare", OTHER, redirected)
    assert run.code == 1, run.output  # read through the CDN, and different
    cdn = fake_registry.requests(endpoint="cdn")
    assert cdn and all(request.auth_scheme is None for request in cdn)


# --- TLS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("certificate", "phrases"),
    [("expired", ("certificate has expired", "expired 2020-01-02")),
     ("wrong_name", ("mismatch, certificate is not valid for", "names other.test")),
     ("untrusted", ("unable to get local issuer certificate", "/etc/docker/certs.d/"))],
)  # fmt: skip
def test_a_certificate_that_does_not_verify_is_named(
    fake_registry_factory: Callable[..., FakeRegistry],
    tmp_path: Path,
    certificate: str,
    phrases: tuple[str, ...],
) -> None:
    tls = TLS.server if certificate == "untrusted" else getattr(TLS, certificate)
    registry = fake_registry_factory(tls=tls)
    root = project(tmp_path, registry.reference(Behaviour.CORRECT))
    env = {} if certificate == "untrusted" else {"REPRO_CA_FILE": str(TLS.ca_cert)}
    before = files_under(root)
    run = repro(root, "lock", env=env)
    assert_refused(run, 3, "TLS certificate verification failed", *phrases)
    assert files_under(root) == before


def test_the_ca_from_repro_ca_file_is_trusted(
    fake_registry_factory: Callable[..., FakeRegistry], tmp_path: Path
) -> None:
    registry = fake_registry_factory(tls=TLS.server)
    root = project(tmp_path, registry.reference(Behaviour.CORRECT))
    run = repro(root, "lock", env={"REPRO_CA_FILE": str(TLS.ca_cert)})
    assert run.code == 0, run.output
