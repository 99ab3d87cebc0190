"""Typed access to one table of a parsed record (JSON or TOML), with errors that say where.

Every record model (repro.lockfile's releases, the verification record, the sign-off
report) parses its fields through this, so a malformed record is an InputError naming
the file, the entry and the key, never a KeyError.
"""

from __future__ import annotations

import tomllib
from typing import Any

from repro.errors import InputError, ReproError
from repro.jsonout import check_nesting


def decode_text(data: bytes, where: str, *, error: type[ReproError] = InputError) -> str:
    """``data`` as UTF-8 text; ``error`` naming ``where`` when it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_toml(
    text: str, where: str, *, error: type[ReproError] = InputError, hint: str | None = None
) -> dict[str, Any]:
    """A TOML document read from an untrusted file: ``error`` (with ``hint``) naming
    ``where`` when it is not TOML, nests too deeply or holds a number Python refuses."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise error(f"{where}: not valid TOML: nested too deeply", hint=hint) from None
    except ValueError as exc:  # TOMLDecodeError, and integers of thousands of digits
        raise error(f"{where}: not valid TOML: {exc}", hint=hint) from exc
    check_nesting(data, where, error=error, hint=hint)
    return data


# Sizes and counts fit in 63 bits (what TOML and Go readers of these records accept);
# an epoch must be a date Python can print: at most 9999-12-31T23:59:59Z.
MAX_INTEGER = 2**63 - 1
MAX_EPOCH = 253_402_300_799


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

    def integer(self, key: str, *, maximum: int = MAX_INTEGER) -> int:
        """A non-negative integer (sizes, counts) no larger than ``maximum``."""
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            raise self.wrong(key, f"an integer from 0 to {maximum}")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def epoch(self, key: str) -> int:
        """Seconds since 1970 that a date can be made of (up to the year 9999)."""
        return self.integer(key, maximum=MAX_EPOCH)

    def optional_epoch(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.epoch(key)

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
