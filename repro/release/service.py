"""The release commands end to end: verify, record, push, sign, publish, check, rebuild.

Touches the world only through the adapters it is given (a Builder and SourceControl as
repro.verify declares them, an EngineProbe, a ReleaseRegistry, an ImageOpener) and
repro.fsutil; the decisions are in repro.release.record and repro.release.attest.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from repro.build.model import BuildRequest
from repro.dockerfile import ImageRef, parse_image_ref
from repro.environment import EngineFacts, buildkit_version
from repro.errors import GitError, InputError, VerdictError
from repro.fsutil import atomic_write_bytes, atomic_write_text, file_lock
from repro.lockfile import (
    Lockfile,
    Release,
    dump_lockfile,
    parse_lockfile,
    read_lockfile_text,
    releases_of,
    utc_now,
    with_release,
)
from repro.oci import Comparison, compare_images, open_image, resolve_tree
from repro.oci.blobsource import ImageOpener
from repro.oci.mediatypes import DSSE_ENVELOPE, JSON, REPRO_SIGNOFF
from repro.project import (
    find_lockfile,
    guard_path,
    release_lockfile,
    repository_root,
    require_repository_root,
)
from repro.registry.model import (
    Artifact,
    Attachment,
    ManifestResponse,
    PushedImage,
    Referrer,
    ReferrerListing,
)
from repro.release import attest
from repro.release.keys import SigningKey
from repro.release.record import (
    ReleaseDiff,
    check_version,
    diff_releases,
    image_mismatches,
    pinned_bases,
    release_images,
)
from repro.verify.model import VerifyResult
from repro.verify.service import (
    VARIATION_A,
    Builder,
    LogSink,
    SourceControl,
    VerifyOptions,
    fresh_checkout,
    plan_verify,
    run_verify,
)

SIGNATURE_DIR = Path(".repro") / "releases"
VERSION_ANNOTATION = "dev.repro.release.version"


class ReleaseRegistry(Protocol):
    """The registry as releases need it: push a verified image, attach and find artifacts."""

    def push_archive(self, archive: Path, ref: ImageRef) -> PushedImage: ...

    def manifest(self, ref: ImageRef) -> ManifestResponse: ...

    def attach(
        self,
        ref: ImageRef,
        subject: ManifestResponse,
        artifacts: Sequence[Artifact],
        annotations: Mapping[str, str],
    ) -> Attachment: ...

    def referrers(self, ref: ImageRef) -> ReferrerListing: ...

    def artifact_blob(self, ref: ImageRef, referrer: Referrer, subject_digest: str) -> bytes: ...


class EngineProbe(Protocol):
    """What the engine and a buildx builder are (a release records their versions)."""

    def probe(self, builder: str | None = None) -> EngineFacts: ...


Phase = Callable[[str], None]


def _quiet(_text: str) -> None:
    return None


# -- repro.lock --------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    """repro.lock and the releases recorded in it."""

    path: Path
    lock: Lockfile
    releases: dict[str, Release]

    def get(self, version: str) -> Release:
        release = self.releases.get(version)
        if release is None:
            known = ", ".join(self.releases) or "none"
            raise InputError(
                f"release {version} is not recorded in {self.path} (recorded: {known})"
            )
        return release


def read_book(path: Path) -> Book:
    text = read_lockfile_text(path)
    if text is None:
        return Book(path, Lockfile(), {})
    lock = parse_lockfile(text, str(path))
    return Book(path, lock, releases_of(lock, text, str(path)))


def signature_path(lockfile: Path, version: str) -> Path:
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.dsse.json"


def _push_reference(text: str) -> ImageRef:
    ref = parse_image_ref(text)
    if ref.digest is not None or ref.implicit_latest:
        raise InputError(
            f"--push needs registry/repository:tag, not {text!r}",
            hint="e.g. --push localhost:5000/team/app:1.4.0",
        )
    return ref


# -- repro release -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseRequest:
    version: str
    options: VerifyOptions
    push: str | None = None
    sign_key: Path | None = None
    replace: bool = False


@dataclass(frozen=True)
class ReleaseOutcome:
    result: VerifyResult
    release: Release | None  # None: the builds differ, nothing was recorded
    lockfile: Path
    replaced: bool = False
    signature: Path | None = None


def run_release(
    request: ReleaseRequest,
    *,
    builder: Builder,
    engine: EngineProbe,
    source_control: SourceControl,
    registry: ReleaseRegistry,
    on_log: LogSink | None = None,
    on_phase: Phase | None = None,
) -> ReleaseOutcome:
    """Verify, then record the release in repro.lock (pushing and signing it if asked)."""
    phase = on_phase or _quiet
    version = check_version(request.version)
    context = request.options.context.resolve()
    root = require_repository_root(context)
    lockfile = release_lockfile(context, root)
    existing = read_book(lockfile)
    if version in existing.releases and not request.replace:
        raise InputError(
            f"release {version} is already recorded in {lockfile}",
            hint="pass --replace to record it again",
        )
    push_ref = _push_reference(request.push) if request.push else None
    key = (
        attest.load_private_key(request.sign_key.read_bytes(), str(request.sign_key))
        if request.sign_key
        else None
    )
    builders = request.options.builders
    with tempfile.TemporaryDirectory(prefix="repro-release-") as workspace:
        keep = Path(workspace)
        plan = plan_verify(replace(request.options, keep=keep), source_control)
        facts = engine.probe(builders[0] if builders else None)
        result = run_verify(
            plan,
            builder=builder,
            source_control=source_control,
            on_log=on_log,
            on_phase=on_phase,
        )
        if not result.identical:
            return ReleaseOutcome(result, None, lockfile)
        archive = keep / "a.oci.tar"
        tree = resolve_tree(open_image(archive))
        images = release_images(tree)
        repository = None
        if push_ref is not None:
            repository = f"{push_ref.name}:{push_ref.tag}"
            phase(f"pushing the verified image to {repository}")
            _push_and_check(registry, archive, push_ref, tree.image_digest)
    data = (root / result.dockerfile).read_bytes()
    release = Release(
        version=version,
        commit=result.commit,
        tag=source_control.exact_tag(root),
        context=str(context.relative_to(root)) if context != root else ".",
        dockerfile=result.dockerfile,
        dockerfile_sha256=result.dockerfile_sha256,
        source_date_epoch=result.epoch,
        build_args=dict(result.build_args),
        target=result.target,
        platforms=tuple(result.platforms),
        bases=pinned_bases(data, result.dockerfile),
        digest=tree.image_digest,
        images=images,
        buildkit=buildkit_version(facts).text,
        buildx=facts.buildx_version,
        verified_at=utc_now(),
        repository=repository,
    )
    with file_lock(guard_path(lockfile.parent)):
        book = read_book(lockfile)
        if version in book.releases and not request.replace:
            raise InputError(f"release {version} was recorded meanwhile in {lockfile}")
        atomic_write_text(lockfile, dump_lockfile(with_release(book.lock, release)))
    signature = None
    if key is not None:
        signature = _write_signature(lockfile, release, key)
    return ReleaseOutcome(
        result, release, lockfile, replaced=version in existing.releases, signature=signature
    )


def _push_and_check(registry: ReleaseRegistry, archive: Path, ref: ImageRef, digest: str) -> None:
    pushed = registry.push_archive(archive, ref)
    if pushed.served_digest != digest:
        raise VerdictError(
            f"{ref.name}:{ref.tag} serves {pushed.served_digest} after the push, "
            f"but the verified image is {digest}; nothing was recorded",
            hint=None if pushed.loopback else "check for a proxy rewriting images",
        )


# -- sign / verify-release / publish -----------------------------------------------------


def _subject_name(release: Release) -> str:
    if release.repository is None:
        return "image"
    return parse_image_ref(release.repository).name


def _envelope(release: Release, key: SigningKey) -> attest.Envelope:
    payload = attest.make_statement(_subject_name(release), release.digest, release.to_toml())
    return attest.sign(payload, key)


def _write_signature(lockfile: Path, release: Release, key: SigningKey) -> Path:
    path = signature_path(lockfile, release.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, _envelope(release, key).dumps())
    return path


@dataclass(frozen=True)
class SignOutcome:
    release: Release
    path: Path
    keyid: str


def sign_release(lockfile: Path, version: str, key_path: Path) -> SignOutcome:
    release = read_book(lockfile).get(version)
    key = attest.load_private_key(_read(key_path), str(key_path))
    path = _write_signature(lockfile, release, key)
    return SignOutcome(release, path, attest.key_id(key.public_key()))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path} not found") from exc
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}") from exc


@dataclass(frozen=True)
class ReleaseCheck:
    release: Release
    source: str  # where the envelope came from
    keyid: str  # the key that verified it
    problems: tuple[str, ...]  # empty: the signed statement matches repro.lock

    @property
    def ok(self) -> bool:
        return not self.problems


def check_release(
    lockfile: Path,
    version: str,
    pubkey: Path,
    from_ref: str | None = None,
    registry: ReleaseRegistry | None = None,
) -> ReleaseCheck:
    """Check a release's signature and that what it signs is what repro.lock records.

    With ``from_ref`` the envelope comes from ``registry`` (published beside the image).
    """
    release = read_book(lockfile).get(version)
    key = attest.load_public_key(_read(pubkey), str(pubkey))
    problems: list[str] = []
    if from_ref is None:
        path = signature_path(lockfile, version)
        if not path.is_file():
            raise VerdictError(
                f"release {version} is not signed: {path} does not exist",
                hint=f"sign it with `repro sign {version} --key KEY`",
            )
        data, source = path.read_bytes(), str(path)
    else:
        if registry is None:
            raise InputError(f"no registry to fetch the envelope for {from_ref} from")
        data, source, served = fetch_envelope(registry, from_ref, version)
        if served != release.digest:
            problems.append(f"{from_ref} serves {served}, repro.lock has {release.digest}")
    envelope = attest.parse_envelope(data, source)
    attest.verify_envelope(envelope, key)
    problems.extend(
        attest.statement_mismatches(envelope.payload, release.digest, release.to_toml())
    )
    return ReleaseCheck(release, source, attest.key_id(key), tuple(problems))


@dataclass(frozen=True)
class PublishOutcome:
    release: Release
    reference: str
    artifact_digest: str
    referrers_tag: str
    referrers: int  # how many referrers the tag lists now


def publish(
    lockfile: Path, version: str, to: str, key_path: Path, registry: ReleaseRegistry
) -> PublishOutcome:
    """Push the signed statement as an OCI artifact whose subject is the image."""
    release = read_book(lockfile).get(version)
    key = attest.load_private_key(_read(key_path), str(key_path))
    ref = parse_image_ref(to)
    subject = registry.manifest(ref)
    if subject.digest != release.digest:
        raise VerdictError(
            f"{to} serves {subject.digest}, but release {version} is {release.digest}",
            hint=f"push the release first: `repro release {version} --push {to} --replace`",
        )
    envelope = _envelope(release, key)
    _write_signature(lockfile, release, key)
    artifacts = [Artifact(DSSE_ENVELOPE, DSSE_ENVELOPE, envelope.dumps())]
    report = signoff_path(lockfile, version)
    if report.is_file():  # a sign-off report stored with the release travels with it
        data = report.read_bytes()
        layer_type = DSSE_ENVELOPE if b'"payloadType"' in data else JSON
        artifacts.append(Artifact(REPRO_SIGNOFF, layer_type, data))
    attached = registry.attach(ref, subject, artifacts, {VERSION_ANNOTATION: version})
    digest = attached.pushed[0].digest
    return PublishOutcome(
        release, f"{ref.name}@{digest}", digest, attached.referrers_tag, attached.listed
    )


# -- sign-off reports stored with a release ----------------------------------------------


def signoff_path(lockfile: Path, version: str) -> Path:
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.signoff.json"


def attach_signoff(start: Path, version: str, image_digest: str, document: bytes) -> Path:
    """Store a sign-off report (JSON or its DSSE envelope) with release ``version``.

    The report must be about the released image: `repro publish` pushes it beside it.
    """
    lockfile = find_lockfile(start)
    release = read_book(lockfile).get(version)
    if image_digest != release.digest:
        raise InputError(
            f"the signed-off image is {image_digest}, but release {version} is {release.digest}",
            hint="sign off the released image: pass --image with the pushed release reference",
        )
    path = signoff_path(lockfile, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, document)
    return path


def fetch_envelope(
    registry: ReleaseRegistry, reference: str, version: str
) -> tuple[bytes, str, str]:
    """(envelope bytes, where it was found, the image digest) from the registry alone."""
    ref = parse_image_ref(reference)
    listing = registry.referrers(ref)
    served = listing.subject_digest
    candidates = [r for r in listing.referrers if r.artifact_type == DSSE_ENVELOPE]
    if not candidates:
        raise VerdictError(
            f"{ref.name}@{served} has no published signature "
            f"(no {listing.referrers_tag} referrers tag lists one)",
            hint=f"publish it with `repro publish {version} --to {reference} --key KEY`",
        )
    for_version = [r for r in candidates if r.annotations.get(VERSION_ANNOTATION) == version]
    chosen = (for_version or candidates)[-1]
    where = f"{ref.name}@{chosen.digest}"
    return registry.artifact_blob(ref, chosen, served), where, served


# -- show / diff -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureStatus:
    path: Path
    present: bool
    keyid: str | None  # who signed it (the envelope's keyid), when present
    verified: bool | None  # None: no public key given to check it with
    problems: tuple[str, ...] = ()


def signature_status(lockfile: Path, version: str, pubkey: Path | None) -> SignatureStatus:
    path = signature_path(lockfile, version)
    if not path.is_file():
        return SignatureStatus(path, False, None, None)
    try:
        envelope = attest.parse_envelope(path.read_bytes(), str(path))
    except VerdictError as error:
        return SignatureStatus(path, True, None, False if pubkey else None, (error.message,))
    keyid = envelope.signatures[0].keyid if envelope.signatures else None
    if pubkey is None:
        return SignatureStatus(path, True, keyid, None)
    try:
        check = check_release(lockfile, version, pubkey)
    except VerdictError as error:
        return SignatureStatus(path, True, keyid, False, (error.message,))
    return SignatureStatus(path, True, keyid, check.ok, check.problems)


def release_diff(
    lockfile: Path, old: str, new: str, *, source_control: SourceControl
) -> ReleaseDiff:
    book = read_book(lockfile)
    a, b = book.get(old), book.get(new)
    diff = diff_releases(a, b)
    root = repository_root(lockfile.parent)
    try:
        if root is None:
            raise InputError(f"{lockfile.parent} is not in a git repository")
        commits = tuple(source_control.log(root, a.commit, b.commit))
    except (InputError, GitError):
        commits = ("(git history not available here)",)
    return replace(diff, commits=commits)


# -- rebuild -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildOutcome:
    release: Release
    rebuilt_digest: str
    against: str | None  # the registry reference compared with, or None: the record
    expected_digest: str
    problems: tuple[str, ...]
    comparison: Comparison | None  # with --against: the compare engine's answer

    @property
    def identical(self) -> bool:
        return not self.problems


def rebuild(
    lockfile: Path,
    version: str,
    *,
    builder: Builder,
    source_control: SourceControl,
    opener: ImageOpener,
    against: str | None = None,
    builder_name: str | None = None,
    on_log: Callable[[str], None] | None = None,
    on_phase: Phase | None = None,
) -> RebuildOutcome:
    """Check out the recorded commit afresh, build it once as recorded, and compare."""
    phase = on_phase or _quiet
    release = read_book(lockfile).get(version)
    root = require_repository_root(lockfile.parent)
    if not source_control.has_commit(root, release.commit):
        raise InputError(f"commit {release.commit} of release {version} is not in {root}")
    remote = opener.open(against) if against else None
    with tempfile.TemporaryDirectory(prefix="repro-rebuild-") as workspace:
        source = Path(workspace) / "src"
        phase(f"checking out {release.commit[:12]} ({version})")
        fresh_checkout(source_control, root, release.commit, source, VARIATION_A)
        problems: list[str] = []
        dockerfile = source / release.dockerfile
        sha = hashlib.sha256(_read(dockerfile)).hexdigest()
        if sha != release.dockerfile_sha256:
            problems.append(
                f"{release.dockerfile} at {release.commit[:12]} hashes to {sha}, "
                f"repro.lock records {release.dockerfile_sha256}"
            )
        dest = Path(workspace) / "rebuild.oci.tar"
        phase(f"building {version} with SOURCE_DATE_EPOCH={release.source_date_epoch}")
        builder.build(
            BuildRequest(
                context=source / release.context,
                dockerfile=dockerfile,
                dest=dest,
                source_date_epoch=release.source_date_epoch,
                target=release.target,
                platforms=release.platforms,
                build_args=release.build_args,
                builder=builder_name,
            ),
            on_log=on_log,
        )
        tree = resolve_tree(open_image(dest))
        comparison = None
        if remote is None:
            expected = release.digest
            problems.extend(
                image_mismatches(
                    release.digest, release.images, tree.image_digest, release_images(tree)
                )
            )
        else:
            phase(f"comparing with {against}")
            comparison = compare_images(remote, open_image(dest))
            expected = comparison.image_digest_a
            if not comparison.bit_identical:
                problems.append(f"{against} is {expected}, the rebuild is {tree.image_digest}")
    return RebuildOutcome(
        release, tree.image_digest, against, expected, tuple(problems), comparison
    )
