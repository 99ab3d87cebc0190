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


def test_pinned_rejects_a_malformed_digest() -> None:
    with pytest.raises(InputError):
        parse_image_ref("python:3.11").pinned("sha256:abc")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Python:3.11",
        "docker.io/Library/python",
        "python:",
        "python:-bad",
        "python:" + "x" * 129,
        "python@sha256:short",
        "python@sha256:" + "A" * 64,
        "python@" + "a" * 64,
        "a" * 64,
        "/python",
        "python/",
        "py thon",
        "python:3.11:extra",
        "-python",
        "pyt--.hon",
        "bad_host:5000/app",
        "example.com:port/app",
        "x/" + "a" * 260,
    ],
)
def test_invalid_references_raise_input_error(text: str) -> None:
    with pytest.raises(InputError):
        parse_image_ref(text)
