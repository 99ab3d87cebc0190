"""Read a project's files into sites: parse a Dockerfile, or take repro.lock's record of it.

A file whose bytes hash to what repro.lock's ``[files]`` record says is not parsed
again: its sites come from the record. That is what makes the hermetic check fast on a
big project; a stale or missing record only means the file is parsed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache

from repro.dockerfile.imageref import ImageRef, parse_image_ref
from repro.errors import InputError
from repro.lock.model import ScannedFile, Site
from repro.lockfile import FileRecord, SiteRecord, recordable

DOCKERFILE = "dockerfile"
_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scan_dockerfile(
    display: str, data: bytes, build_args: Mapping[str, str] | None = None
) -> ScannedFile:
    """Parse one Dockerfile into its sites; errors carry file:line:column.

    A file that cannot be a Dockerfile (empty, binary, no FROM, merge-conflict markers)
    is an input error: a gate that found "0 references" in it would pass anything.
    """
    from repro.dockerfile.parser import parse_dockerfile
    from repro.dockerfile.references import find_references

    if b"\0" in data:
        raise InputError(
            f"{display}: not a Dockerfile: it holds binary data (NUL bytes)",
            hint="exclude it with --exclude or [tool.repro] exclude, or pass the right file",
        )
    dockerfile = parse_dockerfile(data, display)
    for instruction in dockerfile.instructions:
        if instruction.keyword.startswith(_CONFLICT_MARKERS):
            raise InputError(
                f"{display}:{instruction.line}: a merge left conflict markers "
                f"({instruction.keyword[:7]}) in the file",
                hint="resolve the conflict, then run `repro lock`",
            )
    if not any(instruction.command == "FROM" for instruction in dockerfile.instructions):
        what = "it is empty" if not dockerfile.instructions else "it has no FROM instruction"
        raise InputError(
            f"{display}: not a Dockerfile: {what}",
            hint="exclude it with --exclude or [tool.repro] exclude, or pass the right file",
        )
    sites: list[Site] = []
    for reference in find_references(dockerfile, build_args, include_unresolved=True):
        if reference.unresolved is not None:
            sites.append(
                Site(
                    file=display,
                    line=reference.line,
                    column=reference.column,
                    kind=reference.kind.value,
                    written=reference.raw,
                    image=None,
                    composed=True,
                    unpinnable=reference.unresolved,
                )
            )
            continue
        try:
            image = parse_image_ref(reference.resolved)
        except InputError as error:
            raise InputError(
                f"{display}:{reference.line}:{reference.column}: {error.message}",
                hint=error.hint,
            ) from error
        sites.append(
            Site(
                file=display,
                line=reference.line,
                column=reference.column,
                kind=reference.kind.value,
                written=image.original,
                image=image,
                span=reference.span,
                composed=reference.raw != reference.resolved,
            )
        )
    return ScannedFile(
        display=display,
        kind=DOCKERFILE,
        sha256=sha256_hex(data),
        sites=tuple(sites),
        data=data,
        parsed=dockerfile,
        warnings=tuple(str(warning) for warning in dockerfile.warnings),
    )


@lru_cache(maxsize=4096)
def _image(reference: str) -> ImageRef | None:
    try:
        return parse_image_ref(reference)
    except InputError:
        return None


def from_record(record: FileRecord) -> ScannedFile | None:
    """The file as repro.lock recorded it; None when the record does not read back."""
    sites: list[Site] = []
    for text in record.site_texts:
        parts = text.split(":", 3)
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit() or not parts[2]:
            return None  # hand-edited: parse the file instead of trusting it
        line, column, kind, reference = parts
        image = _image(reference)
        if image is None:
            return None
        sites.append(Site(record.path, int(line), int(column), kind, reference, image))
    return ScannedFile(record.path, record.kind, record.sha256, tuple(sites))


def to_record(scanned: ScannedFile) -> FileRecord | None:
    """What repro.lock remembers of a file; None for one whose sites do not fit a record
    (composed from ARGs, unresolved) or that the parser read leniently: such a file is
    parsed every time."""
    if scanned.warnings or any(site.image is None or site.composed for site in scanned.sites):
        return None
    if not recordable(scanned.display, (site.written for site in scanned.sites)):
        return None
    return FileRecord.of(
        scanned.display,
        scanned.kind,
        scanned.sha256,
        (SiteRecord(site.line, site.column, site.kind, site.written) for site in scanned.sites),
    )


def scan_files(
    files: Iterable[tuple[str, str]],
    records: Mapping[str, FileRecord],
    *,
    reuse: bool,
    parse_unpinned: bool = False,
) -> list[ScannedFile]:
    """Each ``(display, path)`` read once; parsed unless ``reuse`` and its record matches.

    With ``parse_unpinned`` a record listing an unpinned reference is not reused: a lock
    run rewrites that file, so it needs its bytes and spans.
    """
    scanned: list[ScannedFile] = []
    for display, path in files:
        data = _read(path)
        record = records.get(display) if reuse else None
        if record is not None and record.sha256 == sha256_hex(data):
            cached = from_record(record)
            if cached is not None and not (parse_unpinned and _has_unpinned(cached)):
                scanned.append(cached)
                continue
        scanned.append(scan_dockerfile(display, data))
    return scanned


def _read(path: str) -> bytes:
    """A whole small file, with the fewest calls (thousands of them on a big project)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _has_unpinned(scanned: ScannedFile) -> bool:
    return any(site.image is not None and site.image.digest is None for site in scanned.sites)
