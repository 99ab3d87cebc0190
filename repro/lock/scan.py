"""Read a project's files into sites: parse a Dockerfile or an image file (compose, bake,
Kubernetes, Helm values, GitHub workflow), or take repro.lock's record of it.

A file whose bytes hash to what repro.lock's ``[files]`` record says is not parsed
again: its sites come from the record. That is what makes the hermetic check fast on a
big project; a stale or missing record only means the file is parsed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from repro.dockerfile.imageref import ImageRef, parse_image_ref
from repro.errors import InputError
from repro.lock.discover import DOCKERFILE, IMAGE_FILE, INCLUDED
from repro.lock.model import UNREADABLE, ScannedFile, Site
from repro.lockfile import FileRecord, SiteRecord, recordable

if TYPE_CHECKING:
    from repro.imagefiles import ImageFile, ImageSite

_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")
# What an included file of an unknown name holds when it is YAML naming images.
_YAML_TOP_KEY = re.compile(rb"^(?:apiVersion|kind|services|jobs):", re.MULTILINE)


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


def scan_image_file(display: str, data: bytes, includes: Sequence[str] = ()) -> ScannedFile | None:
    """An image file's sites; None when it is not one (a ``*.yaml`` without Kubernetes
    objects, a name the rules leave alone). Never raises for bad input: what cannot be
    read is an unpinnable site at its file:line, and such a file is never rewritten."""
    from repro.imagefiles.discover import DiscoveryRules, classify, worth_parsing
    from repro.imagefiles.model import FileKind

    kind = classify(display, data, DiscoveryRules(include=tuple(includes)))
    if kind is None or (kind is FileKind.KUBERNETES and not worth_parsing(kind, data)):
        return None  # decided without loading the YAML parser (most *.yaml are no manifest)
    from repro.imagefiles.scan import scan_file

    scanned = scan_file(display, data, kind)
    if scanned is None:
        return None
    return scanned_image_file(scanned)


def scanned_image_file(scanned: ImageFile) -> ScannedFile:
    sites = [image_site(found) for found in scanned.sites]
    sites.extend(
        Site(
            file=problem.file,
            line=problem.line,
            column=problem.column,
            kind=UNREADABLE,
            written=f"(unreadable {scanned.kind.value} file)",
            image=None,
            unpinnable=problem.message,
        )
        for problem in scanned.problems
    )
    sites.sort(key=lambda site: (site.line, site.column))
    return ScannedFile(
        display=scanned.display,
        kind=scanned.kind.value,
        sha256=sha256_hex(scanned.data),
        sites=tuple(sites),
        data=scanned.data,
        parsed=scanned,
    )


def image_site(found: ImageSite) -> Site:
    """The planner's site for one reference in an image file.

    ``written`` is the reference that is pulled (for a Helm ``repository``/``tag`` pair
    the composed one), so repro.lock's record of it reads back as the same image.
    """
    if found.image is None:
        why = found.unpinnable or "it is not a literal reference"
        if found.assumed is not None:
            why += f" (with its defaults it would be {found.assumed})"
        return Site(
            found.file,
            found.line,
            found.column,
            found.kind.value,
            found.raw,
            None,
            unpinnable=why,
        )
    return Site(
        file=found.file,
        line=found.line,
        column=found.column,
        kind=found.kind.value,
        written=found.reference or found.raw,
        image=found.image,
        span=found.span,
    )


def scan_bytes(
    display: str, data: bytes, kind: str, includes: Sequence[str] = ()
) -> ScannedFile | None:
    """A file of ``kind`` scanned: DOCKERFILE, IMAGE_FILE (a candidate: its kind is
    decided from its name and bytes), INCLUDED (a Dockerfile or an image file, by its
    bytes) or an image-file kind already known."""
    if kind == INCLUDED:
        kind = IMAGE_FILE if _YAML_TOP_KEY.search(data) else DOCKERFILE
    if kind == DOCKERFILE:
        return scan_dockerfile(display, data)
    if kind == IMAGE_FILE:
        return scan_image_file(display, data, includes)
    from repro.imagefiles import FileKind, scan_file

    scanned = scan_file(display, data, FileKind(kind))
    return None if scanned is None else scanned_image_file(scanned)


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
    files: Iterable[tuple[str, str, str]],
    records: Mapping[str, FileRecord],
    *,
    reuse: bool,
    parse_unpinned: bool = False,
    includes: Sequence[str] = (),
) -> list[ScannedFile]:
    """Each ``(display, path, kind)`` read once; parsed unless ``reuse`` and its record
    matches. An image-file candidate that turns out not to be one is left out.

    With ``parse_unpinned`` a record listing an unpinned reference is not reused: a lock
    run rewrites that file, so it needs its bytes and spans.
    """
    scanned: list[ScannedFile] = []
    for display, path, kind in files:
        data = _read(path)
        record = records.get(display) if reuse else None
        if (
            record is not None
            and record.sha256 == sha256_hex(data)
            # same bytes, same kind of reading (an included file's is decided by its bytes)
            and (kind == INCLUDED or (record.kind == DOCKERFILE) == (kind == DOCKERFILE))
        ):
            cached = from_record(record)
            if cached is not None and not (parse_unpinned and _has_unpinned(cached)):
                scanned.append(cached)
                continue
        found = scan_bytes(display, data, kind, includes)
        if found is not None:
            scanned.append(found)
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
