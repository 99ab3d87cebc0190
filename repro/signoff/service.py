"""`repro signoff` as a use case: find the project's files, get the image (build it once, or
open the one given), and hand both to the pure checklist in repro.signoff.

The image is built by the Builder and checked out by the SourceControl it is given (as
repro.verify declares them), or opened by its ImageOpener; the project configuration
comes from the caller.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from repro.build.model import BuildRequest
from repro.config import ProjectConfig
from repro.dockerfile import Dockerfile, parse_dockerfile
from repro.errors import InputError
from repro.fsutil import read_regular_file
from repro.jsonout import MAX_JSON_BYTES, load_json
from repro.lockfile import LOCKFILE_NAME, Lockfile, parse_lockfile, read_lockfile_text, releases_of
from repro.oci import open_image
from repro.oci.blobsource import ImageOpener
from repro.project import EpochPolicy, check_epoch_build_arg, nearest_lockfile, repository_root
from repro.signoff import (
    CHECK_IDS,
    CheckContext,
    SignoffReport,
    Verification,
    evaluate,
    gather_image,
    verification_from_lockfile,
    verification_from_record,
)
from repro.signoff.units import parse_size
from repro.verify.model import VerificationRecord
from repro.verify.service import VARIATION_A, Builder, SourceControl, fresh_checkout

if TYPE_CHECKING:
    from repro.release.keys import SigningKey


@dataclass(frozen=True)
class SignoffOptions:
    context: Path
    dockerfile: Path | None = None
    image: str | None = None  # a registry reference or an OCI/docker-save tar or layout
    size_budget: int | None = None
    allow: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None
    verification: Path | None = None  # a `repro verify --json` record
    epoch: EpochPolicy = field(
        default_factory=EpochPolicy
    )  # the commit time when there is a commit
    builder: str | None = None


def _display(path: Path, base: Path) -> str:
    cwd = Path.cwd().resolve()
    for anchor in (cwd, base):
        if path == anchor or anchor in path.parents:
            return str(path.relative_to(anchor))
    return str(path)


def read_dockerignore(
    context: Path, dockerfile: Path | None
) -> tuple[Path, tuple[str, ...] | None]:
    """BuildKit's rule: ``<Dockerfile>.dockerignore`` beside the Dockerfile wins over
    ``.dockerignore`` at the context root."""
    candidates = []
    if dockerfile is not None:
        candidates.append(dockerfile.parent / f"{dockerfile.name}.dockerignore")
    candidates.append(context / ".dockerignore")
    for candidate in candidates:
        if candidate.is_file():
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
            patterns = tuple(
                line.strip() for line in lines if line.strip() and not line.startswith("#")
            )
            return candidate, patterns
    return candidates[-1], None


CONTEXT_LISTING_LIMIT = 20000
# Directories whose contents say nothing more about what .dockerignore must exclude.
_NOT_DESCENDED = frozenset(
    {".git", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"}
)


def list_context(context: Path, limit: int = CONTEXT_LISTING_LIMIT) -> frozenset[str]:
    """What the build context holds, for checks that judge what is there: relative paths,
    directories with a trailing "/", without descending into .git, caches or virtualenvs
    (a directory holding pyvenv.cfg); at most ``limit`` entries, symlinks not followed."""
    found: set[str] = set()
    pending = [context]
    while pending and len(found) < limit:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            relative = Path(entry.path).relative_to(context).as_posix()
            if entry.is_dir(follow_symlinks=False):
                found.add(relative + "/")
                venv = Path(entry.path, "pyvenv.cfg").is_file()
                if venv:
                    found.add(relative + "/pyvenv.cfg")
                elif entry.name not in _NOT_DESCENDED:
                    pending.append(Path(entry.path))
            else:
                found.add(relative)
    return frozenset(found)


def _check_ids(allow: tuple[str, ...], waivers: Mapping[str, str], source: str) -> None:
    for check_id, where in [*((a, "--allow") for a in allow), *((w, source) for w in waivers)]:
        if check_id not in CHECK_IDS:
            raise InputError(
                f"{where}: unknown check {check_id!r}", hint="checks: " + ", ".join(CHECK_IDS)
            )


def _verification(
    options: SignoffOptions,
    lockfile: Lockfile | None,
    lock_text: str,
    lock_path: Path | None,
    commit: str | None,
) -> Verification | None:
    if options.verification is not None:
        raw = read_regular_file(options.verification, limit=MAX_JSON_BYTES)
        data = load_json(raw, str(options.verification))
        record = VerificationRecord.from_json(data, str(options.verification))
        return verification_from_record(record, str(options.verification))
    if lockfile is None or lock_path is None or commit is None:
        return None
    releases = releases_of(lockfile, lock_text, str(lock_path))
    return verification_from_lockfile(releases, commit, lock_path.name)


def _fresh_checkout(
    git: SourceControl,
    root: Path | None,
    commit: str | None,
    context: Path,
    dockerfile: Path | None,
    workspace: Path,
    phase: Callable[[str], None],
) -> tuple[Path, Path | None]:
    """Build what `repro verify` builds: a fresh checkout of the commit (as its build A),
    so the image signed off is the verified one. A dirty tree is built as it is."""
    if root is None or commit is None or git.dirty_paths(root, context):
        return context, dockerfile
    phase(f"checking out {commit[:12]} ({VARIATION_A.describe()})")
    source = fresh_checkout(git, root, commit, workspace / "src", VARIATION_A)

    def moved(path: Path) -> Path:
        return source / path.relative_to(root) if root in path.parents or path == root else path

    return moved(context), moved(dockerfile) if dockerfile is not None else None


def run_signoff(
    options: SignoffOptions,
    *,
    config: ProjectConfig,
    builder: Builder,
    source_control: SourceControl,
    opener: ImageOpener,
    on_log: Callable[[str], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> SignoffReport:
    """Sign off ``options.image``, or the image built once from ``options.context``."""
    git = source_control
    phase = on_phase or (lambda _text: None)
    context = options.context.resolve()
    if not context.is_dir():
        raise InputError(f"build context {options.context} is not a directory")
    dockerfile_path = (options.dockerfile or context / "Dockerfile").resolve()
    if not dockerfile_path.is_file():
        if options.image is None:
            raise InputError(f"{dockerfile_path} not found", hint="Pass the Dockerfile with -f.")
        dockerfile_path = None  # type: ignore[assignment]
    config_source = str(config.source or "config")
    _check_ids(options.allow, config.signoff_waivers, config_source)
    budget = options.size_budget
    if budget is None and config.signoff_size_budget is not None:
        budget = parse_size(config.signoff_size_budget)

    root = repository_root(context)
    commit = git.head_commit(root) if root else None
    epoch = options.epoch.seconds
    if epoch is None and root is not None:
        epoch = git.commit_epoch(context)
    if epoch is not None:
        check_epoch_build_arg(options.build_args, epoch)

    dockerfile: Dockerfile | None = None
    dockerfile_sha: str | None = None
    display_df: str | None = None
    if dockerfile_path is not None:
        data = dockerfile_path.read_bytes()
        display_df = _display(dockerfile_path, context)
        dockerfile = parse_dockerfile(data, display_df)
        dockerfile_sha = hashlib.sha256(data).hexdigest()
    lock_path = nearest_lockfile(
        (dockerfile_path or context).parent if dockerfile_path else context, stop=root
    )
    lock_text = read_lockfile_text(lock_path) if lock_path else None
    lockfile: Lockfile | None = (
        parse_lockfile(lock_text, str(lock_path)) if lock_text is not None else None
    )
    ignore_path, ignore_patterns = read_dockerignore(context, dockerfile_path)

    workspace: Path | None = None
    try:
        if options.image is not None:
            phase(f"opening {options.image}")
            source = opener.open(options.image)
            image_label = options.image
        else:
            if epoch is None:
                raise InputError(
                    f"{context} is not in a git repository, so there is no SOURCE_DATE_EPOCH",
                    hint="Commit the context, pass --epoch N, or pass --image.",
                )
            workspace = Path(tempfile.mkdtemp(prefix="repro-signoff-"))
            build_context, build_dockerfile = _fresh_checkout(
                git, root, commit, context, dockerfile_path, workspace, phase
            )
            phase(f"building {display_df} (SOURCE_DATE_EPOCH={epoch})")
            dest = builder.build(
                BuildRequest(
                    context=build_context,
                    dest=workspace / "image.oci.tar",
                    source_date_epoch=epoch,
                    dockerfile=build_dockerfile,
                    platforms=(options.platform,) if options.platform else (),
                    build_args=options.build_args,
                    builder=options.builder,
                ),
                on_log=on_log,
            )
            source = open_image(dest)
            image_label = f"built from {_display(context, context.parent)}"
        phase("reading the image's config, history and every layer")
        digest, facts = gather_image(source, platform=options.platform)
    finally:
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)
    if not facts:
        raise InputError(f"{image_label}: no image for platform {options.platform}")

    ctx = CheckContext(
        images=facts,
        image_digest=digest,
        dockerfile=dockerfile,
        lockfile=lockfile,
        lockfile_path=_display(lock_path, context) if lock_path else LOCKFILE_NAME,
        dockerignore=ignore_patterns,
        dockerignore_path=_display(ignore_path, context),
        context_paths=list_context(context),
        verification=_verification(options, lockfile, lock_text or "", lock_path, commit),
        commit=commit,
        dockerfile_sha256=dockerfile_sha,
        source_date_epoch=epoch,
        size_budget=budget,
        build_args=dict(options.build_args),
    )
    return evaluate(
        ctx,
        image=image_label,
        dockerfile=display_df,
        context=_display(context, context.parent),
        waivers=config.signoff_waivers,
        allow=options.allow,
    )


def sign_report(report: SignoffReport, key: SigningKey) -> bytes:
    """The report as an in-toto Statement (subject: the image) in a DSSE envelope."""
    from repro.release import attest

    statement = attest.make_statement(
        report.image,
        report.image_digest,
        report.to_json(),
        predicate_type=attest.SIGNOFF_PREDICATE_TYPE,
    )
    return attest.sign(statement, key).dumps()
