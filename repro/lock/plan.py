"""Plan a lock run: which references to resolve, what to pin, what --check says (pure).

Everything here works on parsed Dockerfiles, a lockfile and registry resolutions passed
in as values; nothing touches the network or writes a file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from repro.dockerfile import (
    Dockerfile,
    ImageRef,
    ImageReference,
    ReferenceKind,
    Span,
    find_references,
    parse_dockerfile,
    parse_image_ref,
    rewrite,
)
from repro.errors import InputError
from repro.lockfile import LockedImage, Lockfile, dump_lockfile, lock_key
from repro.registry.model import ManifestKey, Resolution


class Mode(StrEnum):
    LOCK = "lock"  # pin what is unpinned, keep existing pins
    UPDATE = "update"  # also re-resolve pinned references (all, or the selected ones)
    CHECK = "check"  # change nothing, give a verdict


class Action(StrEnum):
    PINNED = "pinned"  # was unpinned, now pinned
    KEPT = "kept"  # already pinned to what the tag serves (or digest-only)
    UPDATED = "updated"  # --update moved the pin
    DRIFTED = "drifted"  # pinned, but the tag now serves another digest; kept
    UNPINNABLE = "unpinnable"  # composed from ARGs: no single literal to rewrite
    OK = "ok"  # --check: pinned and agrees with repro.lock and the registry
    UNPINNED = "unpinned"  # --check: no digest
    NOT_LOCKED = "not-in-lockfile"  # --check: repro.lock has no entry
    LOCK_MISMATCH = "lockfile-mismatch"  # --check: repro.lock records another digest
    TAG_MOVED = "tag-moved"  # --check: the tag now serves another digest


OFFENCES = frozenset({Action.UNPINNED, Action.NOT_LOCKED, Action.LOCK_MISMATCH, Action.TAG_MOVED})


@dataclass(frozen=True)
class Site:
    """One image reference in one file, normalised."""

    file: str
    reference: ImageReference
    image: ImageRef

    @property
    def key(self) -> str:
        return lock_key(self.image)

    @property
    def rewritable(self) -> bool:
        """The span holds the reference literally (itself, or an ARG default it comes from)."""
        return self.reference.raw == self.reference.resolved

    @property
    def tag_key(self) -> ManifestKey | None:
        if self.image.tag is None or (self.image.implicit_latest and self.image.digest):
            return None
        return ManifestKey(self.image.registry, self.image.repository, self.image.tag)

    def digest_key(self, digest: str) -> ManifestKey:
        return ManifestKey(self.image.registry, self.image.repository, digest)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.reference.line}"


@dataclass(frozen=True)
class SourceFile:
    display: str
    data: bytes
    dockerfile: Dockerfile
    sites: tuple[Site, ...]


def load_source(
    display: str, data: bytes, build_args: Mapping[str, str] | None = None
) -> SourceFile:
    """Parse one Dockerfile and normalise its references; errors carry file:line:column."""
    dockerfile = parse_dockerfile(data, display)
    sites: list[Site] = []
    for reference in find_references(dockerfile, build_args):
        try:
            image = parse_image_ref(reference.resolved)
        except InputError as error:
            raise InputError(
                f"{display}:{reference.line}:{reference.column}: {error.message}",
                hint=error.hint,
            ) from error
        sites.append(Site(display, reference, image))
    return SourceFile(display, data, dockerfile, tuple(sites))


def selects(selectors: Sequence[ImageRef], image: ImageRef) -> bool:
    """``--update REF``: REF without a tag selects every tag of that name."""
    for selector in selectors:
        if selector.name != image.name:
            continue
        if selector.implicit_latest or selector.tag is None or selector.tag == image.tag:
            return True
    return False


def _re_resolving(site: Site, mode: Mode, selectors: Sequence[ImageRef]) -> bool:
    return mode is Mode.UPDATE and (not selectors or selects(selectors, site.image))


def required_keys(
    sources: Iterable[SourceFile],
    mode: Mode,
    lock: Lockfile | None,
    resolutions: Mapping[ManifestKey, Resolution],
) -> set[ManifestKey]:
    """What still has to be asked of a registry, given what is already resolved.

    Every tag is resolved (to pin it, or to notice it moved); a pinned digest is fetched
    only when neither the tag's answer nor repro.lock already describes it.
    """
    wanted: set[ManifestKey] = set()
    for source in sources:
        for site in source.sites:
            tag_key = site.tag_key
            if mode is Mode.CHECK:
                if tag_key is not None and site.image.digest is not None:
                    wanted.add(tag_key)
                continue
            if tag_key is not None:
                wanted.add(tag_key)
            pinned = site.image.digest
            if pinned is None:
                continue
            known = lock.get(site.key) if lock is not None else None
            if known is not None and known.digest == pinned:
                continue
            served = resolutions.get(tag_key) if tag_key is not None else None
            if served is None and tag_key is not None:
                continue  # ask for the tag first; its answer may describe the pin
            if served is None or served.digest != pinned:
                wanted.add(site.digest_key(pinned))
    return wanted - set(resolutions)


@dataclass(frozen=True)
class PlannedRef:
    file: str
    line: int
    column: int
    kind: ReferenceKind
    written: str  # the reference as written (after ARG substitution)
    key: str  # its repro.lock key after the run
    action: Action
    old_digest: str | None
    new_digest: str | None
    message: str = ""


@dataclass(frozen=True)
class FileChange:
    display: str
    old: bytes
    new: bytes


@dataclass(frozen=True)
class Plan:
    mode: Mode
    references: tuple[PlannedRef, ...]
    changes: tuple[FileChange, ...]
    lockfile: Lockfile | None  # the new repro.lock (None in --check)
    warnings: tuple[str, ...] = ()

    @property
    def offenders(self) -> tuple[PlannedRef, ...]:
        return tuple(ref for ref in self.references if ref.action in OFFENCES)


@dataclass
class _Builder:
    mode: Mode
    lock: Lockfile | None
    resolutions: Mapping[ManifestKey, Resolution]
    selectors: Sequence[ImageRef]
    platforms: Sequence[str]
    now: str
    planned: list[PlannedRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entries: dict[str, list[tuple[str, Site]]] = field(default_factory=dict)  # key -> pins


def plan(
    sources: Sequence[SourceFile],
    *,
    mode: Mode,
    lock: Lockfile | None,
    resolutions: Mapping[ManifestKey, Resolution],
    now: str,
    selectors: Sequence[ImageRef] = (),
    platforms: Sequence[str] = (),
    prune: bool = False,
) -> Plan:
    """Decide every reference's action, the new file bytes and the new repro.lock."""
    builder = _Builder(mode, lock, resolutions, selectors, platforms, now)
    # What the parser read leniently (BuildKit accepts it): said once, with file:line.
    builder.warnings.extend(str(w) for source in sources for w in source.dockerfile.warnings)
    if mode is Mode.CHECK:
        for source in sources:
            for site in source.sites:
                builder.planned.append(_check(site, lock, resolutions))
        return Plan(mode, tuple(builder.planned), (), None, tuple(builder.warnings))
    changes: list[FileChange] = []
    for source in sources:
        replacements: list[tuple[Span, bytes]] = []
        for site in source.sites:
            planned, replacement = _lock_site(builder, site)
            builder.planned.append(planned)
            if replacement is not None:
                replacements.append(replacement)
        if replacements:
            new = rewrite(source.data, replacements)
            if new != source.data:
                changes.append(FileChange(source.display, source.data, new))
    new_lock = _new_lockfile(builder, prune)
    return Plan(mode, tuple(builder.planned), tuple(changes), new_lock, tuple(builder.warnings))


