"""The `repro` console script: the hermetic check's fast path, else the typer CLI.

`repro lock --check` runs in every commit hook and CI job, so its start-up is most of
its cost. typer validates every option through pydantic (a quarter of a second of
imports before a command runs), so the plain hermetic check (``--check`` with
``--format/--json/--summary/--exclude/--reparse`` and paths) is parsed here, without
typer, and runs the same service and the same printer as ``repro.cli.lock``. Any other
command line, including any option this parser does not know, ``--help`` and
``--online``, goes to the full CLI, which reports usage errors itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

_FLAGS = frozenset({"--check", "--json", "--reparse"})
_VALUED = frozenset({"--format", "--summary", "--exclude"})


@dataclass
class FastCheck:
    paths: list[str] = field(default_factory=list)
    output_format: str | None = None
    json_output: bool = False
    summary: str | None = None
    excludes: list[str] = field(default_factory=list)
    reparse: bool = False
    debug: bool = False


def fast_check_arguments(arguments: list[str]) -> FastCheck | None:
    """The arguments of a plain hermetic `lock --check`; None for anything else."""
    parsed = FastCheck()
    rest = list(arguments)
    while rest and rest[0] == "--debug":
        parsed.debug = True
        rest.pop(0)
    if not rest or rest.pop(0) != "lock":
        return None
    check = False
    while rest:
        argument = rest.pop(0)
        name, equals, value = argument.partition("=")
        if argument in _FLAGS:
            check = check or argument == "--check"
            parsed.json_output = parsed.json_output or argument == "--json"
            parsed.reparse = parsed.reparse or argument == "--reparse"
        elif name in _VALUED:
            if not equals:
                if not rest or rest[0].startswith("-"):
                    return None  # let the CLI say what is missing
                value = rest.pop(0)
            if name == "--format":
                parsed.output_format = value
            elif name == "--summary":
                parsed.summary = value
            else:
                parsed.excludes.append(value)
        elif argument.startswith("-"):
            return None  # --help, --online, a typo: the CLI's to handle
        else:
            parsed.paths.append(argument)
    return parsed if check else None


def run_fast_check(arguments: FastCheck) -> int:
    from repro.config import load_config
    from repro.errors import ExitCode
    from repro.lock.model import Mode
    from repro.lock.service import LockRequest, run_check
    from repro.render.findings import output_format
    from repro.render.lock import emit_check

    fmt = output_format(arguments.output_format, json_flag=arguments.json_output)
    cwd = Path.cwd()
    config = load_config(cwd)
    request = LockRequest(
        paths=tuple(Path(path) for path in arguments.paths),
        mode=Mode.CHECK,
        excludes=(*config.exclude, *arguments.excludes),
        includes=config.include,
        allow_unpinnable=config.allow_unpinnable,
        reparse=arguments.reparse,
    )
    outcome = run_check(request, cwd=cwd)
    summary = Path(arguments.summary) if arguments.summary is not None else None
    emit_check(outcome, fmt, summary)
    return int(ExitCode.NEGATIVE) if outcome.offenders else int(ExitCode.OK)


def main() -> None:
    fast = fast_check_arguments(sys.argv[1:])
    if fast is None:
        from repro.cli import main as cli_main

        cli_main()
        return
    try:
        code = run_fast_check(fast)
    except (Exception, KeyboardInterrupt) as error:
        from repro.render.console import report_failure

        code = report_failure(error, debug=fast.debug)
    sys.exit(code)
