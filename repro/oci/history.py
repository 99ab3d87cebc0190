"""Attribution: which Dockerfile instruction (config history entry) made each layer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# BuildKit: 'RUN |2 A=1 B=2 /bin/sh -c make # buildkit'; classic: '/bin/sh -c #(nop)  CMD ["x"]'.
_BUILD_ARGS = re.compile(r"^RUN \|\d+ (?:\S+=\S* )*")
_SHELL = "/bin/sh -c "
_BUILDKIT_SUFFIX = " # buildkit"
_ARG_COUNT = re.compile(r"^RUN \|(\d+) ")


def run_build_args(created_by: str) -> dict[str, str] | None:
    """The build arguments BuildKit recorded for a RUN (``RUN |2 A=1 B=2 /bin/sh -c ...``),
    or None for an entry that records none."""
    text = created_by.strip()
    match = _ARG_COUNT.match(text)
    if match is None:
        return None
    words = text[match.end() :].split(" ")[: int(match.group(1))]
    return dict(word.partition("=")[::2] for word in words)


def clean_created_by(created_by: str) -> str:
    """The instruction as a person wrote it, without the shell wrapper BuildKit adds."""
    text = created_by.strip().removesuffix(_BUILDKIT_SUFFIX.strip()).rstrip()
    text = _BUILD_ARGS.sub("RUN ", text)
    if text.startswith("RUN " + _SHELL):
        text = "RUN " + text.removeprefix("RUN " + _SHELL)
    elif text.startswith(_SHELL + "#(nop)"):
        text = text.removeprefix(_SHELL + "#(nop)").strip()
    elif text.startswith(_SHELL):
        text = "RUN " + text.removeprefix(_SHELL)
    return text


def history_for_layers(config: Mapping[str, Any], layer_count: int) -> list[int | None]:
    """For each layer, the index of the history entry that produced it (None if unknown).

    History entries with empty_layer=true (ENV, LABEL, CMD...) produce no layer.
    """
    history = config.get("history")
    entries = history if isinstance(history, list) else []
    producing = [
        position
        for position, entry in enumerate(entries)
        if not (isinstance(entry, dict) and entry.get("empty_layer") is True)
    ]
    return [producing[i] if i < len(producing) else None for i in range(layer_count)]


def layer_instructions(config: Mapping[str, Any], layer_count: int) -> list[str | None]:
    """For each layer, the cleaned created_by text of the instruction that produced it."""
    history = config.get("history")
    entries = history if isinstance(history, list) else []
    instructions: list[str | None] = []
    for position in history_for_layers(config, layer_count):
        entry = entries[position] if position is not None else None
        created_by = entry.get("created_by") if isinstance(entry, dict) else None
        instructions.append(clean_created_by(created_by) if isinstance(created_by, str) else None)
    return instructions


def layer_of_history_entry(config: Mapping[str, Any], history_index: int) -> int | None:
    """The layer a history entry produced, or None for empty_layer entries."""
    history = config.get("history")
    entries = history if isinstance(history, list) else []
    # No more layers than entries: enough positions for every entry that made one.
    mapping = history_for_layers(config, len(entries))
    return mapping.index(history_index) if history_index in mapping else None