def _lock_site(builder: _Builder, site: Site) -> tuple[PlannedRef, tuple[Span, bytes] | None]:
    ref, image = site.reference, site.image
    tag_key = site.tag_key
    served = builder.resolutions.get(tag_key) if tag_key is not None else None
    pinned = image.digest
    if image.implicit_latest and pinned is None:
        builder.warnings.append(
            f"{site.where}: {image.original} has no tag; pinning what :latest serves today"
        )
    replacement: tuple[Span, bytes] | None = None
    message = ""
    if pinned is None:
        if served is None:  # every unpinned tag is resolved before planning
            raise InputError(f"{site.where}: {image.canonical()} was not resolved")
        new = served.digest
        if site.rewritable:
            action = Action.PINNED
            replacement = (ref.span, image.pinned(new).encode("utf-8"))
        else:
            action = Action.UNPINNABLE
            message = "built from ARGs with no single default to rewrite; use --source-policy"
            builder.warnings.append(f"{site.where}: {image.original}: {message}")
    elif served is not None and served.digest != pinned:
        if _re_resolving(site, builder.mode, builder.selectors) and site.rewritable:
            new, action = served.digest, Action.UPDATED
            replacement = (ref.span, image.pinned(new).encode("utf-8"))
        else:
            new, action = pinned, Action.DRIFTED
            message = f"the tag now serves {served.digest}" + (
                "; run `repro lock --update` to move the pin" if site.rewritable else ""
            )
            builder.warnings.append(f"{site.where}: {image.canonical()}: {message}")
    else:
        new, action = pinned, Action.KEPT
    final = image if replacement is None else parse_image_ref(image.pinned(new))
    key = lock_key(final)
    builder.entries.setdefault(key, []).append((new, site))
    planned = PlannedRef(
        file=site.file,
        line=ref.line,
        column=ref.column,
        kind=ref.kind,
        written=image.original,
        key=key,
        action=action,
        old_digest=pinned,
        new_digest=new,
        message=message,
    )
    return planned, replacement


