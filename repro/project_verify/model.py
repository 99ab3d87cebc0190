"""What `repro verify --all` verifies, what it found, and the record it is written down as.

The record (``repro verify --all --format json``; kind "project-verification",
schema_version from repro.jsonout) is serialised and parsed here, by ProjectRecord:
  verdict       the worst image verdict (see Verdict), and exit_code, what repro exits with
  commit        the commit every image was checked out at ("none" outside git)
  seconds       wall time of the whole run
  builders      [{"name", "up", "driver", "nodes", "detail", "went_down", "builds"}]
  images        [{"name", "also", "source", "file", "line", "context", "dockerfile",
                  "target", "platforms", "build_args", "verdict", "digest_a", "digest_b",
                  "differences", "causes", "seconds", "builders", "moved", "error",
                  "log_tail", "verification"}] sorted by name; "verification" is the full
                  `repro verify --json` record of that image (null when it was not built)
  notes         what was left out of the project, and why
  counts        images per verdict
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from repro.errors import ExitCode, InputError
from repro.jsonout import document
from repro.records import Fields
from repro.verify.model import VerificationRecord, VerifyResult

KIND = "project-verification"
REWRITE_HINT = "write the record again with `repro verify --all --format json`"
_E = TypeVar("_E", bound=StrEnum)
DERIVED_CAUSE = "follows-from-layers"  # repro.oci's cause for digests that follow from layers


class ImageSource(StrEnum):
    """Where the project says to build an image."""

    DOCKERFILE = "dockerfile"  # a Dockerfile no compose or bake file names
    COMPOSE = "compose"  # a compose service with a build: section
    BAKE = "bake"  # a bake target


class Verdict(StrEnum):
    """One image's verdict; the exit code the run ends with is the highest of them."""

    IDENTICAL = "identical"  # built twice, bit-identical
    DIFFERS = "differs"  # built twice, the images differ
    REFUSED = "refused"  # not built: its bases are unpinned and repro.lock asks for pins
    INVALID = "invalid"  # not built: repro cannot build it as the project writes it
    FAILED = "failed"  # a build failed, or the engine did
    NOT_RUN = "not-run"  # not built: no builder of the pool was left to build it

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Verdict.IDENTICAL: ExitCode.OK,
    Verdict.DIFFERS: ExitCode.NEGATIVE,
    Verdict.REFUSED: ExitCode.NEGATIVE,
    Verdict.INVALID: ExitCode.INPUT,
    Verdict.FAILED: ExitCode.ENVIRONMENT,
    Verdict.NOT_RUN: ExitCode.ENVIRONMENT,
}
# Which verdict speaks for a run: the one with the highest exit code, and among equal
# codes the one that says more (a failed build over an image left unbuilt).
_SEVERITY = list(Verdict)


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: (v.exit_code, _SEVERITY.index(v)), default=Verdict.IDENTICAL)


@dataclass(frozen=True)
class ProjectImage:
    """One image the project builds, and how (paths relative to the project root)."""

    name: str  # Dockerfile path, or FILE:SERVICE / FILE:TARGET
    source: ImageSource
    file: str  # where the project defines it
    line: int
    context: str  # posix, relative to the root ("." for the root)
    dockerfile: str  # posix, relative to the root
    target: str | None = None
    platforms: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    also: tuple[str, ...] = ()  # other names the project gives the same build
    invalid: str | None = None  # why repro cannot build it as written

    @property
    def build_key(self) -> tuple[object, ...]:
        """Two images with the same key are the same build, verified once."""
        return (self.context, self.dockerfile, self.target, self.platforms, self.build_args)

    @property
    def short_names(self) -> tuple[str, ...]:
        """What ``--image`` may call it besides its names: a service or target name, or
        the directory of a Dockerfile named ``Dockerfile``."""
        names = [self.name, *self.also]
        short = [n.rpartition(":")[2] for n in names if ":" in n]
        short.extend(n.rpartition("/")[0] for n in names if n.endswith("/Dockerfile"))
        return tuple(dict.fromkeys(short))


