"""The lock vocabulary: modes, actions, sites and planned references (pure, no registry).

The hermetic ``--check`` path uses only this module, ``scan`` and ``check``, so it
imports neither the registry wing's vocabulary nor the OCI core.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from repro.lockfile import lock_key

if TYPE_CHECKING:
    from repro.dockerfile.imageref import ImageRef
    from repro.dockerfile.span import Span


class Mode(StrEnum):
    LOCK = "lock"  # pin what is unpinned, keep existing pins
    UPDATE = "update"  # also re-resolve pinned references (all, or the selected ones)
    CHECK = "check"  # change nothing, give a verdict


class Action(StrEnum):
    PINNED = "pinned"  # was unpinned, now pinned
    KEPT = "kept"  # already pinned to what the tag serves (or digest-only)
    UPDATED = "updated"  # --update moved the pin
    DRIFTED = "drifted"  # pinned, but the tag now serves another digest; kept
    RECORDED = "recorded"  # pinned by hand or by a bot to a digest repro.lock did not have
    UNPINNABLE = "unpinnable"  # no single literal to rewrite (ARGs), or no value at all
    ALLOWED = "allowed"  # --check: unpinnable, and [tool.repro] allow-unpinnable lists it
    OK = "ok"  # --check: pinned and agrees with repro.lock
    UNPINNED = "unpinned"  # --check: no digest
    NOT_LOCKED = "not-in-lockfile"  # --check: repro.lock has no entry
    LOCK_MISMATCH = "lockfile-mismatch"  # --check: repro.lock records another digest
    TAG_MOVED = "tag-moved"  # --check --online, --outdated: the tag now serves another digest


# What fails `repro lock --check`. A moved tag never does: the gate judges the commit.
OFFENCES = frozenset({Action.UNPINNED, Action.NOT_LOCKED, Action.LOCK_MISMATCH, Action.UNPINNABLE})


# The site kind of a file (or a part of one) that cannot be read (YAML that does not
# parse...): it stands for every image the file may name, so a lock run warns with its
# file:line and never rewrites the file, and the check fails there.
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Site:
    """One image reference in one file, normalised; the planner's unit for every kind.

    ``image`` is None when the reference has no literal value (an ARG without a default,
    an undefined variable, a templated value): ``unpinnable`` says why. ``span`` is the
    exact text to rewrite when pinning; None when there is none (composed from ARGs) or
    when the site came from repro.lock's record of an unchanged file.
    """

    file: str
    line: int
    column: int
    kind: str  # ReferenceKind value for Dockerfiles ("from", ...); other kinds their own
    written: str  # the reference as written (after ARG substitution), or the raw text
    image: ImageRef | None
    span: Span | None = None
    composed: bool = False  # written with variables: repro cannot rewrite it in place
    unpinnable: str = ""  # why there is no literal reference (image is None)

    @cached_property
    def key(self) -> str:
        return lock_key(self.image) if self.image is not None else self.written

    @property
    def rewritable(self) -> bool:
        """The span holds the reference literally (itself, or an ARG default it comes from)."""
        return self.span is not None and not self.composed

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ScannedFile:
    """One file's sites, and the facts that let repro.lock remember them."""

    display: str
    kind: str  # "dockerfile", or a repro.imagefiles FileKind value ("compose", ...)
    sha256: str  # hex of the bytes scanned
    sites: tuple[Site, ...]
    data: bytes | None = None  # None when the sites came from repro.lock's record
    parsed: object | None = None  # the parsed document (a Dockerfile), when parsed
    # What the parser read leniently, with file:line:column: such a file gets no record,
    # so every run (lock and --check) says it again.
    warnings: tuple[str, ...] = ()

    @property
    def cached(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class PlannedRef:
    file: str
    line: int
    column: int
    kind: str
    written: str  # the reference as written (after ARG substitution)
    key: str  # its repro.lock key after the run
    action: Action
    old_digest: str | None
    new_digest: str | None
    message: str = ""
    fix: str = ""  # the command that fixes an offence

    @classmethod
    def of(
        cls,
        site: Site,
        action: Action,
        *,
        old: str | None,
        new: str | None,
        key: str | None = None,
        message: str = "",
        fix: str = "",
    ) -> PlannedRef:
        """What happens to ``site``: where it is, as written, and the ``action``."""
        return cls(
            file=site.file,
            line=site.line,
            column=site.column,
            kind=site.kind,
            written=site.written,
            key=site.key if key is None else key,
            action=action,
            old_digest=old,
            new_digest=new,
            message=message,
            fix=fix,
        )


@dataclass(frozen=True)
class FileChange:
    display: str
    old: bytes
    new: bytes
    # ``new`` as it read back when the pins were checked (an image file's ImageFile),
    # so the [files] record is taken from it without parsing the file a third time
    parsed: object | None = None
