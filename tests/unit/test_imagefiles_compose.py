"""Compose files: image sites, build sections, ${VAR} interpolation, lossless pins."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from repro.dockerfile import Span
from repro.imagefiles import (
    ComposeBuild,
    FileKind,
    ImageFile,
    PinCheckFailed,
    SiteKind,
    pin_file,
    scan_file,
)
from repro.imagefiles.interpolation import interpolation

DIGEST = "sha256:" + "a" * 64
OLD = "sha256:" + "0" * 64

COMPOSE = (
    b"""\
# Driftwood, the local stack.
x-defaults: &defaults
  restart: unless-stopped
  image: &python "localhost:5000/library/python:3.11-slim"   # shared base

services:
  api:
    <<: *defaults
    ports: ["8080:8080"]
  worker:
    image: *python
    command: ["python", "-m", "worker"]
  db:
    image: postgres:16.2 # the database
    environment:
      POSTGRES_PASSWORD: example
  cache:
    image: 'redis:7.2@"""
    + OLD.encode()
    + b"""'
  proxy:
    image: ${REGISTRY:-docker.io}/library/nginx:${NGINX_TAG:-1.25}
  app:
    build:
      context: ./app
      dockerfile: Dockerfile.prod
      args:
        PYTHON: "3.11"
        TOKEN:
      target: runtime
      platforms: [linux/amd64, linux/arm64]
      additional_contexts:
        base: docker-image://alpine:3.19
        src: ../src
    image: driftwood/app:dev
  site:
    build: ./site
"""
)


def scan(data: bytes = COMPOSE) -> ImageFile:
    scanned = scan_file("compose.yaml", data, FileKind.COMPOSE)
    assert scanned is not None
    return scanned


def test_every_image_is_found_once_in_file_order() -> None:
    found = [(site.kind, site.path, site.where, site.raw) for site in scan().sites]
    assert found == [
        (
            SiteKind.COMPOSE_IMAGE,
            "services.api.image, services.worker.image",  # one anchor, two users
            "compose.yaml:4",
            "localhost:5000/library/python:3.11-slim",
        ),
        (SiteKind.COMPOSE_IMAGE, "services.db.image", "compose.yaml:14", "postgres:16.2"),
        (SiteKind.COMPOSE_IMAGE, "services.cache.image", "compose.yaml:18", f"redis:7.2@{OLD}"),
        (
            SiteKind.COMPOSE_IMAGE,
            "services.proxy.image",
            "compose.yaml:20",
            "${REGISTRY:-docker.io}/library/nginx:${NGINX_TAG:-1.25}",
        ),
        (
            SiteKind.COMPOSE_BUILD_CONTEXT,
            "services.app.build.additional_contexts.base",
            "compose.yaml:31",
            "alpine:3.19",
        ),
    ]


def test_an_image_that_needs_a_variable_is_unpinnable_with_its_defaults_reported() -> None:
    proxy = next(site for site in scan().sites if site.path == "services.proxy.image")
    assert not proxy.pinnable
    assert proxy.reference is None
    assert proxy.unpinnable == (
        "it needs ${REGISTRY}, ${NGINX_TAG}, which compose takes from the environment or .env"
    )
    assert proxy.assumed == "docker.io/library/nginx:1.25"


def test_the_image_of_a_service_that_builds_is_its_output_name_not_a_site() -> None:
    scanned = scan()
    assert all("driftwood/app" not in site.raw for site in scanned.sites)
    assert scanned.builds == (
        ComposeBuild(
            file="compose.yaml",
            service="app",
            line=22,
            context="./app",
            dockerfile="Dockerfile.prod",
            dockerfile_inline=None,
            args=(("PYTHON", "3.11"), ("TOKEN", None)),
            target="runtime",
            platforms=("linux/amd64", "linux/arm64"),
            additional_contexts=(("base", "docker-image://alpine:3.19"), ("src", "../src")),
            image="driftwood/app:dev",
            variables=(),
        ),
        ComposeBuild(
            file="compose.yaml",
            service="site",
            line=35,
            context="./site",
            dockerfile=None,
            dockerfile_inline=None,
            args=(),
            target=None,
            platforms=(),
            additional_contexts=(),
            image=None,
            variables=(),
        ),
    )


