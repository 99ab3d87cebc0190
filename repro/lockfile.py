"""repro.lock: the resolution of every image reference, as sorted, diff-friendly TOML.

One ``[[image]]`` table per reference, keyed by its canonical spelling
(``registry/repository:tag``, or ``registry/repository@digest`` for a digest-only
reference), then a ``[files]`` record of every file `repro lock` read::

    schema_version = 2

    [[image]]
    reference = "localhost:5000/library/busybox:1.35"
    name = "localhost:5000/library/busybox"
    tag = "1.35"
    digest = "sha256:..."
    media_type = "application/vnd.oci.image.index.v1+json"
    served_by = "mirror.example:5000"  # only when a mirror answered, not the registry named
    resolved_at = "2026-01-01T00:00:00Z"

    [image.platforms]
    "linux/amd64" = "sha256:..."

    [files]
    dockerfile = '''
    <sha256 hex of the bytes> <path> <line>:<column>:<kind>:<reference> ...
    '''

``[files]`` holds one literal block per kind of file (``dockerfile`` now; compose,
Kubernetes... later), one line per file: the sha256 of the bytes `repro lock` last saw,
the path (``%20`` for a space, ``%25`` for ``%``) and each image site in it, as found.
It is a cache with a purpose: `repro lock --check` takes the sites of a file whose bytes
still hash the same from here instead of parsing it again (10,000 Dockerfiles check in
well under two seconds), and it records each site for people (which files use an image).
A line per file parses in microseconds where a table per file would take tomllib a
tenth of a millisecond each (and repro reads the section itself when it is laid out as
repro writes it: tomllib walks a long literal string character by character). A stale
or missing line is never an error, only a file to parse; so is a site that does not read
back; a line without a hash and a path is (exit 2, with its line).

Top-level keys repro does not own (a later ``[[release]]`` table, say) are read and
written back unchanged, so other commands can keep their records in the same file.
Schema 1 (no ``[files]``) is read through the migration below and written back as
schema 2 the next time `repro lock` writes the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repro.errors import LockfileError
from repro.records import Fields, decode_text, load_toml

if TYPE_CHECKING:
    from repro.dockerfile.imageref import ImageRef

LOCKFILE_NAME = "repro.lock"
LOCK_SCHEMA_VERSION = 2
_HEADER = (
    "# repro.lock: image references resolved by `repro lock`. Do not edit by hand;\n"
    "# run `repro lock --update` to move a pin, `repro lock --check` in CI.\n"
)
_OWNED = frozenset({"schema_version", "image", "files"})
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
    # The mirror that answered when it was resolved; absent when the registry named did.
    served_by: str | None = None

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"reference": self.reference, "name": self.name}
        if self.tag is not None:
            table["tag"] = self.tag
        table["digest"] = self.digest
        table["media_type"] = self.media_type
        if self.served_by is not None:
            table["served_by"] = self.served_by
        table["resolved_at"] = self.resolved_at
        if self.platforms:
            table["platforms"] = dict(sorted(self.platforms.items()))
        return table


@dataclass(frozen=True)
class SiteRecord:
    """One image site of a file, as `repro lock` last found it."""

    line: int
    column: int
    kind: str  # "from", "copy-from", "mount-from", "syntax"; other kinds their own
    reference: str  # as written (after ARG substitution): never contains whitespace

    def encode(self) -> str:
        return f"{self.line}:{self.column}:{self.kind}:{self.reference}"

    @classmethod
    def decode(cls, text: str) -> SiteRecord:
        line, column, kind, reference = text.split(":", 3)
        return cls(int(line), int(column), kind, reference)


@dataclass(frozen=True)
class FileRecord:
    """A file `repro lock` read: the hash of its bytes and the sites found in them.

    The sites are kept as their encoded text (``line:column:kind:reference``, validated
    when read) and decoded on use: a 10,000-file project has 40,000 of them.
    """

    path: str  # display path, relative to the project root, posix separators
    kind: str  # "dockerfile"
    sha256: str  # 64 hex digits
    site_texts: tuple[str, ...] = ()

    @classmethod
    def of(cls, path: str, kind: str, sha256: str, sites: Iterable[SiteRecord]) -> FileRecord:
        return cls(path, kind, sha256, tuple(site.encode() for site in sites))

    @property
    def sites(self) -> tuple[SiteRecord, ...]:
        return tuple(SiteRecord.decode(text) for text in self.site_texts)

    def encode(self) -> str:
        return " ".join([self.sha256, _encode_path(self.path), *self.site_texts])


def recordable(path: str, references: Iterable[str]) -> bool:
    """Whether a file and its sites fit on one line of the ``[files]`` record."""
    return (
        "\n" not in path
        and "\r" not in path
        and all(
            reference and not any(c.isspace() for c in reference) and "'''" not in reference
            for reference in references
        )
    )


@dataclass(frozen=True)
class Lockfile:
    images: Mapping[str, LockedImage] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # tables other commands own
    schema_version: int = LOCK_SCHEMA_VERSION
    files: Mapping[str, FileRecord] = field(default_factory=dict)  # path -> record

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
    import tomli_w

    document: dict[str, Any] = {"schema_version": LOCK_SCHEMA_VERSION}
    images = [lock.images[key].to_toml() for key in sorted(lock.images)]
    if images:
        document["image"] = images
    for key, value in lock.extra.items():
        document[key] = value
    return _HEADER + "\n" + tomli_w.dumps(document) + _dump_files(lock.files)


_FILES_COMMENT = (
    "# Every file `repro lock` read: sha256 of its bytes, path, then line:column:kind:reference\n"
    "# of each image in it. `repro lock --check` skips parsing a file whose bytes still match.\n"
)


def _dump_files(files: Mapping[str, FileRecord]) -> str:
    if not files:
        return ""
    kinds: dict[str, list[str]] = {}
    for path in sorted(files):
        record = files[path]
        kinds.setdefault(record.kind, []).append(record.encode())
    blocks = [
        f"{kind} = '''\n" + "\n".join(lines) + "\n'''\n" for kind, lines in sorted(kinds.items())
    ]
    return "\n[files]\n" + _FILES_COMMENT + "".join(blocks)


_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


def _conflict_marker(text: str) -> tuple[int, str] | None:
    """The first line a merge left a conflict marker on (str.find: this runs on every check)."""
    found: list[tuple[int, str]] = []
    for marker in _CONFLICT_MARKERS:
        start = 0 if text.startswith(marker) else text.find("\n" + marker) + 1
        while start > 0 or (start == 0 and text.startswith(marker)):
            end = start + len(marker)
            if end == len(text) or text[end] in " \r\n":
                found.append((start, marker))
                break
            start = text.find("\n" + marker, end) + 1
    if not found:
        return None
    offset, marker = min(found)
    return text.count("\n", 0, offset) + 1, marker


def parse_lockfile(text: str, path: str = LOCKFILE_NAME) -> Lockfile:
    conflict = _conflict_marker(text)
    if conflict is not None:
        raise LockfileError(
            f"{path}:{conflict[0]}: a merge left conflict markers ({conflict[1]}) in the file",
            hint="keep one side of each conflict (or both sides' [[image]] entries), delete "
            "the markers, then run `repro lock` to settle repro.lock against the files",
        )
    head, blocks = _split_files(text)
    data = load_toml(
        head,
        path,
        error=LockfileError,
        hint="fix the file, or delete it and run `repro lock` to write a new one",
    )
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
    data = migrate(data, version, path)
    tables = data.get("image", [])
    if not isinstance(tables, list):
        raise LockfileError(f"{path}:{_line_of_entry(head, 'image')}: `image` must be [[image]]")
    images: dict[str, LockedImage] = {}
    for index, table in enumerate(tables):
        image = _image(table, path, _line_of(head, "image", index), head)
        if image.reference in images:
            raise LockfileError(
                f"{path}:{_line_of(head, 'image', index)}: {image.reference} is listed twice"
            )
        images[image.reference] = image
    extra = {key: value for key, value in data.items() if key not in _OWNED}
    files = _parse_files(blocks if blocks is not None else data.get("files", {}), text, path)
    return Lockfile(images=images, extra=extra, files=files)


_HEX = re.compile(r"[a-f0-9]{64}")


_HEX_DIGITS = "0123456789abcdef"
_FILES_HEADER = "\n[files]\n"


def _split_files(text: str) -> tuple[str, dict[str, str] | None]:
    """The text before ``[files]`` and its blocks, when ``[files]`` is laid out as repro
    writes it (last, ``kind = '''...'''`` blocks and comments); else (text, None) and
    tomllib reads it all. tomllib scans a long literal string character by character."""
    start = text.rfind(_FILES_HEADER)
    if start == -1:
        return text, None
    blocks: dict[str, str] = {}
    position = start + len(_FILES_HEADER)
    while position < len(text):
        end_of_line = text.find("\n", position)
        line = text[position : end_of_line if end_of_line != -1 else len(text)]
        if not line.strip() or line.lstrip().startswith("#"):
            position = len(text) if end_of_line == -1 else end_of_line + 1
            continue
        key, equals, opening = line.partition("=")
        kind = key.strip()
        if not equals or opening.strip() != "'''" or not kind.replace("-", "").isalnum():
            return text, None
        body_start = end_of_line + 1
        close = text.find("\n'''", body_start - 1)
        if end_of_line == -1 or close == -1 or kind in blocks:
            return text, None
        blocks[kind] = text[body_start : close + 1]
        after = text.find("\n", close + 1)
        tail = text[close + 4 : after if after != -1 else len(text)]
        if tail.strip():
            return text, None
        position = len(text) if after == -1 else after + 1
    return text[: start + 1], blocks


def _parse_files(table: object, text: str, path: str) -> dict[str, FileRecord]:
    if not isinstance(table, dict):
        raise LockfileError(f"{path}:{_line_of_entry(text, 'files')}: `files` must be a table")
    files: dict[str, FileRecord] = {}
    for kind, block in sorted(table.items()):
        if not isinstance(block, str):
            raise LockfileError(f"{path}: files.{kind} must be a '''block''' of lines")
        first = _line_of_key(text, kind)
        for offset, line in enumerate(block.split("\n")):
            if not line:
                continue
            sha, _, rest = line.partition(" ")
            # The sites are checked when used (repro.lock.scan): one that does not read
            # back makes its file be parsed, never trusted.
            if len(sha) != 64 or sha.strip(_HEX_DIGITS) or not rest or rest.startswith(" "):
                raise LockfileError(
                    f"{path}:{first + 1 + offset}: a files.{kind} line must be "
                    "`<sha256 hex> <path> <line>:<column>:<kind>:<reference>...`",
                    hint="delete the line; the next `repro lock` writes it again",
                )
            encoded_path, *sites = rest.split(" ")
            file_path = _decode_path(encoded_path)
            if file_path in files:
                raise LockfileError(f"{path}:{first + 1 + offset}: {file_path} is recorded twice")
            files[file_path] = FileRecord(file_path, kind, sha, tuple(sites))
    return files


def _encode_path(path: str) -> str:
    return path.replace("%", "%25").replace(" ", "%20")


def _decode_path(text: str) -> str:
    return text.replace("%20", " ").replace("%25", "%")


def _line_of_entry(text: str, key: str) -> int:
    """The line of a top-level ``key = ...`` (before the first table) or a ``[key]`` or
    ``[[key]]`` header; 1 when there is none."""
    name = re.escape(key)
    first_table = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    top = text if first_table is None else text[: first_table.start()]
    match = re.search(rf"^[ \t]*{name}[ \t]*=", top, re.MULTILINE) or re.search(
        rf"^[ \t]*\[\[?[ \t]*{name}[ \t]*\]", text, re.MULTILINE
    )
    return 1 if match is None else text.count("\n", 0, match.start()) + 1


def _line_of_key(text: str, key: str) -> int:
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return 1 if match is None else text.count("\n", 0, match.start()) + 1


# Schema migrations: MIGRATIONS[n] turns a schema-n document (the parsed TOML) into a
# schema-(n+1) one. An older file is read through them and written back at
# LOCK_SCHEMA_VERSION the next time repro writes repro.lock; it is never rewritten just
# because it was read. Schema 2 added the ``[files]`` record: a schema-1 file has none,
# which reads as "no file seen yet", so every file is parsed once more.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _schema_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "files"}


MIGRATIONS: dict[int, Migration] = {1: _schema_1_to_2}


def migrate(
    data: dict[str, Any],
    version: int,
    path: str = LOCKFILE_NAME,
    *,
    migrations: Mapping[int, Migration] | None = None,
    target: int = LOCK_SCHEMA_VERSION,
) -> dict[str, Any]:
    """``data`` (at schema ``version``) brought up to schema ``target``."""
    steps = MIGRATIONS if migrations is None else migrations
    while version < target:
        step = steps.get(version)
        if step is None:
            raise LockfileError(
                f"{path}: schema_version {version} cannot be migrated to {target}",
                hint="upgrade repro, or delete the file and run `repro lock`",
            )
        data = {**step(data), "schema_version": version + 1}
        version += 1
    return data


def read_lockfile_text(path: Path) -> str | None:
    """The text of the lockfile at ``path``; None when there is none (an empty file counts
    as none)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.strip():
        return None
    return decode_text(data, str(path), error=LockfileError)


