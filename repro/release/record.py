"""Pure release logic: make a record from a verified image, look digests up, diff releases."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from repro.dockerfile import find_references, parse_dockerfile, parse_image_ref
from repro.errors import InputError, VerdictError
from repro.lockfile import Release, ReleaseBase, ReleaseImage, ReleaseLayer
from repro.oci import ImageTree
from repro.oci.history import layer_instructions

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def check_version(version: str) -> str:
    """A version is used as a file name (the signature), so it must be a plain word."""
    if not _VERSION.fullmatch(version) or ".." in version:
        raise InputError(
            f"{version!r} is not a usable release version",
            hint="use letters, digits and . _ + - (e.g. 1.4.0)",
        )
    return version


def release_images(tree: ImageTree) -> tuple[ReleaseImage, ...]:
    """Each platform's manifest, config and layers (with the instruction that made each)."""
    images = []
    for platform in sorted(tree.images):
        image = tree.images[platform]
        instructions = layer_instructions(image.config_json, len(image.layers))
        layers = tuple(
            ReleaseLayer(digest=layer.digest, size=layer.size, instruction=instruction)
            for layer, instruction in zip(image.layers, instructions, strict=True)
        )
        images.append(
            ReleaseImage(
                platform=platform,
                manifest=image.manifest.digest,
                config=image.config.digest,
                size=image.config.size + sum(layer.size for layer in image.layers),
                layers=layers,
            )
        )
    return tuple(images)


def pinned_bases(data: bytes, path: str) -> tuple[ReleaseBase, ...]:
    """The base images the Dockerfile pins by digest (FROM, COPY --from, RUN --mount)."""
    bases: dict[tuple[str, str], ReleaseBase] = {}
    for reference in find_references(parse_dockerfile(data, path)):
        if reference.kind.value == "syntax" or "@sha256:" not in reference.resolved:
            continue
        ref = parse_image_ref(reference.resolved)
        if ref.digest is None:
            continue
        name = f"{ref.name}:{ref.tag}" if ref.tag and not ref.implicit_latest else ref.name
        bases[(name, ref.digest)] = ReleaseBase(reference=name, digest=ref.digest)
    return tuple(bases[key] for key in sorted(bases))


# -- which -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestHit:
    version: str
    platform: str | None  # None for the image (index) digest
    kind: str  # "image" | "manifest" | "config" | "layer"
    digest: str
    layer: int | None = None  # 1-based position for layers
    instruction: str | None = None


def _occurrences(release: Release) -> Iterable[DigestHit]:
    yield DigestHit(release.version, None, "image", release.digest)
    for image in release.images:
        yield DigestHit(release.version, image.platform, "manifest", image.manifest)
        yield DigestHit(release.version, image.platform, "config", image.config)
        for position, layer in enumerate(image.layers, start=1):
            yield DigestHit(
                release.version,
                image.platform,
                "layer",
                layer.digest,
                layer=position,
                instruction=layer.instruction,
            )


def which(releases: Mapping[str, Release], query: str) -> tuple[DigestHit, ...]:
    """Every place the digest ``query`` (full, or a unique hex prefix) appears.

    Exit 1 (VerdictError) when no release has it, exit 2 (InputError) when the prefix
    names more than one digest.
    """
    text = query.strip().lower().removeprefix("sha256:")
    if not re.fullmatch(r"[a-f0-9]{4,64}", text):
        raise InputError(
            f"{query!r} is not a digest or a prefix of one",
            hint="give sha256:<hex> or at least 4 hex digits",
        )
    hits = [
        hit
        for release in releases.values()
        for hit in _occurrences(release)
        if hit.digest.removeprefix("sha256:").startswith(text)
    ]
    digests = sorted({hit.digest for hit in hits})
    if not digests:
        raise VerdictError(f"no recorded release contains {query}")
    if len(digests) > 1:
        raise InputError(
            f"{query} is ambiguous: it is a prefix of {len(digests)} digests: "
            + ", ".join(digests),
            hint="give more digits",
        )
    return tuple(hits)


# -- diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseChange:
    reference: str
    old: str | None  # None: added in the newer release
    new: str | None  # None: dropped


@dataclass(frozen=True)
class LayerChange:
    kind: str  # "added" | "removed" | "changed"
    position: int  # 1-based
    old: ReleaseLayer | None
    new: ReleaseLayer | None


