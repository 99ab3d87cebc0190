"""The [[release]] entries of repro.lock, read strictly: every field of a full entry
reads back, and each malformed field is refused naming the entry, the table and the key
(exit 2, with the same hint)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from repro.errors import ExitCode, LockfileError
from repro.lockfile import (
    Lockfile,
    Release,
    ReleaseBase,
    ReleaseBuild,
    ReleaseImage,
    ReleaseLayer,
    dump_lockfile,
    parse_lockfile,
    parse_release,
    releases_of,
    with_release,
)

HINT = (
    "repro.lock is written by repro; restore it from version control or record the release "
    "again with `repro release --replace`"
)


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


FULL = Release(
    version="2.1.0",
    commit="c" * 40,
    tag="v2.1.0",
    context="app",
    dockerfile="app/Dockerfile",
    dockerfile_sha256="e" * 64,
    source_date_epoch=1700000000,
    build_args={"B": "2", "A": "1"},
    target="runtime",
    platforms=("linux/amd64", "linux/arm64"),
    bases=(ReleaseBase("r.io/python:3.11", digest(1)), ReleaseBase("r.io/tools:1", digest(2))),
    digest=digest(3),
    images=(
        ReleaseImage(
            "linux/amd64",
            digest(4),
            digest(5),
            25,
            (ReleaseLayer(digest(6), 10, "ADD rootfs /"), ReleaseLayer(digest(7), 5, None)),
        ),
        ReleaseImage("linux/arm64", digest(8), digest(9), 0, ()),
    ),
    buildkit="v0.13.2",
    buildx="0.13.1",
    verified_at="2026-01-02T03:04:05Z",
    repository="r.io/team/app:2.1.0",
    builds=(ReleaseBuild("A", "default", digest(3)), ReleaseBuild("B", "repro-b", digest(10))),
    started_at="2026-01-02T03:00:00Z",
    source="https://git.example/team/app",
    attest=("provenance", "sbom"),
    repro="0.1.0",
    variations=("umask", "tz"),
)


def test_every_field_of_a_full_release_reads_back_from_repro_lock() -> None:
    text = dump_lockfile(with_release(Lockfile(), FULL))
    lock = parse_lockfile(text)
    read = releases_of(lock, text)["2.1.0"]
    assert read == FULL
    assert list(read.build_args) == ["A", "B"]  # sorted when read, as written


def test_the_release_table_is_sorted_and_has_no_nulls() -> None:
    table = FULL.to_toml()
    assert list(table) == sorted(table)
    assert table["image"][0]["layer"] == [
        {"digest": digest(6), "instruction": "ADD rootfs /", "size": 10},
        {"digest": digest(7), "size": 5},
    ]
    assert table["build"] == [
        {"builder": "default", "digest": digest(3), "name": "A"},
        {"builder": "repro-b", "digest": digest(10), "name": "B"},
    ]
    assert table["base"][1] == {"digest": digest(2), "reference": "r.io/tools:1"}
    assert table["image"][1] == {
        "config": digest(9),
        "layer": [],
        "manifest": digest(8),
        "platform": "linux/arm64",
        "size": 0,
    }


def _edited(path: tuple[Any, ...], value: object) -> dict[str, Any]:
    """FULL's table with the value at ``path`` replaced (``...`` deletes the key)."""
    table = copy.deepcopy(FULL.to_toml())
    parent: Any = table
    for step in path[:-1]:
        parent = parent[step]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return table


