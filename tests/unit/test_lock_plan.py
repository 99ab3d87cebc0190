"""Planning a lock run (repro.lock.plan): which pins move, what each reference is told,
and the repro.lock entry each one leaves, with worked-out values."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_image_ref
from repro.lock.model import Action, Mode
from repro.lock.plan import plan, unified_diff
from repro.lock.scan import scan_dockerfile
from tests.unit.test_lock_core import D2, D3, NOW, resolve

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
