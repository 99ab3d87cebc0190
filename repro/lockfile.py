"""repro.lock: the resolution of every image reference, as sorted, diff-friendly TOML.

One ``[[image]]`` table per reference, keyed by its canonical spelling
(``registry/repository:tag``, or ``registry/repository@digest`` for a digest-only
reference)::

    schema_version = 1

    [[image]]
    reference = "localhost:5000/library/busybox:1.35"
    name = "localhost:5000/library/busybox"
    tag = "1.35"
    digest = "sha256:..."
    media_type = "application/vnd.oci.image.index.v1+json"
    resolved_at = "2026-01-01T00:00:00Z"

    [image.platforms]
    "linux/amd64" = "sha256:..."

Top-level keys repro does not own (a later ``[[release]]`` table, say) are read and
written back unchanged, so other commands can keep their records in the same file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from repro.dockerfile import ImageRef
from repro.errors import LockfileError

LOCKFILE_NAME = "repro.lock"
LOCK_SCHEMA_VERSION = 1
_HEADER = (
    "# repro.lock: image references resolved by `repro lock`. Do not edit by hand;\n"
    "# run `repro lock --update` to move a pin, `repro lock --check` in CI.\n"
)
_OWNED = frozenset({"schema_version", "image"})
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


@dataclass(frozen=True)
class LockedImage:
    reference: str  # the key: canonical name:tag, or name@digest
    name: str  # registry/repository, normalised
    tag: str | None
    digest: str
    media_type: str
    resolved_at: str  # RFC 3339, UTC
    platforms: Mapping[str, str] = field(default_factory=dict)  # index children

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"reference": self.reference, "name": self.name}
        if self.tag is not None:
            table["tag"] = self.tag
        table["digest"] = self.digest
        table["media_type"] = self.media_type
        table["resolved_at"] = self.resolved_at
        if self.platforms:
            table["platforms"] = dict(sorted(self.platforms.items()))
        return table


@dataclass(frozen=True)
class Lockfile:
    images: Mapping[str, LockedImage] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # tables other commands own
    schema_version: int = LOCK_SCHEMA_VERSION

    def get(self, key: str) -> LockedImage | None:
        return self.images.get(key)


def lock_key(ref: ImageRef) -> str:
    """The key of a reference in repro.lock: ``name:tag``, or ``name@digest`` without a tag.

    An implicit ``:latest`` that has been pinned is written ``name@digest``, so it is
    keyed by the digest, like any digest-only reference.
    """
    if ref.tag is not None and not (ref.implicit_latest and ref.digest is not None):
        return f"{ref.name}:{ref.tag}"
    return f"{ref.name}@{ref.digest}"


def dump_lockfile(lock: Lockfile) -> str:
    """Stable TOML: the same content always gives the same bytes."""
    document: dict[str, Any] = {"schema_version": lock.schema_version}
    images = [lock.images[key].to_toml() for key in sorted(lock.images)]
    if images:
        document["image"] = images
    for key, value in lock.extra.items():
        document[key] = value
    return _HEADER + "\n" + tomli_w.dumps(document)


def parse_lockfile(text: str, path: str = LOCKFILE_NAME) -> Lockfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(
            f"{path}: not valid TOML: {exc}",
            hint="fix the file, or delete it and run `repro lock` to write a new one",
        ) from exc
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LockfileError(f"{path}:1: `schema_version` is missing or not an integer")
    if version > LOCK_SCHEMA_VERSION:
        raise LockfileError(
            f"{path}: schema_version {version} is newer than this repro understands "
            f"({LOCK_SCHEMA_VERSION})",
            hint="upgrade repro",
        )
    if version < 1:
        raise LockfileError(f"{path}: schema_version {version} is not valid")
    tables = data.get("image", [])
    if not isinstance(tables, list):
        raise LockfileError(f"{path}:{_line_of(text, 'image', 0)}: `image` must be [[image]]")
    images: dict[str, LockedImage] = {}
    for index, table in enumerate(tables):
        image = _image(table, path, _line_of(text, "image", index))
        if image.reference in images:
            raise LockfileError(
                f"{path}:{_line_of(text, 'image', index)}: {image.reference} is listed twice"
            )
        images[image.reference] = image
    extra = {key: value for key, value in data.items() if key not in _OWNED}
    return Lockfile(images=images, extra=extra, schema_version=LOCK_SCHEMA_VERSION)


def read_lockfile(path: Path) -> Lockfile | None:
    """The lockfile at ``path``; None when there is none (an empty file counts as none)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.strip():
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LockfileError(f"{path}: not UTF-8 text") from exc
    return parse_lockfile(text, str(path))


def _image(table: object, path: str, line: int) -> LockedImage:
    where = f"{path}:{line}"
    if not isinstance(table, dict):
        raise LockfileError(f"{where}: an [[image]] entry must be a table")

    def text(key: str, *, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise LockfileError(f"{where}: [[image]] `{key}` is missing or not a string")
        return value

    reference = text("reference")
    name = text("name")
    tag = text("tag", required=False)
    digest = text("digest")
    media_type = text("media_type")
    resolved_at = text("resolved_at")
    assert reference and name and digest and media_type and resolved_at
    if not _DIGEST.fullmatch(digest):
        raise LockfileError(f"{where}: digest {digest!r} is not sha256:<64 hex>")
    platforms = table.get("platforms", {})
    if not isinstance(platforms, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _DIGEST.fullmatch(v)
        for k, v in platforms.items()
    ):
        raise LockfileError(f"{where}: `platforms` must map os/arch to sha256 digests")
    return LockedImage(
        reference=reference,
        name=name,
        tag=tag,
        digest=digest,
        media_type=media_type,
        resolved_at=resolved_at,
        platforms=dict(platforms),
    )


def _line_of(text: str, table: str, index: int) -> int:
    """The 1-based line of the ``index``-th ``[[table]]`` header (1 when not found)."""
    header = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", re.MULTILINE)
    matches = list(header.finditer(text))
    if index < len(matches):
        return text.count("\n", 0, matches[index].start()) + 1
    return 1