@dataclass(frozen=True)
class PlatformDiff:
    platform: str
    old_size: int | None
    new_size: int | None
    changes: tuple[LayerChange, ...]
    unchanged: int


@dataclass(frozen=True)
class ReleaseDiff:
    old: Release
    new: Release
    bases: tuple[BaseChange, ...]  # only the bases that changed
    platforms: tuple[PlatformDiff, ...]
    commits: tuple[str, ...] = ()  # git log --oneline old..new, filled in by the caller


def _base_map(release: Release) -> dict[str, str]:
    return {base.reference: base.digest for base in release.bases}


def diff_layers(old: tuple[ReleaseLayer, ...], new: tuple[ReleaseLayer, ...]) -> PlatformDiff:
    """Layers aligned by the instruction that made them, so that a layer inserted by a
    new base shows as one added layer rather than shifting every later one.

    Positions are 1-based: the new release's for added and changed layers, the old
    release's for removed ones.
    """
    matcher = difflib.SequenceMatcher(
        a=[layer.instruction or "" for layer in old],
        b=[layer.instruction or "" for layer in new],
        autojunk=False,
    )
    changes: list[LayerChange] = []
    unchanged = 0
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        paired = min(a1 - a0, b1 - b0) if op in ("equal", "replace") else 0
        for offset in range(paired):
            before, after = old[a0 + offset], new[b0 + offset]
            if before.digest == after.digest:
                unchanged += 1
            else:
                changes.append(LayerChange("changed", b0 + offset + 1, before, after))
        for index in range(a0 + paired, a1):
            changes.append(LayerChange("removed", index + 1, old[index], None))
        for index in range(b0 + paired, b1):
            changes.append(LayerChange("added", index + 1, None, new[index]))
    return PlatformDiff("", None, None, tuple(changes), unchanged)


def diff_releases(old: Release, new: Release) -> ReleaseDiff:
    before, after = _base_map(old), _base_map(new)
    bases = tuple(
        BaseChange(reference, before.get(reference), after.get(reference))
        for reference in sorted(set(before) | set(after))
        if before.get(reference) != after.get(reference)
    )
    old_images = {image.platform: image for image in old.images}
    new_images = {image.platform: image for image in new.images}
    platforms = []
    for platform in sorted(set(old_images) | set(new_images)):
        a, b = old_images.get(platform), new_images.get(platform)
        layers = diff_layers(a.layers if a else (), b.layers if b else ())
        platforms.append(
            PlatformDiff(
                platform,
                a.size if a else None,
                b.size if b else None,
                layers.changes,
                layers.unchanged,
            )
        )
    return ReleaseDiff(old, new, bases, tuple(platforms))


# -- rebuild -----------------------------------------------------------------------------


def image_mismatches(
    expected_digest: str,
    expected: tuple[ReleaseImage, ...],
    actual_digest: str,
    actual: tuple[ReleaseImage, ...],
    *,
    expected_name: str = "recorded",
    compare_index: bool = True,
) -> list[str]:
    """What differs between a recorded image and a rebuilt one, most specific first.

    ``compare_index`` False: the images only (an index holding BuildKit attestations differs from
    build to build by them)."""
    found: list[str] = []
    want = {image.platform: image for image in expected}
    got = {image.platform: image for image in actual}
    for platform in sorted(set(want) | set(got)):
        a, b = want.get(platform), got.get(platform)
        if a is None or b is None:
            found.append(
                f"{platform}: only in the {'rebuild' if a is None else expected_name} image"
            )
            continue
        for index in range(max(len(a.layers), len(b.layers))):
            la = a.layers[index] if index < len(a.layers) else None
            lb = b.layers[index] if index < len(b.layers) else None
            if la is not None and lb is not None and la.digest == lb.digest:
                continue
            either = la if la is not None else lb
            instruction = either.instruction if either is not None else None
            found.append(
                f"{platform} layer {index + 1}"
                + (f" ({instruction})" if instruction else "")
                + f": {expected_name} {la.digest if la else 'none'}, "
                f"rebuilt {lb.digest if lb else 'none'}"
            )
        if a.config != b.config:
            found.append(f"{platform} config: {expected_name} {a.config}, rebuilt {b.config}")
        if a.manifest != b.manifest:
            found.append(f"{platform} manifest: {expected_name} {a.manifest}, rebuilt {b.manifest}")
    if compare_index and expected_digest != actual_digest:
        found.append(f"image digest: {expected_name} {expected_digest}, rebuilt {actual_digest}")
    return found
