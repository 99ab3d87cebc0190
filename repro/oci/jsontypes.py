"""The JSON value type and text that is always safe to serialise."""

from __future__ import annotations

from typing import TypeAlias, Union

JsonValue: TypeAlias = Union[  # noqa: UP007 - recursive alias needs string forward refs
    str, int, float, bool, list["JsonValue"], dict[str, "JsonValue"], None
]


def safe_text(text: str) -> str:
    """``text`` with undecodable bytes (tar names are bytes) shown as \\x escapes.

    tarfile decodes with surrogateescape; lone surrogates cannot be written as UTF-8 JSON.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text
