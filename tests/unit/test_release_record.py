"""The release record in repro.lock, digest lookup, release diffs and rebuild comparison."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from repro.errors import InputError, LockfileError, VerdictError
from repro.lockfile import (
    FileRecord,
    LockedImage,
    Lockfile,
    Release,
    ReleaseBase,
    ReleaseBuild,
    ReleaseImage,
    ReleaseLayer,
    dump_lockfile,
    migrate,
    parse_lockfile,
    releases_of,
    version_key,
    with_release,
)
from repro.release.record import (
    check_version,
    diff_releases,
    image_mismatches,
    pinned_bases,
    which,
)
from tests.unit.fakes import recorded_release


def d(n: int) -> str:
    if n >= 0xABC0:  # two digests that share a long prefix
        return "sha256:" + "abcd" * 15 + f"{n:04x}"
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def make(version: str, layers: list[tuple[int, str]], base: int = 100, **changes: Any) -> Release:
    image = ReleaseImage(
        platform="linux/amd64",
        manifest=d(base + 1),
        config=d(base + 2),
        size=10 * len(layers) + 5,
        layers=tuple(ReleaseLayer(d(n), 10, instruction) for n, instruction in layers),
    )
    release = recorded_release(
        version,
        bases=(ReleaseBase("r.io/python:3.11", d(base)),),
        digest=d(base + 1),
        images=(image,),
        build_args={"B": "2", "A": "1"},
    )
    return replace(release, **changes)


def test_release_round_trips_through_repro_lock_sorted_and_stable() -> None:
    lock = with_release(Lockfile(), make("1.10.0", [(1, "ADD x /")], base=300))
    lock = with_release(lock, make("1.9.0", [(1, "ADD x /"), (2, "RUN make")], repository="r/a:1"))
    text = dump_lockfile(lock)
    assert text.index('version = "1.9.0"') < text.index('version = "1.10.0"')
    again = parse_lockfile(text)
    releases = releases_of(again, text)
    assert list(releases) == ["1.9.0", "1.10.0"]
    assert releases["1.9.0"] == make("1.9.0", [(1, "ADD x /"), (2, "RUN make")], repository="r/a:1")
    assert dump_lockfile(again) == text
    assert "[[release.image.layer]]" in text and "tag =" not in text  # no nulls in TOML


def test_the_facts_of_the_run_round_trip_and_are_absent_from_older_records() -> None:
    run = make(
        "2.0",
        [(1, "ADD x /")],
        builds=(ReleaseBuild("A", "default", d(101)), ReleaseBuild("B", "repro-b", d(7))),
        started_at="2025-12-31T23:59:00Z",
        source="https://git.example/team/app",
        attest=("provenance",),
        repro="0.1.0",
    )
    text = dump_lockfile(with_release(Lockfile(), run))
    assert "[[release.build]]" in text and 'attest = [\n    "provenance",\n]' in text
    assert releases_of(parse_lockfile(text), text)["2.0"] == run
    older = make("1.0", [(1, "ADD x /")]).to_toml()
    assert not {"build", "started_at", "source", "attest", "repro"} & set(older)
    bad = text.replace(f'digest = "{d(7)}"', 'digest = "x"')
    with pytest.raises(LockfileError, match=r"release 2\.0: a build `digest`"):
        releases_of(parse_lockfile(bad), bad)


def test_the_variations_a_release_was_verified_with_are_kept_and_optional() -> None:
    varied = make("2.0.0", [(1, "ADD x /")], variations=("umask", "tz", "clock"))
    text = dump_lockfile(with_release(Lockfile(), varied))
    assert 'variations = [\n    "umask",\n    "tz",\n    "clock",\n]' in text
    assert releases_of(parse_lockfile(text), text)["2.0.0"] == varied
    # Releases recorded before repro kept variations read as having none, and stay as written.
    old = dump_lockfile(with_release(Lockfile(), make("1.0.0", [(1, "ADD x /")])))
    assert "variations" not in old
    assert releases_of(parse_lockfile(old), old)["1.0.0"].variations == ()


def test_replacing_a_release_keeps_one_entry() -> None:
    lock = with_release(Lockfile(), make("1.0", [(1, "ADD x /")]))
    lock = with_release(lock, make("1.0", [(2, "ADD y /")]))
    assert [r.layers[0].digest for r in releases_of(lock)["1.0"].images] == [d(2)]


def test_recording_a_release_keeps_the_pins_the_files_record_and_other_tables() -> None:
    image = LockedImage("r.io/a:1", "r.io/a", "1", d(1), "m", "2026-01-01T00:00:00Z")
    record = FileRecord("Dockerfile", "dockerfile", "a" * 64, (f"1:6:from:r.io/a:1@{d(1)}",))
    lock = Lockfile(
        images={"r.io/a:1": image},
        extra={"zeta": {"k": "v"}},
        files={"Dockerfile": record},
    )
    first, second = make("1.10.0", [(1, "ADD x /")]), make("1.9.0", [(2, "ADD y /")])
    recorded = with_release(with_release(lock, first), second)
    assert recorded == Lockfile(
        images={"r.io/a:1": image},
        extra={"zeta": {"k": "v"}, "release": [second.to_toml(), first.to_toml()]},
        files={"Dockerfile": record},
    )


def _text_with(release: Release, edit: tuple[str, str]) -> str:
    text = dump_lockfile(with_release(Lockfile(), release))
    assert edit[0] in text
    return text.replace(edit[0], edit[1], 1)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ((f'digest = "{d(101)}"', 'digest = "sha256:zz"'), "`digest` is missing or not a sha256"),
        (("source_date_epoch = 1700000000", 'source_date_epoch = "x"'), "source_date_epoch"),
        (('version = "1.0"', "version = 3"), "`version` is missing or not a string"),
        (("size = 10\n", "size = -1\n"), "`size`"),
    ],
)
def test_hand_edited_release_is_a_lockfile_error_with_the_line(
    edit: tuple[str, str], message: str
) -> None:
    text = _text_with(make("1.0", [(1, "ADD x /")]), edit)
    lock = parse_lockfile(text)  # `repro lock` still reads it: releases are not its business
    line = text.splitlines().index("[[release]]") + 1
    with pytest.raises(LockfileError, match=message) as caught:
        releases_of(lock, text, "repro.lock")
    assert caught.value.message.startswith(f"repro.lock:{line}:")
    assert caught.value.exit_code == 2


def test_a_version_recorded_twice_is_refused() -> None:
    table = make("1.0", [(1, "ADD x /")]).to_toml()
    lock = Lockfile(extra={"release": [table, table]})
    with pytest.raises(LockfileError, match="recorded twice"):
        releases_of(lock)


def test_migration_hooks_run_in_order_and_refuse_gaps() -> None:
    steps = {
        1: lambda doc: {"image": doc["images"], "schema_version": doc["schema_version"]},
        2: lambda doc: {**doc, "seen": True},
    }
    migrated = migrate({"schema_version": 1, "images": []}, 1, migrations=steps, target=3)
    assert migrated == {"schema_version": 3, "image": [], "seen": True}
    with pytest.raises(LockfileError) as caught:
        migrate({"schema_version": 1}, 1, "ci/repro.lock", migrations={}, target=2)
    assert (caught.value.message, caught.value.hint) == (
        "ci/repro.lock: schema_version 1 cannot be migrated to 2",
        "upgrade repro, or delete the file and run `repro lock`",
    )


def test_version_order_is_natural() -> None:
    assert sorted(["1.10.0", "1.9.0", "1.9.0-rc1", "0.1"], key=version_key) == [
        "0.1",
        "1.9.0",
        "1.9.0-rc1",
        "1.10.0",
    ]
    assert check_version("1.4.0") == "1.4.0"
    for bad in ("../x", "a/b", "", "-x"):
        with pytest.raises(InputError):
            check_version(bad)


def test_which_finds_every_kind_and_reports_unknown_and_ambiguous() -> None:
    one = make("1.0", [(1, "ADD x /"), (0xABC0, "RUN a")])
    two = make("2.0", [(1, "ADD x /"), (0xABC1, "RUN b")], base=200)
    releases = {"1.0": one, "2.0": two}
    shared = which(releases, d(1))
    assert [(h.version, h.kind, h.layer) for h in shared] == [
        ("1.0", "layer", 1),
        ("2.0", "layer", 1),
    ]
    assert which(releases, d(101)[:20])[0].kind == "image"
    assert {h.kind for h in which(releases, d(102))} == {"config"}
    hit = which(releases, d(0xABC1).upper())[0]
    assert (hit.version, hit.instruction) == ("2.0", "RUN b")
    with pytest.raises(VerdictError):
        which(releases, d(999))
    prefix = d(0xABC0)[: len("sha256:") + 61]
    with pytest.raises(InputError, match="ambiguous") as caught:
        which(releases, prefix)
    assert d(0xABC0) in caught.value.message and d(0xABC1) in caught.value.message
    with pytest.raises(InputError):
        which(releases, "xyz")


def test_diff_aligns_layers_by_instruction_and_reports_bases_and_size() -> None:
    old = make("1.3.0", [(1, "ADD rootfs /"), (2, "WORKDIR /app"), (3, "COPY . /app")])
    new = make(
        "1.4.0",
        [(1, "ADD rootfs /"), (9, "RUN echo bump"), (2, "WORKDIR /app"), (8, "COPY . /app")],
        base=200,
    )
    diff = diff_releases(old, new)
    assert [(b.reference, b.old, b.new) for b in diff.bases] == [
        ("r.io/python:3.11", d(100), d(200))
    ]
    platform = diff.platforms[0]
    assert [(c.kind, c.position) for c in platform.changes] == [("added", 2), ("changed", 4)]
    assert platform.unchanged == 2
    assert (platform.old_size, platform.new_size) == (35, 45)
    removed = diff_releases(new, old).platforms[0].changes
    assert [(c.kind, c.position) for c in removed] == [("removed", 2), ("changed", 3)]


def test_image_mismatches_name_layer_instruction_and_digests() -> None:
    recorded = make("1.0", [(1, "ADD x /"), (2, "RUN make")])
    rebuilt = make("1.0", [(1, "ADD x /"), (3, "RUN make")], base=200)
    assert (
        image_mismatches(recorded.digest, recorded.images, recorded.digest, recorded.images) == []
    )
    found = image_mismatches(recorded.digest, recorded.images, rebuilt.digest, rebuilt.images)
    assert found[0] == f"linux/amd64 layer 2 (RUN make): recorded {d(2)}, rebuilt {d(3)}"
    assert found[-1] == f"image digest: recorded {d(101)}, rebuilt {d(201)}"


def test_pinned_bases_come_from_the_dockerfile_pins() -> None:
    data = (
        f"FROM r.io/python:3.11@{d(5)} AS build\n"
        "FROM build AS again\n"
        "FROM r.io/unpinned:1\n"
        f"COPY --from=r.io/tools@{d(6)} /x /x\n"
    ).encode()
    assert pinned_bases(data, "Dockerfile") == (
        ReleaseBase("r.io/python:3.11", d(5)),
        ReleaseBase("r.io/tools", d(6)),
    )
