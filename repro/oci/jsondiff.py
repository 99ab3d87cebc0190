"""Structural diff of two JSON documents, reported as JSON paths with both values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from repro.oci.jsontypes import JsonValue

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class JsonChange:
    """kind: 'changed', 'added' (only in B) or 'removed' (only in A)."""

    path: str
    key: str  # the last step: a key, or "key[i]" for a list item
    kind: str
    value_a: JsonValue
    value_b: JsonValue


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


def diff_json(a: Any, b: Any, path: str = "", key: str = "") -> Iterator[JsonChange]:
    """Yield the leaves that differ; dicts by key, lists by position."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in sorted(set(a) | set(b)):
            here = child_path(path, name)
            if name not in b:
                yield JsonChange(here, name, "removed", a[name], None)
            elif name not in a:
                yield JsonChange(here, name, "added", None, b[name])
            else:
                yield from diff_json(a[name], b[name], here, name)
    elif isinstance(a, list) and isinstance(b, list):
        for position in range(max(len(a), len(b))):
            here, step = child_path(path, position), f"{key}[{position}]"
            if position >= len(b):
                yield JsonChange(here, step, "removed", a[position], None)
            elif position >= len(a):
                yield JsonChange(here, step, "added", None, b[position])
            else:
                yield from diff_json(a[position], b[position], here, step)
    elif type(a) is not type(b) or a != b:
        yield JsonChange(path, key, "changed", a, b)
