"""GitHub workflows: job containers, service containers and docker:// steps."""

from __future__ import annotations

from repro.imagefiles import FileKind, ImageFile, SiteKind, pin_file, scan_file

DIGEST = "sha256:" + "d" * 64

WORKFLOW = b"""\
name: ci
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    container: node:20-bookworm
    services:
      postgres:
        image: postgres:16
        env: {POSTGRES_PASSWORD: postgres}
        ports: ["5432:5432"]
      cache:
        image: ${{ matrix.cache }}
    strategy:
      matrix:
        cache: ["redis:7.2", "valkey/valkey:8"]
    steps:
      - uses: actions/checkout@v4
      - name: lint the shell scripts
        uses: docker://koalaman/shellcheck:v0.10.0
        with:
          args: scripts/setup
      - run: npm test
  python:
    runs-on: ubuntu-latest
    container:
      image: 'python:3.12-slim'
      options: --user 1001
    steps:
      - uses: "docker://alpine:3.19"
"""


def scan(data: bytes = WORKFLOW) -> ImageFile:
    scanned = scan_file(".github/workflows/ci.yml", data, FileKind.WORKFLOW)
    assert scanned is not None
    return scanned


def test_containers_services_and_docker_steps() -> None:
    found = [(site.kind, site.path, site.line, site.raw, site.pinnable) for site in scan().sites]
    assert found == [
        (SiteKind.WORKFLOW_CONTAINER, "jobs.test.container", 8, "node:20-bookworm", True),
        (SiteKind.WORKFLOW_SERVICE, "jobs.test.services.postgres.image", 11, "postgres:16", True),
        (
            SiteKind.WORKFLOW_SERVICE,
            "jobs.test.services.cache.image",
            15,
            "${{ matrix.cache }}",
            False,
        ),
        (
            SiteKind.WORKFLOW_USES,
            "jobs.test.steps[1].uses",
            22,
            "koalaman/shellcheck:v0.10.0",
            True,
        ),
        (SiteKind.WORKFLOW_CONTAINER, "jobs.python.container", 29, "python:3.12-slim", True),
        (SiteKind.WORKFLOW_USES, "jobs.python.steps[0].uses", 32, "alpine:3.19", True),
    ]


def test_an_expression_is_unpinnable() -> None:
    cache = next(site for site in scan().sites if site.path.endswith("cache.image"))
    assert cache.unpinnable == (
        "it is a GitHub expression (${{ }}): the image is known only when the job runs"
    )


def test_pins_keep_the_docker_prefix_and_the_quotes() -> None:
    scanned = scan()
    new = pin_file(scanned, [(site, DIGEST) for site in scanned.sites if site.pinnable])
    digest = DIGEST.encode()
    assert b"uses: docker://koalaman/shellcheck:v0.10.0@" + digest + b"\n" in new
    assert b'uses: "docker://alpine:3.19@' + digest + b'"\n' in new
    assert b"image: 'python:3.12-slim@" + digest + b"'\n" in new
    assert new.replace(b"@" + digest, b"") == WORKFLOW


def test_a_column_points_after_the_prefix() -> None:
    step = next(site for site in scan().sites if site.raw == "alpine:3.19")
    assert step.column == len('      - uses: "docker://') + 1
