"""What `repro verify` found, and the verification record it is written down as.

The record (``repro verify --json``; kind "verification", schema_version from
repro.jsonout) is serialised and parsed here, by VerificationRecord, and nowhere else:
  verdict              "identical" | "differs"
  commit               the commit both builds checked out ("none" outside git)
  source_date_epoch    the epoch both builds used
  dockerfile, dockerfile_sha256, build_args, target, platforms   what was built
  masked_build_args    the build arguments whose values look secret: build_args shows them
                       as sha256:<8 hex>…(N chars) (repro.masking)
  builds               [{"name", "builder", "source", "seconds"}] for A and B
  image_digest_a/b     the image digest of each build
  manifests            [{"platform", "digest_a", "digest_b"}] sorted by platform
  comparison           the full `repro compare --json` document of A against B
  attest               BuildKit attestations built in (--attest), compared apart
  variations           [{"name", "a", "b", "reaches_build"}]: what B varied from A
                       (repro.verify.variations); reaches_build false where only the
                       checkout varied, which BuildKit does not show the build
  not_varied           [{"name", "instead"}]: the variations left out, and what both builds had
  suggested_change     {"path", "diff", "changes": [{"line", "end_line", "original",
                       "replacement", "causes"}], "unresolved": [{"cause", "layer",
                       "instruction", "reason"}]}: the Dockerfile change made from the
                       differences (`repro verify --suggest` prints its diff); null when
                       the builds are identical
Records written before variations and suggested_change were kept read as having none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.errors import InputError
from repro.jsonout import document
from repro.masking import mask_mapping, masked_keys
from repro.oci import Comparison
from repro.records import Fields
from repro.verify.suggest import SuggestedChange

KIND = "verification"
VERDICT_IDENTICAL = "identical"
VERDICT_DIFFERS = "differs"
DEFAULT_BUILDER = "default"
REWRITE_HINT = "write the record again with `repro verify --json`"


@dataclass(frozen=True)
class BuildRecord:
    name: str
    builder: str | None  # None: the default builder
    source: str  # how its checkout was made
    seconds: float


@dataclass(frozen=True)
class VariationRecord:
    """One variation applied: what build A had and what build B had instead."""

    name: str
    a: str
    b: str
    # False where only the checkout varied: BuildKit shows a build neither the checkout's
    # path nor its TZ or locale (those only through a declared ARG)
    reaches_build: bool = True


@dataclass(frozen=True)
class NotVaried:
    """A variation left out, and what both builds had instead."""

    name: str
    instead: str


@dataclass(frozen=True)
class ChangeRecord:
    """One instruction's suggested replacement, as the record keeps it."""

    line: int
    end_line: int
    original: str
    replacement: str
    causes: tuple[str, ...]


@dataclass(frozen=True)
class UnresolvedRecord:
    cause: str
    layer: int | None
    instruction: str | None
    reason: str


