"""Deterministic JSON: sorted keys, fixed separators, a schema version, a trailing newline;
the canonical compact form that digests and signatures are computed over; and the one
reader of untrusted JSON (image layouts and tars, envelopes, records, docker config)."""

from __future__ import annotations

import json
from typing import Any

from repro.errors import InputError, ReproError, VerdictError

JSON_SCHEMA_VERSION = 1

# Real documents (manifests, configs, envelopes, records) are far smaller and shallower;
# past these a document is hostile or broken, and reading it on would cost memory or
# blow the stack of every recursive walk after it.
MAX_JSON_BYTES = 32 << 20
MAX_NESTING = 64


def dumps_stable(payload: Any) -> str:
    """Serialise ``payload`` so that equal inputs give equal bytes."""
    return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the bytes repro hashes, signs and pushes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(
    data: bytes | str,
    where: str,
    *,
    error: type[ReproError] = InputError,
    max_bytes: int = MAX_JSON_BYTES,
    max_nesting: int = MAX_NESTING,
) -> Any:
    """A JSON value read from untrusted bytes; ``error`` (InputError unless the caller
    says otherwise) naming ``where`` for anything that is not a sane JSON document: not
    UTF-8, not JSON, NaN/Infinity, integers of thousands of digits, over ``max_bytes``,
    or nested deeper than ``max_nesting``."""
    if len(data) > max_bytes:
        raise error(f"{where} is too large for a JSON document ({len(data)} bytes)")
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise error(f"{where} is nested too deeply (more than {max_nesting} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{where} is not valid JSON: {exc}") from exc
    check_nesting(value, where, error=error, max_nesting=max_nesting)
    return value


def load_object(
    data: bytes | str,
    where: str,
    *,
    error: type[ReproError] = VerdictError,
    max_bytes: int = MAX_JSON_BYTES,
    max_nesting: int = MAX_NESTING,
) -> dict[str, Any]:
    """A JSON object read from untrusted bytes (see load_json). The error defaults to a
    negative verdict (exit 1), for signed payloads and envelopes; image documents and
    records pass ``error=InputError``."""
    document = load_json(data, where, error=error, max_bytes=max_bytes, max_nesting=max_nesting)
    if not isinstance(document, dict):
        raise error(f"{where} is not a JSON object")
    return document


def check_nesting(
    value: Any,
    where: str,
    *,
    error: type[ReproError] = InputError,
    max_nesting: int = MAX_NESTING,
    hint: str | None = None,
) -> None:
    """``error`` when lists and tables (from JSON or TOML) nest deeper than ``max_nesting``.

    Walked with a stack, not recursion, so a hostile value cannot exhaust it here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_nesting:
            raise error(f"{where} is nested too deeply (more than {max_nesting} levels)", hint=hint)
        stack.extend((child, depth + 1) for child in children)


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
