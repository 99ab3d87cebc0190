"""Byte sizes as people write them (``200MB``, ``1.5GiB``) and as reports show them."""

from __future__ import annotations

import re

from repro.errors import InputError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """``200MB`` -> 200000000 (decimal units, like docker), ``1GiB`` -> 1073741824."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise InputError(f"{text!r} is not a size", hint="write it like 200MB, 1.5GB or 512MiB")
    return int(float(match.group(1)) * _UNITS[unit])


def human_bytes(count: int) -> str:
    """Decimal units, as `docker images` shows sizes: 1.1 GB, 180 MB, 12 kB."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
