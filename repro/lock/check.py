"""The hermetic verdict of `repro lock --check`: the files against repro.lock, no network.

Unpinned, not-in-lockfile, lockfile-mismatch and (unless allowed) unpinnable fail; a
moved tag never does: the gate judges the commit, so the same commit gets the same
verdict next month. ``--online`` adds what the registry serves now, as warnings.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from repro.lock.model import OFFENCES, UNREADABLE, Action, PlannedRef, ScannedFile, Site
from repro.lockfile import Lockfile

FIX_LOCK = "repro lock"


@dataclass(frozen=True)
class CheckResult:
    references: tuple[PlannedRef, ...]
    moved: tuple[PlannedRef, ...] = ()  # --online: pins whose tag serves another digest now
    stale_records: tuple[str, ...] = ()  # files repro.lock remembers that are gone

    @property
    def offenders(self) -> tuple[PlannedRef, ...]:
        return tuple(ref for ref in self.references if ref.action in OFFENCES)


def is_allowed(site: Site, allow: Sequence[str]) -> bool:
    """``allow-unpinnable`` entries: the reference as written (``${BASE}``), or a glob of
    the files whose unpinnable references are accepted (``ci/*.Dockerfile``)."""
    return any(entry == site.written or fnmatch.fnmatchcase(site.file, entry) for entry in allow)


# The site kinds of a Dockerfile (repro.dockerfile's ReferenceKind values): the others
# come from image files (compose, Kubernetes...), where an ARG default is no remedy.
_DOCKERFILE_SITES = frozenset({"from", "copy-from", "mount-from", "syntax"})


def _fix(site: Site) -> str:
    if site.kind == UNREADABLE:
        return (
            f"fix the file, or leave it out with [tool.repro] exclude; or list "
            f'"{site.file}" in [tool.repro] allow-unpinnable'
        )
    if site.kind in _DOCKERFILE_SITES:
        remedy = "give the ARG a default that names the image (repro lock pins it there)"
    else:
        remedy = "write the image as a literal reference (repro lock pins it there)"
    return f'{remedy}, or list "{site.written}" in [tool.repro] allow-unpinnable'


def check_site(site: Site, lock: Lockfile | None, allow: Sequence[str] = ()) -> PlannedRef:
    image = site.image

    def verdict(action: Action, message: str, fix: str = "") -> PlannedRef:
        pinned = image.digest if image is not None else None
        return PlannedRef.of(site, action, old=pinned, new=pinned, message=message, fix=fix)

    if image is None or (site.composed and image.digest is None):
        why = (
            site.unpinnable
            if image is None
            else f"it is built from ARGs ({site.written}) with no literal to pin"
        )
        if is_allowed(site, allow):
            return verdict(Action.ALLOWED, f"{site.written}: {why} (allow-unpinnable)")
        return verdict(Action.UNPINNABLE, f"{site.written} cannot be pinned: {why}", _fix(site))
    if image.digest is None:
        return verdict(
            Action.UNPINNED, f"{image.original} is not pinned to a digest", f"run `{FIX_LOCK}`"
        )
    locked = lock.get(site.key) if lock is not None else None
    if locked is None:
        return verdict(
            Action.NOT_LOCKED,
            f"{site.key} is pinned to {image.digest} but repro.lock has no entry for it",
            f"run `{FIX_LOCK}` to record the pin",
        )
    if locked.digest != image.digest:
        return verdict(
            Action.LOCK_MISMATCH,
            f"pinned {image.digest} but repro.lock has {locked.digest}",
            f"run `{FIX_LOCK}` to record the new pin (it keeps a digest the tag serves or "
            "the registry has), or restore the pin repro.lock has",
        )
    # the common case, 40,000 times in a big project: built directly
    return PlannedRef(
        site.file,
        site.line,
        site.column,
        site.kind,
        site.written,
        site.key,
        Action.OK,
        image.digest,
        image.digest,
    )


def check_files(
    files: Iterable[ScannedFile], lock: Lockfile | None, allow: Sequence[str] = ()
) -> CheckResult:
    references = tuple(check_site(site, lock, allow) for file in files for site in file.sites)
    return CheckResult(references)


def pinned_tags(files: Iterable[ScannedFile]) -> dict[str, list[Site]]:
    """Every pin with a tag (``name:tag@digest``), by ``name:tag``: what --outdated asks."""
    found: dict[str, list[Site]] = {}
    for file in files:
        for site in file.sites:
            image = site.image
            if image is None or image.digest is None or image.tag is None or image.implicit_latest:
                continue
            found.setdefault(f"{image.name}:{image.tag}", []).append(site)
    return found


def moved_pins(
    tags: Mapping[str, Sequence[Site]], served: Mapping[str, str]
) -> tuple[PlannedRef, ...]:
    """The pins whose tag now serves another digest (``served``: ``name:tag`` -> digest)."""
    moved: list[PlannedRef] = []
    for tag, sites in sorted(tags.items()):
        now = served.get(tag)
        for site in sites:
            assert site.image is not None
            if now is None or now == site.image.digest:
                continue
            moved.append(
                PlannedRef.of(
                    site,
                    Action.TAG_MOVED,
                    old=site.image.digest,
                    new=now,
                    message=f"{tag} now serves {now} (pinned {site.image.digest})",
                    fix="run `repro lock --update` to move the pin",
                )
            )
    return tuple(moved)
