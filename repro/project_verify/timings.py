"""How long each image took to verify last time: a small cache the pool orders images by.

``.repro/cache/verify-timings.json`` under the project root: {"kind": "verify-timings",
"schema_version": 1, "seconds": {image name: seconds}}. The directory carries a
``.gitignore`` of ``*``, so git (and so ``repro verify``'s clean-tree check) never sees
it. It is a cache: a file that does not read is ignored (and said so), never trusted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from repro.fsutil import atomic_write_text
from repro.jsonout import document, dumps_stable

KIND = "verify-timings"
CACHE_DIR = Path(".repro") / "cache"
FILE_NAME = "verify-timings.json"


@dataclass(frozen=True)
class Timings:
    seconds: Mapping[str, float]
    problem: str | None = None  # why the cache was not read


def timings_path(root: Path) -> Path:
    return root / CACHE_DIR / FILE_NAME


def read_timings(root: Path) -> Timings:
    path = timings_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Timings({})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return Timings({}, f"{path}: not read ({error}); images are ordered by context size")
    seconds = data.get("seconds") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("kind") != KIND or not isinstance(seconds, dict):
        return Timings({}, f"{path}: not a timings cache; images are ordered by context size")
    return Timings(
        {
            str(name): float(value)
            for name, value in seconds.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        }
    )


def write_timings(root: Path, previous: Mapping[str, float], new: Mapping[str, float]) -> None:
    """Record ``new`` over ``previous``; images not verified this time keep their entry."""
    directory = root / CACHE_DIR
    # Never parents=True: a project directory that is gone is not made again here.
    directory.parent.mkdir(exist_ok=True)
    directory.mkdir(exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, "# repro's cache: nothing here is committed\n*\n")
    merged = {**previous, **new}
    atomic_write_text(
        directory / FILE_NAME,
        dumps_stable(document(KIND, {"seconds": dict(sorted(merged.items()))})),
    )


def context_bytes(directory: Path, *, skip: frozenset[str] = frozenset({".git"})) -> int:
    """The bytes of the files under ``directory`` (not following links): the size of a
    build context before .dockerignore, a cheap stand-in for how long it builds."""
    total = 0
    for current, dirnames, filenames in os.walk(directory):
        dirnames[:] = [name for name in dirnames if name not in skip]
        for name in filenames:
            try:
                total += os.lstat(os.path.join(current, name)).st_size
            except OSError:
                continue  # gone while we looked: it adds nothing to the estimate
    return total
