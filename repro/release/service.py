"""The release commands end to end: verify, record, push, sign, publish, check, rebuild.

Touches the world only through the adapters it is given (a Builder and SourceControl as
repro.verify declares them, an EngineProbe, a ReleaseRegistry, an ImageOpener) and
repro.fsutil; the decisions are in repro.release.record, .attest, .slsa and .publish.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from repro import __version__
from repro.build.model import BuildRequest
from repro.dockerfile import ImageRef, parse_image_ref
from repro.environment import EngineFacts, buildkit_version
from repro.errors import GitError, InputError, VerdictError
from repro.fsutil import atomic_write_bytes, atomic_write_text, file_lock, read_regular_file
from repro.jsonout import MAX_JSON_BYTES, dumps_stable, load_object
from repro.lockfile import (
    Lockfile,
    Release,
    ReleaseBuild,
    dump_lockfile,
    parse_lockfile,
    read_lockfile_text,
    releases_of,
    utc_now,
    with_release,
)
from repro.oci import Comparison, compare_images, open_image, resolve_tree
from repro.oci.blobsource import ImageOpener
from repro.project import (
    find_lockfile,
    guard_path,
    release_lockfile,
    repository_root,
    require_repository_root,
)
from repro.registry.model import ManifestResponse, PushedImage
from repro.release import attest, slsa
from repro.release.keys import SigningKey, VerifyingKey
from repro.release.publish import (
    AttestationRegistry,
    Publication,
    Publications,
    SignedStatement,
    publish_statements,
    published_envelopes,
)
from repro.release.record import (
    ReleaseDiff,
    check_version,
    diff_releases,
    image_mismatches,
    pinned_bases,
    release_images,
)
from repro.verify.model import DEFAULT_BUILDER, VerifyResult
from repro.verify.service import (
    SYSTEM_CLOCK,
    VARIATION_A,
    Builder,
    Clock,
    LogSink,
    SourceControl,
    VerifyOptions,
    fresh_checkout,
    plan_verify,
    run_verify,
)

SIGNATURE_DIR = Path(".repro") / "releases"


class ReleaseRegistry(AttestationRegistry, Protocol):
    """The registry as releases need it: push a verified image, attach statements to it
    and find them again (repro.registry.referrers.ArtifactRegistry in real use)."""

    def push_archive(self, archive: Path, ref: ImageRef) -> PushedImage: ...


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
    sign_key: SigningKey | None = None  # loaded by the caller (it asks for the password)
    replace: bool = False


@dataclass(frozen=True)
class ReleaseOutcome:
    result: VerifyResult
    release: Release | None  # None: the builds differ, nothing was recorded
    lockfile: Path
    replaced: bool = False
    signature: Path | None = None  # the release statement's envelope, when signed
    signed: tuple[Path, ...] = ()  # every envelope written (release, provenance)
    publication: PublishOutcome | None = None  # --push with --sign: published beside it


def run_release(
    request: ReleaseRequest,
    *,
    builder: Builder,
    engine: EngineProbe,
    source_control: SourceControl,
    registry: ReleaseRegistry,
    on_log: LogSink | None = None,
    on_phase: Phase | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ReleaseOutcome:
    """Verify, then record the release in repro.lock (pushing and signing it if asked;
    both: its statements are published beside the pushed image)."""
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
    key = request.sign_key
    builders = request.options.builders
    started_at = utc_now()
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
            clock=clock,
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
    digests = (result.comparison.image_digest_a, result.comparison.image_digest_b)
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
        builds=tuple(
            ReleaseBuild(build.name, build.builder or DEFAULT_BUILDER, digest)
            for build, digest in zip(result.builds, digests, strict=True)
        ),
        started_at=started_at,
        source=source_control.remote_url(root),
        attest=result.attest,
        repro=__version__,
        variations=tuple(variation.name for variation in result.variations),
    )
    with file_lock(guard_path(lockfile.parent)):
        book = read_book(lockfile)
        if version in book.releases and not request.replace:
            raise InputError(f"release {version} was recorded meanwhile in {lockfile}")
        atomic_write_text(lockfile, dump_lockfile(with_release(book.lock, release)))
    replaced = version in existing.releases
    if key is None:
        return ReleaseOutcome(result, release, lockfile, replaced=replaced)
    signed = sign_statements(lockfile, release, key)
    published = None
    if push_ref is not None:
        phase(f"publishing the signed statements beside {repository}")
        published = _publish(
            lockfile, release, push_ref, registry.manifest(push_ref), key, registry
        )
    return ReleaseOutcome(
        result,
        release,
        lockfile,
        replaced=replaced,
        signature=signature_path(lockfile, version),
        signed=signed.paths,
        publication=published,
    )


def _push_and_check(registry: ReleaseRegistry, archive: Path, ref: ImageRef, digest: str) -> None:
    pushed = registry.push_archive(archive, ref)
    if pushed.served_digest != digest:
        raise VerdictError(
            f"{ref.name}:{ref.tag} serves {pushed.served_digest} after the push, "
            f"but the verified image is {digest}; nothing was recorded",
            hint=None if pushed.loopback else "check for a proxy rewriting images",
        )


# -- statements: sign, publish, check ----------------------------------------------------
#
# A release carries up to three signed statements, each stored next to repro.lock in
# .repro/releases/ and published beside the image (repro.release.publish):
#   <v>.dsse.json             the release statement (predicate: the [[release]] table)
#   <v>.provenance.dsse.json  SLSA provenance v1 (repro.release.slsa)
#   <v>.signoff.json          a sign-off report (JSON, or its DSSE envelope), when stored
# and <v>.published.json records where they were published.


def _subject_name(release: Release) -> str:
    if release.repository is None:
        return "image"
    return parse_image_ref(release.repository).name


def provenance_path(lockfile: Path, version: str) -> Path:
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.provenance.dsse.json"


def publications_path(lockfile: Path, version: str) -> Path:
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.published.json"


def _signed(path: Path, payload: bytes, key: SigningKey) -> attest.Envelope:
    """The envelope stored at ``path`` when it signs exactly ``payload`` with ``key`` (so a
    statement signed once is published as the same bytes every time); else a new one,
    written there."""
    if path.is_file():
        try:
            stored = attest.parse_envelope(path.read_bytes(), str(path))
            if stored.payload == payload and len(stored.signatures) == 1:
                attest.verify_envelope(stored, key.public_key())
                return stored
        except VerdictError:
            pass  # altered, or another key's: signed afresh below
    envelope = attest.sign(payload, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, envelope.dumps())
    return envelope


@dataclass(frozen=True)
class SignedRelease:
    """The statements signed for a release, and where each envelope is stored."""

    statements: tuple[SignedStatement, ...]
    paths: tuple[Path, ...]
    skipped: tuple[str, ...] = ()  # what could not be signed, and why


def sign_statements(
    lockfile: Path, release: Release, key: SigningKey, *, signoff: bool = False
) -> SignedRelease:
    """Sign the release statement and its SLSA provenance (and, with ``signoff``, the
    stored sign-off report) with ``key``; store each envelope next to repro.lock."""
    public = key.public_key()
    subject = _subject_name(release)
    release_payload = attest.make_statement(subject, release.digest, release.to_toml())
    statements = [
        SignedStatement(
            attest.PREDICATE_TYPE,
            _signed(signature_path(lockfile, release.version), release_payload, key),
            public,
        )
    ]
    paths = [signature_path(lockfile, release.version)]
    skipped = []
    if slsa.has_provenance(release):
        path = provenance_path(lockfile, release.version)
        payload = slsa.provenance_statement(release, subject)
        statements.append(SignedStatement(slsa.PREDICATE_TYPE, _signed(path, payload, key), public))
        paths.append(path)
    else:
        skipped.append(
            f"no SLSA provenance: release {release.version} was recorded without its builds "
            f"(record it again with `repro release {release.version} --replace`)"
        )
    if signoff:
        found = _signoff_statement(lockfile, release, key)
        if found is not None:
            statements.append(found[0])
            paths.append(found[1])
    return SignedRelease(tuple(statements), tuple(paths), tuple(skipped))


def _signoff_statement(
    lockfile: Path, release: Release, key: SigningKey
) -> tuple[SignedStatement, Path] | None:
    """The stored sign-off report as a signed statement about the image: its envelope as
    stored (whoever signed it), or, for a plain JSON report, signed with ``key``."""
    path = signoff_path(lockfile, release.version)
    if not path.is_file():
        return None
    data = _read(path)
    where = str(path)
    document = load_object(data, where)
    if "payloadType" in document:
        envelope = attest.parse_envelope(data, where)
        statement = attest.parse_statement(envelope.payload, where)
        if statement.predicate_type != attest.SIGNOFF_PREDICATE_TYPE:
            raise VerdictError(f"{where} is a {statement.predicate_type} statement, not a sign-off")
        if not statement.names(release.digest):
            raise VerdictError(
                f"{where} is about {', '.join(statement.subject_digests)}, "
                f"not release {release.version} ({release.digest})"
            )
        public = key.public_key()
        try:
            attest.verify_envelope(envelope, public)
        except VerdictError:
            return SignedStatement(attest.SIGNOFF_PREDICATE_TYPE, envelope, None), path
        return SignedStatement(attest.SIGNOFF_PREDICATE_TYPE, envelope, public), path
    payload = attest.make_statement(
        _subject_name(release), release.digest, document, attest.SIGNOFF_PREDICATE_TYPE
    )
    signed_path = signed_signoff_path(lockfile, release.version)
    envelope = _signed(signed_path, payload, key)
    return SignedStatement(attest.SIGNOFF_PREDICATE_TYPE, envelope, key.public_key()), signed_path


@dataclass(frozen=True)
class SignOutcome:
    release: Release
    path: Path  # the release statement's envelope
    keyid: str
    paths: tuple[Path, ...] = ()  # every envelope written (release, provenance)
    skipped: tuple[str, ...] = ()


def sign_release(lockfile: Path, version: str, key: SigningKey) -> SignOutcome:
    release = read_book(lockfile).get(version)
    signed = sign_statements(lockfile, release, key)
    return SignOutcome(
        release,
        signature_path(lockfile, version),
        attest.key_id(key.public_key()),
        signed.paths,
        signed.skipped,
    )


def _read(path: Path) -> bytes:
    return read_regular_file(path, limit=MAX_JSON_BYTES)


@dataclass(frozen=True)
class FoundStatement:
    """Another statement found beside the image by `verify-release --from`."""

    predicate_type: str
    where: str | None  # None: none of that type verifies with the key
    detail: str  # one line: what was found, or why none qualified


@dataclass(frozen=True)
class ReleaseCheck:
    release: Release
    source: str  # where the envelope came from
    keyid: str  # the key that verified it
    problems: tuple[str, ...]  # empty: the signed statement matches repro.lock
    others: tuple[FoundStatement, ...] = ()  # with --from: provenance, sign-off

    @property
    def ok(self) -> bool:
        return not self.problems


def check_release(
    lockfile: Path,
    version: str,
    pubkey: VerifyingKey,
    from_ref: str | None = None,
    registry: ReleaseRegistry | None = None,
) -> ReleaseCheck:
    """Check a release's signature and that what it signs is what repro.lock records.

    With ``from_ref`` the statement is found beside the image in the registry (the
    referrers API, else the referrers tag, then cosign's ``.att`` tag): repro's own, or
    one made with ``cosign attest``.
    """
    release = read_book(lockfile).get(version)
    if from_ref is not None:
        if registry is None:
            raise InputError(f"no registry to fetch the statement for {from_ref} from")
        return _check_published(release, pubkey, from_ref, registry)
    path = signature_path(lockfile, version)
    if not path.is_file():
        raise VerdictError(
            f"release {version} is not signed: {path} does not exist",
            hint=f"sign it with `repro sign {version} --key KEY`",
        )
    envelope = attest.parse_envelope(_read(path), str(path))
    attest.verify_envelope(envelope, pubkey)
    problems = attest.statement_mismatches(envelope.payload, release.digest, release.to_toml())
    return ReleaseCheck(release, str(path), attest.key_id(pubkey), tuple(problems))


def _check_published(
    release: Release, pubkey: VerifyingKey, from_ref: str, registry: ReleaseRegistry
) -> ReleaseCheck:
    ref = parse_image_ref(from_ref)
    served = registry.manifest(ref).digest
    where = f"{ref.name}@{served}"

    def this_version(statement: attest.Statement) -> str | None:
        signed = statement.predicate.get("version")
        return None if signed == release.version else f"release {signed}, not {release.version}"

    try:
        source, statement = attest.find_attestation(
            published_envelopes(registry, ref, served),
            pubkey,
            digest=served,
            predicate_type=attest.PREDICATE_TYPE,
            where=where,
            accept=this_version,
        )
    except VerdictError as error:
        raise VerdictError(
            error.message,
            hint=error.hint
            or f"publish it with `repro publish {release.version} --to {from_ref} --key KEY`",
        ) from None
    problems = []
    if served != release.digest:
        problems.append(f"{from_ref} serves {served}, repro.lock has {release.digest}")
    problems.extend(attest.json_mismatches(statement.predicate, release.to_toml(), "predicate"))
    others = tuple(
        _found(registry, ref, served, pubkey, predicate_type, where)
        for predicate_type in (slsa.PREDICATE_TYPE, attest.SIGNOFF_PREDICATE_TYPE)
    )
    return ReleaseCheck(release, source, attest.key_id(pubkey), tuple(problems), others)


def _found(
    registry: ReleaseRegistry,
    ref: ImageRef,
    digest: str,
    pubkey: VerifyingKey,
    predicate_type: str,
    where: str,
) -> FoundStatement:
    try:
        source, _ = attest.find_attestation(
            published_envelopes(registry, ref, digest),
            pubkey,
            digest=digest,
            predicate_type=predicate_type,
            where=where,
        )
    except VerdictError:
        return FoundStatement(predicate_type, None, "none attached that verifies with this key")
    return FoundStatement(predicate_type, source, "verifies")


@dataclass(frozen=True)
class PublishOutcome:
    release: Release
    publication: Publication
    record: Path  # where the publication is recorded (.repro/releases/<v>.published.json)
    skipped: tuple[str, ...] = ()


def publish(
    lockfile: Path, version: str, to: str, key: SigningKey, registry: ReleaseRegistry
) -> PublishOutcome:
    """Sign the release's statements and attach them to the image ``to`` serves, as cosign
    does (the ``.att`` tag) and as OCI 1.1 referrers (the API, else the referrers tag)."""
    release = read_book(lockfile).get(version)
    ref = parse_image_ref(to)
    subject = registry.manifest(ref)
    if subject.digest != release.digest:
        raise VerdictError(
            f"{to} serves {subject.digest}, but release {version} is {release.digest}",
            hint=f"push the release first: `repro release {version} --push {to} --replace`",
        )
    return _publish(lockfile, release, ref, subject, key, registry)


def _publish(
    lockfile: Path,
    release: Release,
    ref: ImageRef,
    subject: ManifestResponse,
    key: SigningKey,
    registry: AttestationRegistry,
) -> PublishOutcome:
    signed = sign_statements(lockfile, release, key, signoff=True)
    publication = publish_statements(
        registry, ref, subject, signed.statements, created=release.verified_at
    )
    path = publications_path(lockfile, release.version)
    record = read_publications(path, release.version).with_publication(publication)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, dumps_stable(record.to_json()))
    return PublishOutcome(release, publication, path, signed.skipped)


def read_publications(path: Path, version: str) -> Publications:
    if not path.is_file():
        return Publications(version)
    return Publications.from_json(load_object(_read(path), str(path)), str(path))


# -- sign-off reports stored with a release ----------------------------------------------


def signoff_path(lockfile: Path, version: str) -> Path:
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.signoff.json"


def signed_signoff_path(lockfile: Path, version: str) -> Path:
    """Where `repro publish` keeps the envelope it signed around an unsigned report."""
    return lockfile.parent / SIGNATURE_DIR / f"{check_version(version)}.signoff.dsse.json"


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
    # An envelope `repro publish` signed around an earlier report no longer says this one.
    signed_signoff_path(lockfile, version).unlink(missing_ok=True)
    return path


# -- show / diff -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementStatus:
    """One of a release's statements as stored next to repro.lock."""

    name: str  # "release" | "provenance" | "signoff"
    predicate_type: str
    path: Path
    present: bool
    keyid: str | None  # who signed it (the envelope's keyid), when present
    verified: bool | None  # None: not checked (no public key given, or unsigned)
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseView:
    """What `repro show` tells about a release: the record, its statements, where published."""

    release: Release
    statements: tuple[StatementStatus, ...]
    publications: Publications
    root: Path  # where repro.lock is: statement paths are shown relative to it

    @property
    def signature(self) -> StatementStatus:
        return self.statements[0]


def show_release(lockfile: Path, version: str, pubkey: VerifyingKey | None) -> ReleaseView:
    release = read_book(lockfile).get(version)
    statements = [
        _status(
            "release",
            attest.PREDICATE_TYPE,
            signature_path(lockfile, version),
            pubkey,
            lambda envelope: attest.statement_mismatches(
                envelope.payload, release.digest, release.to_toml()
            ),
        ),
        _status(
            "provenance",
            slsa.PREDICATE_TYPE,
            provenance_path(lockfile, version),
            pubkey,
            lambda envelope: _provenance_mismatches(envelope, release),
        ),
    ]
    signoff = _signoff_status(lockfile, release, pubkey)
    if signoff is not None:
        statements.append(signoff)
    publications = read_publications(publications_path(lockfile, version), version)
    return ReleaseView(release, tuple(statements), publications, lockfile.parent)


def _signoff_status(
    lockfile: Path, release: Release, pubkey: VerifyingKey | None
) -> StatementStatus | None:
    report = signoff_path(lockfile, release.version)
    if not report.is_file():
        return None
    signed = signed_signoff_path(lockfile, release.version)
    if b'"payloadType"' in report.read_bytes():
        path = report
    elif signed.is_file():
        path = signed
    else:
        return StatementStatus(
            "signoff",
            attest.SIGNOFF_PREDICATE_TYPE,
            report,
            True,
            None,
            None,
            ("an unsigned report: `repro publish` signs it",),
        )
    return _status(
        "signoff",
        attest.SIGNOFF_PREDICATE_TYPE,
        path,
        pubkey,
        lambda envelope: _subject_mismatches(envelope, release.digest),
    )


def _provenance_mismatches(envelope: attest.Envelope, release: Release) -> list[str]:
    if not slsa.has_provenance(release):
        return ["repro.lock records no builds for this release, so no provenance to match"]
    wanted = slsa.provenance_statement(release, _subject_name(release))
    if envelope.payload == wanted:
        return []
    signed = load_object(envelope.payload, "the signed provenance")
    recorded = load_object(wanted, "the provenance of repro.lock")
    return attest.json_mismatches(signed, recorded, "provenance")


def _subject_mismatches(envelope: attest.Envelope, digest: str) -> list[str]:
    statement = attest.parse_statement(envelope.payload)
    if statement.names(digest):
        return []
    return [f"about {', '.join(statement.subject_digests)}, repro.lock has {digest}"]


def _status(
    name: str,
    predicate_type: str,
    path: Path,
    pubkey: VerifyingKey | None,
    mismatches: Callable[[attest.Envelope], list[str]],
) -> StatementStatus:
    if not path.is_file():
        return StatementStatus(name, predicate_type, path, False, None, None)
    try:
        envelope = attest.parse_envelope(_read(path), str(path))
    except VerdictError as error:
        return StatementStatus(
            name, predicate_type, path, True, None, False if pubkey else None, (error.message,)
        )
    keyid = envelope.signatures[0].keyid if envelope.signatures else None
    if pubkey is None:
        return StatementStatus(name, predicate_type, path, True, keyid or None, None)
    try:
        attest.verify_envelope(envelope, pubkey)
        problems = mismatches(envelope)
    except VerdictError as error:
        return StatementStatus(name, predicate_type, path, True, keyid, False, (error.message,))
    return StatementStatus(name, predicate_type, path, True, keyid, not problems, tuple(problems))


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
            # Rebuilt without BuildKit's attestations: with them, the index differs from
            # build to build anyway, so only the images are compared.
            problems.extend(
                image_mismatches(
                    release.digest,
                    release.images,
                    tree.image_digest,
                    release_images(tree),
                    compare_index=not release.attest,
                )
            )
        else:
            phase(f"comparing with {against}")
            comparison = compare_images(
                remote, open_image(dest), attestations_apart=bool(release.attest)
            )
            expected = comparison.image_digest_a
            if not comparison.images_identical:
                problems.append(f"{against} is {expected}, the rebuild is {tree.image_digest}")
    return RebuildOutcome(
        release, tree.image_digest, against, expected, tuple(problems), comparison
    )