def read_lockfile(path: Path) -> Lockfile | None:
    """The lockfile at ``path``; None when there is none (an empty file counts as none)."""
    text = read_lockfile_text(path)
    return None if text is None else parse_lockfile(text, str(path))


def utc_now() -> str:
    """The time as repro.lock records it (``resolved_at``, ``verified_at``): RFC 3339, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image(table: object, path: str, line: int, source: str) -> LockedImage:
    where = f"{path}:{line}"
    if not isinstance(table, dict):
        raise LockfileError(f"{where}: an [[image]] entry must be a table")

    def text(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise LockfileError(f"{where}: [[image]] `{key}` is missing or not a string")
        return value

    def optional_text(key: str) -> str | None:
        return None if table.get(key) is None else text(key)

    reference = text("reference")
    name = text("name")
    tag = optional_text("tag")
    digest = text("digest")
    media_type = text("media_type")
    resolved_at = text("resolved_at")
    served_by = optional_text("served_by")
    if not _DIGEST.fullmatch(digest):
        raise LockfileError(
            f"{path}:{_line_after(source, line, 'digest')}: {reference}: the pin {digest!r} "
            "is not a digest (sha256:<64 hex>)",
            hint="restore repro.lock from version control, or delete the entry and run "
            "`repro lock`",
        )
    platforms = table.get("platforms", {})
    if not isinstance(platforms, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _DIGEST.fullmatch(v)
        for k, v in platforms.items()
    ):
        raise LockfileError(
            f"{path}:{_line_after(source, line, '[image.platforms]')}: {reference}: "
            "`platforms` must map os/arch to sha256 digests"
        )
    return LockedImage(
        reference=reference,
        name=name,
        tag=tag,
        digest=digest,
        media_type=media_type,
        resolved_at=resolved_at,
        platforms=dict(platforms),
        served_by=served_by,
    )


def _line_after(text: str, start_line: int, key: str) -> int:
    """The line of ``key`` (``key =`` or a header) at or after ``start_line``, else it."""
    lines = text.splitlines()
    for number in range(start_line, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped.startswith(key) and (
            key.startswith("[") or stripped[len(key) :].lstrip()[:1] == "="
        ):
            return number
    return start_line


def _line_of(text: str, table: str, index: int) -> int:
    """The 1-based line of the ``index``-th ``[[table]]`` header (1 when not found)."""
    lines = _header_lines(text, table)
    return lines[index] if index < len(lines) else 1


@lru_cache(maxsize=8)
def _header_lines(text: str, table: str) -> tuple[int, ...]:
    """The line of every ``[[table]]`` header, found in one pass."""
    header = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", re.MULTILINE)
    found: list[int] = []
    line, position = 1, 0
    for match in header.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        found.append(line)
    return tuple(found)


# -- releases ----------------------------------------------------------------------------
#
# `repro release` records one ``[[release]]`` table per version (see docs in
# repro/release/__init__.py). `repro lock` keeps them as opaque ``extra`` tables; the
# release commands read them strictly here: a malformed or hand-edited entry is a
# LockfileError (exit 2) naming the line of its ``[[release]]`` header.

RELEASE_TABLE = "release"


@dataclass(frozen=True)
class ReleaseLayer:
    digest: str
    size: int  # compressed bytes, as the manifest gives it
    instruction: str | None  # the Dockerfile instruction (history created_by) that made it

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"digest": self.digest}
        if self.instruction is not None:
            table["instruction"] = self.instruction
        table["size"] = self.size
        return table


@dataclass(frozen=True)
class ReleaseImage:
    """One platform's image: manifest, config and layers."""

    platform: str
    manifest: str
    config: str
    size: int  # config + layers, compressed bytes
    layers: tuple[ReleaseLayer, ...]

    def to_toml(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "layer": [layer.to_toml() for layer in self.layers],
            "manifest": self.manifest,
            "platform": self.platform,
            "size": self.size,
        }