def test_pinning_changes_only_the_reference_text() -> None:
    scanned = scan()
    new = pin_file(scanned, [(site, DIGEST) for site in scanned.sites if site.pinnable])
    expected = (
        COMPOSE.replace(
            b'"localhost:5000/library/python:3.11-slim"',
            b'"localhost:5000/library/python:3.11-slim@' + DIGEST.encode() + b'"',
        )
        .replace(b"postgres:16.2 #", b"postgres:16.2@" + DIGEST.encode() + b" #")
        .replace(OLD.encode(), DIGEST.encode())
        .replace(b"docker-image://alpine:3.19", b"docker-image://alpine:3.19@" + DIGEST.encode())
    )
    assert new == expected


def test_build_variables_and_list_forms() -> None:
    data = b"""\
services:
  app:
    build:
      context: ${CONTEXT:-.}
      args:
        - VERSION=${VERSION}
        - FROM_ENV
      additional_contexts:
        - base=docker-image://busybox:${BUSYBOX:-1.36}
        - tools=docker-image://alpine:3.19
"""
    scanned = scan(data)
    (build,) = scanned.builds
    assert build.context == "${CONTEXT:-.}"
    assert build.args == (("VERSION", "${VERSION}"), ("FROM_ENV", None))
    assert build.variables == ("CONTEXT", "VERSION", "BUSYBOX")
    base, tools = scanned.sites
    assert base.unpinnable is not None and "${BUSYBOX}" in base.unpinnable
    assert base.assumed == "busybox:1.36"
    assert tools.raw == "alpine:3.19"
    assert tools.span.slice(data) == b"alpine:3.19"


def test_a_compose_file_that_does_not_parse_is_a_problem_at_its_line() -> None:
    scanned = scan(b"services:\n  web:\n    image: nginx:1.25\n   ports: [80\n")
    assert scanned.sites == ()
    (problem,) = scanned.problems
    assert problem.where == "compose.yaml:4"
    assert problem.message.startswith("not valid YAML")


def test_invalid_references_are_unpinnable_not_errors() -> None:
    (site,) = scan(b"services:\n  web:\n    image: Nginx:1.25\n").sites
    assert not site.pinnable
    assert site.unpinnable is not None and "must be lowercase" in site.unpinnable


def test_interpolation_forms() -> None:
    assert interpolation("nginx:1.25") is None
    assert interpolation("a$$b") is None
    found = interpolation("${A:-x}/${B-y}:${C:+z}$D")
    assert found is not None
    assert found.variables == ("A", "B", "C", "D")
    assert found.assumed is None  # $D has no default
    nested = interpolation("${A:-${B:-docker.io}}/app:${T:-1}")
    assert nested is not None and nested.assumed == "docker.io/app:1"
    required = interpolation("${TAG:?set TAG}")
    assert required is not None and required.assumed is None


def test_an_unpinnable_site_is_never_written() -> None:
    scanned = scan()
    proxy = next(site for site in scanned.sites if site.path == "services.proxy.image")
    with pytest.raises(ValueError, match="cannot be pinned: it needs"):
        pin_file(scanned, [(proxy, DIGEST)])


def test_a_pin_that_does_not_read_back_is_refused() -> None:
    scanned = scan()
    db = next(site for site in scanned.sites if site.path == "services.db.image")
    wrong = replace(db, span=Span(db.span.start, db.span.end + 2))  # would eat " #"
    with pytest.raises(
        PinCheckFailed, match=re.escape("compose.yaml:14: pinning services.db.image")
    ):
        pin_file(scanned, [(wrong, DIGEST)])
