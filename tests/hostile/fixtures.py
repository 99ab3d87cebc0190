"""Fixtures for the hostile suite (registered by tests/hostile/conftest.py): crafted
images and projects, each a fresh copy a test may break."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from repro.lockfile import (
    Lockfile,
    Release,
    ReleaseBase,
    ReleaseImage,
    ReleaseLayer,
    dump_lockfile,
    with_release,
)
from tests.hostile.crafted import (
    SECRET,
    TOKEN,
    Image,
    Layer,
    pack,
    slow_gzip_layer,
    write_layout,
    write_sparse_layout,
)
from tests.unit.fakes import recorded_release


@dataclass(frozen=True)
class Pair:
    """Two images, as layout directories and as OCI tars."""

    a: Path
    b: Path
    a_tar: Path
    b_tar: Path


BASE = Layer.of({"etc/os-release": b"ID=tide\n"}, instruction="ADD file:os in / ")
APP = Layer.of({"app/tide.txt": b"high 06:12\n"})


def make_identical_pair(root: Path) -> Pair:
    """Two separately written, byte-identical images (the same digests on both sides)."""
    image = Image([BASE, APP])
    a, b = write_layout(root / "a", image), write_layout(root / "b", image)
    return Pair(a, b, pack(a, root / "a.tar"), pack(b, root / "b.tar"))


@pytest.fixture()
def identical_pair(tmp_path: Path) -> Pair:
    return make_identical_pair(tmp_path)


@pytest.fixture()
def secret_pair(tmp_path: Path) -> Pair:
    return make_secret_pair(tmp_path)


def make_secret_pair(tmp_path: Path) -> Pair:
    """Images that differ in a secret Env value, a secret label and a history line that
    carries a build argument and a token: every output must show them masked."""
    history = (
        f"RUN |2 DB_PASSWORD={SECRET} GH_TOKEN={TOKEN} /bin/sh -c "
        f"echo password={SECRET} > /etc/app.conf # buildkit"
    )
    a = write_layout(
        tmp_path / "a",
        Image(
            [BASE, Layer.of({"app/x": b"1"}, instruction=history)],
            env=("PATH=/usr/bin", f"DB_PASSWORD={SECRET}"),
            labels={"deploy.token": TOKEN},
        ),
    )
    b = write_layout(
        tmp_path / "b",
        Image(
            [BASE, Layer.of({"app/x": b"2"}, instruction=history)],
            env=("PATH=/usr/bin", f"DB_PASSWORD={SECRET}-rotated"),
            labels={"deploy.token": TOKEN + "x"},
        ),
    )
    return Pair(a, b, pack(a, tmp_path / "a.tar"), pack(b, tmp_path / "b.tar"))


@pytest.fixture(scope="session")
def slow_pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    """Two images whose one layer streams 1 GiB through gzip: compare takes seconds."""
    root = tmp_path_factory.mktemp("slow")
    a = write_layout(root / "a", Image([slow_gzip_layer(1, b"a")]))
    b = write_layout(root / "b", Image([slow_gzip_layer(1, b"b")]))
    return Pair(a, b, a, b)


@pytest.fixture(scope="session")
def sparse_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image whose one layer is 2 GiB of zeros (a sparse file): reading every byte of
    it, on both sides, takes seconds."""
    return write_sparse_layout(tmp_path_factory.mktemp("sparse") / "image", 2)


def _digest(n: int) -> str:
    return f"sha256:{n:064x}"


def release_with_a_secret(
    version: str = "1.0.0", *, build_args: dict[str, str] | None = None
) -> Release:
    return recorded_release(
        version,
        build_args=build_args,
        bases=(ReleaseBase("localhost:5000/library/busybox:1.35", _digest(1)),),
        digest=_digest(2),
        images=(
            ReleaseImage(
                "linux/amd64",
                _digest(2),
                _digest(3),
                1234,
                (ReleaseLayer(_digest(4), 1000, f"RUN echo password={SECRET} > /etc/app"),),
            ),
        ),
    )


@pytest.fixture()
def release_project(tmp_path: Path) -> Path:
    """A project whose repro.lock records release 1.0.0 (build args carry a secret)."""
    lock = with_release(Lockfile(), release_with_a_secret(build_args={"DB_PASSWORD": SECRET}))
    (tmp_path / "repro.lock").write_text(dump_lockfile(lock))
    return tmp_path


GIT_ENV = {
    "GIT_AUTHOR_NAME": "hostile",
    "GIT_AUTHOR_EMAIL": "hostile@example.invalid",
    "GIT_COMMITTER_NAME": "hostile",
    "GIT_COMMITTER_EMAIL": "hostile@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


def commit_all(directory: Path) -> None:
    import os

    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "hostile"]):
        subprocess.run(["git", "-C", str(directory), *args], check=True, env=env)


@pytest.fixture()
def build_project(tmp_path: Path) -> Iterator[Path]:
    """A committed build context whose Dockerfile gives a secret ARG default that a RUN
    step expands (BuildKit prints the expanded value in its step name)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(
        "FROM localhost:5000/library/busybox:1.35\n"
        f"ARG DB_PASSWORD={SECRET}\n"
        'RUN echo "$DB_PASSWORD" | wc -c > /length\n'
    )
    commit_all(project)
    yield project
