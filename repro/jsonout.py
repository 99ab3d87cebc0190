"""Deterministic JSON: sorted keys, fixed separators, a schema version, a trailing newline."""

from __future__ import annotations

import json
from typing import Any

JSON_SCHEMA_VERSION = 1


def dumps_stable(payload: Any) -> str:
    """Serialise ``payload`` so that equal inputs give equal bytes."""
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def document(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Wrap a command's result with the schema version and the kind of document."""
    return {"schema_version": JSON_SCHEMA_VERSION, "kind": kind, **body}
