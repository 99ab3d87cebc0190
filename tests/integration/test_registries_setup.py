"""The registries scripts/setup starts and the servers in tests/support work as specified.

Checked only with the oracles (curl, skopeo, docker login, oras, cosign) and plain
http.client, never with repro's own registry client: these components are what that
client is tested against.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.support.fake_registry import (
    FAKE_CREDENTIALS,
    GZIP_BOMB_INFLATED_BYTES,
    HUGE_MANIFEST_BYTES,
    MALFORMED_DIGEST,
    TAG_MANIFEST,
    Behaviour,
    FakeRegistry,
)
from tests.support.fixtures import (
    ReferrersRegistry,
    TLSRegistry,
    TokenRegistry,
    write_docker_config,
)
from tests.support.machine import CA_CERT_DIR, LOCAL_REGISTRY, TLS, Credentials
from tests.support.oci_image import OCI_INDEX, OCI_MANIFEST, canned_image, sha256_digest
from tests.support.token_issuer import TokenIssuer

pytestmark = [pytest.mark.registry]

SEED = f"{LOCAL_REGISTRY}/library/busybox:1.35"  # seeded by setup: an amd64+arm64 index
MANIFEST_ACCEPT = f"{OCI_INDEX}, {OCI_MANIFEST}"


def run(*args: str, timeout: float = 60, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        args, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def unique(name: str) -> str:
    return f"test-infra/{name}-{uuid.uuid4().hex[:8]}"


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    """curl trusting only the private CA, printing headers and body."""
    return run("curl", "-sS", "--max-time", "10", "--cacert", str(TLS.ca_cert), "-i", *args)


def copy_seed(target: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """skopeo copies the seeded busybox (plain HTTP source) to ``target``."""
    return run(
        "skopeo", "copy", "--quiet", "--src-tls-verify=false", *flags,
        f"docker://{SEED}", f"docker://{target}",
    )  # fmt: skip


def parse_curl(output: str) -> tuple[int, dict[str, str]]:
    """The status and the (lower-cased) headers of the one response ``curl -i`` printed."""
    head = output.split("\r\n\r\n")[0] if "\r\n\r\n" in output else output
    lines = head.replace("\r", "").split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def raw_manifest_digest(reference: str, *flags: str) -> str:
    """The sha256 of the manifest bytes skopeo reads (skopeo inspect --raw)."""
    inspected = subprocess.run(
        ["skopeo", "inspect", "--raw", *flags, f"docker://{reference}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert inspected.returncode == 0, inspected.stderr.decode()
    return sha256_digest(inspected.stdout)


def creds(user: Credentials) -> str:
    return f"{user.username}:{user.password}"


def docker_login(
    config_dir: Path, host: str, user: Credentials, *, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker login` into a DOCKER_CONFIG of the test's own."""
    return run(
        "docker", "--config", str(config_dir), "login", host, "-u", user.username,
        "--password-stdin", input=user.password if password is None else password,
    )  # fmt: skip


# --- TLS + htpasswd registry (registry.test:5443) ---------------------------------------------
def test_tls_registry_refuses_anonymous_and_wrong_password(tls_registry: TLSRegistry) -> None:
    anonymous = curl(f"{tls_registry.url}/v2/")
    assert anonymous.returncode == 0, anonymous.stderr
    assert parse_curl(anonymous.stdout)[0] == 401
    assert parse_curl(anonymous.stdout)[1]["www-authenticate"] == 'Basic realm="repro-test"'
    wrong = curl("-u", f"{tls_registry.writer.username}:wrong", f"{tls_registry.url}/v2/")
    assert parse_curl(wrong.stdout)[0] == 401
    right = curl("-u", creds(tls_registry.writer), f"{tls_registry.url}/v2/")
    assert parse_curl(right.stdout)[0] == 200