def _check(
    site: Site, lock: Lockfile | None, resolutions: Mapping[ManifestKey, Resolution]
) -> PlannedRef:
    image = site.image

    def verdict(action: Action, message: str = "") -> PlannedRef:
        return PlannedRef(
            file=site.file,
            line=site.reference.line,
            column=site.reference.column,
            kind=site.reference.kind,
            written=image.original,
            key=site.key,
            action=action,
            old_digest=image.digest,
            new_digest=image.digest,
            message=message,
        )

    if image.digest is None:
        return verdict(Action.UNPINNED, f"{image.original} is not pinned to a digest")
    locked = lock.get(site.key) if lock is not None else None
    if locked is None:
        return verdict(Action.NOT_LOCKED, f"{site.key} is not in repro.lock")
    if locked.digest != image.digest:
        return verdict(
            Action.LOCK_MISMATCH, f"pinned {image.digest} but repro.lock has {locked.digest}"
        )
    tag_key = site.tag_key
    served = resolutions.get(tag_key) if tag_key is not None else None
    if served is not None and served.digest != image.digest:
        return verdict(Action.TAG_MOVED, f"{tag_key} now serves {served.digest}")
    return verdict(Action.OK)


def _new_lockfile(builder: _Builder, prune: bool) -> Lockfile:
    old = builder.lock or Lockfile()
    images: dict[str, LockedImage] = {} if prune else dict(old.images)
    for key, pins in builder.entries.items():
        digests = sorted({digest for digest, _ in pins})
        site = pins[0][1]
        digest = _choose(digests, old.get(key), builder, site)
        if len(digests) > 1:
            where = ", ".join(f"{s.where} ({d[:19]}…)" for d, s in pins)
            builder.warnings.append(
                f"{key} is pinned to different digests: {where}; repro.lock records {digest}"
            )
        images[key] = _entry(builder, key, site, digest, old.get(key))
    return Lockfile(images=images, extra=old.extra)


def _choose(digests: list[str], old: LockedImage | None, builder: _Builder, site: Site) -> str:
    if old is not None and old.digest in digests:
        return old.digest
    tag_key = site.tag_key
    served = builder.resolutions.get(tag_key) if tag_key is not None else None
    if served is not None and served.digest in digests:
        return served.digest
    return digests[0]


def _entry(
    builder: _Builder, key: str, site: Site, digest: str, old: LockedImage | None
) -> LockedImage:
    image = site.image
    tag = image.tag
    if "@" in key:  # digest-keyed: remember the tag it was resolved from, if any
        if image.implicit_latest:
            tag = "latest"
        elif old is not None and old.digest == digest:
            tag = old.tag
    described = _describe(builder, site, digest)
    if described is None:
        if old is not None and old.digest == digest:
            return old
        raise InputError(f"{site.where}: {key} at {digest} was not resolved")
    media_type, children, served_by = described
    platforms = _filter_platforms(children, builder.platforms, key)
    if (
        old is not None
        and old.digest == digest
        and old.media_type == media_type
        and dict(old.platforms) == platforms
        and old.tag == tag
    ):
        return old  # unchanged: keep resolved_at, so a second run writes the same bytes
    return LockedImage(
        reference=key,
        name=image.name,
        tag=tag,
        digest=digest,
        media_type=media_type,
        resolved_at=builder.now,
        platforms=platforms,
        served_by=served_by,
    )


def _describe(
    builder: _Builder, site: Site, digest: str
) -> tuple[str, Mapping[str, str] | None, str | None] | None:
    candidates = [site.tag_key, site.digest_key(digest)]
    for candidate in candidates:
        if candidate is None:
            continue
        found = builder.resolutions.get(candidate)
        if found is not None and found.digest == digest:
            return found.media_type, found.platforms, found.mirror
    lock = builder.lock
    if lock is not None:
        for entry in lock.images.values():
            if entry.digest == digest and entry.name == site.image.name:
                return entry.media_type, entry.platforms, entry.served_by
    return None


def _filter_platforms(
    children: Mapping[str, str] | None, wanted: Sequence[str], key: str
) -> dict[str, str]:
    if not children:
        return {}
    if not wanted:
        return dict(sorted(children.items()))
    kept = {
        name: digest
        for name, digest in children.items()
        if any(name == want or name.startswith(want.rstrip("/") + "/") for want in wanted)
    }
    if not kept:
        raise InputError(
            f"{key} has no manifest for {', '.join(wanted)} (it has {', '.join(sorted(children))})"
        )
    return dict(sorted(kept.items()))


def unified_diff(display: str, old: bytes, new: bytes) -> str:
    """A unified diff of two versions of a file (bytes kept: CRLF and BOM survive)."""
    before = old.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    after = new.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"a/{display}", f"b/{display}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def lockfile_text(lock: Lockfile) -> str:
    return dump_lockfile(lock)
