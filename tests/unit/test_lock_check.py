"""The verdict of `repro lock --check` on each site, field by field: what it is called,
what the user is told and the fix offered; and the pins --online finds moved."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_image_ref
from repro.lock.check import check_files, check_site, moved_pins, pinned_tags
from repro.lock.model import UNREADABLE, Action, PlannedRef, ScannedFile, Site
from repro.lockfile import LockedImage, Lockfile

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
ARG_REMEDY = "give the ARG a default that names the image (repro lock pins it there)"
LITERAL_REMEDY = "write the image as a literal reference (repro lock pins it there)"


def site(written: str, *, kind: str = "from", composed: bool = False, unpinnable: str = "") -> Site:
    image = None if unpinnable else parse_image_ref(written)
    return Site("ci/app.Dockerfile", 3, 6, kind, written, image, None, composed, unpinnable)


def lock_with(key: str, digest: str) -> Lockfile:
    name = key.partition("@")[0].rpartition(":")[0]
    entry = LockedImage(key, name, "1", digest, "m", "2026-01-01T00:00:00Z")
    return Lockfile(images={key: entry})


def expected(
    checked: Site, action: Action, digest: str | None = None, message: str = "", fix: str = ""
) -> PlannedRef:
    return PlannedRef(
        "ci/app.Dockerfile",
        3,
        6,
        checked.kind,
        checked.written,
        checked.key,
        action,
        digest,
        digest,
        message,
        fix,
    )


NO_DEFAULT = site("${BASE}", unpinnable="ARG BASE has no default")
COMPOSED = site("r.io/a:1", composed=True)  # FROM ${REGISTRY}/a:1, after substitution


@pytest.mark.parametrize(
    ("checked", "message", "fix"),
    [
        (
            NO_DEFAULT,
            "${BASE} cannot be pinned: ARG BASE has no default",
            f'{ARG_REMEDY}, or list "${{BASE}}" in [tool.repro] allow-unpinnable',
        ),
        (
            COMPOSED,
            "r.io/a:1 cannot be pinned: it is built from ARGs (r.io/a:1) with no literal to pin",
            f'{ARG_REMEDY}, or list "r.io/a:1" in [tool.repro] allow-unpinnable',
        ),
        (
            site("{{ .Values.image }}", kind="service", unpinnable="a template"),
            "{{ .Values.image }} cannot be pinned: a template",
            f'{LITERAL_REMEDY}, or list "{{{{ .Values.image }}}}" in [tool.repro] allow-unpinnable',
        ),
        (
            site("(unreadable compose file)", kind=UNREADABLE, unpinnable="not YAML"),
            "(unreadable compose file) cannot be pinned: not YAML",
            "fix the file, or leave it out with [tool.repro] exclude; or list "
            '"ci/app.Dockerfile" in [tool.repro] allow-unpinnable',
        ),
    ],
)
def test_an_unpinnable_site_fails_with_why_and_the_remedy_for_its_kind(
    checked: Site, message: str, fix: str
) -> None:
    verdict = check_site(checked, None, ["${OTHER}", "other/*"])
    assert verdict == expected(checked, Action.UNPINNABLE, None, message, fix)


@pytest.mark.parametrize("allow", [["${OTHER}", "${BASE}"], ["other/*", "ci/*.Dockerfile"]])
def test_an_unpinnable_site_allow_unpinnable_lists_is_allowed_with_why(allow: list[str]) -> None:
    verdict = check_site(NO_DEFAULT, None, allow)
    message = "${BASE}: ARG BASE has no default (allow-unpinnable)"
    assert verdict == expected(NO_DEFAULT, Action.ALLOWED, None, message)


def test_a_composed_reference_allowed_by_its_text_is_allowed() -> None:
    verdict = check_site(COMPOSED, None, ["r.io/a:1"])
    message = "r.io/a:1: it is built from ARGs (r.io/a:1) with no literal to pin (allow-unpinnable)"
    assert verdict == expected(COMPOSED, Action.ALLOWED, None, message)


def test_a_composed_reference_that_is_pinned_is_checked_like_any_pin() -> None:
    pinned = site(f"r.io/a:1@{D1}", composed=True)
    assert check_site(pinned, lock_with("r.io/a:1", D1)) == expected(pinned, Action.OK, D1)


def test_an_unpinned_reference_is_told_to_run_repro_lock() -> None:
    unpinned = site("r.io/a:1")
    verdict = check_site(unpinned, lock_with("r.io/a:1", D1))
    message = "r.io/a:1 is not pinned to a digest"
    assert verdict == expected(unpinned, Action.UNPINNED, None, message, "run `repro lock`")


@pytest.mark.parametrize("lock", [None, Lockfile(), lock_with("r.io/a:2", D1)])
def test_a_pin_repro_lock_has_no_entry_for_is_not_locked(lock: Lockfile | None) -> None:
    pinned = site(f"r.io/a:1@{D1}")
    assert check_site(pinned, lock) == expected(
        pinned,
        Action.NOT_LOCKED,
        D1,
        f"r.io/a:1 is pinned to {D1} but repro.lock has no entry for it",
        "run `repro lock` to record the pin",
    )


def test_a_pin_repro_lock_records_differently_is_a_mismatch() -> None:
    pinned = site(f"r.io/a:1@{D2}")
    assert check_site(pinned, lock_with("r.io/a:1", D1)) == expected(
        pinned,
        Action.LOCK_MISMATCH,
        D2,
        f"pinned {D2} but repro.lock has {D1}",
        "run `repro lock` to record the new pin (it keeps a digest the tag serves or the "
        "registry has), or restore the pin repro.lock has",
    )


def test_a_pin_repro_lock_agrees_with_is_ok() -> None:
    pinned = site(f"r.io/a:1@{D1}")
    assert check_site(pinned, lock_with("r.io/a:1", D1)) == expected(pinned, Action.OK, D1)
    digest_only = site(f"r.io/b@{D2}")
    assert check_site(digest_only, lock_with(f"r.io/b@{D2}", D2)) == expected(
        digest_only, Action.OK, D2
    )


def test_check_files_gives_every_site_of_every_file_in_order_with_the_allow_list() -> None:
    first = ScannedFile("a", "dockerfile", "0" * 64, (site(f"r.io/a:1@{D1}"), NO_DEFAULT))
    second = ScannedFile("b", "dockerfile", "0" * 64, (site("r.io/c:1"),))
    result = check_files([first, second], lock_with("r.io/a:1", D1), ["${BASE}"])
    assert [ref.action for ref in result.references] == [
        Action.OK,
        Action.ALLOWED,
        Action.UNPINNED,
    ]
    assert [ref.action for ref in result.offenders] == [Action.UNPINNED]


def test_pinned_tags_groups_the_tagged_pins_by_name_and_tag() -> None:
    a1, a1_again, b2 = site(f"r.io/a:1@{D1}"), site(f"r.io/a:1@{D2}"), site(f"r.io/b:2@{D1}")
    sites = (a1, site("r.io/a:1"), site(f"r.io/a@{D1}"), NO_DEFAULT, b2, a1_again)
    found = pinned_tags([ScannedFile("a", "dockerfile", "0" * 64, sites)])
    assert found == {"r.io/a:1": [a1, a1_again], "r.io/b:2": [b2]}


def test_moved_pins_are_the_pins_whose_tag_serves_another_digest_now() -> None:
    a1, a1_current, b2, c3 = (
        site(f"r.io/a:1@{D1}"),
        site(f"r.io/a:1@{D3}"),
        site(f"r.io/b:2@{D1}"),
        site(f"r.io/c:3@{D2}"),
    )
    tags = {"r.io/c:3": [c3], "r.io/a:1": [a1_current, a1], "r.io/b:2": [b2]}
    moved = moved_pins(tags, {"r.io/a:1": D3, "r.io/c:3": D1})  # r.io/b:2 not answered

    def tag_moved(pin: Site, tag: str, old: str, new: str) -> PlannedRef:
        return PlannedRef(
            "ci/app.Dockerfile",
            3,
            6,
            "from",
            pin.written,
            tag,
            Action.TAG_MOVED,
            old,
            new,
            f"{tag} now serves {new} (pinned {old})",
            "run `repro lock --update` to move the pin",
        )

    assert moved == (tag_moved(a1, "r.io/a:1", D1, D3), tag_moved(c3, "r.io/c:3", D2, D1))
