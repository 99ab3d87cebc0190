"""Scan one file of a known kind for its sites, and pin sites by rewriting their spans.

``scan_file`` never raises for a bad file: a file that cannot be read (not UTF-8, not
YAML/HCL/JSON) is an ImageFile with a Problem at file:line and no sites. ``pin_file``
splices the pins into the original bytes (repro.dockerfile.rewrite: every other byte
kept) and scans the result again, so a pin that would not read back as exactly the
pinned reference is refused instead of written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from repro.dockerfile import rewrite
from repro.imagefiles.compose import find_compose
from repro.imagefiles.discover import worth_parsing
from repro.imagefiles.helm import find_helm_values
from repro.imagefiles.kubernetes import find_kubernetes, kubernetes_objects, template_sites
from repro.imagefiles.model import ComposeBuild, FileKind, ImageFile, ImageSite, Problem
from repro.imagefiles.text import SourceText, UnreadableText
from repro.imagefiles.workflows import find_workflow
from repro.imagefiles.yamltext import YamlText


class PinCheckFailed(RuntimeError):
    """A rewrite did not read back as the pins asked for: a bug, nothing is written."""


def scan_file(display: str, data: bytes, kind: FileKind) -> ImageFile | None:
    """The sites of ``data`` read as ``kind``; None when a Kubernetes candidate is not one."""
    if not worth_parsing(kind, data):
        return None if kind is FileKind.KUBERNETES else ImageFile(display, kind, data, ())
    try:
        return _scan(display, data, kind)
    except UnreadableText as error:
        problem = Problem(display, error.line, error.column, error.message)
        return ImageFile(display, kind, data, (), (problem,))
    except RecursionError:  # json, lark and our walks recurse; libyaml stops at 1,000 levels
        problem = Problem(display, 1, 1, "nested too deeply to read; nothing is pinned here")
        return ImageFile(display, kind, data, (), (problem,))


def _scan(display: str, data: bytes, kind: FileKind) -> ImageFile | None:
    if kind in (FileKind.BAKE_HCL, FileKind.BAKE_JSON):
        from repro.imagefiles.bake import find_bake_hcl, find_bake_json

        finder = find_bake_hcl if kind is FileKind.BAKE_HCL else find_bake_json
        scanned = finder(display, SourceText(data))
        return ImageFile(
            display,
            kind,
            data,
            _in_file_order(scanned.sites),
            scanned.problems,
            (),
            scanned.definition,
        )
    source = YamlText(data)
    builds: list[ComposeBuild] = []
    if kind is FileKind.KUBERNETES:
        try:
            documents = source.documents()
        except UnreadableText:
            if "{{" not in source.text:
                raise
            return ImageFile(display, kind, data, tuple(template_sites(display, source)))
        objects = kubernetes_objects(documents)
        if objects is None:
            return None
        sites = find_kubernetes(display, source, objects)
    elif kind is FileKind.COMPOSE:
        sites, builds = find_compose(display, source)
    elif kind is FileKind.HELM_VALUES:
        sites = find_helm_values(display, source)
    else:
        sites = find_workflow(display, source)
    return ImageFile(display, kind, data, _in_file_order(sites), (), tuple(builds))


def _in_file_order(sites: Sequence[ImageSite]) -> tuple[ImageSite, ...]:
    """Sites sorted by position, one per span: an alias used twice is its anchor's site."""
    unique: dict[tuple[int, int], ImageSite] = {}
    for found in sites:
        key = (found.span.start, found.span.end)
        first = unique.setdefault(key, found)
        if first is not found and found.path not in first.path:
            unique[key] = replace(first, path=f"{first.path}, {found.path}")
    return tuple(sorted(unique.values(), key=lambda found: (found.span.start, found.span.end)))


def pin_file(scanned: ImageFile, pins: Sequence[tuple[ImageSite, str]]) -> bytes:
    """``scanned.data`` with each (site, digest) pinned; only those spans change.

    Raises ValueError for a site that cannot be pinned or a digest that is not one, and
    PinCheckFailed when the rewritten file does not scan back to the same sites with
    exactly these pins (it is then not to be written).
    """
    return pinned_file(scanned, pins).data


def pinned_file(scanned: ImageFile, pins: Sequence[tuple[ImageSite, str]]) -> ImageFile:
    """As ``pin_file``, the rewritten file as it scans back (its bytes in ``data``)."""
    wanted = {(site.span.start, site.span.end): digest for site, digest in pins}
    new = rewrite(scanned.data, [site.replacement(digest) for site, digest in pins])
    again = scan_file(scanned.display, new, scanned.kind)
    if (
        again is None
        or len(again.problems) != len(scanned.problems)
        or len(again.sites) != len(scanned.sites)
    ):
        raise PinCheckFailed(f"{scanned.display}: the pinned file does not read back")
    for before, after in zip(scanned.sites, again.sites, strict=True):
        digest = wanted.get((before.span.start, before.span.end))
        expected = before.reference
        if digest is not None and before.image is not None:
            expected = before.image.pinned(digest)
        if (after.kind, after.path, after.reference) != (before.kind, before.path, expected):
            raise PinCheckFailed(
                f"{before.where}: pinning {before.path} would read back as "
                f"{after.reference!r}, not {expected!r}"
            )
    return again
