"""Deterministic JSON: sorted keys, fixed separators, a schema version, a trailing newline;
and the canonical compact form that digests and signatures are computed over."""

from __future__ import annotations

import json
from typing import Any

from repro.errors import VerdictError

JSON_SCHEMA_VERSION = 1


def dumps_stable(payload: Any) -> str:
    """Serialise ``payload`` so that equal inputs give equal bytes."""
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the bytes repro hashes, signs and pushes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_object(data: bytes, where: str) -> dict[str, Any]:
    """A JSON object read from untrusted bytes (a signed payload, a manifest a registry
    served); anything else is a negative verdict (exit 1) naming ``where``, not a crash."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerdictError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise VerdictError(f"{where} is not a JSON object")
    return document


def go_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, fields in the order given (build dicts
    in struct order, maps sorted), non-ASCII raw, and ``<``, ``>``, ``&``, U+2028, U+2029
    escaped. For documents that must be byte-identical to what cosign (Go) writes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)  # these never occur outside strings
    return text.encode("utf-8")


_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def document(
    kind: str, body: dict[str, Any], *, schema_version: int = JSON_SCHEMA_VERSION
) -> dict[str, Any]:
    """Wrap a command's result with the schema version and the kind of document.

    A kind whose shape has changed states its own version; the others share
    JSON_SCHEMA_VERSION.
    """
    return {"schema_version": schema_version, "kind": kind, **body}
