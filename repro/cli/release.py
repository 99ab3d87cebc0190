"""The release commands: release, show, which, diff, rebuild, keygen, sign,
verify-release, publish."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repro.cli._options import (
    AttestOption,
    BuildArgsOption,
    BuildersOption,
    DockerfileOption,
    GitContextArgument,
    JsonOption,
    MaxDiffsOption,
    NoVaryOption,
    PlatformsOption,
    SbomGeneratorOption,
    TargetOption,
    VaryOption,
    VerboseOption,
    build_options,
    parse_variations,
)
from repro.render.console import stderr, stdout, write_stdout


def release(
    version: Annotated[str, typer.Argument(help="The release version, e.g. 1.4.0.")],
    context: GitContextArgument = Path("."),
    file: DockerfileOption = None,
    target: TargetOption = None,
    platform: PlatformsOption = None,
    build_arg: BuildArgsOption = None,
    builder: BuildersOption = None,
    push: Annotated[
        str | None,
        typer.Option("--push", help="Push the verified image to REF (registry/repo:tag)."),
    ] = None,
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="Sign the release and its SLSA provenance with this private key "
            "(with --push, also publish them beside the image).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Record again a version already recorded.")
    ] = False,
    attest: AttestOption = None,
    sbom_generator: SbomGeneratorOption = None,
    max_diffs: MaxDiffsOption = 50,
    verbose: VerboseOption = False,
    vary: VaryOption = None,
    no_vary: NoVaryOption = None,
) -> None:
    """Verify, then record the release in repro.lock (and push, sign and publish it).

    Exit 0 recorded, 1 the builds differ (nothing recorded), 2 bad input or version
    already recorded, 3 engine or registry failure.
    """
    from repro.cli import _keys, _wiring
    from repro.errors import ExitCode
    from repro.release.service import ReleaseRequest, run_release
    from repro.render.progress import build_progress
    from repro.render.release import release_summary

    options = build_options(
        context,
        file,
        target,
        platform,
        build_arg,
        builder,
        attest,
        sbom_generator,
        variations=parse_variations(vary, no_vary, context),
    )
    key = _keys.signing_key(sign) if sign is not None else None  # before anything is built
    request = ReleaseRequest(version, options, push=push, sign_key=key, replace=replace)
    with build_progress(stderr()) as (on_log, on_phase):
        builder_adapter = _wiring.builder()
        outcome = run_release(
            request,
            builder=builder_adapter,
            engine=builder_adapter,
            source_control=_wiring.source_control(),
            registry=_wiring.artifact_registry(_wiring.project_config()),
            on_log=on_log,
            on_phase=on_phase,
        )
    stdout().print(release_summary(outcome, max_diffs=max_diffs, verbose=verbose))
    if outcome.release is None:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def show(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    json_output: JsonOption = False,
    pubkey: Annotated[
        Path | None,
        typer.Option("--pubkey", help="Check the signed statements with this public key."),
    ] = None,
) -> None:
    """What shipped in VERSION: commit, digests, bases, layers, sizes, signed statements
    (release, SLSA provenance, sign-off) and where they were published."""
    from repro.cli import _keys
    from repro.project import find_lockfile
    from repro.release.service import show_release
    from repro.render.release import show_json, show_view

    key = _keys.verifying_key(pubkey) if pubkey is not None else None
    view = show_release(find_lockfile(Path.cwd()), version, key)
    if json_output:
        write_stdout(show_json(view))
    else:
        stdout().print(show_view(view))


def which(
    digest: Annotated[str, typer.Argument(help="A digest, or a unique prefix of one.")],
    json_output: JsonOption = False,
) -> None:
    """Which release (and platform) an image, manifest, config or layer digest belongs to.

    Exit 1 when no release has it, 2 when the prefix is ambiguous.
    """
    from repro.project import find_lockfile
    from repro.release.record import which as find_digest
    from repro.release.service import read_book
    from repro.render.release import which_json, which_view

    hits = find_digest(read_book(find_lockfile(Path.cwd())).releases, digest)
    if json_output:
        write_stdout(which_json(hits))
    else:
        stdout().print(which_view(hits))


def diff_command(
    old: Annotated[str, typer.Argument(metavar="V1", help="The older release.")],
    new: Annotated[str, typer.Argument(metavar="V2", help="The newer release.")],
    json_output: JsonOption = False,
) -> None:
    """What changed between two releases: bases, commits, layers, sizes."""
    from repro.cli import _wiring
    from repro.project import find_lockfile
    from repro.release.service import release_diff
    from repro.render.release import diff_json, diff_view

    changes = release_diff(
        find_lockfile(Path.cwd()), old, new, source_control=_wiring.source_control()
    )
    if json_output:
        write_stdout(diff_json(changes))
    else:
        stdout().print(diff_view(changes))


def rebuild(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Compare with this image (registry reference, OCI layout or tar) "
            "instead of the record.",
        ),
    ] = None,
    builder: Annotated[str | None, typer.Option("--builder", help="buildx builder.")] = None,
    max_diffs: MaxDiffsOption = 50,
    verbose: VerboseOption = False,
) -> None:
    """Rebuild a past release from its commit and prove it is the same image.

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or registry failure.
    """
    from repro.cli import _wiring
    from repro.errors import ExitCode
    from repro.project import find_lockfile
    from repro.release.service import rebuild as run_rebuild
    from repro.render.progress import build_progress
    from repro.render.release import rebuild_view

    lockfile = find_lockfile(Path.cwd())
    with build_progress(stderr()) as (on_log, on_phase):
        outcome = run_rebuild(
            lockfile,
            version,
            builder=_wiring.builder(),
            source_control=_wiring.source_control(),
            opener=_wiring.image_opener(_wiring.project_config()),
            against=against,
            builder_name=builder,
            on_log=lambda line: on_log("rebuild", line),
            on_phase=on_phase,
        )
    stdout().print(rebuild_view(outcome, max_diffs=max_diffs, verbose=verbose))
    if not outcome.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def keygen(
    out: Annotated[
        Path, typer.Option("--out", help="Write PREFIX.key (mode 0600) and PREFIX.pub.")
    ] = Path("repro-release"),
    algorithm: Annotated[
        str,
        typer.Option(
            "--algorithm",
            help="ecdsa-p256 (cosign's default) or ed25519; cosign verifies both.",
        ),
    ] = "ecdsa-p256",
) -> None:
    """Create a key pair cosign accepts: the private key encrypted with COSIGN_PASSWORD
    (may be empty; asked for on a terminal) in cosign's format, never printed."""
    from repro.cli import _keys
    from repro.errors import InputError
    from repro.fsutil import atomic_write_bytes
    from repro.release import keys

    try:
        chosen = keys.Algorithm(algorithm)
    except ValueError:
        choices = ", ".join(a.value for a in keys.Algorithm)
        raise InputError(f"--algorithm {algorithm}: choose {choices}") from None
    private_path = out.with_name(out.name + ".key")
    public_path = out.with_name(out.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise InputError(f"{path} already exists; not overwriting a key")
    if not out.parent.is_dir():
        raise InputError(
            f"cannot write {private_path}: the directory {out.parent} does not exist",
            hint="create the directory first, or give another --out",
        )
    secret = _keys.password(confirm=True, what=f"the new key {private_path}")
    key = keys.generate(chosen)
    atomic_write_bytes(private_path, keys.private_pem(key, secret), mode=0o600)
    try:
        atomic_write_bytes(public_path, keys.public_pem(key.public_key()), mode=0o644)
    except BaseException:
        private_path.unlink()  # a private key without its public half is no key pair
        raise
    out_console = stdout()
    out_console.print(
        f"private key: {private_path} (mode 0600, {keys.SIGSTORE_PEM_TYPE}, "
        f"password from {_keys.PASSWORD_ENV})",
        highlight=False,
    )
    out_console.print(f"public key:  {public_path}", highlight=False)
    out_console.print(f"algorithm:   {chosen.value}", highlight=False)
    out_console.print(f"key id:      {keys.key_id(key.public_key())}", highlight=False)


def sign_command(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    key: Annotated[Path, typer.Option("--key", help="The private key (repro keygen or cosign's).")],
) -> None:
    """Sign a recorded release and its SLSA provenance: in-toto statements in DSSE
    envelopes, next to repro.lock."""
    from repro.cli import _keys
    from repro.project import find_lockfile
    from repro.release.service import sign_release

    outcome = sign_release(find_lockfile(Path.cwd()), version, _keys.signing_key(key))
    console = stdout()
    console.print(
        f"signed release {version} ({outcome.release.digest}) with {outcome.keyid}",
        highlight=False,
    )
    for path in outcome.paths:
        console.print(f"envelope: {path}", highlight=False)
    for note in outcome.skipped:
        console.print(note, highlight=False)


def verify_release(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    pubkey: Annotated[Path, typer.Option("--pubkey", help="The signer's public key (PEM).")],
    from_ref: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Find the statement attached to this registry image (referrers API, "
            "referrers tag, cosign's .att tag; repro's or `cosign attest`'s).",
        ),
    ] = None,
) -> None:
    """Check a release's signature and that it signs exactly what repro.lock records.

    Exit 0 valid, 1 not signed, signature invalid or anything differs, 2 bad input.
    """
    from repro.cli import _keys, _wiring
    from repro.errors import ExitCode
    from repro.project import find_lockfile
    from repro.release.service import check_release
    from repro.render.release import check_view

    key = _keys.verifying_key(pubkey)
    registry = _wiring.artifact_registry(_wiring.project_config())
    check = check_release(find_lockfile(Path.cwd()), version, key, from_ref, registry)
    stdout().print(check_view(check))
    if not check.ok:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def publish(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    to: Annotated[str, typer.Option("--to", help="The pushed image (registry/repo:tag).")],
    key: Annotated[Path, typer.Option("--key", help="The private key (repro keygen or cosign's).")],
) -> None:
    """Attach the signed statements (release, SLSA provenance, a stored sign-off) to the
    image: cosign's .att tag and OCI 1.1 referrers (the API, else the referrers tag)."""
    from repro.cli import _keys, _wiring
    from repro.project import find_lockfile
    from repro.release.service import publish as run_publish
    from repro.render.release import publish_view

    signing_key = _keys.signing_key(key)
    registry = _wiring.artifact_registry(_wiring.project_config())
    outcome = run_publish(find_lockfile(Path.cwd()), version, to, signing_key, registry)
    stdout().print(publish_view(outcome))
