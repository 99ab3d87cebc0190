"""Bases pinned by digest, matching repro.lock, and never ``:latest``."""

from __future__ import annotations

from repro.dockerfile import ReferenceKind, find_references, parse_image_ref
from repro.errors import InputError
from repro.lockfile import lock_key
from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status

ID = "base-pinned"
TITLE = "Base images pinned by digest (matching repro.lock, no :latest)"
FIX = "Run `repro lock` to pin every base by digest and record it in repro.lock."


def check(ctx: CheckContext) -> CheckResult:
    if ctx.dockerfile is None:
        return CheckResult(
            ID,
            TITLE,
            Status.SKIP,
            fix="Pass the Dockerfile with -f.",
            summary="no Dockerfile to read the bases from",
        )
    problems: list[str] = []
    good: list[str] = []
    references = [
        ref
        for ref in find_references(ctx.dockerfile, ctx.build_args)
        if ref.kind is not ReferenceKind.SYNTAX
    ]
    for ref in references:
        where = f"{ctx.dockerfile.path}:{ref.line}"
        try:
            parsed = parse_image_ref(ref.resolved)
        except InputError as error:
            problems.append(f"{where}: {error.message}")
            continue
        if parsed.tag == "latest":
            problems.append(f"{where}: {ref.resolved} uses the :latest tag")
            if parsed.digest is None:
                continue
        if parsed.digest is None:
            problems.append(f"{where}: {ref.resolved} is not pinned by digest")
            continue
        if ctx.lockfile is None:
            problems.append(
                f"{where}: {ref.resolved} is pinned, but there is no {ctx.lockfile_path}"
            )
            continue
        locked = ctx.lockfile.get(lock_key(parsed))
        if locked is None:
            problems.append(f"{where}: {parsed.canonical()} is not recorded in {ctx.lockfile_path}")
        elif locked.digest != parsed.digest and parsed.digest not in locked.platforms.values():
            problems.append(
                f"{where}: {ref.resolved} does not match {ctx.lockfile_path} ({locked.digest})"
            )
        else:
            good.append(f"{where}: {ref.resolved} (matches {ctx.lockfile_path})")
    if problems:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(problems),
            FIX,
            f"{len(problems)} base reference(s) not pinned or not locked",
        )
    if not references:
        return CheckResult(ID, TITLE, Status.PASS, summary="no base images (FROM scratch)")
    return CheckResult(
        ID,
        TITLE,
        Status.PASS,
        tuple(good),
        summary=f"{len(good)} base reference(s) pinned and locked",
    )