@dataclass(frozen=True)
class SuggestionRecord:
    """The suggested Dockerfile change: the unified diff and each replacement."""

    path: str
    diff: str
    changes: tuple[ChangeRecord, ...] = ()
    unresolved: tuple[UnresolvedRecord, ...] = ()

    @classmethod
    def of(cls, change: SuggestedChange) -> SuggestionRecord:
        return cls(
            path=change.path,
            diff=change.unified_diff(),
            changes=tuple(
                ChangeRecord(s.line, s.end_line, s.original, s.replacement, s.causes)
                for s in change.suggestions
            ),
            unresolved=tuple(
                UnresolvedRecord(u.cause_id, u.layer, u.instruction, u.reason)
                for u in change.unresolved
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "diff": self.diff,
            "changes": [
                {
                    "line": c.line,
                    "end_line": c.end_line,
                    "original": c.original,
                    "replacement": c.replacement,
                    "causes": list(c.causes),
                }
                for c in self.changes
            ],
            "unresolved": [
                {
                    "cause": u.cause,
                    "layer": u.layer,
                    "instruction": u.instruction,
                    "reason": u.reason,
                }
                for u in self.unresolved
            ],
        }

    @classmethod
    def from_json(cls, data: object, source: str) -> SuggestionRecord:
        fields = Fields(data, source, "the suggested change", hint=REWRITE_HINT)
        changes = []
        for entry in fields.tables("changes"):
            change = Fields(entry, source, "a suggested change", hint=REWRITE_HINT)
            changes.append(
                ChangeRecord(
                    line=change.integer("line"),
                    end_line=change.integer("end_line"),
                    original=change.text("original", allow_empty=True),
                    replacement=change.text("replacement", allow_empty=True),
                    causes=tuple(change.texts("causes")),
                )
            )
        unresolved = []
        for entry in fields.tables("unresolved"):
            item = Fields(entry, source, "an unresolved fix", hint=REWRITE_HINT)
            unresolved.append(
                UnresolvedRecord(
                    cause=item.text("cause"),
                    layer=item.optional_integer("layer"),
                    instruction=item.optional_text("instruction"),
                    reason=item.text("reason"),
                )
            )
        return cls(
            path=fields.text("path"),
            diff=fields.text("diff", allow_empty=True),
            changes=tuple(changes),
            unresolved=tuple(unresolved),
        )


@dataclass(frozen=True)
class VerifyResult:
    commit: str
    epoch: int
    dockerfile: str
    dockerfile_sha256: str
    build_args: Mapping[str, str]
    platforms: tuple[str, ...]
    target: str | None
    builds: tuple[BuildRecord, BuildRecord]
    comparison: Comparison
    attest: tuple[str, ...] = ()  # BuildKit attestations built in (compared apart)
    variations: tuple[VariationRecord, ...] = ()
    not_varied: tuple[NotVaried, ...] = ()
    # The Dockerfile change made from the differences (None when identical, or when
    # repro cannot read the Dockerfile: ``suggestion_problem`` says why).
    suggestion: SuggestedChange | None = None
    suggestion_problem: str | None = None

    @property
    def identical(self) -> bool:
        """Both images are bit-identical (with --attest: apart from the attestations)."""
        return self.comparison.images_identical

    def record(self) -> VerificationRecord:
        comparison = self.comparison
        return VerificationRecord(
            identical=self.identical,
            commit=self.commit,
            source_date_epoch=self.epoch,
            dockerfile=self.dockerfile,
            dockerfile_sha256=self.dockerfile_sha256,
            build_args=mask_mapping(self.build_args),
            masked_build_args=tuple(masked_keys(self.build_args)),
            target=self.target,
            platforms=self.platforms,
            builds=self.builds,
            image_digest_a=comparison.image_digest_a,
            image_digest_b=comparison.image_digest_b,
            manifests=tuple(
                ManifestPair(p.platform, p.manifest_digest_a, p.manifest_digest_b)
                for p in sorted(comparison.platforms, key=lambda p: p.platform)
            ),
            comparison=comparison.to_json_dict(),
            attest=self.attest,
            variations=self.variations,
            not_varied=self.not_varied,
            suggested_change=SuggestionRecord.of(self.suggestion) if self.suggestion else None,
        )


@dataclass(frozen=True)
class ManifestPair:
    platform: str
    digest_a: str | None
    digest_b: str | None


@dataclass(frozen=True)
class VerificationRecord:
    """The stored result of a verification: what was built, how, and what came out."""

    identical: bool
    commit: str
    source_date_epoch: int | None = None
    dockerfile: str | None = None
    dockerfile_sha256: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    masked_build_args: tuple[str, ...] = ()
    target: str | None = None
    platforms: tuple[str, ...] = ()
    builds: tuple[BuildRecord, ...] = ()
    image_digest_a: str | None = None
    image_digest_b: str | None = None
    manifests: tuple[ManifestPair, ...] = ()
    comparison: Mapping[str, Any] = field(default_factory=dict)
    attest: tuple[str, ...] = ()
    variations: tuple[VariationRecord, ...] = ()
    not_varied: tuple[NotVaried, ...] = ()
    suggested_change: SuggestionRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return document(
            KIND,
            {
                "verdict": VERDICT_IDENTICAL if self.identical else VERDICT_DIFFERS,
                "commit": self.commit,
                "source_date_epoch": self.source_date_epoch,
                "dockerfile": self.dockerfile,
                "dockerfile_sha256": self.dockerfile_sha256,
                "build_args": dict(self.build_args),
                "masked_build_args": list(self.masked_build_args),
                "target": self.target,
                "platforms": list(self.platforms),
                "builds": [
                    {
                        "name": b.name,
                        "builder": b.builder or DEFAULT_BUILDER,
                        "source": b.source,
                        "seconds": b.seconds,
                    }
                    for b in self.builds
                ],
                "image_digest_a": self.image_digest_a,
                "image_digest_b": self.image_digest_b,
                "manifests": [
                    {"platform": m.platform, "digest_a": m.digest_a, "digest_b": m.digest_b}
                    for m in self.manifests
                ],
                "comparison": dict(self.comparison),
                "attest": list(self.attest),
                "variations": [
                    {"name": v.name, "a": v.a, "b": v.b, "reaches_build": v.reaches_build}
                    for v in self.variations
                ],
                "not_varied": [{"name": n.name, "instead": n.instead} for n in self.not_varied],
                "suggested_change": (
                    self.suggested_change.to_json() if self.suggested_change else None
                ),
            },
        )

    @classmethod
    def from_json(cls, data: object, source: str) -> VerificationRecord:
        """Parse a `repro verify --json` record; InputError (exit 2) names what is wrong."""
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError(
                f"{source} is not a `repro verify --json` record",
                hint="write one with `repro verify --json > verify.json`",
            )
        fields = Fields(data, source, "the record", hint=REWRITE_HINT)
        verdict = fields.text("verdict")
        if verdict not in (VERDICT_IDENTICAL, VERDICT_DIFFERS):
            raise fields.wrong("verdict", f"{VERDICT_IDENTICAL!r} or {VERDICT_DIFFERS!r}")
        builds = []
        for entry in fields.tables("builds"):
            build = Fields(entry, source, "a build", hint=REWRITE_HINT)
            builder = build.text("builder")
            builds.append(
                BuildRecord(
                    name=build.text("name"),
                    builder=None if builder == DEFAULT_BUILDER else builder,
                    source=build.text("source"),
                    seconds=build.number("seconds"),
                )
            )
        manifests = []
        for entry in fields.tables("manifests"):
            pair = Fields(entry, source, "a manifest", hint=REWRITE_HINT)
            manifests.append(
                ManifestPair(
                    pair.text("platform"),
                    pair.optional_text("digest_a"),
                    pair.optional_text("digest_b"),
                )
            )
        variations = []
        for entry in fields.tables("variations"):
            variation = Fields(entry, source, "a variation", hint=REWRITE_HINT)
            reaches = variation.data.get("reaches_build", True)
            if not isinstance(reaches, bool):
                raise variation.wrong("reaches_build", "true or false")
            variations.append(
                VariationRecord(
                    variation.text("name"), variation.text("a"), variation.text("b"), reaches
                )
            )
        not_varied = []
        for entry in fields.tables("not_varied"):
            left_out = Fields(entry, source, "a variation left out", hint=REWRITE_HINT)
            not_varied.append(NotVaried(left_out.text("name"), left_out.text("instead")))
        suggested = fields.data.get("suggested_change")
        return cls(
            identical=verdict == VERDICT_IDENTICAL,
            commit=fields.text("commit"),
            source_date_epoch=fields.optional_epoch("source_date_epoch"),
            dockerfile=fields.optional_text("dockerfile"),
            dockerfile_sha256=fields.optional_text("dockerfile_sha256"),
            build_args=fields.string_table("build_args"),
            masked_build_args=tuple(fields.texts("masked_build_args")),
            target=fields.optional_text("target"),
            platforms=tuple(fields.texts("platforms")),
            builds=tuple(builds),
            image_digest_a=fields.optional_text("image_digest_a"),
            image_digest_b=fields.optional_text("image_digest_b"),
            manifests=tuple(manifests),
            comparison=fields.table("comparison"),
            attest=tuple(fields.texts("attest")),
            variations=tuple(variations),
            not_varied=tuple(not_varied),
            suggested_change=(
                None if suggested is None else SuggestionRecord.from_json(suggested, source)
            ),
        )
