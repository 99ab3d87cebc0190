"""Image reference parsing and normalisation, following docker's distribution/reference.

``python`` means ``docker.io/library/python:latest``; a first path component is a
registry only if it contains ``.`` or ``:`` or is ``localhost`` (or has upper case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repro.errors import InputError

DEFAULT_REGISTRY = "docker.io"
# Spellings of Docker Hub that docker (and repro) treat as docker.io.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_OFFICIAL_PREFIX = "library/"
_NAME_TOTAL_LENGTH_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_ANCHORED_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
# Known algorithms must have exactly this many lower-case hex digits.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class ImageRef:
    """A normalised image reference that remembers how the user spelled it."""

    registry: str  # "docker.io" for Docker Hub, else host[:port]
    repository: str  # "library/python" for official images
    tag: str | None  # "latest" when implicit; None when only a digest was given
    digest: str | None  # "sha256:<64 hex>"
    implicit_latest: bool  # neither tag nor digest was written
    original: str  # the text as written

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def familiar(self) -> str:
        """The short form docker shows, e.g. ``python:3.11``."""
        if self.registry == DEFAULT_REGISTRY:
            name = self.repository
            if name.startswith(_OFFICIAL_PREFIX) and name.count("/") == 1:
                name = name[len(_OFFICIAL_PREFIX) :]
        else:
            name = self.name
        return name + self._suffix()

    def canonical(self) -> str:
        """The fully qualified form, e.g. ``docker.io/library/python:3.11``."""
        return self.name + self._suffix()

    def pinned(self, digest: str) -> str:
        """The text to write back: the original name and tag, then ``@digest``.

        An existing digest is replaced. A reference written without a tag stays without
        one (``python@sha256:...``); ``implicit_latest`` lets the caller warn about it.
        """
        _check_digest(digest, self.original)
        name_and_tag = self.original.partition("@")[0]
        return f"{name_and_tag}@{digest}"

    def _suffix(self) -> str:
        suffix = f":{self.tag}" if self.tag is not None else ""
        return suffix + (f"@{self.digest}" if self.digest is not None else "")


def parse_image_ref(text: str) -> ImageRef:
    """Parse and normalise ``text``; raise InputError when docker would refuse it."""
    if not text:
        raise _invalid(text, "it is empty")
    if _ANCHORED_IDENTIFIER.fullmatch(text):
        raise _invalid(text, "a 64-character hexadecimal string is an image ID, not a name")
    name_and_tag, at, digest = text.partition("@")
    if at:
        _check_digest(digest, text)
    tag: str | None = None
    colon = name_and_tag.rfind(":")
    if colon > name_and_tag.rfind("/"):
        tag = name_and_tag[colon + 1 :]
        name_and_tag = name_and_tag[:colon]
        if not _TAG.fullmatch(tag):
            raise _invalid(text, f"tag {tag!r} is not valid")
    registry, repository = _split_registry(name_and_tag)
    if not _DOMAIN.fullmatch(registry):
        raise _invalid(text, f"registry {registry!r} is not a valid host[:port]")
    if repository.lower() != repository:
        raise _invalid(text, f"repository name {repository!r} must be lowercase")
    if not all(_PATH_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise _invalid(text, f"repository name {repository!r} is not valid")
    if len(f"{registry}/{repository}") > _NAME_TOTAL_LENGTH_MAX:
        raise _invalid(text, f"the name is longer than {_NAME_TOTAL_LENGTH_MAX} characters")
    if registry in _DOCKER_HUB_ALIASES:
        registry = DEFAULT_REGISTRY
        if "/" not in repository:
            repository = _OFFICIAL_PREFIX + repository
    implicit_latest = tag is None and not at
    return ImageRef(
        registry=registry,
        repository=repository,
        tag="latest" if implicit_latest else tag,
        digest=digest if at else None,
        implicit_latest=implicit_latest,
        original=text,
    )


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    is_registry = bool(slash) and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if is_registry:
        return first, rest
    return DEFAULT_REGISTRY, name


def _check_digest(digest: str, text: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise _invalid(text, f"digest {digest!r} is not algorithm:hex")
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is not None and not re.fullmatch(f"[a-f0-9]{{{expected}}}", encoded):
        raise _invalid(text, f"a {algorithm} digest needs {expected} lower-case hex digits")


def _invalid(text: str, reason: str) -> InputError:
    return InputError(
        f"invalid image reference {text!r}: {reason}",
        hint="write it as [registry[:port]/]name[:tag][@sha256:<digest>]",
    )
