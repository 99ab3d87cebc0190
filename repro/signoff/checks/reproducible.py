"""Reproducible: the last stored `repro verify` result for this commit was bit-identical."""

from __future__ import annotations

from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status

ID = "reproducible"
TITLE = "Reproducible: the last verification of this commit was bit-identical"
FIX = (
    "Run `repro verify --json > verify.json` on this commit and pass it with "
    "--verification verify.json (or record a release)."
)


def check(ctx: CheckContext) -> CheckResult:
    record = ctx.verification
    if record is None:
        return CheckResult(
            ID,
            TITLE,
            Status.SKIP,
            fix="run `repro verify` for this commit. " + FIX,
            summary="no stored verification found for this commit",
        )
    evidence = [
        f"{record.source}: commit {record.commit[:12]}, "
        f"{'identical' if record.identical else 'differs'}"
    ]
    if ctx.commit is not None and record.commit != ctx.commit:
        return CheckResult(
            ID,
            TITLE,
            Status.SKIP,
            tuple(evidence),
            "run `repro verify` for this commit. " + FIX,
            f"the stored verification is for {record.commit[:12]}, not {ctx.commit[:12]}",
        )
    if not record.identical:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            "Make the build deterministic; `repro verify` explains each difference.",
            "the two builds differed",
        )
    if (
        ctx.dockerfile_sha256
        and record.dockerfile_sha256
        and (record.dockerfile_sha256.removeprefix("sha256:") != ctx.dockerfile_sha256)
    ):
        evidence.append("the Dockerfile changed since it was verified")
        return CheckResult(
            ID, TITLE, Status.WARN, tuple(evidence), FIX, "verified, but for another Dockerfile"
        )
    if record.image_digest and record.image_digest != ctx.image_digest:
        # Reproducibility was proven for another image: it says nothing about this one.
        evidence.append(
            f"verified image {record.image_digest}, signed-off image {ctx.image_digest}"
        )
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            "Sign off the verified (released) image, or verify this one: " + FIX,
            "the image signed off is not the verified one",
        )
    if record.image_digest:
        evidence.append(f"the signed-off image is the verified one ({record.image_digest})")
    return CheckResult(ID, TITLE, Status.PASS, tuple(evidence), summary="bit-identical rebuilds")
