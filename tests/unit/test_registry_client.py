"""The registry client against canned responses: integrity, shape, limits, deadlines,
retries, redirects, schemes and mirrors (no socket: tests/unit/canned_registry.py)."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest

from repro.errors import AuthError, ExitCode, InputError, RegistryError
from repro.registry.bodies import IntegrityError
from repro.registry.client import (
    MANIFEST_LIMIT,
    is_loopback,
    mirrors_for,
    timeout_from_environment,
)
from repro.registry.model import ManifestKey
from repro.registry.resolver import ImageResolver, run_parallel
from repro.registry.transport import Failure, proxy_for
from tests.unit.canned_registry import (
    INDEX,
    LAYER,
    MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Canned,
    error,
    harness,
    manifest,
    refused,
    sha256,
)

TAG_PATH = "/v2/team/app/manifests/1.0"


def served(body: bytes = INDEX, media_type: str = OCI_INDEX, **headers: str):  # type: ignore[no-untyped-def]
    h = harness()
    h.transport.add("GET", TAG_PATH, manifest(body, media_type, **headers))
    return h


# --- what a manifest read trusts ----------------------------------------------------------


def test_a_tag_is_one_get_whose_body_is_hashed() -> None:
    h = served()
    answer = h.client().get_manifest("team/app", "1.0")
    assert answer.digest == sha256(INDEX) and answer.body == INDEX
    assert answer.media_type == OCI_INDEX and answer.endpoint == "reg.example"
    assert answer.platforms == {"linux/amd64": sha256(MANIFEST)}
    (request,) = h.transport.requests
    assert request.method == "GET" and request.url == f"https://reg.example{TAG_PATH}"
    assert request.headers["Accept-Encoding"] == "identity"
    assert OCI_INDEX in request.headers["Accept"]


def test_a_body_that_does_not_match_its_digest_header_is_refused() -> None:
    h = served(Docker_Content_Digest=sha256(b"another body"))
    with pytest.raises(IntegrityError, match=r"the registry says sha256:.* hashes to") as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.exit_code is ExitCode.ENVIRONMENT


def test_a_body_that_does_not_match_the_digest_asked_for_is_refused() -> None:
    h = harness()
    wanted = sha256(INDEX)
    h.transport.add("GET", f"/v2/team/app/manifests/{wanted}", manifest(INDEX + b"\n"))
    with pytest.raises(IntegrityError, match=r"not the digest asked for"):
        h.client().get_manifest("team/app", wanted)


def test_no_digest_header_is_fine_the_body_decides() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, Canned(200, {"Content-Type": OCI_INDEX}, INDEX))
    assert h.client().get_manifest("team/app", "1.0").digest == sha256(INDEX)


def test_a_malformed_digest_header_blames_the_registry_not_the_reference() -> None:
    h = served(Docker_Content_Digest="sha256:not-a-hex-digest")
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert "malformed Docker-Content-Digest" in raised.value.message
    assert "registry is at fault" in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/html; charset=utf-8", "Content-Type 'text/html'"),
        ("application/vnd.example.unknown+json", "not an image manifest"),
        ("application/vnd.docker.distribution.manifest.v1+prettyjws", "schema 1"),
    ],
)
def test_a_content_type_that_is_not_a_manifest_is_refused(content_type: str, message: str) -> None:
    h = served(media_type=content_type)
    with pytest.raises(RegistryError, match=message) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert "reg.example/team/app:1.0" in raised.value.message


def test_a_generic_content_type_takes_the_body_media_type() -> None:
    h = served(media_type="application/json")
    assert h.client().get_manifest("team/app", "1.0").media_type == OCI_INDEX


def test_a_content_type_that_contradicts_the_body_is_refused() -> None:
    h = served(INDEX, OCI_MANIFEST)
    with pytest.raises(RegistryError, match=r"but the body says it is"):
        h.client().get_manifest("team/app", "1.0")


def _index_with(**changes: object) -> bytes:
    document = json.loads(INDEX)
    for key, value in changes.items():
        if key == "platform":
            document["manifests"][0]["platform"] = value
        else:
            document[key] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1,2,3]", "a JSON list, not an object"),
        (_index_with(platform="linux/amd64"), r"manifests\[0\]: platform is not an object"),
        (_index_with(annotations=["a", "b"]), "annotations must map strings to strings"),
        (_index_with(manifests=[{"digest": "sha256:12"}]), "mediaType is missing"),
        (_index_with(schemaVersion=1), "schemaVersion is 1"),
        (b"<html>login</html>", "not valid JSON"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, r"nested too deeply \(more than 32 levels\)"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_a_document_not_shaped_as_an_index_is_an_environment_error(
    body: bytes, message: str
) -> None:
    h = served(body)
    with pytest.raises(RegistryError, match=message) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.exit_code is ExitCode.ENVIRONMENT


def test_a_manifest_over_4_mib_is_refused_from_its_length_without_reading() -> None:
    h = harness()
    huge = Canned(200, {"Content-Type": OCI_MANIFEST, "Content-Length": str(200 << 20)}, b"{")
    h.transport.add("GET", TAG_PATH, huge)
    with pytest.raises(IntegrityError, match=r"over the 4,194,304-byte limit"):
        h.client().get_manifest("team/app", "1.0")


def test_a_manifest_over_4_mib_without_a_length_is_cut_off() -> None:
    h = harness()
    body = b'{"pad":"' + b"a" * MANIFEST_LIMIT + b'"}'
    h.transport.add("GET", TAG_PATH, Canned(200, {"Content-Type": OCI_MANIFEST}, body))
    with pytest.raises(IntegrityError, match=r"over the 4,194,304-byte limit"):
        h.client().get_manifest("team/app", "1.0")


def test_a_body_encoded_without_being_asked_is_refused_not_inflated() -> None:
    h = harness()
    bomb = gzip.compress(b" " * (1 << 20))
    headers = {"Content-Type": OCI_MANIFEST, "Content-Encoding": "gzip"}
    h.transport.add("GET", TAG_PATH, Canned(200, headers, bomb))
    with pytest.raises(IntegrityError, match=r"Content-Encoding 'gzip'"):
        h.client().get_manifest("team/app", "1.0")


# --- deadlines --------------------------------------------------------------------------


def test_a_trickling_body_cannot_outlast_the_deadline() -> None:
    h = harness(timeout=30)
    trickle = manifest()
    trickle.chunk, trickle.seconds_per_read = 1, 5.0
    h.transport.add("GET", TAG_PATH, trickle)
    started = h.clock.now
    with pytest.raises(RegistryError, match=r"did not arrive within 30 s") as raised:
        h.client().get_manifest("team/app", "1.0")
    assert h.clock.now - started <= 35
    assert "REPRO_REGISTRY_TIMEOUT" in (raised.value.hint or "")


def test_a_registry_that_never_answers_is_a_timeout_naming_the_host() -> None:
    h = harness(timeout=2)
    h.transport.add("GET", TAG_PATH, refused(Failure.TIMEOUT, "waiting for the answer"))
    with pytest.raises(RegistryError, match=r"registry reg.example did not answer within 2 s"):
        h.client().get_manifest("team/app", "1.0")


def test_a_blob_stream_must_keep_delivering() -> None:
    h = harness(timeout=10)
    slow = Canned(200, {}, b"x" * 100, chunk=1, seconds_per_read=4.0)
    h.transport.add("GET", f"/v2/team/app/blobs/{sha256(LAYER)}", slow)
    stream = h.client().open_blob("team/app", sha256(LAYER))
    assert stream is not None
    with pytest.raises(RegistryError, match=r"stalled: less than 1 MiB in 10 s"):
        stream.read()


@pytest.mark.parametrize(("text", "seconds"), [("5", 5.0), ("0.5", 0.5)])
def test_the_timeout_comes_from_the_environment_first(text: str, seconds: float) -> None:
    assert timeout_from_environment(12.0, {"REPRO_REGISTRY_TIMEOUT": text}) == seconds
    assert timeout_from_environment(12.0, {}) == 12.0
    assert timeout_from_environment(None, {}) == 30.0


def test_a_bad_timeout_in_the_environment_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"REPRO_REGISTRY_TIMEOUT='soon'"):
        timeout_from_environment(None, {"REPRO_REGISTRY_TIMEOUT": "soon"})


# --- retries ----------------------------------------------------------------------------


def test_429_is_retried_after_what_retry_after_says() -> None:
    h = harness()
    limited = error(429, "TOOMANYREQUESTS", Retry_After="1")
    h.transport.add("GET", TAG_PATH, limited, limited, manifest())
    assert h.client().get_manifest("team/app", "1.0").digest == sha256(INDEX)
    assert h.clock.sleeps == [1.0, 1.0]


def test_a_429_storm_gives_up_within_the_wait_cap_naming_the_host() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, error(429, "TOOMANYREQUESTS", "slow down", Retry_After="2"))
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    message = raised.value.message
    assert "registry reg.example throttled" in message and "429 Too Many Requests" in message
    assert "TOOMANYREQUESTS: slow down" in message
    assert sum(h.clock.sleeps) <= 15 and len(h.transport.requests) == 4


def test_a_retry_after_longer_than_the_deadline_is_not_waited_for() -> None:
    h = harness(timeout=5)
    h.transport.add("GET", TAG_PATH, error(503, "UNAVAILABLE", Retry_After="120"))
    with pytest.raises(RegistryError, match=r"asked to wait 120 s"):
        h.client().get_manifest("team/app", "1.0")
    assert h.clock.sleeps == []


def test_503_without_retry_after_backs_off() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, error(503, "UNAVAILABLE"), manifest())
    h.client().get_manifest("team/app", "1.0")
    assert h.clock.sleeps == [1.0]


def test_500_is_not_retried_and_says_so_with_a_hint() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, error(500, "UNKNOWN", "internal server error"))
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert "HTTP 500: UNKNOWN: internal server error" in raised.value.message
    assert raised.value.hint and "try again later" in raised.value.hint
    assert len(h.transport.requests) == 1


def test_404_names_the_reference_the_code_and_a_hint() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, error(404, "MANIFEST_UNKNOWN", "manifest unknown"))
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert raised.value.message == (
        "reg.example/team/app:1.0 was not found (HTTP 404: MANIFEST_UNKNOWN: manifest unknown)"
    )
    assert raised.value.hint == "check the repository name and the tag or digest"
    assert h.client().find_manifest("team/app", "1.0") is None


def test_a_missing_blob_has_a_hint() -> None:
    h = harness()
    digest = sha256(LAYER)
    h.transport.add("GET", f"/v2/team/app/blobs/{digest}", error(404, "BLOB_UNKNOWN"))
    with pytest.raises(RegistryError, match=r"is missing") as raised:
        h.client().get_blob("team/app", digest)
    assert "push the image again" in (raised.value.hint or "")


def test_a_blob_whose_bytes_do_not_hash_to_its_digest_is_refused() -> None:
    h = harness()
    digest = sha256(LAYER)
    h.transport.add("GET", f"/v2/team/app/blobs/{digest}", Canned(200, {}, LAYER + b"!"))
    with pytest.raises(IntegrityError, match=r"hash to"):
        h.client().get_blob("team/app", digest)


# --- redirects ----------------------------------------------------------------------------


def test_a_blob_redirect_to_another_host_does_not_carry_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.canned_registry import auth_entry, challenge, docker_config

    h = harness(docker_config(tmp_path, {"reg.example": auth_entry("u", "pw")}))
    digest = sha256(LAYER)
    path = f"/v2/team/app/blobs/{digest}"
    h.transport.add(
        "GET",
        path,
        challenge('Basic realm="r"'),
        Canned(307, {"Location": "https://cdn.example/b?sig=1"}),
    )
    h.transport.add("GET", "https://cdn.example/b", Canned(200, {}, LAYER))
    assert h.client().get_blob("team/app", digest) == LAYER
    cdn = h.transport.requests[-1]
    assert cdn.url == "https://cdn.example/b?sig=1" and "Authorization" not in cdn.headers
    assert h.transport.requests[-2].headers["Authorization"].startswith("Basic ")


def test_a_redirect_to_plain_http_elsewhere_is_refused() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, Canned(302, {"Location": "http://evil.example/m"}))
    with pytest.raises(RegistryError, match=r"redirected GET .* to plain HTTP"):
        h.client().get_manifest("team/app", "1.0")


def test_redirect_loops_end() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, Canned(307, {"Location": TAG_PATH}))
    with pytest.raises(RegistryError, match=r"too often"):
        h.client().get_manifest("team/app", "1.0")


# --- schemes: HTTPS first -------------------------------------------------------------------


def test_https_first_then_plain_http_on_a_loopback_port_that_does_not_speak_tls() -> None:
    h = harness()
    h.transport.add("GET", "https://localhost:5000/v2/team/app/manifests/1.0",
                    refused(Failure.NOT_TLS, "it answered in plain HTTP"))  # fmt: skip
    h.transport.add("GET", "http://localhost:5000/v2/team/app/manifests/1.0", manifest())
    client = h.client("localhost:5000")
    client.get_manifest("team/app", "1.0")
    client.get_manifest("team/app", "1.0")
    schemes = [r.url.split(":")[0] for r in h.transport.requests]
    assert schemes == ["https", "http", "http"]  # found out once, remembered


def test_no_plain_http_for_a_remote_registry_that_does_not_speak_tls() -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, refused(Failure.NOT_TLS, "it answered in plain HTTP"))
    with pytest.raises(RegistryError, match=r"does not speak TLS") as raised:
        h.client().get_manifest("team/app", "1.0")
    assert "insecure-registries" in (raised.value.hint or "")
    assert len(h.transport.requests) == 1


def test_an_insecure_registry_is_not_verified_and_may_fall_back() -> None:
    h = harness(insecure=frozenset({"reg.example"}))
    h.transport.add("GET", f"https://reg.example{TAG_PATH}", refused(Failure.TLS, "handshake"))
    h.transport.add("GET", f"http://reg.example{TAG_PATH}", manifest())
    h.client().get_manifest("team/app", "1.0")
    assert h.transport.verify == [False, False]


def test_a_certificate_that_does_not_verify_names_what_was_presented_and_the_fix() -> None:
    from datetime import UTC, datetime

    from repro.registry.tls import PresentedCertificate

    cert = PresentedCertificate(
        "CN=reg.example", "CN=Corp CA", ("reg.example",),
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    h = harness(presented=cert)
    h.transport.add("GET", TAG_PATH, refused(Failure.TLS_VERIFY, "unable to get local issuer"))
    with pytest.raises(RegistryError) as raised:
        h.client().get_manifest("team/app", "1.0")
    message = raised.value.message
    assert "TLS certificate verification failed: unable to get local issuer" in message
    assert "subject CN=reg.example, issuer CN=Corp CA" in message
    assert "(trusted: the OS trust store)" in message
    assert "/etc/docker/certs.d/reg.example/ca.crt" in (raised.value.hint or "")
    assert "scripts/setup" not in message + (raised.value.hint or "")


@pytest.mark.parametrize(
    ("failure", "message", "hint"),
    [
        (Failure.DNS, "DNS lookup failed", "DNS"),
        (Failure.CONNECT, "TCP connect failed to https://reg.example", "HTTPS_PROXY"),
    ],
)
def test_failures_below_http_say_what_failed(failure: Failure, message: str, hint: str) -> None:
    h = harness()
    h.transport.add("GET", TAG_PATH, refused(failure, "x"))
    with pytest.raises(RegistryError, match=message) as raised:
        h.client().get_manifest("team/app", "1.0")
    assert hint in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost:5000", True), ("127.0.0.1", True), ("127.0.0.2:80", True), ("[::1]:5000", True),
     ("registry.test:5443", False), ("docker.io", False), ("10.0.0.1:5000", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# --- mirrors --------------------------------------------------------------------------------


def test_a_mirror_is_read_first_and_recorded() -> None:
    h = harness()
    h.transport.add("GET", "https://mirror.example/v2/library/busybox/manifests/1", manifest())
    answer = h.client("docker.io", {"docker.io": "mirror.example"}).get_manifest(
        "library/busybox", "1"
    )
    assert answer.endpoint == "mirror.example"


def test_the_registry_named_answers_when_the_mirror_fails() -> None:
    h = harness()
    mirror = "https://mirror.example/v2/library/busybox/manifests/1"
    h.transport.add("GET", mirror, refused(Failure.CONNECT, "connection refused"))
    origin = "https://registry-1.docker.io/v2/library/busybox/manifests/1"
    h.transport.add("GET", origin, manifest())
    client = h.client("docker.io", {"docker.io": "https://mirror.example"})
    assert client.get_manifest("library/busybox", "1").endpoint == "registry-1.docker.io"


def test_a_mirror_that_serves_wrong_bytes_is_not_papered_over() -> None:
    h = harness()
    bad = manifest(Docker_Content_Digest=sha256(b"x"))
    h.transport.add("GET", "https://mirror.example/v2/library/busybox/manifests/1", bad)
    client = h.client("docker.io", {"docker.io": "mirror.example"})
    with pytest.raises(IntegrityError, match=r"from the mirror mirror.example"):
        client.get_manifest("library/busybox", "1")


def test_writes_go_to_the_registry_named_never_the_mirror() -> None:
    h = harness()
    h.transport.add("PUT", "https://reg.example/v2/team/app/manifests/1", Canned(201))
    client = h.client("reg.example", {"reg.example": "mirror.example"})
    client.put_manifest("team/app", "1", MANIFEST, OCI_MANIFEST)
    assert [r.url for r in h.transport.requests] == ["https://reg.example/v2/team/app/manifests/1"]


def test_both_failing_names_both() -> None:
    h = harness()
    h.transport.add("GET", "https://mirror.example/v2/a/manifests/1", error(500, "UNKNOWN"))
    h.transport.add("GET", "https://reg.example/v2/a/manifests/1", error(404, "MANIFEST_UNKNOWN"))
    with pytest.raises(RegistryError, match=r"not found .*after mirror mirror.example: "):
        h.client("reg.example", {"reg.example": "mirror.example"}).get_manifest("a", "1")


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "is empty"), ("  ", "is empty"), ("ftp://m", "not an http"), ("https://m/v2/x", "path")],
)
def test_bad_mirrors_are_input_errors(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        mirrors_for("docker.io", {"docker.io": value})


def test_mirror_scheme_forces_the_scheme() -> None:
    (mirror,) = mirrors_for("docker.io", {"index.docker.io": "http://localhost:5000"})
    assert (mirror.host, mirror.scheme) == ("localhost:5000", "http")


# --- the resolver ---------------------------------------------------------------------------


def test_the_resolver_asks_once_per_unique_tag_and_records_the_mirror() -> None:
    h = harness()
    h.transport.add("GET", "https://mirror.example/v2/team/app/manifests/1.0", manifest())
    resolver = ImageResolver(mirrors={"reg.example": "mirror.example"}, session=h.session)
    key = ManifestKey("reg.example", "team/app", "1.0")
    (resolution,) = resolver.resolve_all([key, key, key]).values()
    assert resolution.digest == sha256(INDEX) and resolution.mirror == "mirror.example"
    assert resolution.platforms == {"linux/amd64": sha256(MANIFEST)}
    assert resolver.counter.by_method == {"GET": 1}


def test_parallel_work_raises_the_first_error_without_waiting_for_the_rest() -> None:
    release = threading.Event()

    def work(key: int) -> int:
        if key == 0:
            raise RegistryError("boom")
        release.wait(30)  # a registry that trickles
        return key

    started = time.monotonic()
    with pytest.raises(RegistryError, match=r"boom"):
        run_parallel(list(range(4)), work, 4)
    assert time.monotonic() - started < 5
    workers = [t for t in threading.enumerate() if t.name.startswith("repro-resolve-")]
    assert workers and all(t.daemon for t in workers)  # they cannot keep the process alive
    release.set()


# --- proxies ----------------------------------------------------------------------------------


def test_proxies_come_from_the_environment_and_no_proxy_exempts() -> None:
    env = {"HTTPS_PROXY": "proxy.corp:3128", "NO_PROXY": "internal.corp,.lan,localhost:5000"}
    assert proxy_for("https://registry.test:5443/v2/", env) == "http://proxy.corp:3128"
    assert proxy_for("https://a.internal.corp/v2/", env) is None
    assert proxy_for("https://reg.lan/v2/", env) is None
    assert proxy_for("https://localhost:5000/v2/", env) is None
    assert proxy_for("https://localhost:5001/v2/", env) == "http://proxy.corp:3128"
    assert proxy_for("http://plain.example/v2/", env) is None  # no HTTP_PROXY
    assert (
        proxy_for("https://x.example/", {"https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2"})
        == "http://a:1"
    )
    assert proxy_for("https://x.example/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}) is None


def test_auth_errors_are_environment_errors() -> None:
    assert AuthError("x").exit_code is ExitCode.ENVIRONMENT


def test_plain_http_is_found_out_once_for_a_loopback_registry() -> None:
    h = harness()
    h.transport.add("GET", "https://localhost:5000/v2/", refused(Failure.NOT_TLS, "plain"))
    h.transport.add("GET", "http://localhost:5000/v2/", Canned(200, {}, b"{}"))
    client = h.client("localhost:5000")
    assert client.plain_http is True
    assert client.plain_http is True
    assert [r.url for r in h.transport.requests] == [
        "https://localhost:5000/v2/",
        "http://localhost:5000/v2/",
    ]


def test_https_is_remembered_for_a_registry_that_speaks_it() -> None:
    h = harness()
    h.transport.add("GET", "https://reg.example/v2/", Canned(200, {}, b"{}"))
    client = h.client()
    assert client.plain_http is False
    assert client.plain_http is False
    assert len(h.transport.requests) == 1


def test_a_blob_the_mirror_lacks_is_read_from_the_registry_named() -> None:
    h = harness()
    path = f"/v2/team/app/blobs/{sha256(LAYER)}"
    h.transport.add("GET", f"https://mirror.example{path}", error(404, "BLOB_UNKNOWN"))
    h.transport.add("GET", f"https://reg.example{path}", Canned(200, {}, LAYER))
    client = h.client("reg.example", {"reg.example": "mirror.example"})
    stream = client.open_blob("team/app", sha256(LAYER))
    assert stream is not None and stream.read() == LAYER
