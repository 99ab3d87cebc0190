"""`repro signoff`: the release sign-off checklist, measured on the real image.

Pure: an image comes in as a BlobSource, the project's files as parsed data; each check
(repro.signoff.checks) is a small function from a CheckContext to a CheckResult.
Building the image and reading files live in repro.signoff.service.
"""

from __future__ import annotations

from collections.abc import Mapping

from repro.lockfile import Release, version_key
from repro.oci.blobsource import BlobSource
from repro.oci.tree import resolve_tree
from repro.signoff.checks import CHECK_IDS, run_checks
from repro.signoff.context import CheckContext, Verification
from repro.signoff.facts import ImageFacts, gather
from repro.signoff.model import CheckResult, SignoffReport, Status, apply_waivers
from repro.verify.model import VerificationRecord

__all__ = [
    "CHECK_IDS",
    "CheckContext",
    "CheckResult",
    "SignoffReport",
    "Status",
    "Verification",
    "evaluate",
    "gather_image",
    "verification_from_lockfile",
    "verification_from_record",
]

ALLOWED_REASON = "allowed on the command line (--allow)"


def gather_image(
    source: BlobSource, *, platform: str | None = None
) -> tuple[str, tuple[ImageFacts, ...]]:
    """The image digest and the facts of every platform image in ``source``."""
    tree = resolve_tree(source, platform=platform)
    facts = tuple(gather(source, tree.images[key]) for key in sorted(tree.images))
    return tree.image_digest, facts


def evaluate(
    ctx: CheckContext,
    *,
    image: str,
    dockerfile: str | None,
    context: str | None,
    waivers: Mapping[str, str] | None = None,
    allow: tuple[str, ...] = (),
) -> SignoffReport:
    """Run every check and attach waivers (config reasons, then --allow)."""
    reasons = dict(waivers or {})
    for check_id in allow:
        reasons.setdefault(check_id, ALLOWED_REASON)
    results = apply_waivers(run_checks(ctx), reasons)
    report = SignoffReport(
        dockerfile=dockerfile,
        context=context,
        image=image,
        image_digest=ctx.image_digest,
        commit=ctx.commit,
        source_date_epoch=ctx.source_date_epoch,
        size_budget=ctx.size_budget,
        checks=results,
        sizes=tuple(facts.size for facts in ctx.images),
    )
    return report.masked()


def verification_from_record(record: VerificationRecord, source: str) -> Verification:
    """What a `repro verify --json` record says about the verified image."""
    return Verification(
        source=source,
        commit=record.commit,
        identical=record.identical,
        image_digest=record.image_digest_a,
        dockerfile_sha256=record.dockerfile_sha256,
    )


def verification_from_lockfile(
    releases: Mapping[str, Release], commit: str, path: str
) -> Verification | None:
    """The last release recorded for ``commit`` (releases are only recorded when verify
    found the builds identical), naming the released image (index) digest."""
    found: Verification | None = None
    for release in sorted(releases.values(), key=lambda r: version_key(r.version)):
        if release.commit != commit:
            continue
        found = Verification(
            source=f"{path} [[release]] {release.version}",
            commit=commit,
            identical=True,
            image_digest=release.digest,
            dockerfile_sha256=release.dockerfile_sha256,
        )
    return found
