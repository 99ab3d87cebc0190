"""Planning a lock run (repro.lock.plan): which pins move, what each reference is told,
and the repro.lock entry each one leaves, with worked-out values."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_image_ref
from repro.lock.model import Action, Mode
from repro.lock.plan import plan
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