@pytest.mark.parametrize("host", ["registry.test", "localhost", "127.0.0.1"])
def test_tls_registry_certificate_covers_every_name(tls_registry: TLSRegistry, host: str) -> None:
    answer = curl("-u", creds(tls_registry.reader), f"https://{host}:5443/v2/")
    assert answer.returncode == 0, answer.stderr
    assert parse_curl(answer.stdout)[0] == 200


def test_skopeo_pushes_to_tls_registry_trusting_certs_d(tls_registry: TLSRegistry) -> None:
    target = f"{tls_registry.host}/{unique('busybox')}:1.35"
    # No --dest-tls-verify=false: skopeo verifies with /etc/containers/certs.d/<host>/ca.crt.
    copied = copy_seed(
        target, "--all", "--preserve-digests", "--dest-creds", creds(tls_registry.writer)
    )
    assert copied.returncode == 0, copied.stderr
    pushed = raw_manifest_digest(target, "--creds", creds(tls_registry.reader))
    assert pushed == raw_manifest_digest(SEED, "--tls-verify=false")
    # The same registry by its loopback name, same bytes.
    loopback = target.replace(tls_registry.host, tls_registry.loopback_host)
    assert raw_manifest_digest(loopback, "--creds", creds(tls_registry.reader)) == pushed


