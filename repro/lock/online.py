"""What the tags pinned in a project serve now (`--outdated`, `--check --online`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from repro.lock.model import Site
from repro.registry.model import ManifestKey

if TYPE_CHECKING:
    from repro.lock.service import TagReader


def served_now(pins: Mapping[str, Sequence[Site]], tags: TagReader) -> dict[str, str]:
    """``name:tag`` -> the digest it serves now; one question per unique tag."""
    keys: dict[ManifestKey, str] = {}
    for tag, sites in pins.items():
        image = sites[0].image
        assert image is not None and image.tag is not None
        keys[ManifestKey(image.registry, image.repository, image.tag)] = tag
    answers = tags.served_digests(sorted(keys))
    return {keys[key]: digest for key, digest in answers.items() if key in keys}
