"""`repro signoff`: the release sign-off checklist, measured on the real image.

Pure: an image comes in as a BlobSource, the project's files as parsed data; each check
(repro.signoff.checks) is a small function from a CheckContext to a CheckResult.
Building the image and reading files live in repro.signoff.service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from repro.lockfile import Lockfile
from repro.oci.blobsource import BlobSource
from repro.oci.tree import resolve_tree
from repro.signoff.checks import CHECK_IDS, run_checks
from repro.signoff.context import CheckContext, Verification
from repro.signoff.facts import ImageFacts, gather
from repro.signoff.model import CheckResult, SignoffReport, Status, apply_waivers

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
    return SignoffReport(
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


def verification_from_record(record: Mapping[str, Any], source: str) -> Verification | None:
    """A `repro verify --json` record (kind "verification"), else None."""
    if record.get("kind") != "verification" or not isinstance(record.get("commit"), str):
        return None
    digest = record.get("image_digest_a")
    sha = record.get("dockerfile_sha256")
    return Verification(
        source=source,
        commit=str(record["commit"]),
        identical=record.get("verdict") == "identical",
        image_digest=digest if isinstance(digest, str) else None,
        dockerfile_sha256=sha if isinstance(sha, str) else None,
    )


def verification_from_lockfile(lockfile: Lockfile, commit: str, path: str) -> Verification | None:
    """The last ``[[release]]`` in repro.lock recorded for ``commit`` (releases are only
    recorded when verify found the builds identical)."""
    releases = lockfile.extra.get("release")
    found: Verification | None = None
    for release in releases if isinstance(releases, list) else []:
        if not isinstance(release, dict) or release.get("commit") != commit:
            continue
        digest = release.get("index_digest") or release.get("image_digest")
        sha = release.get("dockerfile_sha256")
        found = Verification(
            source=f"{path} [[release]] {release.get('version', '?')}",
            commit=commit,
            identical=release.get("verdict", "identical") == "identical",
            image_digest=digest if isinstance(digest, str) else None,
            dockerfile_sha256=sha if isinstance(sha, str) else None,
        )
    return found