def test_skopeo_without_the_ca_refuses_the_certificate(
    tls_registry: TLSRegistry, tmp_path: Path
) -> None:
    refused = run(
        "skopeo", "inspect", "--cert-dir", str(tmp_path), "--creds", creds(tls_registry.reader),
        f"docker://{tls_registry.host}/test-infra/none:1",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "certificate signed by unknown authority" in refused.stderr


@pytest.mark.docker
def test_docker_login_writes_a_temp_docker_config(
    tls_registry: TLSRegistry, tmp_path: Path
) -> None:
    config_dir = tmp_path / "docker"
    login = docker_login(config_dir, tls_registry.host, tls_registry.writer)
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    auths = json.loads((config_dir / "config.json").read_text())["auths"]
    assert list(auths) == [tls_registry.host]
    wrong = docker_login(tmp_path / "other", tls_registry.host, tls_registry.writer, password="x")
    assert wrong.returncode != 0
    # Docker treats 127.0.0.0/8 as an insecure registry: after the HTTPS 401 it retries in
    # plain HTTP, and reports that attempt's answer (the TLS port says 400).
    assert "failed with status: 400 Bad Request" in wrong.stderr
    stored = tmp_path / "other" / "config.json"
    assert not stored.exists() or tls_registry.host not in stored.read_text()


def test_docker_config_fixture_logs_skopeo_in(
    tls_registry: TLSRegistry, tls_registry_docker_config: Path
) -> None:
    target = f"{tls_registry.host}/{unique('busybox')}:1.35"
    authfile = str(tls_registry_docker_config / "config.json")
    copied = copy_seed(target, "--dest-authfile", authfile)
    assert copied.returncode == 0, copied.stderr
    inspected = run("skopeo", "inspect", "--authfile", authfile, f"docker://{target}")
    assert inspected.returncode == 0, inspected.stderr


@pytest.mark.docker
def test_docker_pulls_from_the_tls_registry_trusting_certs_d(
    tls_registry: TLSRegistry, tls_registry_docker_config: Path
) -> None:
    image = f"{tls_registry.host}/{unique('docker-pull')}:1.35"
    copied = copy_seed(image, "--dest-creds", creds(tls_registry.writer))
    assert copied.returncode == 0, copied.stderr
    config = ("docker", "--config", str(tls_registry_docker_config))
    pulled = run(*config, "pull", "--quiet", image)
    try:
        assert pulled.returncode == 0, pulled.stderr
        assert pulled.stdout.strip() == image
    finally:
        run(*config, "rmi", image)


@pytest.mark.parametrize(
    ("pair", "curl_error"),
    [
        (TLS.expired, "certificate has expired"),
        (TLS.wrong_name, "no alternative certificate subject name matches"),
    ],
    ids=["expired", "wrong-name"],
)
def test_bad_certificates_are_refused(
    fake_registry_factory: Callable[..., FakeRegistry], pair: tuple[Path, Path], curl_error: str
) -> None:
    good = fake_registry_factory(tls=TLS.server)
    bad = fake_registry_factory(tls=pair)
    assert parse_curl(curl(f"https://registry.test:{good.port}/v2/").stdout)[0] == 200
    refused = curl(f"https://registry.test:{bad.port}/v2/")
    assert refused.returncode == 60, refused.stderr  # curl: peer certificate cannot be verified
    assert curl_error in refused.stderr


def test_skopeo_trusts_a_fake_tls_registry_through_the_ca_dir(
    fake_registry_factory: Callable[..., FakeRegistry],
) -> None:
    good = fake_registry_factory(tls=TLS.server)
    expired = fake_registry_factory(tls=TLS.expired)
    ok = run(
        "skopeo", "inspect", "--raw", "--cert-dir", str(CA_CERT_DIR),
        f"docker://{good.reference(Behaviour.CORRECT)}",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    refused = run(
        "skopeo", "inspect", "--raw", "--cert-dir", str(CA_CERT_DIR),
        f"docker://{expired.reference(Behaviour.CORRECT)}",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "certificate has expired" in refused.stderr


# --- token registry (registry.test:5444) and the issuer --------------------------------------
def bearer_token(
    registry: TokenRegistry, scope: str, user: Credentials | None = None
) -> dict[str, object]:
    auth = ["-u", creds(user)] if user is not None else []
    query = f"service={quote(registry.service)}&scope={quote(scope)}"
    answer = run(
        "curl", "-sS", "--fail-with-body", "--max-time", "10", "--cacert", str(registry.ca_file),
        *auth, f"{registry.realm}?{query}",
    )  # fmt: skip
    assert answer.returncode == 0, answer.stdout + answer.stderr
    body: dict[str, object] = json.loads(answer.stdout)
    return body


def test_token_registry_challenges_with_the_realm(token_registry: TokenRegistry) -> None:
    status, headers = parse_curl(curl(f"{token_registry.url}/v2/").stdout)
    assert status == 401
    assert headers["www-authenticate"] == (
        f'Bearer realm="{token_registry.realm}",service="{token_registry.service}"'
    )


def test_token_flow_gives_a_bearer_token_the_registry_accepts(
    token_registry: TokenRegistry,
) -> None:
    token_registry.issuer.token_lifetime = 30
    body = bearer_token(token_registry, "repository:test-infra/x:pull,push", token_registry.writer)
    assert body["expires_in"] == 30
    assert isinstance(body["issued_at"], str)
    assert body["token"] == body["access_token"]
    token = str(body["token"])
    answer = curl("-H", f"Authorization: Bearer {token}", f"{token_registry.url}/v2/")
    assert parse_curl(answer.stdout)[0] == 200
    requests = token_registry.issuer.requests
    assert [(r.method, r.grant_type, r.account, r.status) for r in requests] == [
        ("GET", "basic", token_registry.writer.username, 200)
    ]
    assert requests[0].scopes == ("repository:test-infra/x:pull,push",)


def test_issuer_refuses_a_wrong_password(token_registry: TokenRegistry) -> None:
    answer = run(
        "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(TLS.ca_cert),
        "-u", f"{token_registry.writer.username}:wrong", f"{token_registry.realm}?service=x",
    )  # fmt: skip
    assert answer.stdout == "401"
    assert token_registry.issuer.count(status=401) == 1


def test_registry_refuses_an_expired_token(token_registry: TokenRegistry) -> None:
    token_registry.issuer.issue_expired = True
    scope = "repository:test-infra/x:pull"
    token = str(bearer_token(token_registry, scope, token_registry.writer)["token"])
    answer = curl(
        "-H", f"Authorization: Bearer {token}", f"{token_registry.url}/v2/test-infra/x/tags/list"
    )  # fmt: skip
    assert parse_curl(answer.stdout)[0] == 401
    assert 'error="invalid_token"' in answer.stdout


def test_token_service_down_refuses_connections(token_registry: TokenRegistry) -> None:
    with token_registry.issuer.down():
        answer = run("curl", "-sS", "--cacert", str(TLS.ca_cert), token_registry.realm)
        assert answer.returncode == 7, answer.stderr  # curl: failed to connect
    token_registry.issuer.unavailable = True
    answer = run(
        "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(TLS.ca_cert),
        token_registry.realm,
    )  # fmt: skip
    assert answer.stdout == "503"


@pytest.mark.docker
def test_push_and_pull_through_the_token_registry(
    token_registry: TokenRegistry, tmp_path: Path
) -> None:
    # docker login: the daemon gets a refresh token (offline_token=true) and the CLI keeps
    # it as the identitytoken; skopeo then trades it for access tokens (POST, oauth.md).
    config_dir = tmp_path / "docker"
    login = docker_login(config_dir, token_registry.host, token_registry.writer)
    assert login.returncode == 0, login.stderr
    entry = json.loads((config_dir / "config.json").read_text())["auths"][token_registry.host]
    assert entry["identitytoken"]
    authfile = str(config_dir / "config.json")
    target = f"{token_registry.host}/{unique('busybox')}:1.35"
    copied = copy_seed(target, "--all", "--preserve-digests", "--dest-authfile", authfile)
    assert copied.returncode == 0, copied.stderr
    pulled = raw_manifest_digest(target, "--creds", creds(token_registry.reader))
    assert pulled == raw_manifest_digest(SEED, "--tls-verify=false")
    grants = [(r.method, r.grant_type) for r in token_registry.issuer.requests if r.status == 200]
    assert grants[0] == ("GET", "basic")  # the login
    assert ("POST", "refresh_token") in grants  # the push, with the identity token
    assert token_registry.issuer.count(status=401) == 0


def test_reader_may_pull_but_not_push(token_registry: TokenRegistry) -> None:
    target = f"{token_registry.host}/{unique('busybox')}:1.35"
    refused = copy_seed(target, "--dest-creds", creds(token_registry.reader))
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr.lower() or "denied" in refused.stderr.lower()


def test_anonymous_pull_only_from_public_repositories(token_registry: TokenRegistry) -> None:
    public = f"{token_registry.host}/public/{unique('busybox')}:1.35"
    copied = copy_seed(public, "--dest-creds", creds(token_registry.writer))
    assert copied.returncode == 0, copied.stderr
    anonymous = run("skopeo", "inspect", "--no-creds", "--raw", f"docker://{public}")
    assert anonymous.returncode == 0, anonymous.stderr
    private = public.replace("/public/", "/")
    refused = run("skopeo", "inspect", "--no-creds", "--raw", f"docker://{private}")
    assert refused.returncode != 0
    assert any(
        r.grant_type == "anonymous" and r.status == 200 for r in token_registry.issuer.requests
    )


def post_token(issuer: TokenIssuer, **form: str) -> subprocess.CompletedProcess[str]:
    """POST a form to the issuer (oauth.md); prints the body, then the status."""
    data = "&".join(f"{name}={quote(value)}" for name, value in form.items())
    return run(
        "curl", "-sS", "-w", "\n%{http_code}", "--cacert", str(TLS.ca_cert), "--data", data,
        f"https://registry.test:{issuer.port}/token",
    )  # fmt: skip


def test_issuer_password_and_refresh_grants(token_issuer: TokenIssuer) -> None:
    common = {"client_id": "repro-tests", "service": token_issuer.service}
    answer = post_token(
        token_issuer, grant_type="password", access_type="offline", **common,
        scope="repository:test-infra/x:pull", username=token_issuer.writer.username,
        password=token_issuer.writer.password,
    )  # fmt: skip
    body, status = answer.stdout.rsplit("\n", 1)
    assert status == "200", body
    grant = json.loads(body)
    assert set(grant) == {"access_token", "expires_in", "issued_at", "scope", "refresh_token"}
    again = post_token(
        token_issuer, grant_type="refresh_token", refresh_token=grant["refresh_token"], **common
    )
    assert again.stdout.endswith("\n200"), again.stdout
    unknown = post_token(token_issuer, grant_type="refresh_token", refresh_token="nope")
    assert unknown.stdout.endswith("\n401"), unknown.stdout
    assert [r.grant_type for r in token_issuer.requests] == [
        "password",
        "refresh_token",
        "refresh_token",
    ]


# --- the referrers-API registry (127.0.0.1:5446) and the oracles ---------------------------
def test_cosign_and_oras_are_installed() -> None:
    cosign = run("dpkg-query", "-W", "-f", "${Version}", "cosign")
    assert cosign.stdout.startswith("2.5."), cosign.stdout
    assert run("cosign", "version").returncode == 0
    oras = run("oras", "version")
    assert "Version:" in oras.stdout and "1.2." in oras.stdout


def test_referrers_api_lists_an_oras_attachment(
    referrers_registry: ReferrersRegistry, tmp_path: Path
) -> None:
    repository = unique("referrers")
    image = f"{referrers_registry.host}/{repository}:1.35"
    copied = copy_seed(image, "--dest-tls-verify=false")
    assert copied.returncode == 0, copied.stderr
    subject = raw_manifest_digest(image, "--tls-verify=false")
    (tmp_path / "statement.json").write_text('{"predicateType": "test"}\n')
    attached = run(
        "oras", "attach", "--plain-http", "--artifact-type", "application/vnd.repro.test+json",
        "--annotation", "org.example.note=hello",
        f"{referrers_registry.host}/{repository}@{subject}", "statement.json:application/json",
        cwd=tmp_path,
    )  # fmt: skip
    assert attached.returncode == 0, attached.stderr
    discovered = run(
        "oras", "discover", "--plain-http", "--format", "json",
        f"{referrers_registry.host}/{repository}@{subject}",
    )  # fmt: skip
    assert discovered.returncode == 0, discovered.stderr
    [referrer] = json.loads(discovered.stdout)["manifests"]
    assert referrer["artifactType"] == "application/vnd.repro.test+json"
    assert referrer["annotations"]["org.example.note"] == "hello"

    name, port = referrers_registry.host.split(":")
    connection = http.client.HTTPConnection(name, int(port), timeout=5)
    connection.request(
        "GET",
        f"/v2/{repository}/referrers/{subject}?artifactType={quote('application/vnd.repro.test+json')}",
    )
    response = connection.getresponse()
    index = json.loads(response.read())
    connection.close()
    assert response.status == 200
    assert response.getheader("Content-Type") == OCI_INDEX
    assert response.getheader("OCI-Filters-Applied") == "artifactType"
    assert [d["digest"] for d in index["manifests"]] == [referrer["digest"]]
    # The API was used, not the fallback: oras saw OCI-Subject and wrote no sha256-<hex> tag.
    tags = run(
        "skopeo",
        "list-tags",
        "--tls-verify=false",
        f"docker://{referrers_registry.host}/{repository}",
    )
    assert json.loads(tags.stdout)["Tags"] == ["1.35"]


def test_local_registry_has_no_referrers_api() -> None:
    """The other path: the plain local registry needs the referrers tag schema."""
    seed_digest = raw_manifest_digest(SEED, "--tls-verify=false")
    connection = http.client.HTTPConnection("127.0.0.1", 5000, timeout=5)
    connection.request("GET", f"/v2/library/busybox/referrers/{seed_digest}")
    assert connection.getresponse().status == 404
    connection.close()


# --- the fake registry ----------------------------------------------------------------------
def fetch(
    registry: FakeRegistry,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 5,
    read: bool = True,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=timeout)
    try:
        connection.request(method, path, headers={"Accept": MANIFEST_ACCEPT, **(headers or {})})
        response = connection.getresponse()
        body = response.read() if read and method != "HEAD" else b""
        return response.status, response.headers, body
    finally:
        connection.close()


def manifest_path(registry: FakeRegistry, behaviour: Behaviour, reference: str = "latest") -> str:
    return f"/v2/{registry.repository(behaviour)}/manifests/{reference}"


def test_fake_registry_serves_a_valid_image_skopeo_can_copy(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    copied = run(
        "skopeo", "copy", "--quiet", "--src-tls-verify=false",
        f"docker://{fake_registry.reference(Behaviour.CORRECT)}", f"oci:{tmp_path / 'layout'}:x",
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    image = canned_image()
    status, headers, body = fetch(fake_registry, manifest_path(fake_registry, Behaviour.CORRECT))
    assert (status, headers["Content-Type"]) == (200, OCI_INDEX)
    assert headers["Docker-Content-Digest"] == sha256_digest(body) == image.index.digest
    repository = fake_registry.repository(Behaviour.CORRECT)
    assert fake_registry.count(repository, endpoint="blobs") == 2  # config + layer, once each
    assert fake_registry.count("fake/trickle") == 0  # "no request at all"


def test_fake_registry_counts_requests_per_repository_and_method(
    fake_registry: FakeRegistry,
) -> None:
    for tag in ("a", "b"):
        fetch(fake_registry, manifest_path(fake_registry, Behaviour.CORRECT, tag), method="HEAD")
    repository = fake_registry.repository(Behaviour.CORRECT)
    assert fake_registry.count(repository, method="HEAD") == 2
    assert fake_registry.count(repository, method="GET") == 0
    assert [r.reference for r in fake_registry.requests(repository)] == ["a", "b"]
    fake_registry.reset()
    assert fake_registry.count() == 0


def test_digest_lies(fake_registry: FakeRegistry) -> None:
    image = canned_image()
    status, headers, _ = fetch(
        fake_registry, manifest_path(fake_registry, Behaviour.HEAD_DIGEST_MISMATCH), method="HEAD"
    )
    assert status == 200 and headers["Docker-Content-Digest"] != image.index.digest
    _, _, body = fetch(fake_registry, manifest_path(fake_registry, Behaviour.HEAD_DIGEST_MISMATCH))
    assert sha256_digest(body) == image.index.digest

    path = manifest_path(fake_registry, Behaviour.BODY_DIGEST_MISMATCH, image.index.digest)
    status, headers, body = fetch(fake_registry, path)
    assert headers["Docker-Content-Digest"] == image.index.digest != sha256_digest(body)
    blob_path = (
        f"/v2/{fake_registry.repository(Behaviour.BODY_DIGEST_MISMATCH)}/blobs/{image.layer.digest}"
    )
    assert sha256_digest(fetch(fake_registry, blob_path)[2]) != image.layer.digest

    _, headers, _ = fetch(
        fake_registry, manifest_path(fake_registry, Behaviour.MALFORMED_DIGEST_HEADER)
    )
    assert headers["Docker-Content-Digest"] == MALFORMED_DIGEST
    _, headers, _ = fetch(fake_registry, manifest_path(fake_registry, Behaviour.NO_DIGEST_HEADER))
    assert "Docker-Content-Digest" not in headers


@pytest.mark.parametrize(
    ("behaviour", "content_type"),
    [
        (Behaviour.CONTENT_TYPE_HTML, "text/html; charset=utf-8"),
        (Behaviour.CONTENT_TYPE_UNKNOWN, "application/vnd.example.unknown+json"),
    ],
)
def test_wrong_content_types(
    fake_registry: FakeRegistry, behaviour: Behaviour, content_type: str
) -> None:
    status, headers, body = fetch(fake_registry, manifest_path(fake_registry, behaviour))
    assert (status, headers["Content-Type"]) == (200, content_type)
    assert body == canned_image().index.data


def test_malformed_indexes(fake_registry: FakeRegistry) -> None:
    def served(behaviour: Behaviour) -> object:
        status, headers, body = fetch(fake_registry, manifest_path(fake_registry, behaviour))
        assert status == 200 and headers["Docker-Content-Digest"] == sha256_digest(body)
        return json.loads(body)

    assert served(Behaviour.INDEX_NOT_OBJECT) == [1, 2, 3]
    assert served(Behaviour.INDEX_PLATFORM_STRING)["manifests"][0]["platform"] == "linux/amd64"  # type: ignore[index]
    assert served(Behaviour.INDEX_ANNOTATIONS_LIST)["annotations"] == ["a", "b"]  # type: ignore[index]
    single = manifest_path(fake_registry, Behaviour.INDEX_PLATFORM_STRING, TAG_MANIFEST)
    assert fetch(fake_registry, single)[2] == canned_image().manifest.data
    status, _, deep = fetch(fake_registry, manifest_path(fake_registry, Behaviour.MANIFEST_DEEP))
    assert status == 200 and deep.count(b'{"a":') == 100_000
    with pytest.raises(RecursionError):
        json.loads(deep)


def test_huge_manifest_is_streamed(fake_registry: FakeRegistry) -> None:
    path = manifest_path(fake_registry, Behaviour.MANIFEST_HUGE)
    _, headers, _ = fetch(fake_registry, path, method="HEAD")
    assert int(headers["Content-Length"]) == HUGE_MANIFEST_BYTES
    connection = http.client.HTTPConnection("127.0.0.1", fake_registry.port, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.read(32).startswith(b'{"schemaVersion":2')
    connection.close()  # a client that gives up early: the server must not mind


def test_gzip_bomb_is_small_on_the_wire(fake_registry: FakeRegistry) -> None:
    status, headers, body = fetch(fake_registry, manifest_path(fake_registry, Behaviour.GZIP_BOMB))
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert len(body) == int(headers["Content-Length"]) < 2 * 1024 * 1024
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflater.decompress(body, 64).startswith(b'{"schemaVersion":2')
    assert int.from_bytes(body[-4:], "little") == GZIP_BOMB_INFLATED_BYTES > 1 << 30


def test_trickle_and_hang(fake_registry: FakeRegistry) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", fake_registry.port, timeout=1)
    connection.request("GET", manifest_path(fake_registry, Behaviour.TRICKLE))
    response = connection.getresponse()
    assert response.status == 200
    assert len(response.read(1)) == 1  # the first byte comes at once ...
    with pytest.raises(TimeoutError):
        response.read(1)  # ... the next one only after 5 s
    connection.close()
    with pytest.raises((TimeoutError, socket.timeout)):
        fetch(fake_registry, manifest_path(fake_registry, Behaviour.HANG), timeout=1)
    assert fake_registry.count(fake_registry.repository(Behaviour.HANG)) == 1


def test_auth_challenges(
    fake_registry: FakeRegistry, fake_registry_factory: Callable[..., FakeRegistry]
) -> None:
    status, headers, _ = fetch(
        fake_registry, manifest_path(fake_registry, Behaviour.BEARER_NO_REALM)
    )
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert "realm=" not in headers["WWW-Authenticate"]
    path = manifest_path(fake_registry, Behaviour.BASIC_AUTH)
    status, headers, _ = fetch(fake_registry, path)
    assert (status, headers["WWW-Authenticate"]) == (401, 'Basic realm="fake-registry"')
    # skopeo learns the scheme from the ping: make /v2/ challenge too.
    guarded = fake_registry_factory(base_behaviour=Behaviour.BASIC_AUTH)
    login = f"{FAKE_CREDENTIALS.username}:{FAKE_CREDENTIALS.password}"
    inspected = run(
        "skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", login,
        f"docker://{guarded.reference(Behaviour.BASIC_AUTH)}",
    )  # fmt: skip
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout) == json.loads(canned_image().index.data)
    assert [r.auth_scheme for r in guarded.requests(endpoint="manifests")] == ["Basic"]
    refused = run(
        "skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", "fake-user:wrong",
        f"docker://{guarded.reference(Behaviour.BASIC_AUTH)}",
    )  # fmt: skip
    assert refused.returncode != 0 and "unauthorized" in refused.stderr


def test_rate_limits(fake_registry: FakeRegistry) -> None:
    path = manifest_path(fake_registry, Behaviour.RATE_LIMITED)
    answers = [fetch(fake_registry, path)[:2] for _ in range(3)]
    assert [status for status, _ in answers] == [429, 429, 200]
    assert answers[0][1]["Retry-After"] == "1"
    storm = manifest_path(fake_registry, Behaviour.RATE_LIMIT_STORM)
    assert {fetch(fake_registry, storm)[0] for _ in range(5)} == {429}


def test_errors_and_missing_blobs(fake_registry: FakeRegistry) -> None:
    image = canned_image()
    assert fetch(fake_registry, manifest_path(fake_registry, Behaviour.SERVER_ERROR))[0] == 500
    status, _, body = fetch(fake_registry, manifest_path(fake_registry, Behaviour.NOT_FOUND))
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    missing = fake_registry.repository(Behaviour.MISSING_BLOBS)
    assert (
        fetch(fake_registry, manifest_path(fake_registry, Behaviour.MISSING_BLOBS, TAG_MANIFEST))[0]
        == 200
    )
    status, _, body = fetch(fake_registry, f"/v2/{missing}/blobs/{image.config.digest}")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "BLOB_UNKNOWN"
    status, _, body = fetch(fake_registry, "/v2/fake/no-such-behaviour/manifests/latest")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
    assert (
        fetch(fake_registry, manifest_path(fake_registry, Behaviour.CORRECT), method="PUT")[0]
        == 405
    )


def test_blob_redirect_goes_to_another_host(fake_registry: FakeRegistry) -> None:
    image = canned_image()
    repository = fake_registry.repository(Behaviour.BLOB_REDIRECT)
    status, headers, _ = fetch(
        fake_registry,
        f"/v2/{repository}/blobs/{image.layer.digest}",
        headers={"Authorization": "Basic eDp5"},
    )
    assert status == 307
    location = urlsplit(headers["Location"])
    assert location.hostname == "127.0.0.2"
    connection = http.client.HTTPConnection(location.hostname, location.port or 80, timeout=5)
    connection.request("GET", f"{location.path}?{location.query}")
    layer = connection.getresponse().read()
    connection.close()
    assert hashlib.sha256(layer).hexdigest() == image.layer.digest.removeprefix("sha256:")
    [cdn_request] = fake_registry.requests(repository, endpoint="cdn")
    assert (cdn_request.host, cdn_request.auth_scheme) == ("cdn", None)


def test_fake_registry_over_tls_with_setups_certificate(
    fake_registry_factory: Callable[..., FakeRegistry],
) -> None:
    registry = fake_registry_factory(tls=TLS.server)
    context = ssl.create_default_context(cafile=str(TLS.ca_cert))
    connection = http.client.HTTPSConnection(
        "registry.test", registry.port, context=context, timeout=5
    )
    connection.request("GET", manifest_path(registry, Behaviour.CORRECT))
    response = connection.getresponse()
    assert response.status == 200 and sha256_digest(response.read()) == canned_image().index.digest
    connection.close()


def test_docker_config_helper_writes_identity_tokens(
    tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    directory = write_docker_config(
        tmp_path,
        {"registry.test:5444": token_issuer.writer},
        identity_tokens={"registry.test:5444": "t0k"},
    )
    entry = json.loads((directory / "config.json").read_text())["auths"]["registry.test:5444"]
    assert entry["identitytoken"] == "t0k"
    assert entry["auth"] == base64.b64encode(f"{token_issuer.writer.username}:".encode()).decode()
