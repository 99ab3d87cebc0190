"""Options several commands share, declared once so their spelling and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from repro.errors import InputError

if TYPE_CHECKING:
    from repro.verify.service import VerifyOptions
    from repro.verify.variations import Variations

GitContextArgument = Annotated[
    Path, typer.Argument(help="Build context (a directory in a git work tree).")
]
DockerfileOption = Annotated[
    Path | None, typer.Option("--file", "-f", metavar="PATH", help="The Dockerfile.")
]
TargetOption = Annotated[
    str | None, typer.Option("--target", metavar="STAGE", help="Build this stage.")
]
PlatformsOption = Annotated[
    list[str] | None,
    typer.Option("--platform", metavar="OS/ARCH", help="Target platform. Repeatable."),
]
BuildArgsOption = Annotated[
    list[str] | None,
    typer.Option("--build-arg", metavar="KEY=VALUE", help="A build argument. Repeatable."),
]
BuildersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--builder",
        metavar="NAME",
        help="buildx builder or docker context; give two to build A and B concurrently on "
        "each (verify --all: the pool, as many as you like).",
    ),
]
EpochOption = Annotated[
    str,
    typer.Option(
        "--epoch",
        metavar="git|N",
        help="SOURCE_DATE_EPOCH: a number of seconds, or 'git' for the commit time.",
    ),
]
AttestOption = Annotated[
    str | None,
    typer.Option(
        "--attest",
        help="Build BuildKit's own attestations into the image: provenance, sbom, or "
        "provenance,sbom. They are compared apart from the image (their timestamps and "
        "builder ids differ); the verdict is about the image.",
    ),
]
SbomGeneratorOption = Annotated[
    str | None,
    typer.Option(
        "--sbom-generator",
        help="The SBOM scanner image for --attest sbom (BuildKit's default is "
        "docker/buildkit-syft-scanner on Docker Hub).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (the same as --format json).")]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="text, json, sarif (SARIF 2.1.0 for code scanning), github (workflow "
        "annotations) or markdown.",
        show_default=False,
    ),
]
SummaryOption = Annotated[
    Path | None,
    typer.Option(
        "--summary",
        metavar="FILE",
        help="Also append the Markdown report to FILE (e.g. $GITHUB_STEP_SUMMARY).",
    ),
]


MaxDiffsOption = Annotated[
    int, typer.Option("--max-diffs", metavar="N", help="Show at most N groups of differences.")
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="List every differing file, not N per group.")
]


VaryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--vary",
        metavar="NAMES",
        help="Vary only these between A and B: umask, tz, locale, path, time, clock, "
        "builder (comma-separated, or all). Default: all, or [tool.repro.verify] vary.",
    ),
]
NoVaryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--no-vary",
        metavar="NAMES",
        help="Do not vary these (e.g. --no-vary umask when every checkout uses umask 022).",
    ),
]


def parse_variations(
    vary: list[str] | None, no_vary: list[str] | None, context: Path
) -> Variations:
    """``--vary``/``--no-vary`` over the project's ``[tool.repro.verify]`` default."""
    from repro.cli import _wiring
    from repro.verify.variations import choose_variations

    config = _wiring.project_config(context if context.is_dir() else None)
    return choose_variations(
        vary,
        no_vary or (),
        config_vary=config.verify_vary,
        config_no_vary=config.verify_no_vary,
        config_source=str(config.source) if config.source else "the configuration",
    )


def parse_build_args(pairs: list[str] | None) -> dict[str, str]:
    """``--build-arg KEY=VALUE`` pairs; a later KEY wins, as with docker."""
    parsed: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--build-arg needs KEY=VALUE, got {pair!r}")
        parsed[key] = value
    return parsed


def build_options(
    context: Path,
    file: Path | None,
    target: str | None,
    platform: list[str] | None,
    build_arg: list[str] | None,
    builder: list[str] | None,
    attest: str | None = None,
    sbom_generator: str | None = None,
    **more: Any,
) -> VerifyOptions:
    """The shared build options (context, -f, --target, --platform, --build-arg,
    --builder, --attest, --sbom-generator) of verify and release, parsed, plus the
    command's own."""
    from repro.verify.service import VerifyOptions

    return VerifyOptions(
        context=context,
        dockerfile=file,
        target=target,
        platforms=tuple(platform or ()),
        build_args=parse_build_args(build_arg),
        builders=parse_builders(builder),
        attest=parse_attest(attest, sbom_generator),
        sbom_generator=sbom_generator,
        **more,
    )


def parse_attest(value: str | None, sbom_generator: str | None = None) -> tuple[str, ...]:
    """``--attest provenance,sbom``: the attestations, in BuildKit's order, each once."""
    from repro.build.model import ATTESTATIONS

    wanted = {part.strip() for part in (value or "").split(",") if part.strip()}
    unknown = sorted(wanted - set(ATTESTATIONS))
    if unknown:
        raise InputError(
            f"--attest {value}: unknown attestation {', '.join(unknown)}",
            hint=f"choose from {', '.join(ATTESTATIONS)} (comma-separated)",
        )
    if sbom_generator is not None and "sbom" not in wanted:
        raise InputError("--sbom-generator needs --attest sbom")
    return tuple(kind for kind in ATTESTATIONS if kind in wanted)


def parse_builders(values: list[str] | None) -> tuple[str, ...]:
    """``--builder`` given at most twice: one builder per build."""
    if len(values or []) > 2:
        raise InputError("--builder can be given at most twice (one builder per build)")
    return tuple(values or ())
