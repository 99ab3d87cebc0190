"""Typed access to one table of a parsed record (JSON or TOML), with errors that say where.

Every record model (repro.lockfile's releases, the verification record, the sign-off
report) parses its fields through this, so a malformed record is an InputError naming
the file, the entry and the key, never a KeyError.
"""

from __future__ import annotations

from typing import Any

from repro.errors import InputError


class Fields:
    """The fields of ``data`` (a dict), found at ``where``; ``what`` names the entry."""

    def __init__(
        self,
        data: object,
        where: str,
        what: str = "an entry",
        *,
        error: type[InputError] = InputError,
        hint: str | None = None,
    ) -> None:
        self._error = error
        self.hint = hint
        self.where = where
        self.what = what
        if not isinstance(data, dict):
            raise error(f"{where}: {what} must be a table", hint=hint)
        self.data: dict[str, Any] = data

    def wrong(self, key: str, expected: str) -> InputError:
        return self._error(
            f"{self.where}: {self.what} `{key}` is missing or not {expected}", hint=self.hint
        )

    def text(self, key: str, *, allow_empty: bool = False) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not (value or allow_empty):
            raise self.wrong(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key, allow_empty=True)

    def integer(self, key: str) -> int:
        """A non-negative integer (sizes, counts, epochs)."""
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.wrong(key, "a non-negative integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.wrong(key, "a number")
        return float(value)

    def texts(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.wrong(key, "a list of strings")
        return list(value)

    def string_table(self, key: str) -> dict[str, str]:
        value = self.data.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.wrong(key, "a table of strings")
        return dict(value)

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.wrong(key, "a table")
        return value

    def tables(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.wrong(key, "an array of tables")
        return list(value)