@dataclass(frozen=True)
class ReleaseBase:
    """A base image pin in force when the release was built."""

    reference: str  # name:tag as written (without the digest)
    digest: str

    def to_toml(self) -> dict[str, Any]:
        return {"digest": self.digest, "reference": self.reference}


@dataclass(frozen=True)
class ReleaseBuild:
    """One of the independent builds the release was verified with."""

    name: str  # "A" | "B"
    builder: str  # the buildx builder ("default" for the default one)
    digest: str  # the image (index) digest it produced

    def to_toml(self) -> dict[str, Any]:
        return {"builder": self.builder, "digest": self.digest, "name": self.name}


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    tag: str | None  # `git describe --exact-match --tags`, None when HEAD has no tag
    context: str  # build context, relative to the repository root
    dockerfile: str  # relative to the repository root
    dockerfile_sha256: str
    source_date_epoch: int
    build_args: Mapping[str, str]
    target: str | None
    platforms: tuple[str, ...]  # as requested; () means the builder's default
    bases: tuple[ReleaseBase, ...]
    digest: str  # what the image is pulled by: the index digest (or the manifest's)
    images: tuple[ReleaseImage, ...]  # sorted by platform
    buildkit: str
    buildx: str
    verified_at: str  # RFC 3339 UTC; the only field that is not a function of the source
    repository: str | None = None  # where --push put it: registry/repository:tag
    # The facts of the verification run (SLSA provenance states them); absent in releases
    # recorded before repro kept them.
    builds: tuple[ReleaseBuild, ...] = ()  # A and B: builder and image digest
    started_at: str | None = None  # RFC 3339 UTC, when the verification started
    source: str | None = None  # the git remote (credentials stripped)
    attest: tuple[str, ...] = ()  # BuildKit attestations built into the image
    repro: str | None = None  # the repro version that verified it
    # The variations the verification applied between its builds (umask, tz, ...;
    # repro.verify.variations); () in releases recorded before repro kept them.
    variations: tuple[str, ...] = ()

    def to_toml(self) -> dict[str, Any]:
        """The ``[[release]]`` table (also the signed predicate): sorted keys, no nulls."""
        table: dict[str, Any] = {
            "base": [base.to_toml() for base in self.bases],
            "build_args": dict(sorted(self.build_args.items())),
            "buildkit": self.buildkit,
            "buildx": self.buildx,
            "commit": self.commit,
            "context": self.context,
            "digest": self.digest,
            "dockerfile": self.dockerfile,
            "dockerfile_sha256": self.dockerfile_sha256,
            "image": [image.to_toml() for image in self.images],
            "platforms": list(self.platforms),
            "repository": self.repository,
            "source_date_epoch": self.source_date_epoch,
            "tag": self.tag,
            "target": self.target,
            "verified_at": self.verified_at,
            "version": self.version,
            "started_at": self.started_at,
            "source": self.source,
            "repro": self.repro,
        }
        if self.builds:
            table["build"] = [build.to_toml() for build in self.builds]
        if self.attest:
            table["attest"] = list(self.attest)
        if self.variations:
            table["variations"] = list(self.variations)
        return {key: value for key, value in sorted(table.items()) if value is not None}


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order: 1.9.0 < 1.10.0; numbers before words."""
    parts = re.findall(r"\d+|[^\d.\-+]+", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def releases_of(lock: Lockfile, text: str = "", path: str = LOCKFILE_NAME) -> dict[str, Release]:
    """The ``[[release]]`` tables of ``lock``, validated; ``text`` gives line numbers."""
    raw = lock.extra.get(RELEASE_TABLE, [])
    if not isinstance(raw, list):
        line = _line_of_entry(text, RELEASE_TABLE)
        raise LockfileError(f"{path}:{line}: `release` must be an array of release tables")
    releases: dict[str, Release] = {}
    for index, table in enumerate(raw):
        line = _line_of(text, RELEASE_TABLE, index)
        release = parse_release(table, f"{path}:{line}")
        if release.version in releases:
            raise LockfileError(f"{path}:{line}: release {release.version} is recorded twice")
        releases[release.version] = release
    return releases


def with_release(lock: Lockfile, release: Release) -> Lockfile:
    """``lock`` with ``release`` recorded (replacing one of the same version), in version order."""
    releases = {**releases_of(lock), release.version: release}
    ordered = [releases[v].to_toml() for v in sorted(releases, key=version_key)]
    extra = {key: value for key, value in lock.extra.items() if key != RELEASE_TABLE}
    extra[RELEASE_TABLE] = ordered
    return Lockfile(images=lock.images, extra=extra, files=lock.files)


class _Table(Fields):
    """A table of a release entry: a malformed one is a LockfileError (exit 2)."""

    def __init__(self, table: object, where: str, what: str) -> None:
        super().__init__(
            table,
            where,
            what,
            error=LockfileError,
            hint="repro.lock is written by repro; restore it from version control "
            "or record the release again with `repro release --replace`",
        )

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def digest(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise self.wrong(key, "a sha256:<64 hex> digest")
        return value


_HEX64 = re.compile(r"[a-f0-9]{64}")


def parse_release(raw: object, where: str) -> Release:
    table = _Table(raw, where, "a release entry")
    version = table.text("version")
    table.what = f"release {version}"
    sha = table.text("dockerfile_sha256")
    if not _HEX64.fullmatch(sha):
        raise table.wrong("dockerfile_sha256", "64 hex digits")
    args = table.string_table("build_args")
    platforms = table.texts("platforms")
    bases = []
    for entry in table.tables("base"):
        base = _Table(entry, where, f"release {version}: a base")
        bases.append(ReleaseBase(reference=base.text("reference"), digest=base.digest("digest")))
    images = []
    for entry in table.tables("image"):
        image = _Table(entry, where, f"release {version}: an image")
        layers = []
        for layer_entry in image.tables("layer"):
            layer = _Table(layer_entry, where, f"release {version}: a layer")
            layers.append(
                ReleaseLayer(
                    digest=layer.digest("digest"),
                    size=layer.integer("size"),
                    instruction=layer.optional_text("instruction"),
                )
            )
        images.append(
            ReleaseImage(
                platform=image.text("platform"),
                manifest=image.digest("manifest"),
                config=image.digest("config"),
                size=image.integer("size"),
                layers=tuple(layers),
            )
        )
    if not images:
        raise table.wrong("image", "at least one image table")
    builds = []
    for entry in table.tables("build"):
        build = _Table(entry, where, f"release {version}: a build")
        builds.append(
            ReleaseBuild(
                name=build.text("name"),
                builder=build.text("builder"),
                digest=build.digest("digest"),
            )
        )
    return Release(
        version=version,
        commit=table.text("commit"),
        tag=table.optional_text("tag"),
        context=table.text("context"),
        dockerfile=table.text("dockerfile"),
        dockerfile_sha256=sha,
        source_date_epoch=table.epoch("source_date_epoch"),
        build_args=dict(sorted(args.items())),
        target=table.optional_text("target"),
        platforms=tuple(platforms),
        bases=tuple(bases),
        digest=table.digest("digest"),
        images=tuple(images),
        buildkit=table.text("buildkit"),
        buildx=table.text("buildx"),
        verified_at=table.text("verified_at"),
        repository=table.optional_text("repository"),
        builds=tuple(builds),
        started_at=table.optional_text("started_at"),
        source=table.optional_text("source"),
        attest=tuple(table.texts("attest")),
        repro=table.optional_text("repro"),
        variations=tuple(table.texts("variations")),
    )
