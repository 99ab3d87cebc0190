"""Image reference normalisation, matching docker's distribution/reference."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_image_ref
from repro.errors import InputError

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "implicit"),
    [
        ("python", "docker.io", "library/python", "latest", None, True),
        ("python:3.11", "docker.io", "library/python", "3.11", None, False),
        ("library/python:3.11", "docker.io", "library/python", "3.11", None, False),
        ("docker.io/python", "docker.io", "library/python", "latest", None, True),
        ("index.docker.io/python:3", "docker.io", "library/python", "3", None, False),
        ("registry-1.docker.io/org/app:1", "docker.io", "org/app", "1", None, False),
        ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None, False),
        ("localhost", "docker.io", "library/localhost", "latest", None, True),
        ("localhost:5000", "docker.io", "library/localhost", "5000", None, False),
        ("localhost/app", "localhost", "app", "latest", None, True),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None, False),
        ("127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", None, True),
        (
            "registry.example.com:5000/team/app:1.2",
            "registry.example.com:5000",
            "team/app",
            "1.2",
            None,
            False,
        ),
        ("ghcr.io/o/a/b/c:v1_2-3.4", "ghcr.io", "o/a/b/c", "v1_2-3.4", None, False),
        ("[::1]:5000/app", "[::1]:5000", "app", "latest", None, True),
        (f"python@{DIGEST}", "docker.io", "library/python", None, DIGEST, False),
        (f"python:3.11@{DIGEST}", "docker.io", "library/python", "3.11", DIGEST, False),
        ("a__b-c---e/f_g.h:T", "docker.io", "a__b-c---e/f_g.h", "T", None, False),
    ],
)
def test_normalisation_table(
    text: str,
    registry: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    implicit: bool,
) -> None:
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.implicit_latest is implicit
    assert ref.original == text


@pytest.mark.parametrize(
    ("text", "familiar", "canonical"),
    [
        ("python", "python:latest", "docker.io/library/python:latest"),
        ("python:3.11", "python:3.11", "docker.io/library/python:3.11"),
        ("docker.io/library/python:3.11", "python:3.11", "docker.io/library/python:3.11"),
        ("index.docker.io/org/app:1", "org/app:1", "docker.io/org/app:1"),
        ("ghcr.io/o/app:1", "ghcr.io/o/app:1", "ghcr.io/o/app:1"),
        (f"python@{DIGEST}", f"python@{DIGEST}", f"docker.io/library/python@{DIGEST}"),
        ("localhost:5000/x:y", "localhost:5000/x:y", "localhost:5000/x:y"),
    ],
)
def test_familiar_and_canonical(text: str, familiar: str, canonical: str) -> None:
    ref = parse_image_ref(text)
    assert ref.familiar() == familiar
    assert ref.canonical() == canonical


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("python:3.11", f"python:3.11@{DIGEST}"),
        ("python", f"python@{DIGEST}"),
        ("docker.io/library/python:3.11", f"docker.io/library/python:3.11@{DIGEST}"),
        (f"python:3.11@{OTHER_DIGEST}", f"python:3.11@{DIGEST}"),
        (f"python@{OTHER_DIGEST}", f"python@{DIGEST}"),
        ("localhost:5000/app:dev", f"localhost:5000/app:dev@{DIGEST}"),
    ],
)
def test_pinned_keeps_original_spelling(text: str, pinned: str) -> None:
    assert parse_image_ref(text).pinned(DIGEST) == pinned


HINT = "write it as [registry[:port]/]name[:tag][@sha256:<digest>]"


def test_pinned_rejects_a_malformed_digest_naming_the_reference() -> None:
    with pytest.raises(InputError) as raised:
        parse_image_ref("python:3.11").pinned("sha256:abc")
    assert raised.value.message == (
        "invalid image reference 'python:3.11': digest 'sha256:abc' is not algorithm:hex"
    )
    assert raised.value.hint == HINT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "it is empty"),
        ("Python:3.11", "repository name 'Python' must be lowercase"),
        ("docker.io/Library/python", "repository name 'Library/python' must be lowercase"),
        ("python:", "tag '' is not valid"),
        ("python:-bad", "tag '-bad' is not valid"),
        ("python:" + "x" * 128, None),  # 128 characters is the longest tag
        ("python:" + "x" * 129, f"tag '{'x' * 129}' is not valid"),
        ("python@sha256:short", "digest 'sha256:short' is not algorithm:hex"),
        ("python@sha256:" + "A" * 64, "a sha256 digest needs 64 lower-case hex digits"),
        ("python@sha256:" + "a" * 63, "a sha256 digest needs 64 lower-case hex digits"),
        ("python@sha256:" + "a" * 65, "a sha256 digest needs 64 lower-case hex digits"),
        ("python@sha512:" + "a" * 64, "a sha512 digest needs 128 lower-case hex digits"),
        ("python@sha384:" + "a" * 64, "a sha384 digest needs 96 lower-case hex digits"),
        ("python@" + "a" * 64, f"digest '{'a' * 64}' is not algorithm:hex"),
        ("a" * 64, "a 64-character hexadecimal string is an image ID, not a name"),
        ("a" * 63, None),  # one short of an image ID: a name
        ("/python", "repository name '/python' is not valid"),
        ("python/", "repository name 'python/' is not valid"),
        ("py thon", "repository name 'py thon' is not valid"),
        ("python:3.11:extra", "repository name 'python:3.11' is not valid"),
        ("a/b:c/d", "repository name 'a/b:c/d' is not valid"),  # a tag comes after the last /
        ("-python", "repository name '-python' is not valid"),
        ("pyt--.hon", "repository name 'pyt--.hon' is not valid"),
        ("bad_host:5000/app", "registry 'bad_host:5000' is not a valid host[:port]"),
        ("example.com:port/app", "registry 'example.com:port' is not a valid host[:port]"),
        ("x/" + "a" * 260, "the name is longer than 255 characters"),
        ("r.io/" + "a" * 250, None),  # exactly 255 characters
        ("r.io/" + "a" * 251, "the name is longer than 255 characters"),
    ],
)
def test_invalid_references_raise_input_error_saying_why(text: str, reason: str | None) -> None:
    if reason is None:
        assert parse_image_ref(text).original == text
        return
    with pytest.raises(InputError) as raised:
        parse_image_ref(text)
    assert raised.value.message == f"invalid image reference {text!r}: {reason}"
    assert raised.value.hint == HINT
