"""The command line: parse, call the core, render. No logic of its own.

Every expected failure is a ReproError, caught once in ReproGroup.invoke and turned
into a message, a hint and the error's exit code. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from repro import __version__
from repro.errors import ReproError
from repro.render.console import render_error, stderr, stdout

_DEBUG_KEY = "repro.debug"


class ReproGroup(TyperGroup):
    """The single place where expected failures become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReproError as error:
            if ctx.meta.get(_DEBUG_KEY):
                stderr().print(traceback.format_exc(), markup=False, highlight=False)
            render_error(error)
            raise typer.Exit(int(error.exit_code)) from None


app = typer.Typer(
    cls=ReproGroup,
    name="repro",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


# Options several build commands share, declared once so their spelling and help agree.
GitContextArgument = Annotated[
    Path, typer.Argument(help="Build context (a directory in a git work tree).")
]
DockerfileOption = Annotated[Path | None, typer.Option("--file", "-f", help="The Dockerfile.")]
TargetOption = Annotated[str | None, typer.Option("--target", help="Build this stage.")]
PlatformsOption = Annotated[
    list[str] | None, typer.Option("--platform", help="Target platform. Repeatable.")
]
BuildArgsOption = Annotated[
    list[str] | None, typer.Option("--build-arg", help="KEY=VALUE. Repeatable.")
]


def _version(value: bool) -> None:
    if value:
        stdout().print(f"repro {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """repro: reproducible-build verifier for container images.

    Pin bases, build twice, compare byte for byte, record and sign releases.

    Exit codes: 0 success or identical, 1 negative verdict, 2 usage or input error,
    3 environment error (engine, registry, git).
    """
    ctx.meta[_DEBUG_KEY] = debug


@app.command()
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    registry: Annotated[
        list[str] | None,
        typer.Option("--registry", help="Also check this registry (host[:port]). Repeatable."),
    ] = None,
    builder: Annotated[
        str | None, typer.Option("--builder", help="The buildx builder to inspect.")
    ] = None,
) -> None:
    """Check the engine, buildx, BuildKit, git and the configured registries."""
    from repro.build.buildx import probe_engine
    from repro.config import load_config
    from repro.doctor import diagnose
    from repro.errors import EngineError, ExitCode
    from repro.git import git_version
    from repro.registry.client import RegistryClient
    from repro.render.doctor import doctor_json, doctor_table

    config = load_config(Path.cwd())
    try:
        engine: Any = probe_engine(builder=builder)
    except EngineError as error:
        engine = error
    hosts = sorted({*config.registries, *(registry or [])})
    statuses = [RegistryClient(host, insecure=config.insecure_registries).ping() for host in hosts]
    report = diagnose(engine, git_version(), statuses)
    if json_output:
        stdout().out(doctor_json(report), end="")
    else:
        stdout().print(doctor_table(report))
    if not report.healthy:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))


@app.command()
def compare(
    image_a: Annotated[
        str,
        typer.Argument(
            metavar="A",
            help="OCI layout dir, OCI/docker-save tar, or registry reference "
            "(host[:port]/name:tag or @sha256:...).",
        ),
    ],
    image_b: Annotated[str, typer.Argument(metavar="B", help="The image to compare A with.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON.")
    ] = False,
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Drop differences at paths matching GLOB.")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Compare only this platform (os/arch).")
    ] = None,
) -> None:
    """Compare two images byte for byte and explain every difference.

    Exit 0 identical, 1 differs, 2 bad input (missing, corrupted or truncated image),
    3 registry unreachable. An existing path wins over a registry reference.
    """
    from repro.errors import ExitCode
    from repro.jsonout import dumps_stable
    from repro.oci import compare_images
    from repro.render.compare import differences_tree

    source_a, source_b = _open_compared(image_a), _open_compared(image_b)
    comparison = compare_images(source_a, source_b, platform=platform, ignore=tuple(ignore or ()))
    if json_output:
        stdout().out(dumps_stable(comparison.to_json_dict()), end="")
    else:
        stdout().print(differences_tree(comparison, max_diffs=max_diffs))
    if comparison.verdict != "identical":
        raise typer.Exit(int(ExitCode.NEGATIVE))


def _open_compared(argument: str) -> Any:
    """A BlobSource for a `repro compare` argument: an existing path, else a registry reference."""
    from repro.oci import open_image

    if Path(argument).exists():
        return open_image(argument)
    from repro.registry.image import looks_like_registry_reference

    if not looks_like_registry_reference(argument):
        return open_image(argument)  # "does not exist"
    from repro.config import load_config
    from repro.registry.image import open_registry_image

    config = load_config(Path.cwd())
    return open_registry_image(
        argument, mirrors=config.mirrors, insecure=config.insecure_registries
    )


@app.command()
def verify(
    context: GitContextArgument = Path("."),
    file: DockerfileOption = None,
    target: TargetOption = None,
    platform: PlatformsOption = None,
    build_arg: BuildArgsOption = None,
    epoch: Annotated[
        str,
        typer.Option("--epoch", help="SOURCE_DATE_EPOCH: a number, or 'git' for the commit time."),
    ] = "git",
    builder: Annotated[
        list[str] | None,
        typer.Option(
            "--builder", help="buildx builder; give two to build A and B concurrently on each."
        ),
    ] = None,
    keep: Annotated[Path | None, typer.Option("--keep", help="Keep both OCI tars here.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the verification record as JSON.")
    ] = False,
    require_locked: Annotated[
        bool | None,
        typer.Option(
            "--require-locked/--no-require-locked",
            help="Refuse unpinned bases (default: on when repro.lock exists).",
        ),
    ] = None,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Verify a work tree with uncommitted changes.")
    ] = False,
    no_rewrite_timestamp: Annotated[
        bool,
        typer.Option(
            "--no-rewrite-timestamp",
            help="Do not clamp file times (to demonstrate why it matters).",
        ),
    ] = False,
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
) -> None:
    """Build twice, independently, and prove the images are bit-identical (or explain why not).

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or build failure.
    """
    from repro.errors import ExitCode, InputError
    from repro.render.progress import build_progress
    from repro.render.verify import verification_json, verification_summary
    from repro.verify import VerifyOptions
    from repro.verify import verify as run_verify

    if epoch != "git" and not epoch.isdigit():
        raise InputError(f"--epoch must be a number of seconds or 'git', not {epoch!r}")
    if len(builder or []) > 2:
        raise InputError("--builder can be given at most twice (one builder per build)")
    options = VerifyOptions(
        context=context,
        dockerfile=file,
        target=target,
        platforms=tuple(platform or ()),
        build_args=_parse_build_args(build_arg or []),
        epoch=None if epoch == "git" else int(epoch),
        builders=tuple(builder or ()),
        keep=keep,
        allow_dirty=allow_dirty,
        require_locked=require_locked,
        rewrite_timestamp=not no_rewrite_timestamp,
    )
    with build_progress(stderr()) as (on_log, on_phase):
        result = run_verify(options, on_log=on_log, on_phase=on_phase)
    if json_output:
        stdout().out(verification_json(result), end="")
    else:
        stdout().print(verification_summary(result, max_diffs=max_diffs))
    if not result.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def _parse_build_args(pairs: list[str]) -> dict[str, str]:
    from repro.errors import InputError

    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--build-arg needs KEY=VALUE, got {pair!r}")
        parsed[key] = value
    return parsed


@app.command()
def lock(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PATH...]",
            help="Dockerfiles or directories (default: the current directory). With "
            "--update, arguments that are not paths name the references to update.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if anything is unpinned.")
    ] = False,
    update: Annotated[
        bool, typer.Option("--update", help="Re-resolve pinned references (all, or REF...).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help="Record only these platforms (os/arch). Repeatable."),
    ] = None,
    source_policy: Annotated[
        Path | None,
        typer.Option("--source-policy", help="Also write a BuildKit source policy here."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching this glob. Repeatable."),
    ] = None,
) -> None:
    """Pin every image reference to its digest and record it in repro.lock."""
    import sys

    from repro.config import load_config
    from repro.errors import ExitCode, InputError
    from repro.lock.plan import Mode
    from repro.lock.service import LockRequest, normalise_platforms, run_lock, split_arguments
    from repro.registry.resolver import ImageResolver
    from repro.render.lock import lock_json, lock_summary, lock_table, offender_lines

    if check and (update or dry_run):
        raise InputError("--check changes nothing; it cannot be combined with --update/--dry-run")
    cwd = Path.cwd()
    paths, refs = split_arguments(
        arguments or [], update=update, exists=lambda arg: (cwd / arg).exists()
    )
    mode = Mode.CHECK if check else Mode.UPDATE if update else Mode.LOCK
    request = LockRequest(
        paths=paths,
        mode=mode,
        update_refs=refs,
        dry_run=dry_run,
        platforms=normalise_platforms(platform or []),
        source_policy=source_policy,
        excludes=tuple(exclude or []),
    )
    config = load_config(cwd)
    resolver = ImageResolver(mirrors=config.mirrors, insecure=config.insecure_registries)
    outcome = run_lock(request, cwd=cwd, resolver=resolver)
    if json_output:
        sys.stdout.write(lock_json(outcome, resolver.counter.manifest_requests))
    else:
        console = stderr()
        for message in (*outcome.skipped, *outcome.plan.warnings):
            console.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)
        out = stdout()
        if outcome.diff:
            sys.stdout.write(outcome.diff)
            sys.stdout.flush()
        table = lock_table(outcome)
        if table is not None:
            out.print(table)
        for line in offender_lines(outcome):
            out.print(line, markup=False, highlight=False)
        out.print(lock_summary(outcome), markup=False, highlight=False)
    if outcome.plan.offenders:
        raise typer.Exit(int(ExitCode.NEGATIVE))


@app.command()
def release(
    version: Annotated[str, typer.Argument(help="The release version, e.g. 1.4.0.")],
    context: GitContextArgument = Path("."),
    file: DockerfileOption = None,
    target: TargetOption = None,
    platform: PlatformsOption = None,
    build_arg: BuildArgsOption = None,
    builder: Annotated[
        list[str] | None,
        typer.Option("--builder", help="buildx builder; give two to build A and B on each."),
    ] = None,
    push: Annotated[
        str | None,
        typer.Option("--push", help="Push the verified image to REF (registry/repo:tag)."),
    ] = None,
    sign: Annotated[
        Path | None, typer.Option("--sign", help="Sign the record with this private key.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Record again a version already recorded.")
    ] = False,
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
) -> None:
    """Verify, then record the release in repro.lock (and push and sign it).

    Exit 0 recorded, 1 the builds differ (nothing recorded), 2 bad input or version
    already recorded, 3 engine or registry failure.
    """
    from repro.errors import ExitCode, InputError
    from repro.release.service import ReleaseRequest, run_release
    from repro.render.progress import build_progress
    from repro.render.release import release_summary
    from repro.verify import VerifyOptions

    if len(builder or []) > 2:
        raise InputError("--builder can be given at most twice (one builder per build)")
    options = VerifyOptions(
        context=context,
        dockerfile=file,
        target=target,
        platforms=tuple(platform or ()),
        build_args=_parse_build_args(build_arg or []),
        builders=tuple(builder or ()),
    )
    request = ReleaseRequest(version, options, push=push, sign_key=sign, replace=replace)
    with build_progress(stderr()) as (on_log, on_phase):
        outcome = run_release(
            request, registry=_artifact_registry(), on_log=on_log, on_phase=on_phase
        )
    stdout().print(release_summary(outcome, max_diffs=max_diffs))
    if outcome.release is None:
        raise typer.Exit(int(ExitCode.NEGATIVE))


@app.command()
def show(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    pubkey: Annotated[
        Path | None, typer.Option("--pubkey", help="Check the signature with this public key.")
    ] = None,
) -> None:
    """What shipped in VERSION: commit, digests, bases, layers, sizes, signature."""
    from repro.release.service import find_lockfile, read_book, signature_status
    from repro.render.release import show_json, show_view

    lockfile = find_lockfile(Path.cwd())
    release_record = read_book(lockfile).get(version)
    status = signature_status(lockfile, version, pubkey)
    if json_output:
        stdout().out(show_json(release_record, status), end="")
    else:
        stdout().print(show_view(release_record, status))


@app.command()
def which(
    digest: Annotated[str, typer.Argument(help="A digest, or a unique prefix of one.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which release (and platform) an image, manifest, config or layer digest belongs to.

    Exit 1 when no release has it, 2 when the prefix is ambiguous.
    """
    from repro.release.record import which as find_digest
    from repro.release.service import find_lockfile, read_book
    from repro.render.release import which_json, which_view

    hits = find_digest(read_book(find_lockfile(Path.cwd())).releases, digest)
    if json_output:
        stdout().out(which_json(hits), end="")
    else:
        stdout().print(which_view(hits))


@app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(metavar="V1", help="The older release.")],
    new: Annotated[str, typer.Argument(metavar="V2", help="The newer release.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What changed between two releases: bases, commits, layers, sizes."""
    from repro.release.service import find_lockfile, release_diff
    from repro.render.release import diff_json, diff_view

    changes = release_diff(find_lockfile(Path.cwd()), old, new)
    if json_output:
        stdout().out(diff_json(changes), end="")
    else:
        stdout().print(diff_view(changes))


@app.command()
def rebuild(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    against: Annotated[
        str | None,
        typer.Option("--against", help="Compare with this registry image instead of the record."),
    ] = None,
    builder: Annotated[str | None, typer.Option("--builder", help="buildx builder.")] = None,
    max_diffs: Annotated[int, typer.Option("--max-diffs", help="Show at most N differences.")] = 50,
) -> None:
    """Rebuild a past release from its commit and prove it is the same image.

    Exit 0 identical, 1 differs, 2 bad input, 3 engine or registry failure.
    """
    from repro.errors import ExitCode
    from repro.release.service import find_lockfile
    from repro.release.service import rebuild as run_rebuild
    from repro.render.progress import build_progress
    from repro.render.release import rebuild_view

    lockfile = find_lockfile(Path.cwd())
    with build_progress(stderr()) as (on_log, on_phase):
        outcome = run_rebuild(
            lockfile,
            version,
            against=against,
            builder=builder,
            on_log=lambda line: on_log("rebuild", line),
            on_phase=on_phase,
        )
    stdout().print(rebuild_view(outcome, max_diffs=max_diffs))
    if not outcome.identical:
        raise typer.Exit(int(ExitCode.NEGATIVE))


@app.command()
def keygen(
    out: Annotated[
        Path, typer.Option("--out", help="Write PREFIX.key (mode 0600) and PREFIX.pub.")
    ] = Path("repro-release"),
) -> None:
    """Create an Ed25519 key pair for signing releases (the private key is never printed)."""
    from repro.errors import InputError
    from repro.fsutil import atomic_write_bytes
    from repro.release.attest import generate_key, key_id, load_public_key

    private_path = out.with_name(out.name + ".key")
    public_path = out.with_name(out.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise InputError(f"{path} already exists; not overwriting a key")
    private_pem, public_pem = generate_key()
    atomic_write_bytes(private_path, private_pem, mode=0o600)
    atomic_write_bytes(public_path, public_pem, mode=0o644)
    keyid = key_id(load_public_key(public_pem, str(public_path)))
    out_console = stdout()
    out_console.print(f"private key: {private_path} (mode 0600)", highlight=False)
    out_console.print(f"public key:  {public_path}", highlight=False)
    out_console.print(f"key id:      {keyid}", highlight=False)


@app.command("sign")
def sign_command(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    key: Annotated[Path, typer.Option("--key", help="The Ed25519 private key (PEM).")],
) -> None:
    """Sign a recorded release: an in-toto statement in a DSSE envelope, next to repro.lock."""
    from repro.release.service import find_lockfile, sign_release

    outcome = sign_release(find_lockfile(Path.cwd()), version, key)
    console = stdout()
    console.print(
        f"signed release {version} ({outcome.release.digest}) with {outcome.keyid}",
        highlight=False,
    )
    console.print(f"envelope: {outcome.path}", highlight=False)


@app.command("verify-release")
def verify_release(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    pubkey: Annotated[Path, typer.Option("--pubkey", help="The signer's public key (PEM).")],
    from_ref: Annotated[
        str | None,
        typer.Option("--from", help="Fetch the envelope published for this registry image."),
    ] = None,
) -> None:
    """Check a release's signature and that it signs exactly what repro.lock records.

    Exit 0 valid, 1 not signed, signature invalid or anything differs, 2 bad input.
    """
    from repro.errors import ExitCode
    from repro.release.service import check_release, find_lockfile
    from repro.render.release import check_view

    check = check_release(
        find_lockfile(Path.cwd()), version, pubkey, from_ref, registry=_artifact_registry()
    )
    stdout().print(check_view(check))
    if not check.ok:
        raise typer.Exit(int(ExitCode.NEGATIVE))


@app.command()
def publish(
    version: Annotated[str, typer.Argument(help="A recorded release version.")],
    to: Annotated[str, typer.Option("--to", help="The pushed image (registry/repo:tag).")],
    key: Annotated[Path, typer.Option("--key", help="The Ed25519 private key (PEM).")],
) -> None:
    """Publish the signed statement to the registry as an artifact referring to the image."""
    from repro.release.service import find_lockfile
    from repro.release.service import publish as run_publish
    from repro.render.release import publish_view

    outcome = run_publish(find_lockfile(Path.cwd()), version, to, key, _artifact_registry())
    stdout().print(publish_view(outcome))


@app.command()
def signoff(
    context: Annotated[
        Path, typer.Argument(help="Build context (a directory, usually in a git work tree).")
    ] = Path("."),
    file: DockerfileOption = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Check this image (registry REF, OCI layout or tar) instead of building one.",
        ),
    ] = None,
    size_budget: Annotated[
        str | None,
        typer.Option("--size-budget", help="Fail when an image is larger, e.g. 200MB."),
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            "--release",
            help="Store the report with this recorded release; `repro publish` pushes it too.",
        ),
    ] = None,
    sign: Annotated[
        Path | None,
        typer.Option(
            "--sign",
            help="Ed25519 private key (repro keygen): print the JSON report as an in-toto "
            "statement in a DSSE envelope.",
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="md (a table for a release PR) or json.")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to FILE (atomically).")
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Do not fail on this check id. Repeatable."),
    ] = None,
    build_arg: BuildArgsOption = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Build or check only this platform.")
    ] = None,
    verification: Annotated[
        Path | None,
        typer.Option(
            "--verification", help="A `repro verify --json` record for the reproducible check."
        ),
    ] = None,
    epoch: Annotated[
        int | None, typer.Option("--epoch", help="SOURCE_DATE_EPOCH (default: the commit time).")
    ] = None,
) -> None:
    """Run the release sign-off checklist on the real image (built once, or --image).

    Exit 0 when every required check passes (warnings never fail), 1 when one fails,
    2 bad input, 3 engine or registry failure.
    """
    from repro.errors import ExitCode, InputError
    from repro.fsutil import atomic_write_text
    from repro.render.progress import build_progress
    from repro.render.signoff import signoff_json, signoff_markdown
    from repro.signoff.units import parse_size
    from repro.signoff_service import SignoffOptions, run_signoff

    if output_format not in ("md", "json"):
        raise InputError(f"--format must be md or json, not {output_format!r}")
    if sign is not None and output_format != "json":
        raise InputError("--sign signs the JSON report", hint="Add --format json.")
    options = SignoffOptions(
        context=context,
        dockerfile=file,
        image=image,
        size_budget=parse_size(size_budget) if size_budget is not None else None,
        allow=tuple(allow or ()),
        build_args=_parse_build_args(build_arg or []),
        platform=platform,
        verification=verification,
        epoch=epoch,
    )
    with build_progress(stderr()) as (on_log, on_phase):
        report = run_signoff(options, on_log=lambda line: on_log("build", line), on_phase=on_phase)
    text = signoff_json(report) if output_format == "json" else signoff_markdown(report)
    if sign is not None:
        from repro.signoff_service import sign_report

        text = sign_report(report, sign).decode("utf-8")
    if release is not None:
        from repro.release.service import attach_signoff

        stored = text if output_format == "json" or sign is not None else signoff_json(report)
        where = attach_signoff(context, release, report.image_digest, stored.encode("utf-8"))
        stderr().print(f"stored with release {release}: {where}", markup=False, highlight=False)
    if out is not None:
        atomic_write_text(out, text)
        stderr().print(f"wrote {out}", markup=False, highlight=False)
    else:
        stdout().out(text, end="")
    if not report.passed:
        raise typer.Exit(int(ExitCode.NEGATIVE))


def _artifact_registry() -> Any:
    from repro.config import load_config
    from repro.registry.client import client_for
    from repro.registry.referrers import ArtifactRegistry

    config = load_config(Path.cwd())
    return ArtifactRegistry(
        lambda registry: client_for(
            registry, mirrors=config.mirrors, insecure=config.insecure_registries
        )
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
