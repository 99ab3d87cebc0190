"""`repro doctor`: check the engine, buildx, BuildKit, git and the registries."""

from __future__ import annotations

from typing import Annotated

import typer

from repro.cli._options import JsonOption
from repro.render.console import stdout, write_stdout


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
    """Check the engine, buildx, BuildKit, git and the configured registries (and their
    mirrors): each one's reachability, TLS (verified by which trust source) and auth
    (credentials found where, accepted, token obtained; never shown)."""
    from repro.cli import _wiring
    from repro.doctor import run_doctor
    from repro.errors import ExitCode
    from repro.render.doctor import doctor_json, doctor_table

    config = _wiring.project_config()
    probe = _wiring.environment(config)
    hosts = _wiring.registry_hosts(config, registry or [])
    report = run_doctor(probe, hosts, builder=builder)
    if json_output:
        write_stdout(doctor_json(report))
    else:
        stdout().print(doctor_table(report))
    if not report.healthy:
        raise typer.Exit(int(ExitCode.ENVIRONMENT))