@dataclass(frozen=True)
class PoolBuilder:
    """A builder of the pool, and what became of it during the run."""

    name: str
    up: bool  # answered when the run started
    driver: str = ""
    nodes: int = 0
    detail: str = ""  # why it is (or went) down
    went_down: bool = False  # answered at first, then stopped during the run
    builds: int = 0  # builds it was given (A and B count one each)


@dataclass(frozen=True)
class ImageOutcome:
    image: ProjectImage
    verdict: Verdict
    result: VerifyResult | None = None  # set when both builds ran and were compared
    seconds: float = 0.0  # the verification's wall time
    builders: tuple[str, ...] = ()  # A's builder, B's builder
    moved: tuple[str, ...] = ()  # one note per move to other builders
    error: str | None = None
    log_tail: str = ""


@dataclass(frozen=True)
class ProjectResult:
    commit: str
    builders: tuple[PoolBuilder, ...]
    outcomes: tuple[ImageOutcome, ...]  # sorted by image name
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return worst([outcome.verdict for outcome in self.outcomes])

    def record(self) -> ProjectRecord:
        return ProjectRecord(
            commit=self.commit,
            seconds=self.seconds,
            builders=self.builders,
            images=tuple(_image_record(outcome) for outcome in self.outcomes),
            notes=self.notes,
        )


def difference_counts(verification: VerificationRecord) -> tuple[int, dict[str, int]]:
    """(differences, {cause: count}), leaving out the digests that merely follow from the
    layer differences (the comparison's own count, by cause)."""
    counts = verification.comparison.get("counts", {})
    by_cause = counts.get("by_cause", {}) if isinstance(counts, dict) else {}
    causes = {
        str(cause): int(count)
        for cause, count in sorted(by_cause.items())
        if cause != DERIVED_CAUSE and isinstance(count, int)
    }
    total = sum(causes.values()) or int(counts.get("total", 0) if isinstance(counts, dict) else 0)
    return total, causes


def _image_record(outcome: ImageOutcome) -> ImageRecord:
    verification = outcome.result.record() if outcome.result is not None else None
    total, causes = difference_counts(verification) if verification else (0, {})
    if verification is not None and verification.identical:
        total, causes = 0, {}
    return ImageRecord(
        image=outcome.image,
        verdict=outcome.verdict,
        digest_a=verification.image_digest_a if verification else None,
        digest_b=verification.image_digest_b if verification else None,
        differences=total,
        causes=causes,
        seconds=outcome.seconds,
        builders=outcome.builders,
        moved=outcome.moved,
        error=outcome.error,
        log_tail=outcome.log_tail,
        verification=verification,
    )


