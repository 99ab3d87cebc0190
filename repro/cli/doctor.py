"""`repro doctor`: check the engine, buildx, BuildKit, git and the registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from repro.cli._options import (
    JsonOption,
)
from repro.render.console import stdout


def doctor(
    json_output: JsonOption = False,
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
