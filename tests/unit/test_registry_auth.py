"""The registry's trust and auth paths against canned responses (issue 16 §2): 401
challenges of every shape, Basic and Bearer, token caching and expiry, refresh tokens,
credential files and helpers, certs.d, and secrets that never show."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from repro.errors import AuthError, EnvironmentProblem, ExitCode, InputError, RegistryError
from repro.registry.auth import (
    Credential,
    CredentialStore,
    HelperAnswer,
    Secret,
    auth_files,
    parse_challenges,
    parse_token_response,
)
from repro.registry.client import SkopeoAccess
from repro.registry.skopeo import skopeo_arguments
from repro.registry.tls import TrustSettings, default_certs_dirs
from repro.registry.transport import Failure
from tests.unit.canned_registry import (
    MANIFEST,
    OCI_MANIFEST,
    Canned,
    auth_entry,
    basic,
    challenge,
    docker_config,
    error,
    form,
    harness,
    manifest,
    query,
    refused,
    token,
)

PASSWORD = "s3cret-Pa55"
TAG_PATH = "/v2/team/app/manifests/1.0"
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="reg.example",scope="repository:team/app:pull"'


def logged_in(tmp_path: Path, **extra: object) -> dict[str, str]:
    return docker_config(tmp_path, {"reg.example": auth_entry("alice", PASSWORD)}, **extra)


# --- challenges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (['Basic realm="registry"'], [("basic", {"realm": "registry"})]),
        ([BEARER], [("bearer", {"realm": REALM, "service": "reg.example",
                                "scope": "repository:team/app:pull"})]),
        (["Bearer"], [("bearer", {})]),
        (['Bearer realm="https://a/t"'], [("bearer", {"realm": "https://a/t"})]),
        (['Basic realm="x", Bearer realm="https://a/t",service="s"'],
         [("basic", {"realm": "x"}), ("bearer", {"realm": "https://a/t", "service": "s"})]),
        (['Basic realm="x"', 'Bearer realm="https://a/t"'],
         [("basic", {"realm": "x"}), ("bearer", {"realm": "https://a/t"})]),
        (['bearer REALM="https://a/t", error="invalid_token"'],
         [("bearer", {"realm": "https://a/t", "error": "invalid_token"})]),
        (['Bearer realm="a \\"quoted\\" realm"'], [("bearer", {"realm": 'a "quoted" realm'})]),
        (["Negotiate abc123=="], [("negotiate", {})]),
        (['Bearer realm="unterminated'], [("bearer", {})]),
        (["@@@"], []),
        ([""], []),
    ],
)  # fmt: skip
def test_challenges_of_every_shape_parse(
    values: list[str], expected: list[tuple[str, dict[str, str]]]
) -> None:
    assert [(c.scheme, dict(c.params)) for c in parse_challenges(values)] == expected


# --- Basic --------------------------------------------------------------------------------------


def test_basic_challenge_is_answered_from_the_docker_config_once(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge('Basic realm="r"'), manifest())
    client = h.client()
    client.get_manifest("team/app", "1.0")
    client.get_manifest("team/app", "1.0")
    authorizations = [r.headers.get("Authorization") for r in h.transport.requests]
    assert authorizations == [None, basic("alice", PASSWORD), basic("alice", PASSWORD)]


def test_basic_challenge_without_credentials_names_the_files_looked_in(tmp_path: Path) -> None:
    h = harness({"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "d")})
    h.transport.add("GET", TAG_PATH, challenge('Basic realm="r"'))
    with pytest.raises(AuthError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.exit_code is ExitCode.ENVIRONMENT
    assert "asks for a login (Basic) and no credentials" in raised.value.message
    assert str(tmp_path / "d" / "config.json") in raised.value.message
    assert raised.value.hint == (
        "log in with `docker login reg.example` (or `podman login reg.example`) and run again"
    )


def test_a_wrong_password_is_refused_naming_user_and_source_never_the_password(
    tmp_path: Path,
) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge('Basic realm="r"'))
    with pytest.raises(AuthError) as raised:
        h.client().get_manifest("team/app", "1.0")
    text = f"{raised.value.message} {raised.value.hint} {raised.value!r}"
    assert "refused the credentials for 'alice'" in text and "config.json" in text
    assert PASSWORD not in text
    assert len(h.transport.requests) == 2  # one answer to the challenge, no loop


# --- Bearer ---------------------------------------------------------------------------------------


def test_bearer_token_with_basic_credentials_scope_and_account(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge(BEARER), manifest())
    h.transport.add("GET", REALM, token("tok-1"))
    h.client().get_manifest("team/app", "1.0")
    (fetch,) = h.transport.sent("GET", "/token")
    assert query(fetch) == {
        "service": ["reg.example"],
        "scope": ["repository:team/app:pull"],
        "account": ["alice"],
    }
    assert fetch.headers["Authorization"] == basic("alice", PASSWORD)
    assert h.transport.requests[-1].headers["Authorization"] == "Bearer tok-1"


def test_tokens_are_cached_per_scope_until_they_expire(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge(BEARER), manifest())
    h.transport.add("GET", "/v2/team/other/manifests/1.0", manifest())
    h.transport.add("GET", REALM, token("tok-1", expires_in=120), token("tok-2"), token("tok-3"))
    client = h.client()
    client.get_manifest("team/app", "1.0")
    client.get_manifest("team/app", "1.0")
    assert len(h.transport.sent("GET", "/token")) == 1  # cached
    client.get_manifest("team/other", "1.0")  # another repository: another scope
    fetches = h.transport.sent("GET", "/token")
    assert [query(f)["scope"] for f in fetches] == [
        ["repository:team/app:pull"],
        ["repository:team/other:pull"],
    ]
    h.clock.now += 121
    client.get_manifest("team/app", "1.0")
    assert len(h.transport.sent("GET", "/token")) == 3
    assert h.transport.requests[-1].headers["Authorization"] == "Bearer tok-3"


def test_an_anonymous_token_is_fetched_without_credentials() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge(BEARER), manifest())
    h.transport.add("GET", REALM, token("anon"))
    h.client().get_manifest("team/app", "1.0")
    (fetch,) = h.transport.sent("GET", "/token")
    assert "Authorization" not in fetch.headers and "account" not in query(fetch)


def test_bearer_without_service_or_scope_asks_for_the_operations_scope() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge(f'Bearer realm="{REALM}"'), manifest())
    h.transport.add("GET", REALM, token())
    h.client().get_manifest("team/app", "1.0")
    (fetch,) = h.transport.sent("GET", "/token")
    assert query(fetch) == {"scope": ["repository:team/app:pull"]}


def test_bearer_without_realm_is_an_auth_error_not_a_crash() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge('Bearer service="x",scope="repository:a:pull"'))
    with pytest.raises(AuthError, match=r"names no token service") as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.exit_code is ExitCode.ENVIRONMENT


def test_bearer_is_preferred_among_several_challenges(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    both = challenge(['Basic realm="legacy"', f'Bearer realm="{REALM}",service="reg.example"'])
    h.transport.add("GET", TAG_PATH, both, manifest())
    h.transport.add("GET", REALM, token("tok"))
    h.client().get_manifest("team/app", "1.0")
    assert h.transport.requests[-1].headers["Authorization"] == "Bearer tok"


@pytest.mark.parametrize("value", ["@@@", 'Digest realm="x",nonce="y"', "Negotiate"])
def test_a_challenge_repro_cannot_answer_is_an_auth_error(value: str) -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge(value))
    with pytest.raises(AuthError, match=r"a challenge repro cannot answer"):
        h.client().get_manifest("team/app", "1.0")


def test_a_401_without_any_challenge_is_an_auth_error() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, Canned(401, {}, b""))
    with pytest.raises(AuthError, match=r"no WWW-Authenticate header"):
        h.client().get_manifest("team/app", "1.0")


def test_the_identity_token_is_a_refresh_token_posted_to_the_realm(tmp_path: Path) -> None:
    entry = {**auth_entry("alice", ""), "identitytoken": "refresh-XYZ"}
    h = harness(docker_config(tmp_path, {"reg.example": entry}))
    h.transport.add("GET", TAG_PATH, challenge(BEARER), manifest())
    h.transport.add("POST", REALM, token("from-refresh"))
    h.client().get_manifest("team/app", "1.0")
    (post,) = h.transport.sent("POST", "/token")
    assert form(post) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-XYZ"],
        "service": ["reg.example"],
        "client_id": ["repro"],
        "scope": ["repository:team/app:pull"],
    }
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert h.transport.requests[-1].headers["Authorization"] == "Bearer from-refresh"


def test_an_expired_token_is_dropped_and_fetched_again_once(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    expired = challenge(f'{BEARER},error="invalid_token"')
    h.transport.add("GET", TAG_PATH, challenge(BEARER), manifest(), expired, manifest())
    h.transport.add("GET", REALM, token("old"), token("new"))
    client = h.client()
    client.get_manifest("team/app", "1.0")
    client.get_manifest("team/app", "1.0")  # the cached token has expired at the registry
    assert [r.headers.get("Authorization") for r in h.transport.sent("GET", TAG_PATH)] == [
        None,
        "Bearer old",
        "Bearer old",
        "Bearer new",
    ]


def test_a_token_the_registry_keeps_refusing_is_an_auth_error(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge(f'{BEARER},error="invalid_token"'))
    h.transport.add("GET", REALM, token("t"))
    with pytest.raises(AuthError, match=r"refused the token https://auth.example/token issued"):
        h.client().get_manifest("team/app", "1.0")
    assert len(h.transport.sent("GET", TAG_PATH)) == 2


def test_a_token_service_that_refuses_the_password_names_the_source(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge(BEARER))
    h.transport.add("GET", REALM, Canned(401, {}, b'{"error":"invalid credentials"}'))
    with pytest.raises(AuthError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert "token service https://auth.example/token for reg.example refused" in (
        raised.value.message
    )
    assert "'alice'" in raised.value.message and PASSWORD not in raised.value.message


def test_a_token_service_that_is_down_is_named() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge(BEARER))
    h.transport.add("GET", REALM, refused(Failure.CONNECT, "connection refused"))
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.message.startswith(
        "the token service https://auth.example/token for reg.example is unreachable: "
        "TCP connect failed"
    )


def test_a_token_service_that_answers_no_token() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, challenge(BEARER))
    h.transport.add("GET", REALM, Canned(200, {}, b'{"nothing": true}'))
    with pytest.raises(RegistryError, match=r"answered 200 but no token"):
        h.client().get_manifest("team/app", "1.0")


def test_credentials_are_never_sent_to_a_plain_http_realm(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add("GET", TAG_PATH, challenge('Bearer realm="http://auth.example/token"'))
    with pytest.raises(AuthError, match=r"plain HTTP"):
        h.client().get_manifest("team/app", "1.0")
    assert not h.transport.sent("GET", "/token")


def test_pushes_ask_for_pull_and_push(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    path = "/v2/team/app/manifests/1"
    h.transport.add("PUT", path, challenge(BEARER), Canned(201))
    h.transport.add("GET", REALM, token("push-tok"))
    h.client().put_manifest("team/app", "1", MANIFEST, OCI_MANIFEST)
    (fetch,) = h.transport.sent("GET", "/token")
    assert query(fetch)["scope"] == ["repository:team/app:pull", "repository:team/app:pull,push"]


def test_token_response_shapes() -> None:
    assert parse_token_response(b'{"access_token":"a","expires_in":600}', 0.0).expires_at == 600  # type: ignore[union-attr]
    assert parse_token_response(b'{"token":"t"}', 0.0).expires_at == 60  # type: ignore[union-attr]
    assert parse_token_response(b'{"token":"t","expires_in":5}', 0.0).expires_at == 60  # type: ignore[union-attr]
    for bad in (b"[]", b"{}", b'{"token":""}', b"not json", b'{"token":7}'):
        assert parse_token_response(bad, 0.0) is None


def test_a_denied_push_is_403_with_the_code(tmp_path: Path) -> None:
    h = harness(logged_in(tmp_path))
    h.transport.add(
        "PUT", "/v2/team/app/manifests/1", error(403, "DENIED", "requested access denied")
    )
    with pytest.raises(AuthError, match=r"denied PUT .*HTTP 403: DENIED"):
        h.client().put_manifest("team/app", "1", MANIFEST, OCI_MANIFEST)


# --- where credentials come from ------------------------------------------------------------


def test_docker_order_helpers_then_store_then_auths(tmp_path: Path) -> None:
    env = logged_in(tmp_path, credHelpers={"reg.example": "ecr"}, credsStore="desktop")
    answers = {
        "ecr": HelperAnswer("from-ecr", Secret("e")),
        "desktop": HelperAnswer("d", Secret("d")),
    }
    calls: list[tuple[str, str]] = []

    def run(suffix: str, server: str) -> HelperAnswer | None:
        calls.append((suffix, server))
        return answers.get(suffix)

    store = CredentialStore(environment=env, run_helper=run)
    found = store.find("reg.example")
    assert found is not None and found.username == "from-ecr"
    assert "docker-credential-ecr (credHelpers in" in found.source
    other = store.find("other.example")
    assert other is not None and other.username == "d" and calls[-1] == ("desktop", "other.example")


def test_a_store_without_the_entry_falls_back_to_auths(tmp_path: Path) -> None:
    store = CredentialStore(
        environment=logged_in(tmp_path, credsStore="pass"), run_helper=lambda *_: None
    )
    found = store.find("reg.example")
    assert (
        found is not None and found.username == "alice" and "auths['reg.example']" in found.source
    )


def test_a_helper_token_username_means_an_identity_token() -> None:
    store = CredentialStore(environment={"HOME": "/nonexistent"}, run_helper=lambda *_: None)
    credential = store._from_helper("x", "reg.example", "where")
    assert credential is None
    store.run_helper = lambda *_: HelperAnswer("<token>", Secret("refresh"))
    credential = store._from_helper("x", "reg.example", "where")
    assert credential is not None and credential.identity_token == Secret("refresh")


@pytest.mark.parametrize(
    ("key", "host"),
    [("https://index.docker.io/v1/", "docker.io"), ("index.docker.io", "registry-1.docker.io"),
     ("https://reg.example", "reg.example"), ("http://reg.example/v2/", "reg.example"),
     ("REG.example", "reg.example")],
)  # fmt: skip
def test_auths_keys_are_matched_as_docker_normalises_them(
    tmp_path: Path, key: str, host: str
) -> None:
    env = docker_config(tmp_path, {key: auth_entry("u", "p")})
    assert CredentialStore(environment=env).find(host) is not None


def test_containers_auth_files_in_podman_order_with_per_repository_keys(tmp_path: Path) -> None:
    runtime = tmp_path / "run" / "containers"
    runtime.mkdir(parents=True)
    (runtime / "auth.json").write_text(json.dumps({"auths": {
        "reg.example": auth_entry("host-wide", "a"),
        "reg.example/team": auth_entry("team", "b"),
        "reg.example/team/app": auth_entry("app", "c"),
    }}))  # fmt: skip
    env = {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    store = CredentialStore(environment=env)
    assert store.find("reg.example", "team/app").username == "app"  # type: ignore[union-attr]
    assert store.find("reg.example", "team/other").username == "team"  # type: ignore[union-attr]
    assert store.find("reg.example", "teamster/x").username == "host-wide"  # type: ignore[union-attr]
    assert store.find("reg.example").username == "host-wide"  # type: ignore[union-attr]
    explicit = tmp_path / "explicit.json"
    explicit.write_text(json.dumps({"auths": {"reg.example": auth_entry("explicit", "x")}}))
    first = CredentialStore(environment={**env, "REGISTRY_AUTH_FILE": str(explicit)})
    assert first.find("reg.example", "team/app").username == "explicit"  # type: ignore[union-attr]


def test_the_auth_files_and_their_order() -> None:
    env = {"HOME": "/h", "REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/run/u"}
    assert [str(f.path) for f in auth_files(env)] == [
        "/a.json",
        "/h/.docker/config.json",
        "/run/u/containers/auth.json",
        "/h/.config/containers/auth.json",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not valid JSON"), ("[]", "not a JSON object"), ("[" * 100_000, "nested too deeply"),
     ('{"auths": {"reg.example": {"auth": "%%%"}}}', "not base64"),
     ('{"auths": {"reg.example": {"auth": "bm9jb2xvbg=="}}}', "no ':'")],
)  # fmt: skip
def test_a_broken_credential_file_is_an_input_error(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "config.json").write_text(text)
    store = CredentialStore(environment={"DOCKER_CONFIG": str(tmp_path), "HOME": "/nonexistent"})
    with pytest.raises(InputError, match=message):
        store.find("reg.example")


def test_secrets_never_show_in_repr_or_str() -> None:
    credential = Credential("alice", Secret(PASSWORD), "somewhere", Secret("refresh-XYZ"))
    for text in (repr(credential), str(credential), f"{credential}", repr(credential.password)):
        assert PASSWORD not in text and "refresh-XYZ" not in text
    assert credential.password.reveal() == PASSWORD


def test_a_missing_helper_is_an_environment_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from repro.registry import auth

    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(EnvironmentProblem, match=r"docker-credential-nothere .* is not installed"):
        auth.run_credential_helper("nothere", "reg.example")


# --- trust: certs.d, ca-files, REPRO_CA_FILE -----------------------------------------------


def test_certs_d_ca_files_and_client_certificates(tmp_path: Path) -> None:
    docker = tmp_path / "docker" / "reg.example:5443"
    containers = tmp_path / "containers" / "reg.example:5443"
    for directory in (docker, containers):
        directory.mkdir(parents=True)
    (docker / "ca.crt").write_text("x")
    (docker / "extra.crt").write_text("x")
    (docker / "client.cert").write_text("x")
    (docker / "client.key").write_text("x")
    (docker / "lonely.cert").write_text("x")  # no key: not a client certificate
    (containers / "ca.crt").write_text("x")
    config_ca = tmp_path / "corp.pem"
    trust = TrustSettings(
        ca_files=(config_ca,),
        certs_dirs=(tmp_path / "docker", tmp_path / "containers"),
        environment={"REPRO_CA_FILE": f"/a.pem{os.pathsep}/b.pem"},
    )
    found = trust.for_host("reg.example:5443")
    assert found.ca_files == (
        docker / "ca.crt",
        docker / "extra.crt",
        containers / "ca.crt",
        config_ca,
        Path("/a.pem"),
        Path("/b.pem"),
    )
    assert [(c.cert.name, c.key.name) for c in found.client_certs] == [
        ("client.cert", "client.key")
    ]
    assert found.sources()[0] == "the OS trust store"
    assert trust.for_host("other.example").ca_files == (config_ca, Path("/a.pem"), Path("/b.pem"))


def test_the_certs_d_roots_docker_and_podman_read() -> None:
    roots = default_certs_dirs({"HOME": "/h"})
    assert [str(r) for r in roots] == [
        "/etc/docker/certs.d",
        "/h/.docker/certs.d",
        "/etc/containers/certs.d",
        "/h/.config/containers/certs.d",
    ]


def test_a_ca_file_that_cannot_be_read_is_an_input_error(tmp_path: Path) -> None:
    trust = TrustSettings(ca_files=(tmp_path / "missing.pem",), certs_dirs=(), environment={})
    with pytest.raises(InputError, match=r"missing.pem cannot be used"):
        trust.context("reg.example", os_store=False)


# --- skopeo gets what repro trusts, never a password on its command line ----------------------


def test_skopeo_gets_a_private_auth_file_and_cert_dir(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("CA")
    credential = Credential("alice", Secret(PASSWORD), "config")
    access = SkopeoAccess("reg.example:5443", False, True, (str(ca),), (), credential)
    work = tmp_path / "w"
    work.mkdir()
    flags = skopeo_arguments(access, work)
    assert flags == [f"--dest-cert-dir={work / 'certs'}", f"--dest-authfile={work / 'auth.json'}"]
    assert PASSWORD not in " ".join(flags)
    assert (work / "certs" / "repro-0.crt").read_text() == "CA"
    authfile = work / "auth.json"
    assert authfile.stat().st_mode & 0o777 == 0o600
    assert json.loads(authfile.read_text()) == {
        "auths": {"reg.example:5443": auth_entry("alice", PASSWORD)}
    }


def test_skopeo_plain_http_and_identity_tokens(tmp_path: Path) -> None:
    credential = Credential("alice", Secret(""), "config", Secret("refresh-XYZ"))
    access = SkopeoAccess("localhost:5000", True, True, (), (), credential)
    flags = skopeo_arguments(access, tmp_path)
    assert flags[0] == "--dest-tls-verify=false"
    entry = json.loads((tmp_path / "auth.json").read_text())["auths"]["localhost:5000"]
    assert entry["identitytoken"] == "refresh-XYZ"
