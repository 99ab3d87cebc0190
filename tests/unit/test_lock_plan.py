"""Planning a lock run (repro.lock.plan): which pins move, what each reference is told,
and the repro.lock entry each one leaves, with worked-out values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from repro.dockerfile import parse_image_ref
from repro.errors import InputError
from repro.lock.model import Action, Mode, PlannedRef
from repro.lock.plan import Plan, plan, required_keys, unified_diff, with_records
from repro.lock.scan import scan_dockerfile, scan_image_file
from repro.lockfile import FileRecord, LockedImage, Lockfile
from repro.registry.model import ManifestKey, Resolution
from tests.unit.test_lock_core import D1, D2, D3, INDEX, MANIFEST, NOW, resolve

PINNED_THREE = (
    f"FROM r.io/a:1@{D2}\nFROM r.io/a:2@{D2}\nFROM r.io/b:1@{D2}\n"  # every tag now serves D3
).encode()
MOVED = {"r.io/a:1": D3, "r.io/a:2": D3, "r.io/b:1": D3}


@pytest.mark.parametrize(
    ("selectors", "updated"),
    [
        ([], ["r.io/a:1", "r.io/a:2", "r.io/b:1"]),  # --update alone: every pin
        (["r.io/a:1"], ["r.io/a:1"]),  # a tag selects that tag only
        (["r.io/a"], ["r.io/a:1", "r.io/a:2"]),  # no tag: every tag of the name
        (["r.io/b:1", "r.io/a:2"], ["r.io/a:2", "r.io/b:1"]),  # any selector may match
        (["r.io/c:1"], []),
        (["r.io/a:3"], []),
    ],
)
def test_update_moves_only_the_pins_its_references_select(
    selectors: list[str], updated: list[str]
) -> None:
    source = scan_dockerfile("Dockerfile", PINNED_THREE)
    result = plan(
        [source],
        mode=Mode.UPDATE,
        lock=None,
        resolutions=resolve([source], tags=MOVED),
        now=NOW,
        selectors=[parse_image_ref(selector) for selector in selectors],
    )
    actions = {ref.written.split("@")[0]: ref.action for ref in result.references}
    assert actions == {
        written: Action.UPDATED if written in updated else Action.DRIFTED
        for written in ("r.io/a:1", "r.io/a:2", "r.io/b:1")
    }
    expected = PINNED_THREE
    for written in updated:
        expected = expected.replace(f"{written}@{D2}".encode(), f"{written}@{D3}".encode())
    assert [change.new for change in result.changes] == ([expected] if updated else [])


def test_an_unpinnable_site_is_planned_as_such_and_said_once_with_its_line() -> None:
    source = scan_dockerfile("Dockerfile", b"ARG BASE\nFROM ${BASE}\n")
    result = plan([source], mode=Mode.LOCK, lock=None, resolutions={}, now=NOW)
    (ref,) = result.references
    assert (ref.file, ref.line, ref.column, ref.written, ref.key) == (
        "Dockerfile",
        2,
        6,
        "${BASE}",
        "${BASE}",
    )
    assert (ref.action, ref.old_digest, ref.new_digest) == (Action.UNPINNABLE, None, None)
    assert ref.message == "ARG BASE has no default; repro cannot pin it"
    assert result.warnings == (
        "Dockerfile:2: ${BASE}: ARG BASE has no default; repro cannot pin it",
    )
    assert result.changes == ()


def test_the_diff_of_a_pin_keeps_bytes_that_are_not_utf8_and_says_a_missing_newline() -> None:
    diff = unified_diff("svc/Dockerfile", b"FROM a\n\xff\nRUN x", b"FROM a@x\n\xff\nRUN y")
    assert diff == (
        "--- a/svc/Dockerfile\n"
        "+++ b/svc/Dockerfile\n"
        "@@ -1,3 +1,3 @@\n"
        "-FROM a\n"
        "+FROM a@x\n"
        " \udcff\n"
        "-RUN x\n"
        "\\ No newline at end of file\n"
        "+RUN y\n"
        "\\ No newline at end of file\n"
    )
    assert diff.encode("utf-8", "surrogateescape").count(b"\xff") == 1


# -- what is asked of a registry, and what each reference is told -----------------------


def key(text: str) -> ManifestKey:
    name, _, reference = text.rpartition("@" if "@" in text else ":")
    registry, _, repository = name.partition("/")
    return ManifestKey(registry, repository, reference)


def answer(manifest_key: str, digest: str, mirror: str | None = None) -> Resolution:
    return Resolution(key(manifest_key), digest, MANIFEST, None, "r.io", mirror)


def locked(reference: str, digest: str, tag: str | None = "1") -> Lockfile:
    name = reference.partition("@")[0].removesuffix(f":{tag}")
    image = LockedImage(reference, name, tag, digest, MANIFEST, "2025-01-01T00:00:00Z")
    return Lockfile(images={reference: image})


@pytest.mark.parametrize(
    ("dockerfile", "lock", "resolved", "wanted"),
    [
        ("FROM r.io/a:1\n", None, {}, ["r.io/a:1"]),
        ("ARG B\nFROM ${B}\n", None, {}, []),  # unpinnable: nothing to ask
        (f"FROM r.io/a:1@{D2}\n", None, {}, ["r.io/a:1"]),  # the tag first: it may be D2
        (f"FROM r.io/a:1@{D2}\n", locked("r.io/a:1", D2), {}, ["r.io/a:1"]),
        (f"FROM r.io/a:1@{D2}\n", None, {"r.io/a:1": D2}, []),  # the tag's answer says it
        (f"FROM r.io/a:1@{D2}\n", None, {"r.io/a:1": D3}, [f"r.io/a@{D2}"]),  # read the pin
        (f"FROM r.io/a:1@{D2}\n", locked("r.io/a:1", D2), {"r.io/a:1": D3}, []),  # known
        (f"FROM r.io/a:1@{D2}\n", locked("r.io/a:1", D3), {"r.io/a:1": D3}, [f"r.io/a@{D2}"]),
        (f"FROM r.io/a@{D2}\n", None, {}, [f"r.io/a@{D2}"]),
        (f"FROM r.io/a@{D2}\n", locked(f"r.io/a@{D2}", D2, None), {}, []),
        (f"FROM r.io/a@{D2}\nFROM r.io/b:1\n", locked(f"r.io/a@{D2}", D2, None), {}, ["r.io/b:1"]),
        (
            f"FROM r.io/a@{D2}\nFROM r.io/b:1\nFROM r.io/a:1\n",
            None,
            {"r.io/b:1": D3},
            [
                f"r.io/a@{D2}",
                "r.io/a:1",
            ],
        ),
    ],
)
def test_required_keys_asks_for_every_tag_and_only_the_pins_nothing_else_describes(
    dockerfile: str,
    lock: Lockfile | None,
    resolved: dict[str, str],
    wanted: list[str],
) -> None:
    source = scan_dockerfile("Dockerfile", dockerfile.encode())
    resolutions = {key(k): answer(k, digest) for k, digest in resolved.items()}
    assert required_keys([source], Mode.LOCK, lock, resolutions) == {key(k) for k in wanted}


def planned(
    dockerfile: str,
    lock: Lockfile | None = None,
    tags: dict[str, str] | None = None,
    mode: Mode = Mode.LOCK,
) -> Plan:
    source = scan_dockerfile("Dockerfile", dockerfile.encode())
    resolutions = resolve([source], mode, lock, tags or {})
    return plan([source], mode=mode, lock=lock, resolutions=resolutions, now=NOW)


def ref(
    line: int, written: str, action: Action, old: str | None, new: str | None, message: str = ""
) -> PlannedRef:
    return PlannedRef(
        "Dockerfile", line, 6, "from", written, written.partition("@")[0], action, old, new, message
    )


def entry(
    reference: str, digest: str, resolved_at: str = NOW, tag: str | None = "1"
) -> LockedImage:
    name = reference.partition("@")[0].removesuffix(f":{tag}")
    return LockedImage(reference, name, tag, digest, MANIFEST, resolved_at)


def test_a_reference_built_from_args_is_resolved_and_recorded_but_never_rewritten() -> None:
    result = planned(
        f"ARG R=r.io\nFROM ${{R}}/a:1@{D2}\nFROM ${{R}}/b:1\n",
        tags={"r.io/a:1": D3, "r.io/b:1": D2},
    )
    drifted = f"the tag now serves {D3}"  # no `--update` advice: it could not move the pin
    composed = "built from ARGs with no single default to rewrite; use --source-policy"
    assert result.references == (
        ref(2, f"r.io/a:1@{D2}", Action.DRIFTED, D2, D2, drifted),
        ref(3, "r.io/b:1", Action.UNPINNABLE, None, D2, composed),
    )
    assert result.warnings == (
        f"Dockerfile:2: r.io/a:1@{D2}: {drifted}",
        f"Dockerfile:3: r.io/b:1: {composed}",
    )
    assert result.changes == ()
    assert result.lockfile.images == {
        "r.io/a:1": entry("r.io/a:1", D2),
        "r.io/b:1": entry("r.io/b:1", D2),
    }


def test_a_pin_changed_by_hand_is_recorded_and_said_to_differ_from_repro_lock() -> None:
    result = planned(f"FROM r.io/a:1@{D2}\n", locked("r.io/a:1", D3), {"r.io/a:1": D2})
    assert result.references == (
        ref(1, f"r.io/a:1@{D2}", Action.RECORDED, D2, D2, f"repro.lock had {D3}"),
    )
    assert result.warnings == ()
    assert result.lockfile.images == {"r.io/a:1": entry("r.io/a:1", D2)}


def test_a_pin_changed_by_hand_to_what_the_tag_no_longer_serves_drifts_and_is_recorded() -> None:
    result = planned(f"FROM r.io/a:1@{D2}\n", locked("r.io/a:1", D3), {"r.io/a:1": D1})
    message = (
        f"repro.lock now records this pin; the tag now serves {D1}; run `repro lock --update` "
        "to move the pin"
    )
    assert result.references == (ref(1, f"r.io/a:1@{D2}", Action.DRIFTED, D2, D2, message),)
    assert result.warnings == (f"Dockerfile:1: r.io/a:1@{D2}: {message}",)
    assert result.lockfile.images == {"r.io/a:1": entry("r.io/a:1", D2)}


def test_a_kept_pin_keeps_its_entry_and_the_time_it_was_resolved() -> None:
    lock = locked("r.io/a:1", D2)
    result = planned(f"FROM r.io/a:1@{D2}\n", lock, {"r.io/a:1": D2})
    assert result.references == (ref(1, f"r.io/a:1@{D2}", Action.KEPT, D2, D2),)
    assert result.lockfile == lock


def test_an_unresolved_tag_is_an_input_error_naming_its_line() -> None:
    source = scan_dockerfile("Dockerfile", b"FROM r.io/a\nFROM r.io/b:1\n")
    with pytest.raises(InputError) as caught:
        plan(
            [source],
            mode=Mode.LOCK,
            lock=None,
            resolutions={key("r.io/a:latest"): answer("r.io/a:latest", D2)},
            now=NOW,
        )
    assert caught.value.message == "Dockerfile:2: r.io/b:1 was not resolved"


def test_check_mode_and_rewriting_a_recorded_file_are_programming_errors() -> None:
    with pytest.raises(ValueError, match=r"^--check is repro\.lock\.check's verdict, not a plan$"):
        plan([], mode=Mode.CHECK, lock=None, resolutions={}, now=NOW)
    scanned = scan_dockerfile("svc/Dockerfile", b"FROM r.io/a:1\n")
    recorded = replace(scanned, data=None)
    with pytest.raises(ValueError, match=r"^svc/Dockerfile: a recorded file cannot be rewritten$"):
        plan(
            [recorded],
            mode=Mode.LOCK,
            lock=None,
            resolutions=resolve([scanned], tags={"r.io/a:1": D2}),
            now=NOW,
        )


# -- the repro.lock a run leaves -------------------------------------------------------------

PINS_OF_ONE_TAG = f"FROM r.io/a:1@{D3}\nFROM r.io/a:1@{D2}\n"


@pytest.mark.parametrize(
    ("lock", "served", "chosen", "resolved_at"),
    [
        (None, D3, D3, NOW),  # what the tag serves, when a pin has it
        (locked("r.io/a:1", D3), D2, D3, "2025-01-01T00:00:00Z"),  # else what repro.lock has
        (None, D1, D2, NOW),  # else the smallest digest, so the choice is stable
    ],
)
def test_one_tag_pinned_to_different_digests_is_recorded_once_and_said(
    lock: Lockfile | None, served: str, chosen: str, resolved_at: str
) -> None:
    result = planned(PINS_OF_ONE_TAG, lock, {"r.io/a:1": served})
    assert result.warnings[-1] == (
        f"r.io/a:1 is pinned to different digests: Dockerfile:1 ({D3}), Dockerfile:2 ({D2}); "
        f"repro.lock records {chosen}"
    )
    assert result.lockfile.images == {"r.io/a:1": entry("r.io/a:1", chosen, resolved_at)}


def test_entries_no_file_names_are_kept_unless_pruned_and_other_tables_always() -> None:
    old = Lockfile(
        images={"r.io/gone:1": entry("r.io/gone:1", D1, "2025-01-01T00:00:00Z")},
        extra={"release": [{"version": "1.0"}]},
        files={"old.Dockerfile": FileRecord("old.Dockerfile", "dockerfile", "a" * 64)},
    )
    source = scan_dockerfile("Dockerfile", b"FROM r.io/a:1\n")
    resolutions = resolve([source], tags={"r.io/a:1": D2})
    kept = plan([source], mode=Mode.LOCK, lock=old, resolutions=resolutions, now=NOW)
    assert sorted(kept.lockfile.images) == ["r.io/a:1", "r.io/gone:1"]  # not pruned unless asked
    for prune, names in ((False, ["r.io/a:1", "r.io/gone:1"]), (True, ["r.io/a:1"])):
        result = plan(
            [source], mode=Mode.LOCK, lock=old, resolutions=resolutions, now=NOW, prune=prune
        )
        assert sorted(result.lockfile.images) == names
        assert (result.lockfile.extra, result.lockfile.files) == (old.extra, old.files)
        assert result.lockfile.images["r.io/a:1"] == entry("r.io/a:1", D2)


def index(digest: str, platforms: dict[str, str], mirror: str | None = None) -> Resolution:
    return Resolution(key("r.io/a:1"), digest, INDEX, platforms, "r.io", mirror)


CHILDREN = {"linux/arm64": D3, "linux/arm/v7": D2, "linux/amd64": D1}


@pytest.mark.parametrize(
    ("wanted", "kept"),
    [
        ([], ["linux/amd64", "linux/arm/v7", "linux/arm64"]),
        (["linux/arm"], ["linux/arm/v7"]),  # a variant of the platform asked for
        (["linux/arm/"], ["linux/arm/v7"]),
        (["linux/arm64", "linux/amd64"], ["linux/amd64", "linux/arm64"]),
        (["linux/arm/v7"], ["linux/arm/v7"]),
    ],
)
def test_the_platforms_recorded_are_the_children_asked_for_sorted(
    wanted: list[str], kept: list[str]
) -> None:
    source = scan_dockerfile("Dockerfile", b"FROM r.io/a:1\n")
    resolutions = {key("r.io/a:1"): index(D2, CHILDREN, mirror="mirror.example:5000")}
    result = plan(
        [source], mode=Mode.LOCK, lock=None, resolutions=resolutions, now=NOW, platforms=wanted
    )
    image = result.lockfile.images["r.io/a:1"]
    assert list(image.platforms.items()) == [(name, CHILDREN[name]) for name in kept]
    assert (image.media_type, image.served_by, image.digest) == (INDEX, "mirror.example:5000", D2)


def test_platforms_an_index_does_not_have_are_an_input_error_listing_what_it_has() -> None:
    source = scan_dockerfile("Dockerfile", b"FROM r.io/a:1\n")
    resolutions = {key("r.io/a:1"): index(D2, CHILDREN)}
    with pytest.raises(InputError) as caught:
        plan(
            [source],
            mode=Mode.LOCK,
            lock=None,
            resolutions=resolutions,
            now=NOW,
            platforms=["windows/amd64", "linuxX"],
        )
    assert caught.value.message == (
        "r.io/a:1 has no manifest for windows/amd64, linuxX "
        "(it has linux/amd64, linux/arm/v7, linux/arm64)"
    )


def test_a_digest_only_pin_is_described_by_repro_lock_when_the_registry_was_not_asked() -> None:
    known = LockedImage(
        "r.io/a:1",
        "r.io/a",
        "1",
        D2,
        INDEX,
        "2025-01-01T00:00:00Z",
        {"linux/amd64": D1},
        "m.example",
    )
    other = LockedImage("r.io/b:1", "r.io/b", "1", D3, MANIFEST, "2025-01-01T00:00:00Z")
    lock = Lockfile(images={"r.io/a:1": known, "r.io/b:1": other})
    source = scan_dockerfile("Dockerfile", f"FROM r.io/a@{D2}\n".encode())
    result = plan([source], mode=Mode.LOCK, lock=lock, resolutions={}, now=NOW)
    assert result.lockfile.images[f"r.io/a@{D2}"] == LockedImage(
        f"r.io/a@{D2}", "r.io/a", None, D2, INDEX, NOW, {"linux/amd64": D1}, "m.example"
    )
    elsewhere = scan_dockerfile("Dockerfile", f"FROM r.io/c@{D3}\n".encode())  # r.io/b's digest
    with pytest.raises(InputError) as caught:
        plan([elsewhere], mode=Mode.LOCK, lock=lock, resolutions={}, now=NOW)
    assert caught.value.message == f"Dockerfile:1: r.io/c@{D3} at {D3} was not resolved"


def test_a_digest_keyed_entry_keeps_the_tag_it_was_resolved_from() -> None:
    keyed = f"r.io/a@{D2}"
    old = LockedImage(keyed, "r.io/a", "latest", D2, MANIFEST, "2025-01-01T00:00:00Z")
    source = scan_dockerfile("Dockerfile", f"FROM r.io/a@{D2}\n".encode())
    resolutions = {key(keyed): answer(keyed, D2)}
    kept = plan(
        [source],
        mode=Mode.LOCK,
        lock=Lockfile(images={keyed: old}),
        resolutions=resolutions,
        now=NOW,
    )
    assert kept.lockfile.images == {keyed: old}
    fresh = plan([source], mode=Mode.LOCK, lock=None, resolutions=resolutions, now=NOW)
    assert fresh.lockfile.images == {keyed: LockedImage(keyed, "r.io/a", None, D2, MANIFEST, NOW)}
    moved = replace(old, media_type=INDEX)  # what the registry says now wins, and is dated
    again = plan(
        [source],
        mode=Mode.LOCK,
        lock=Lockfile(images={keyed: moved}),
        resolutions=resolutions,
        now=NOW,
    )
    assert again.lockfile.images == {keyed: replace(old, resolved_at=NOW)}


def test_with_records_replaces_the_files_scanned_and_keeps_or_prunes_the_rest() -> None:
    def record(path: str, sha: str) -> FileRecord:
        return FileRecord(path, "dockerfile", sha * 64)

    lock = Lockfile(
        images={"r.io/a:1": entry("r.io/a:1", D1)},
        extra={"zeta": 1},
        files={"a": record("a", "1"), "b": record("b", "1")},
    )
    new = {"b": record("b", "2"), "c": record("c", "2")}
    merged = with_records(lock, new, prune=False)
    assert merged == Lockfile(
        images=lock.images, extra=lock.extra, files={"a": record("a", "1"), **new}
    )
    assert with_records(lock, new, prune=True) == Lockfile(
        images=lock.images, extra=lock.extra, files=new
    )


def test_a_pinned_implicit_latest_is_keyed_by_its_digest_and_a_composed_one_by_its_tag() -> None:
    pinned = planned("FROM r.io/a\n", tags={"r.io/a:latest": D2})
    assert [ref.key for ref in pinned.references] == [f"r.io/a@{D2}"]
    assert list(pinned.lockfile.images) == [f"r.io/a@{D2}"]
    composed = planned("ARG R=r.io\nFROM ${R}/a\n", tags={"r.io/a:latest": D2})
    assert [ref.key for ref in composed.references] == ["r.io/a:latest"]  # not rewritten
    assert list(composed.lockfile.images) == ["r.io/a:latest"]


def test_an_image_file_change_carries_the_pinned_file_as_it_reads_back() -> None:
    source = scan_image_file("compose.yaml", b"services:\n  a:\n    image: r.io/a:1\n")
    assert source is not None
    resolutions = resolve([source], tags={"r.io/a:1": D2})
    result = plan([source], mode=Mode.UPDATE, lock=None, resolutions=resolutions, now=NOW)
    assert result.mode is Mode.UPDATE
    (change,) = result.changes
    assert change.new == f"services:\n  a:\n    image: r.io/a:1@{D2}\n".encode()
    again = scan_image_file("compose.yaml", change.new)
    assert again is not None and change.parsed == again.parsed
    unparsed = replace(source, parsed=None)
    with pytest.raises(
        ValueError, match=r"^compose\.yaml: an image file to rewrite must be parsed$"
    ):
        plan([unparsed], mode=Mode.LOCK, lock=None, resolutions=resolutions, now=NOW)


def test_a_pin_nothing_describes_is_not_resolved_even_when_repro_lock_has_another() -> None:
    lock = locked("r.io/a:1", D3)
    source = scan_dockerfile("Dockerfile", f"FROM r.io/a:1@{D2}\n".encode())
    resolutions = {key("r.io/a:1"): answer("r.io/a:1", D3)}
    with pytest.raises(InputError) as caught:
        plan([source], mode=Mode.LOCK, lock=lock, resolutions=resolutions, now=NOW)
    assert caught.value.message == f"Dockerfile:1: r.io/a:1 at {D2} was not resolved"