ENTRY = "repro.lock:9: release 2.1.0"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), ..., "repro.lock:9: a release entry `version` is missing or not a string"),
        (("commit",), "", f"{ENTRY} `commit` is missing or not a string"),
        (("context",), ..., f"{ENTRY} `context` is missing or not a string"),
        (("dockerfile",), 1, f"{ENTRY} `dockerfile` is missing or not a string"),
        (("buildkit",), ..., f"{ENTRY} `buildkit` is missing or not a string"),
        (("buildx",), ..., f"{ENTRY} `buildx` is missing or not a string"),
        (("verified_at",), ..., f"{ENTRY} `verified_at` is missing or not a string"),
        (("tag",), 1, f"{ENTRY} `tag` is missing or not a string"),
        (("target",), 1, f"{ENTRY} `target` is missing or not a string"),
        (("repository",), 1, f"{ENTRY} `repository` is missing or not a string"),
        (("started_at",), 1, f"{ENTRY} `started_at` is missing or not a string"),
        (("source",), 1, f"{ENTRY} `source` is missing or not a string"),
        (("repro",), 1, f"{ENTRY} `repro` is missing or not a string"),
        (("dockerfile_sha256",), ..., f"{ENTRY} `dockerfile_sha256` is missing or not a string"),
        (
            ("source_date_epoch",),
            -1,
            f"{ENTRY} `source_date_epoch` is missing or not an integer from 0 to 253402300799",
        ),
        (("build_args",), {"A": 1}, f"{ENTRY} `build_args` is missing or not a table of strings"),
        (("platforms",), [1], f"{ENTRY} `platforms` is missing or not a list of strings"),
        (("attest",), "sbom", f"{ENTRY} `attest` is missing or not a list of strings"),
        (("variations",), [2], f"{ENTRY} `variations` is missing or not a list of strings"),
        (("digest",), ..., f"{ENTRY} `digest` is missing or not a sha256:<64 hex> digest"),
        (("base",), {}, f"{ENTRY} `base` is missing or not an array of tables"),
        (("base", 1), "r.io/tools:1", f"{ENTRY}: a base must be a table"),
        (("base", 1, "reference"), ..., f"{ENTRY}: a base `reference` is missing or not a string"),
        (("image",), [], f"{ENTRY} `image` is missing or not at least one image table"),
        (("image",), ..., f"{ENTRY} `image` is missing or not at least one image table"),
        (("image", 1), 1, f"{ENTRY}: an image must be a table"),
        (("image", 1, "platform"), ..., f"{ENTRY}: an image `platform` is missing or not a string"),
        (
            ("image", 1, "manifest"),
            digest(8)[:-1],
            f"{ENTRY}: an image `manifest` is missing or not a sha256:<64 hex> digest",
        ),
        (
            ("image", 1, "config"),
            ...,
            f"{ENTRY}: an image `config` is missing or not a sha256:<64 hex> digest",
        ),
        (
            ("image", 1, "size"),
            "25",
            f"{ENTRY}: an image `size` is missing or not an integer from 0 to 9223372036854775807",
        ),
        (
            ("image", 0, "layer"),
            {},
            f"{ENTRY}: an image `layer` is missing or not an array of tables",
        ),
        (("image", 0, "layer", 1), "x", f"{ENTRY}: a layer must be a table"),
        (
            ("image", 0, "layer", 1, "size"),
            ...,
            f"{ENTRY}: a layer `size` is missing or not an integer from 0 to 9223372036854775807",
        ),
        (
            ("image", 0, "layer", 0, "instruction"),
            7,
            f"{ENTRY}: a layer `instruction` is missing or not a string",
        ),
        (("build", 1), [], f"{ENTRY}: a build must be a table"),
        (("build", 1, "name"), ..., f"{ENTRY}: a build `name` is missing or not a string"),
        (("build", 0, "builder"), "", f"{ENTRY}: a build `builder` is missing or not a string"),
        (
            ("build", 0, "digest"),
            ...,
            f"{ENTRY}: a build `digest` is missing or not a sha256:<64 hex> digest",
        ),
    ],
)
def test_a_malformed_release_field_is_refused_naming_entry_table_and_key(
    path: tuple[Any, ...], value: object, message: str
) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_release(_edited(path, value), "repro.lock:9")
    assert (caught.value.message, caught.value.hint) == (message, HINT)
    assert caught.value.exit_code is ExitCode.INPUT


def test_a_release_entry_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(LockfileError) as caught:
        parse_release(["2.1.0"], "repro.lock:9")
    assert (caught.value.message, caught.value.hint) == (
        "repro.lock:9: a release entry must be a table",
        HINT,
    )


def test_optional_fields_left_out_read_as_absent() -> None:
    table = FULL.to_toml()
    for key in ("tag", "target", "repository", "started_at", "source", "repro"):
        del table[key]
    for key in ("build", "attest", "variations", "build_args", "platforms", "base"):
        del table[key]
    del table["image"][0]["layer"][0]["instruction"]
    release = parse_release(table, "repro.lock:9")
    assert (release.tag, release.target, release.repository) == (None, None, None)
    assert (release.started_at, release.source, release.repro) == (None, None, None)
    assert (release.builds, release.attest, release.variations) == ((), (), ())
    assert (release.build_args, release.platforms, release.bases) == ({}, (), ())
    assert release.images[0].layers[0].instruction is None


def test_releases_are_named_at_their_own_header_line() -> None:
    third = replace(FULL, version="3", commit="d" * 40)
    text = dump_lockfile(with_release(with_release(Lockfile(), FULL), third))
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[release]]"]
    assert len(headers) == 2
    broken = text.replace(f'commit = "{"d" * 40}"', "commit = 1")
    second = parse_lockfile(broken)
    with pytest.raises(LockfileError) as caught:
        releases_of(second, broken, "repro.lock")
    assert caught.value.message.startswith(f"repro.lock:{headers[1]}: release 3 `commit`")
    twice = text.replace('version = "3"', 'version = "2.1.0"')
    with pytest.raises(LockfileError) as caught:
        releases_of(parse_lockfile(twice), twice, "repro.lock")
    assert caught.value.message == f"repro.lock:{headers[1]}: release 2.1.0 is recorded twice"


def test_a_release_key_that_is_not_an_array_of_tables_is_refused_at_its_line() -> None:
    text = "schema_version = 2\nrelease = 1\n"
    with pytest.raises(LockfileError) as caught:
        releases_of(parse_lockfile(text), text, "repro.lock")
    assert caught.value.message == "repro.lock:2: `release` must be an array of release tables"
