"""repro.lock digests: exactly ``sha256:`` and 64 lowercase hex digits, nothing before or
after; each refusal names the file, the line and the value (exit 2)."""

from __future__ import annotations

import pytest

from repro.errors import ExitCode, LockfileError
from repro.lockfile import parse_lockfile, parse_release

HEX = "0123456789abcdef" * 4
DIGEST = "sha256:" + HEX
# Values a prefix match, a case-insensitive match or a search would take for a digest.
NEAR_DIGESTS = [
    DIGEST + "junk",
    DIGEST + "0",
    DIGEST + "\n",
    DIGEST[:-1],
    "x" + DIGEST,
    " " + DIGEST,
    "sha256:" + HEX.upper(),
    "SHA256:" + HEX,
    "sha512:" + HEX,
    "sha256" + HEX,
    "sha256:",
]
NEAR_HEX = [HEX + "0", HEX[:-1], "x" + HEX, HEX + "junk", HEX.upper(), DIGEST]


def _lockfile(digest: str, platform_digest: str = DIGEST) -> str:
    return (
        "schema_version = 1\n"
        "\n"
        "[[image]]\n"
        'reference = "localhost:5000/library/busybox:1.35"\n'
        'name = "localhost:5000/library/busybox"\n'
        'tag = "1.35"\n'
        f'digest = "{digest}"\n'
        'media_type = "application/vnd.oci.image.index.v1+json"\n'
        'resolved_at = "2026-01-01T00:00:00Z"\n'
        "\n"
        "[image.platforms]\n"
        f'"linux/amd64" = "{platform_digest}"\n'
    )


def _toml_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def test_a_well_formed_digest_is_read() -> None:
    lock = parse_lockfile(_lockfile(DIGEST), "repro.lock")
    [image] = lock.images.values()
    assert image.digest == DIGEST
    assert image.platforms == {"linux/amd64": DIGEST}


@pytest.mark.parametrize("digest", NEAR_DIGESTS)
def test_an_image_digest_with_anything_before_or_after_is_refused(digest: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(_lockfile(_toml_string(digest)), "repro.lock")
    # named at the line of the pin itself (issue 17: a pin that is not a digest names it)
    assert caught.value.message == (
        f"repro.lock:7: localhost:5000/library/busybox:1.35: the pin {digest!r} is not a "
        "digest (sha256:<64 hex>)"
    )
    assert caught.value.exit_code is ExitCode.INPUT


@pytest.mark.parametrize("digest", NEAR_DIGESTS)
def test_a_platform_digest_with_anything_before_or_after_is_refused(digest: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(_lockfile(DIGEST, _toml_string(digest)), "repro.lock")
    assert caught.value.message == (
        "repro.lock:11: localhost:5000/library/busybox:1.35: `platforms` must map os/arch to "
        "sha256 digests"
    )


def _release(**overrides: object) -> dict[str, object]:
    table: dict[str, object] = {
        "version": "1.0.0",
        "commit": "c" * 40,
        "context": ".",
        "dockerfile": "Dockerfile",
        "dockerfile_sha256": HEX,
        "source_date_epoch": 1700000000,
        "build_args": {},
        "platforms": ["linux/amd64"],
        "base": [{"reference": "busybox:1.35", "digest": DIGEST}],
        "digest": DIGEST,
        "image": [
            {
                "platform": "linux/amd64",
                "manifest": DIGEST,
                "config": DIGEST,
                "size": 10,
                "layer": [{"digest": DIGEST, "size": 10}],
            }
        ],
        "buildkit": "v0.13.2",
        "buildx": "0.13.1",
        "verified_at": "2026-01-01T00:00:00Z",
    }
    table.update(overrides)
    return table


def test_a_well_formed_release_is_read() -> None:
    release = parse_release(_release(), "repro.lock:7")
    assert release.digest == DIGEST
    assert release.dockerfile_sha256 == HEX
    assert release.bases[0].digest == DIGEST
    assert release.images[0].layers[0].digest == DIGEST


@pytest.mark.parametrize("digest", NEAR_DIGESTS)
def test_a_release_digest_with_anything_before_or_after_is_refused(digest: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_release(_release(digest=digest), "repro.lock:7")
    assert caught.value.message == (
        "repro.lock:7: release 1.0.0 `digest` is missing or not a sha256:<64 hex> digest"
    )


@pytest.mark.parametrize("digest", NEAR_DIGESTS)
def test_a_base_or_layer_digest_with_anything_before_or_after_is_refused(digest: str) -> None:
    with pytest.raises(LockfileError) as base:
        parse_release(
            _release(base=[{"reference": "busybox:1.35", "digest": digest}]), "repro.lock:7"
        )
    assert base.value.message == (
        "repro.lock:7: release 1.0.0: a base `digest` is missing or not a sha256:<64 hex> digest"
    )
    image = {"platform": "linux/amd64", "manifest": DIGEST, "config": DIGEST, "size": 1}
    with pytest.raises(LockfileError) as layer:
        parse_release(
            _release(image=[{**image, "layer": [{"digest": digest, "size": 1}]}]), "repro.lock:7"
        )
    assert layer.value.message == (
        "repro.lock:7: release 1.0.0: a layer `digest` is missing or not a sha256:<64 hex> digest"
    )


@pytest.mark.parametrize("sha", NEAR_HEX)
def test_a_dockerfile_sha256_with_anything_before_or_after_is_refused(sha: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_release(_release(dockerfile_sha256=sha), "repro.lock:7")
    assert caught.value.message == (
        "repro.lock:7: release 1.0.0 `dockerfile_sha256` is missing or not 64 hex digits"
    )