@dataclass(frozen=True)
class ImageRecord:
    image: ProjectImage
    verdict: Verdict
    digest_a: str | None = None
    digest_b: str | None = None
    differences: int = 0
    causes: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    builders: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    error: str | None = None
    log_tail: str = ""
    verification: VerificationRecord | None = None

    def to_json(self) -> dict[str, Any]:
        image = self.image
        return {
            "name": image.name,
            "also": list(image.also),
            "source": image.source.value,
            "file": image.file,
            "line": image.line,
            "context": image.context,
            "dockerfile": image.dockerfile,
            "target": image.target,
            "platforms": list(image.platforms),
            "build_args": dict(image.build_args),
            "verdict": self.verdict.value,
            "digest_a": self.digest_a,
            "digest_b": self.digest_b,
            "differences": self.differences,
            "causes": dict(self.causes),
            "seconds": self.seconds,
            "builders": list(self.builders),
            "moved": list(self.moved),
            "error": self.error,
            "log_tail": self.log_tail,
            "verification": self.verification.to_json() if self.verification else None,
        }

    @classmethod
    def from_json(cls, data: object, source: str) -> ImageRecord:
        fields = Fields(data, source, "an image", hint=REWRITE_HINT)
        verdict = _choice(fields, "verdict", Verdict)
        image_source = _choice(fields, "source", ImageSource)
        causes = fields.table("causes")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in causes.values()):
            raise fields.wrong("causes", "a table of counts")
        verification = fields.data.get("verification")
        return cls(
            image=ProjectImage(
                name=fields.text("name"),
                source=image_source,
                file=fields.text("file"),
                line=fields.integer("line"),
                context=fields.text("context"),
                dockerfile=fields.text("dockerfile"),
                target=fields.optional_text("target"),
                platforms=tuple(fields.texts("platforms")),
                build_args=tuple(fields.string_table("build_args").items()),
                also=tuple(fields.texts("also")),
                invalid=fields.optional_text("error") if verdict is Verdict.INVALID else None,
            ),
            verdict=verdict,
            digest_a=fields.optional_text("digest_a"),
            digest_b=fields.optional_text("digest_b"),
            differences=fields.integer("differences"),
            causes=causes,
            seconds=fields.number("seconds"),
            builders=tuple(fields.texts("builders")),
            moved=tuple(fields.texts("moved")),
            error=fields.optional_text("error"),
            log_tail=fields.optional_text("log_tail") or "",
            verification=None
            if verification is None
            else VerificationRecord.from_json(verification, f"{source}: {fields.text('name')}"),
        )


@dataclass(frozen=True)
class ProjectRecord:
    """The stored result of `repro verify --all`: every image, its verdict and its builders."""

    commit: str
    seconds: float
    builders: tuple[PoolBuilder, ...]
    images: tuple[ImageRecord, ...]
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return worst([image.verdict for image in self.images])

    def to_json(self) -> dict[str, Any]:
        counts = Counter(image.verdict.value for image in self.images)
        return document(
            KIND,
            {
                "verdict": self.verdict.value,
                "exit_code": int(self.verdict.exit_code),
                "commit": self.commit,
                "seconds": self.seconds,
                "builders": [
                    {
                        "name": b.name,
                        "up": b.up,
                        "driver": b.driver,
                        "nodes": b.nodes,
                        "detail": b.detail,
                        "went_down": b.went_down,
                        "builds": b.builds,
                    }
                    for b in self.builders
                ],
                "images": [image.to_json() for image in self.images],
                "notes": list(self.notes),
                "counts": {verdict.value: counts.get(verdict.value, 0) for verdict in Verdict},
            },
        )

    @classmethod
    def from_json(cls, data: object, source: str) -> ProjectRecord:
        """Parse a `repro verify --all --format json` record; InputError names what is wrong."""
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError(
                f"{source} is not a `repro verify --all --format json` record",
                hint="write one with `repro verify --all --format json > verify.json`",
            )
        fields = Fields(data, source, "the record", hint=REWRITE_HINT)
        builders = []
        for entry in fields.tables("builders"):
            builder = Fields(entry, source, "a builder", hint=REWRITE_HINT)
            builders.append(
                PoolBuilder(
                    name=builder.text("name"),
                    up=_flag(builder, "up"),
                    driver=builder.text("driver", allow_empty=True),
                    nodes=builder.integer("nodes"),
                    detail=builder.text("detail", allow_empty=True),
                    went_down=_flag(builder, "went_down"),
                    builds=builder.integer("builds"),
                )
            )
        return cls(
            commit=fields.text("commit"),
            seconds=fields.number("seconds"),
            builders=tuple(builders),
            images=tuple(ImageRecord.from_json(e, source) for e in fields.tables("images")),
            notes=tuple(fields.texts("notes")),
        )


def _flag(fields: Fields, key: str) -> bool:
    value = fields.data.get(key)
    if not isinstance(value, bool):
        raise fields.wrong(key, "true or false")
    return value


def _choice(fields: Fields, key: str, enum: type[_E]) -> _E:
    text = fields.text(key)
    try:
        return enum(text)
    except ValueError:
        raise fields.wrong(key, " or ".join(repr(e.value) for e in enum)) from None
