"""Plan a lock run: which references to resolve, what to pin, the new repro.lock (pure).

Everything here works on scanned files, a lockfile and registry resolutions passed in as
values; nothing touches the network or writes a file. The hermetic ``--check`` verdict
is ``repro.lock.check`` (no registry vocabulary at all).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from repro.dockerfile import ImageRef, Span, parse_image_ref, rewrite
from repro.errors import InputError
from repro.lock.discover import DOCKERFILE
from repro.lock.model import Action, FileChange, Mode, PlannedRef, ScannedFile, Site
from repro.lockfile import FileRecord, LockedImage, Lockfile, lock_key
from repro.registry.model import ManifestKey, Resolution


def tag_key(site: Site) -> ManifestKey | None:
    image = site.image
    if image is None or image.tag is None or (image.implicit_latest and image.digest):
        return None
    return ManifestKey(image.registry, image.repository, image.tag)


def digest_key(site: Site, digest: str) -> ManifestKey:
    assert site.image is not None
    return ManifestKey(site.image.registry, site.image.repository, digest)


def selects(selectors: Sequence[ImageRef], image: ImageRef) -> bool:
    """``--update REF``: REF without a tag selects every tag of that name."""
    for selector in selectors:
        if selector.name != image.name:
            continue
        if selector.implicit_latest or selector.tag is None or selector.tag == image.tag:
            return True
    return False


def _re_resolving(site: Site, mode: Mode, selectors: Sequence[ImageRef]) -> bool:
    if mode is not Mode.UPDATE or site.image is None:
        return False
    return not selectors or selects(selectors, site.image)


def required_keys(
    sources: Iterable[ScannedFile],
    mode: Mode,
    lock: Lockfile | None,
    resolutions: Mapping[ManifestKey, Resolution],
) -> set[ManifestKey]:
    """What still has to be asked of a registry, given what is already resolved.

    Every tag is resolved (to pin it, or to notice it moved); a pinned digest is fetched
    only when neither the tag's answer nor repro.lock already describes it (a pin a bot
    or a person changed: its bytes are read, so its platforms are recorded right).
    """
    wanted: set[ManifestKey] = set()
    for source in sources:
        for site in source.sites:
            if site.image is None:
                continue  # unpinnable: nothing to ask
            key = tag_key(site)
            if key is not None:
                wanted.add(key)
            pinned = site.image.digest
            if pinned is None:
                continue
            known = lock.get(site.key) if lock is not None else None
            if known is not None and known.digest == pinned:
                continue
            served = resolutions.get(key) if key is not None else None
            if served is None and key is not None:
                continue  # ask for the tag first; its answer may describe the pin
            if served is None or served.digest != pinned:
                wanted.add(digest_key(site, pinned))
    return wanted - set(resolutions)


@dataclass(frozen=True)
class Plan:
    mode: Mode
    references: tuple[PlannedRef, ...]
    changes: tuple[FileChange, ...]
    lockfile: Lockfile  # the new repro.lock, without its [files] record (the service's)
    warnings: tuple[str, ...] = ()


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
    sources: Sequence[ScannedFile],
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
    if mode is Mode.CHECK:
        raise ValueError("--check is repro.lock.check's verdict, not a plan")
    builder = _Builder(mode, lock, resolutions, selectors, platforms, now)
    # What the parser read leniently (BuildKit accepts it): said once, with file:line.
    builder.warnings.extend(warning for source in sources for warning in source.warnings)
    changes: list[FileChange] = []
    for source in sources:
        replacements: list[tuple[Span, bytes]] = []
        pins: list[tuple[Site, str]] = []
        for site in source.sites:
            planned, replacement = _lock_site(builder, site)
            builder.planned.append(planned)
            if replacement is not None:
                assert planned.new_digest is not None
                replacements.append(replacement)
                pins.append((site, planned.new_digest))
        if replacements:
            if source.data is None:  # a recorded file is reused only when nothing changes
                raise ValueError(f"{source.display}: a recorded file cannot be rewritten")
            new, parsed = _rewritten(source, source.data, replacements, pins)
            if new != source.data:
                changes.append(FileChange(source.display, source.data, new, parsed))
    new_lock = _new_lockfile(builder, prune)
    return Plan(mode, tuple(builder.planned), tuple(changes), new_lock, tuple(builder.warnings))


def _rewritten(
    source: ScannedFile,
    data: bytes,
    replacements: Sequence[tuple[Span, bytes]],
    pins: Sequence[tuple[Site, str]],
) -> tuple[bytes, object | None]:
    """The file with its pins: a Dockerfile spliced here; an image file by its own kind's
    rules (a Helm tag gets ``tag@digest``), read back before it is accepted (and that
    reading returned with the bytes)."""
    if source.kind == DOCKERFILE:
        return rewrite(data, replacements), None
    from repro.imagefiles import ImageFile, pinned_file

    scanned = source.parsed
    if not isinstance(scanned, ImageFile):
        raise ValueError(f"{source.display}: an image file to rewrite must be parsed")
    by_span = {(found.span.start, found.span.end): found for found in scanned.sites}
    image_pins = []
    for site, digest in pins:
        assert site.span is not None
        image_pins.append((by_span[(site.span.start, site.span.end)], digest))
    again = pinned_file(scanned, image_pins)
    return again.data, again


def _unpinnable(builder: _Builder, site: Site) -> PlannedRef:
    message = f"{site.unpinnable}; repro cannot pin it"
    builder.warnings.append(f"{site.where}: {site.written}: {message}")
    return PlannedRef.of(site, Action.UNPINNABLE, old=None, new=None, message=message)


def _lock_site(builder: _Builder, site: Site) -> tuple[PlannedRef, tuple[Span, bytes] | None]:
    image = site.image
    if image is None:
        return _unpinnable(builder, site), None
    key_of_tag = tag_key(site)
    served = builder.resolutions.get(key_of_tag) if key_of_tag is not None else None
    pinned = image.digest
    known = builder.lock.get(site.key) if builder.lock is not None else None
    recorded = pinned is not None and known is not None and known.digest != pinned
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
            assert site.span is not None
            action = Action.PINNED
            replacement = (site.span, image.pinned(new).encode("utf-8"))
        else:
            action = Action.UNPINNABLE
            message = "built from ARGs with no single default to rewrite; use --source-policy"
            builder.warnings.append(f"{site.where}: {image.original}: {message}")
    elif served is not None and served.digest != pinned:
        if _re_resolving(site, builder.mode, builder.selectors) and site.rewritable:
            assert site.span is not None
            new, action = served.digest, Action.UPDATED
            replacement = (site.span, image.pinned(new).encode("utf-8"))
        else:
            new, action = pinned, Action.DRIFTED
            message = f"the tag now serves {served.digest}" + (
                "; run `repro lock --update` to move the pin" if site.rewritable else ""
            )
            if recorded:
                message = f"repro.lock now records this pin; {message}"
            builder.warnings.append(f"{site.where}: {image.canonical()}: {message}")
    elif recorded:
        assert known is not None
        new, action = pinned, Action.RECORDED
        message = f"repro.lock had {known.digest}"
    else:
        new, action = pinned, Action.KEPT
    final = image if replacement is None else parse_image_ref(image.pinned(new))
    key = lock_key(final)
    builder.entries.setdefault(key, []).append((new, site))
    planned = PlannedRef.of(site, action, old=pinned, new=new, key=key, message=message)
    return planned, replacement


def _new_lockfile(builder: _Builder, prune: bool) -> Lockfile:
    old = builder.lock or Lockfile()
    images: dict[str, LockedImage] = {} if prune else dict(old.images)
    for key, pins in sorted(builder.entries.items()):
        digests = sorted({digest for digest, _ in pins})
        site = pins[0][1]
        digest = _choose(digests, old.get(key), builder, site)
        if len(digests) > 1:
            where = ", ".join(f"{s.where} ({d})" for d, s in pins)
            builder.warnings.append(
                f"{key} is pinned to different digests: {where}; repro.lock records {digest}"
            )
        images[key] = _entry(builder, key, site, digest, old.get(key))
    return Lockfile(images=images, extra=old.extra, files=old.files)


def _choose(digests: list[str], old: LockedImage | None, builder: _Builder, site: Site) -> str:
    if old is not None and old.digest in digests:
        return old.digest
    key = tag_key(site)
    served = builder.resolutions.get(key) if key is not None else None
    if served is not None and served.digest in digests:
        return served.digest
    return digests[0]


def _entry(
    builder: _Builder, key: str, site: Site, digest: str, old: LockedImage | None
) -> LockedImage:
    image = site.image
    assert image is not None
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
    candidates = [tag_key(site), digest_key(site, digest)]
    for candidate in candidates:
        if candidate is None:
            continue
        found = builder.resolutions.get(candidate)
        if found is not None and found.digest == digest:
            return found.media_type, found.platforms, found.mirror
    lock = builder.lock
    if lock is not None:
        for entry in lock.images.values():
            if site.image is not None and entry.digest == digest and entry.name == site.image.name:
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


def with_records(lock: Lockfile, records: Mapping[str, FileRecord], *, prune: bool) -> Lockfile:
    """``lock`` with the ``[files]`` record of the files just scanned (the others kept
    unless the whole project was scanned)."""
    files = dict(records) if prune else {**lock.files, **records}
    return Lockfile(images=lock.images, extra=lock.extra, files=files)
