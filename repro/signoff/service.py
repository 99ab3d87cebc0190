"""`repro signoff` as a service: find the project's files, get the image (build it once, or
open the one given), and hand both to the pure checklist in repro.signoff."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from repro import git
from repro.config import load_config
from repro.dockerfile import Dockerfile, parse_dockerfile
from repro.errors import GitError, InputError
from repro.lockfile import LOCKFILE_NAME, Lockfile, read_lockfile
from repro.oci.blobsource import BlobSource
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
    epoch: int | None = None
    builder: str | None = None


def _display(path: Path, base: Path) -> str:
    cwd = Path.cwd().resolve()
    for anchor in (cwd, base):
        if path == anchor or anchor in path.parents:
            return str(path.relative_to(anchor))
    return str(path)


def _maybe_root(context: Path) -> Path | None:
    try:
        return git.repo_root(context)
    except (InputError, GitError):
        return None


def _find_lockfile(start: Path, stop: Path | None) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / LOCKFILE_NAME).is_file():
            return directory / LOCKFILE_NAME
        if stop is not None and directory == stop:
            break
    return None


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


def _check_ids(allow: tuple[str, ...], waivers: Mapping[str, str], source: str) -> None:
    for check_id, where in [*((a, "--allow") for a in allow), *((w, source) for w in waivers)]:
        if check_id not in CHECK_IDS:
            raise InputError(
                f"{where}: unknown check {check_id!r}", hint="checks: " + ", ".join(CHECK_IDS)
            )


def _open(text: str, mirrors: Mapping[str, str], insecure: frozenset[str]) -> BlobSource:
    from repro.oci import open_image
    from repro.registry.image import looks_like_registry_reference, open_registry_image

    if looks_like_registry_reference(text) and not Path(text).exists():
        return open_registry_image(text, mirrors=mirrors, insecure=insecure)
    return open_image(text)


def _verification(
    options: SignoffOptions, lockfile: Lockfile | None, lock_path: Path | None, commit: str | None
) -> Verification | None:
    if options.verification is not None:
        try:
            record = json.loads(options.verification.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{options.verification}: not a readable JSON record: {exc}") from exc
        found = (
            verification_from_record(record, str(options.verification))
            if isinstance(record, dict)
            else None
        )
        if found is None:
            raise InputError(
                f"{options.verification} is not a `repro verify --json` record",
                hint="write one with `repro verify --json > verify.json`",
            )
        return found
    if lockfile is not None and commit is not None and lock_path is not None:
        return verification_from_lockfile(lockfile, commit, lock_path.name)
    return None


def _fresh_checkout(
    root: Path | None,
    commit: str | None,
    context: Path,
    dockerfile: Path | None,
    workspace: Path,
    phase: Callable[[str], None],
) -> tuple[Path, Path | None]:
    """Build what `repro verify` builds: a fresh checkout of the commit (as its build A),
    so the image signed off is the verified one. A dirty tree is built as it is."""
    from repro.verify.service import VARIATION_A

    if root is None or commit is None or git.dirty_paths(root, context):
        return context, dockerfile
    phase(f"checking out {commit[:12]} ({VARIATION_A.describe()})")
    source = git.clone_at(
        root,
        commit,
        workspace / "src",
        umask=VARIATION_A.umask,
        env={**os.environ, **VARIATION_A.env},
    )

    def moved(path: Path) -> Path:
        return source / path.relative_to(root) if root in path.parents or path == root else path

    return moved(context), moved(dockerfile) if dockerfile is not None else None


def run_signoff(
    options: SignoffOptions,
    on_log: Callable[[str], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> SignoffReport:
    phase = on_phase or (lambda _text: None)
    context = options.context.resolve()
    if not context.is_dir():
        raise InputError(f"build context {options.context} is not a directory")
    dockerfile_path = (options.dockerfile or context / "Dockerfile").resolve()
    if not dockerfile_path.is_file():
        if options.image is None:
            raise InputError(f"{dockerfile_path} not found", hint="Pass the Dockerfile with -f.")
        dockerfile_path = None  # type: ignore[assignment]
    config = load_config(context)
    config_source = str(config.source or "config")
    _check_ids(options.allow, config.signoff_waivers, config_source)
    budget = options.size_budget
    if budget is None and config.signoff_size_budget is not None:
        budget = parse_size(config.signoff_size_budget)

    root = _maybe_root(context)
    commit = git.head_commit(root) if root else None
    epoch = options.epoch
    if epoch is None and root is not None:
        epoch = git.commit_epoch(context)

    dockerfile: Dockerfile | None = None
    dockerfile_sha: str | None = None
    display_df: str | None = None
    if dockerfile_path is not None:
        data = dockerfile_path.read_bytes()
        display_df = _display(dockerfile_path, context)
        dockerfile = parse_dockerfile(data, display_df)
        dockerfile_sha = hashlib.sha256(data).hexdigest()
    lock_path = _find_lockfile(
        (dockerfile_path or context).parent if dockerfile_path else context, root
    )
    lockfile = read_lockfile(lock_path) if lock_path else None
    ignore_path, ignore_patterns = read_dockerignore(context, dockerfile_path)

    workspace: Path | None = None
    try:
        if options.image is not None:
            phase(f"opening {options.image}")
            source = _open(options.image, config.mirrors, config.insecure_registries)
            image_label = options.image
        else:
            from repro.build.buildx import BuildRequest, build_oci
            from repro.oci import open_image

            if epoch is None:
                raise InputError(
                    f"{context} is not in a git repository, so there is no SOURCE_DATE_EPOCH",
                    hint="Commit the context, pass --epoch N, or pass --image.",
                )
            workspace = Path(tempfile.mkdtemp(prefix="repro-signoff-"))
            build_context, build_dockerfile = _fresh_checkout(
                root, commit, context, dockerfile_path, workspace, phase
            )
            phase(f"building {display_df} (SOURCE_DATE_EPOCH={epoch})")
            dest = build_oci(
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
        verification=_verification(options, lockfile, lock_path, commit),
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


def sign_report(report: SignoffReport, key_path: Path) -> bytes:
    """The report as an in-toto Statement (subject: the image) in a DSSE envelope."""
    from repro.release import attest
    from repro.render.signoff import signoff_record

    if not key_path.is_file():
        raise InputError(f"{key_path} not found", hint="Create a key with `repro keygen`.")
    key = attest.load_private_key(key_path.read_bytes(), str(key_path))
    statement = attest.make_statement(
        report.image,
        report.image_digest,
        signoff_record(report),
        predicate_type=attest.SIGNOFF_PREDICATE_TYPE,
    )
    return attest.sign(statement, key).dumps()
