"""Group differences by platform, layer and cause, each group with the fix made from it.

Groups come in report order: per platform, the layers in order (differences of the
index, manifest and config, which belong to no layer, after them), and within a layer
the causes in catalogue order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from repro.oci.causes import RULES
from repro.oci.fixes import fix_for_group
from repro.oci.model import Difference, DifferenceGroup, LayerInventory

_RANK = {rule.id: rank for rank, rule in enumerate(RULES)}


def _order(group: DifferenceGroup) -> tuple[object, ...]:
    return (
        group.platform,
        group.layer is None,
        group.layer if group.layer is not None else 0,
        _RANK.get(group.cause_id, len(_RANK)),
        group.instruction or "",
    )


def group_differences(
    differences: Sequence[Difference], inventory: Iterable[LayerInventory] = ()
) -> tuple[DifferenceGroup, ...]:
    """One DifferenceGroup per (platform, layer, instruction, cause), in report order."""
    present: dict[tuple[str, int | None, str], tuple[str, ...]] = {
        (item.platform, item.layer, item.cause_id): item.paths for item in inventory
    }
    members: dict[tuple[str, int | None, str | None, str], list[Difference]] = {}
    for diff in differences:
        members.setdefault(diff.group_key, []).append(diff)
    groups = []
    for (platform, layer, instruction, cause_id), diffs in members.items():
        seen = present.get((platform, layer, cause_id), ())  # none for layer None
        groups.append(
            DifferenceGroup(
                platform=platform,
                layer=layer,
                instruction=instruction,
                cause_id=cause_id,
                cause_title=diffs[0].cause_title,
                differences=tuple(diffs),
                fix=fix_for_group(cause_id, instruction, diffs, seen),
            )
        )
    return tuple(sorted(groups, key=_order))
