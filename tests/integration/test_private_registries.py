"""repro against the registries companies run (issue 13), as a user runs it.

Both real distribution registries scripts/setup starts: TLS from a private CA with
htpasswd (registry.test:5443) and token auth (registry.test:5444, realm
registry.test:5445). The CA is only where Docker reads it (/etc/docker/certs.d), never
in the OS store; credentials are only in a temporary DOCKER_CONFIG written as
`docker login` writes it. The hostile fake registry (hang, 429 storm, expired and
wrong-name certificates) is exercised in tests/hostile/test_registry_hostile.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import GIT_ENV, git_repo_from, repro_bin
from tests.support.fixtures import write_docker_config
from tests.support.machine import LOCAL_REGISTRY, Credentials
from tests.support.token_issuer import TokenIssuer

pytestmark = [pytest.mark.registry]

SEED = f"{LOCAL_REGISTRY}/library/busybox:1.35"
DEADLINE = "5"  # REPRO_REGISTRY_TIMEOUT for the bad-input runs


@dataclass(frozen=True)
class Private:
    kind: str  # "tls" (htpasswd) or "token"
    host: str
    writer: Credentials
    reader: Credentials
    issuer: TokenIssuer | None

    def secrets(self) -> tuple[str, ...]:
        return (self.writer.password, self.reader.password)


@pytest.fixture(params=["tls", "token"])
def private(request: pytest.FixtureRequest) -> Private:
    if request.param == "tls":
        tls = request.getfixturevalue("tls_registry")
        return Private("tls", tls.host, tls.writer, tls.reader, None)
    token = request.getfixturevalue("token_registry")
    return Private("token", token.host, token.writer, token.reader, token.issuer)


def push_seed(private: Private, name: str) -> str:
    """The seeded busybox pushed (by skopeo, as the registry's own user) to a fresh repo."""
    target = f"{private.host}/test-registry/{uuid.uuid4().hex[:10]}/{name}:1.35"
    copied = subprocess.run(
        ["skopeo", "copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false",
         "--dest-creds", f"{private.writer.username}:{private.writer.password}",
         f"docker://{SEED}", f"docker://{target}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    return target


def seed_digest() -> str:
    inspected = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{SEED}"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    import hashlib

    return "sha256:" + hashlib.sha256(inspected.stdout).hexdigest()


def run(
    cwd: Path, docker_config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # only what each test sets: no auth file, no proxy from the caller's environment
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k != "REGISTRY_AUTH_FILE" and not k.lower().endswith("_proxy")
    }
    environment = {
        **inherited,
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "DOCKER_CONFIG": str(docker_config),
        **(env or {}),
    }
    done = subprocess.run(
        [repro_bin(), *args], cwd=cwd, capture_output=True, text=True, env=environment,
        timeout=600,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def login(tmp_path: Path, host: str, user: Credentials, name: str = "docker") -> Path:
    return write_docker_config(tmp_path / name, {host: user})


def project(tmp_path: Path, reference: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reference}\nRUN true\n")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}


def tokens_for(issuer: TokenIssuer, user: Credentials) -> list[object]:
    """The tokens the issuer gave ``user`` (skopeo's, as the writer, are not repro's)."""
    return [r for r in issuer.requests if r.account == user.username and r.status == 200]


def assert_no_secret(private: Private, *outputs: str) -> None:
    for output in outputs:
        for secret in private.secrets():
            assert secret not in output


# --- what a user does ------------------------------------------------------------------------


def test_lock_check_and_compare_with_the_ca_in_certs_d_and_a_docker_login(
    private: Private, tmp_path: Path
) -> None:
    reference = push_seed(private, "busybox")
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, reference)

    locked = run(root, config, "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    digest = seed_digest()
    assert f"FROM {reference}@{digest}\n" in (root / "Dockerfile").read_text()
    lock = (root / "repro.lock").read_text()
    assert f'digest = "{digest}"' in lock and "served_by" not in lock

    check = run(root, config, "lock", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    compared = run(root, config, "compare", reference, SEED)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert compared.stdout.startswith("identical")
    assert_no_secret(private, locked.stdout, locked.stderr, compared.stdout, compared.stderr)
    if private.issuer is not None:
        # one token per process and scope: lock and compare (cached within each); the
        # hermetic --check asks the registry nothing
        assert len(tokens_for(private.issuer, private.reader)) == 2


def test_release_push_and_publish(private: Private, tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "Dockerfile").write_text(f"FROM {SEED}\nCOPY --chmod=0644 hello.txt /hello.txt\n")
    (staging / "hello.txt").write_text("hello from a private registry\n")
    repo = git_repo_from(staging, tmp_path / "app", commit_time=1700000000)
    config = login(tmp_path, private.host, private.writer)
    assert run(repo, config, "lock").returncode == 0
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": "@1700000100 +0000"}
    env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"]
    for args in (["add", "-A"], ["commit", "-qm", "pin"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    # cosign's key format: encrypted, with the password from COSIGN_PASSWORD (empty here)
    keyed = {"COSIGN_PASSWORD": ""}
    assert run(repo, config, "keygen", "--out", str(tmp_path / "k"), env=keyed).returncode == 0
    key = tmp_path / "k.key"
    target = f"{private.host}/test-registry/{uuid.uuid4().hex[:10]}/app:1.0.0"

    released = run(
        repo, config, "release", "1.0.0", "--push", target, "--sign", str(key), env=keyed
    )
    assert released.returncode == 0, released.stdout + released.stderr
    published = run(repo, config, "publish", "1.0.0", "--to", target, "--key", str(key), env=keyed)
    assert published.returncode == 0, published.stdout + published.stderr
    assert_no_secret(private, released.stdout, released.stderr, published.stdout)

    inspected = subprocess.run(
        ["skopeo", "inspect", "--raw", "--creds",
         f"{private.reader.username}:{private.reader.password}", f"docker://{target}"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert inspected.returncode == 0, inspected.stderr
    import hashlib

    pushed = "sha256:" + hashlib.sha256(inspected.stdout).hexdigest()
    assert pushed in (repo / "repro.lock").read_text()


def test_doctor_says_which_trust_source_and_which_credentials(
    private: Private, tmp_path: Path
) -> None:
    config = login(tmp_path, private.host, private.reader)
    doctor = run(tmp_path, config, "doctor", "--json", "--registry", private.host)
    assert_no_secret(private, doctor.stdout, doctor.stderr)
    import json

    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    name = f"registry {private.host}"
    assert checks[name]["status"] == "ok", checks
    tls = checks[f"{name} tls"]
    assert tls["status"] == "ok"
    assert f"certificate verified by /etc/docker/certs.d/{private.host}/ca.crt" in tls["detail"]
    auth = checks[f"{name} auth"]
    assert auth["status"] == "ok", auth
    assert (
        f"credentials for {private.reader.username!r} from {config / 'config.json'}"
        in (auth["detail"])
    )
    if private.kind == "token":
        assert "token obtained from https://registry.test:5445/token" in auth["detail"]
    else:
        assert "accepted (Basic)" in auth["detail"]


def test_the_loopback_name_is_spoken_to_in_https_first(private: Private, tmp_path: Path) -> None:
    reference = push_seed(private, "loopback")
    loopback = reference.replace("registry.test:", "localhost:")
    config = write_docker_config(tmp_path / "docker", {loopback.split("/")[0]: private.reader})
    root = project(tmp_path, loopback)
    locked = run(root, config, "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    assert seed_digest() in (root / "Dockerfile").read_text()


def test_a_mirror_with_its_own_login_is_read_first_and_recorded(
    private: Private, tmp_path: Path
) -> None:
    reference = push_seed(private, "mirrored")
    path = reference.split("/", 1)[1]
    named = f"{LOCAL_REGISTRY}/{path}"  # the registry named has no such repository
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, named)
    (root / "repro.toml").write_text(f'[mirrors]\n"{LOCAL_REGISTRY}" = "{private.host}"\n')
    locked = run(root, config, "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    lock = (root / "repro.lock").read_text()
    assert f'name = "{named.rsplit(":", 1)[0]}"' in lock
    assert f'served_by = "{private.host}"' in lock


# --- bad input: exit 3 in bounded time, with the reason, nothing touched ---------------------


def test_a_wrong_password(private: Private, tmp_path: Path) -> None:
    reference = push_seed(private, "wrongpw")
    wrong = Credentials(private.reader.username, "not-the-password-7781")
    config = login(tmp_path, private.host, wrong)
    root = project(tmp_path, reference)
    before = snapshot(root)
    started = time.monotonic()
    locked = run(root, config, "lock", env={"REPRO_REGISTRY_TIMEOUT": DEADLINE})
    assert time.monotonic() - started < 20
    assert locked.returncode == 3, locked.stdout + locked.stderr
    assert f"refused the credentials for {private.reader.username!r}" in locked.stderr
    assert str(config / "config.json") in locked.stderr
    assert "docker login" in locked.stderr
    assert "not-the-password-7781" not in locked.stdout + locked.stderr
    assert snapshot(root) == before


def test_no_login_says_where_it_looked(private: Private, tmp_path: Path) -> None:
    reference = push_seed(private, "nologin")
    root = project(tmp_path, reference)
    before = snapshot(root)
    locked = run(root, tmp_path / "empty", "lock", env={"REPRO_REGISTRY_TIMEOUT": DEADLINE})
    assert locked.returncode == 3, locked.stdout + locked.stderr
    expected = "refused the token" if private.kind == "token" else "asks for a login (Basic)"
    assert expected in locked.stderr and f"docker login {private.host}" in locked.stderr
    assert snapshot(root) == before


def test_an_expired_token(token_registry: object, tmp_path: Path) -> None:
    private = _token(token_registry)
    reference = push_seed(private, "expired")
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, reference)
    before = snapshot(root)
    assert private.issuer is not None
    private.issuer.issue_expired = True
    started = time.monotonic()
    locked = run(root, config, "lock", env={"REPRO_REGISTRY_TIMEOUT": DEADLINE})
    assert time.monotonic() - started < 20
    assert locked.returncode == 3, locked.stdout + locked.stderr
    assert "refused the token https://registry.test:5445/token issued for" in locked.stderr
    assert snapshot(root) == before
    # a token refused as soon as it was issued is not asked for again: one request each
    assert len(tokens_for(private.issuer, private.reader)) == 1


def test_a_token_service_that_is_down(token_registry: object, tmp_path: Path) -> None:
    private = _token(token_registry)
    reference = push_seed(private, "down")
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, reference)
    before = snapshot(root)
    assert private.issuer is not None
    with private.issuer.down():
        started = time.monotonic()
        locked = run(root, config, "lock", env={"REPRO_REGISTRY_TIMEOUT": DEADLINE})
        assert time.monotonic() - started < 20
    assert locked.returncode == 3, locked.stdout + locked.stderr
    assert locked.stderr.startswith(
        "error: the token service https://registry.test:5445/token for registry.test:5444 "
        "is unreachable: TCP connect failed"
    ), locked.stderr
    assert snapshot(root) == before


def test_a_token_service_that_fails(token_registry: object, tmp_path: Path) -> None:
    private = _token(token_registry)
    reference = push_seed(private, "unavailable")
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, reference)
    assert private.issuer is not None
    private.issuer.unavailable = True
    locked = run(root, config, "lock", env={"REPRO_REGISTRY_TIMEOUT": DEADLINE})
    assert locked.returncode == 3, locked.stdout + locked.stderr
    assert "answered HTTP 503" in locked.stderr


# --- credentials from elsewhere: identity tokens, helpers, podman's auth.json ---------------


def _token(fixture: object) -> Private:
    return Private(
        "token",
        fixture.host,  # type: ignore[attr-defined]
        fixture.writer,  # type: ignore[attr-defined]
        fixture.reader,  # type: ignore[attr-defined]
        fixture.issuer,  # type: ignore[attr-defined]
    )


def test_an_identity_token_is_used_as_a_refresh_token(
    token_registry: object, tmp_path: Path
) -> None:
    private = _token(token_registry)
    assert private.issuer is not None
    reference = push_seed(private, "identity")
    refresh = private.issuer.new_refresh_token(private.reader.username)
    config = write_docker_config(
        tmp_path / "docker", {private.host: private.reader}, identity_tokens={private.host: refresh}
    )
    root = project(tmp_path, reference)
    locked = run(root, config, "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    assert private.issuer.count(grant_type="refresh_token", status=200) == 1
    assert refresh not in locked.stdout + locked.stderr


def test_a_credential_helper_and_podmans_auth_file(tls_registry: object, tmp_path: Path) -> None:
    host = tls_registry.host  # type: ignore[attr-defined]
    reader: Credentials = tls_registry.reader  # type: ignore[attr-defined]
    private = Private("tls", host, tls_registry.writer, reader, None)  # type: ignore[attr-defined]
    reference = push_seed(private, "helper")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-repro-test"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f'[ "$server" = "{host}" ] || {{ echo "credentials not found"; exit 1; }}\n'
        f'printf \'%s\' \'{{"ServerURL":"{host}","Username":"{reader.username}",'
        f'"Secret":"{reader.password}"}}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(f'{{"credHelpers": {{"{host}": "repro-test"}}}}')
    root = project(tmp_path, reference)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    locked = run(root, config, "lock", env={"PATH": path})
    assert locked.returncode == 0, locked.stdout + locked.stderr
    doctor = run(root, config, "doctor", "--registry", host, env={"PATH": path, "COLUMNS": "300"})
    assert "docker-credential-repro-test (credHelpers in" in doctor.stdout
    assert_no_secret(private, locked.stdout, locked.stderr, doctor.stdout, doctor.stderr)

    # podman's auth.json through REGISTRY_AUTH_FILE, the docker config empty
    authfile = write_docker_config(tmp_path / "podman", {host: reader}) / "config.json"
    (root / "repro.lock").unlink()
    (root / "Dockerfile").write_text(f"FROM {reference}\nRUN true\n")
    podman = run(root, tmp_path / "empty", "lock", env={"REGISTRY_AUTH_FILE": str(authfile)})
    assert podman.returncode == 0, podman.stdout + podman.stderr


# --- proxies ---------------------------------------------------------------------------------


class ConnectProxy:
    """A forward proxy on 127.0.0.1 that tunnels CONNECT (as corporate HTTPS proxies do)
    and records the targets it was asked for."""

    def __init__(self) -> None:
        import socket
        import threading

        self.targets: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                continue
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: object) -> None:
        import select
        import socket

        assert isinstance(client, socket.socket)
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            name, port = target.rsplit(":", 1)
            with socket.create_connection((name, int(port)), timeout=10) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                sockets = [client, upstream]
                while not self._stop.is_set():
                    ready, _, _ = select.select(sockets, [], [], 0.5)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)

    def stop(self) -> None:
        self._stop.set()
        self._server.close()


def test_https_proxy_and_no_proxy_are_honoured(tls_registry: object, tmp_path: Path) -> None:
    private = Private(
        "tls",
        tls_registry.host,  # type: ignore[attr-defined]
        tls_registry.writer,  # type: ignore[attr-defined]
        tls_registry.reader,  # type: ignore[attr-defined]
        None,
    )
    reference = push_seed(private, "proxied")
    config = login(tmp_path, private.host, private.reader)
    root = project(tmp_path, reference)
    proxy = ConnectProxy()
    try:
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}
        locked = run(root, config, "lock", env=env)
        assert locked.returncode == 0, locked.stdout + locked.stderr
        assert proxy.targets and set(proxy.targets) == {private.host}
        proxy.targets.clear()
        bypass = run(root, config, "lock", "--update", env={**env, "NO_PROXY": "registry.test"})
        assert bypass.returncode == 0, bypass.stdout + bypass.stderr
        assert proxy.targets == []
    finally:
        proxy.stop()
