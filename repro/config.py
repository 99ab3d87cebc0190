"""Project configuration: ``repro.toml`` or ``[tool.repro]`` in pyproject.toml (pure parsing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.errors import InputError
from repro.records import decode_text, load_toml

CONFIG_FILES = ("repro.toml", "pyproject.toml")


@dataclass(frozen=True)
class ProjectConfig:
    root: Path | None = None
    source: Path | None = None
    registries: tuple[str, ...] = ()
    # registry -> mirror endpoint, e.g. {"docker.io": "http://localhost:5000"}
    mirrors: Mapping[str, str] = field(default_factory=dict)
    insecure_registries: frozenset[str] = frozenset()
    # CA certificates trusted for every registry, besides the OS store and certs.d
    ca_files: tuple[Path, ...] = ()
    registry_timeout: float | None = None  # seconds per registry operation (default 30)
    # [signoff.waivers]: check id -> the written reason its failure is accepted
    signoff_waivers: Mapping[str, str] = field(default_factory=dict)
    signoff_size_budget: str | None = None  # [signoff] size-budget = "200MB"
    # builders = ["default", "repro-b"]: the pool `repro verify --all` builds on
    builders: tuple[str, ...] = ()
    # [verify] vary / no-vary: the variations `repro verify` applies by default
    # (names are checked by repro.verify.variations, which knows them)
    verify_vary: tuple[str, ...] | None = None
    verify_no_vary: tuple[str, ...] = ()
    # `repro lock --check` accepts these unpinnable references: the text as written
    # (``${BASE}``) or a glob of the files whose unpinnable references are accepted
    allow_unpinnable: tuple[str, ...] = ()
    # `repro lock` discovery: ``include`` globs add files the usual names do not cover
    # (their kind read from the content), ``exclude`` globs leave files or directories out
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# Every key repro reads; anything else is a mistake that would be ignored in silence
# (a misspelled `mirrors` would bypass the mirror), so it is an error with a suggestion.
KNOWN_KEYS = frozenset(
    {
        "registries",
        "mirrors",
        "insecure-registries",
        "ca-files",
        "registry-timeout",
        "signoff",
        "allow-unpinnable",
        "builders",
        "verify",
        "include",
        "exclude",
    }
)
KNOWN_SIGNOFF_KEYS = frozenset({"waivers", "size-budget"})
KNOWN_VERIFY_KEYS = frozenset({"vary", "no-vary"})


def _refuse_unknown(
    table: Mapping[str, Any], known: frozenset[str], source: Path, prefix: str = ""
) -> None:
    import difflib

    for key in sorted(table):
        if key in known:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        suggestion = f"did you mean `{prefix}{close[0]}`? " if close else ""
        raise InputError(
            f"{source}: unknown key `{prefix}{key}`",
            hint=f"{suggestion}repro reads: {', '.join(prefix + k for k in sorted(known))}",
        )


def _str_list(
    table: Mapping[str, Any], key: str, source: Path, prefix: str = ""
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{source}: `{prefix}{key}` must be a list of strings")
    return tuple(value)


def parse_config(table: Mapping[str, Any], *, source: Path) -> ProjectConfig:
    """Build a ProjectConfig from the ``[tool.repro]`` (or repro.toml top-level) table."""
    _refuse_unknown(table, KNOWN_KEYS, source)
    mirrors = table.get("mirrors", {})
    if not isinstance(mirrors, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mirrors.items()
    ):
        raise InputError(f"{source}: `mirrors` must map registry names to mirror URLs")
    for registry, mirror in mirrors.items():
        if not mirror.strip():
            raise InputError(
                f"{source}: the mirror for {registry} is empty",
                hint=f'set it to a registry host or URL, e.g. "https://mirror.example:5000", '
                f"or remove {registry} from `mirrors`",
            )
    waivers, budget = _signoff(table, source)
    vary, no_vary = _verify(table, source)
    return ProjectConfig(
        root=source.parent,
        source=source,
        registries=_str_list(table, "registries", source),
        mirrors=dict(mirrors),
        insecure_registries=frozenset(_str_list(table, "insecure-registries", source)),
        ca_files=tuple(source.parent / path for path in _str_list(table, "ca-files", source)),
        registry_timeout=_timeout(table, source),
        signoff_waivers=waivers,
        signoff_size_budget=budget,
        builders=_str_list(table, "builders", source),
        verify_vary=vary,
        verify_no_vary=no_vary,
        allow_unpinnable=_str_list(table, "allow-unpinnable", source),
        include=_str_list(table, "include", source),
        exclude=_str_list(table, "exclude", source),
    )


def _timeout(table: Mapping[str, Any], source: Path) -> float | None:
    value = table.get("registry-timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise InputError(
            f"{source}: `registry-timeout` must be a number of seconds between 0 and 3600",
            hint="e.g. registry-timeout = 30",
        )
    return float(value)


def _verify(
    table: Mapping[str, Any], source: Path
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """``[verify]``: ``vary`` (the variations to apply) and ``no-vary`` (to leave out)."""
    verify = table.get("verify", {})
    if not isinstance(verify, dict):
        raise InputError(f"{source}: `verify` must be a table")
    _refuse_unknown(verify, KNOWN_VERIFY_KEYS, source, prefix="verify.")
    vary = _str_list(verify, "vary", source, prefix="verify.") if "vary" in verify else None
    return vary, _str_list(verify, "no-vary", source, prefix="verify.")


def _signoff(table: Mapping[str, Any], source: Path) -> tuple[dict[str, str], str | None]:
    """``[signoff]``: ``waivers`` (check id -> non-empty reason) and ``size-budget``."""
    signoff = table.get("signoff", {})
    if not isinstance(signoff, dict):
        raise InputError(f"{source}: `signoff` must be a table")
    _refuse_unknown(signoff, KNOWN_SIGNOFF_KEYS, source, prefix="signoff.")
    waivers = signoff.get("waivers", {})
    if not isinstance(waivers, dict) or not all(
        isinstance(key, str) and isinstance(value, str) and value.strip()
        for key, value in waivers.items()
    ):
        raise InputError(
            f"{source}: `signoff.waivers` must map check ids to a written reason",
            hint='e.g. [tool.repro.signoff.waivers] healthcheck = "probed by the orchestrator"',
        )
    budget = signoff.get("size-budget")
    if budget is not None and not isinstance(budget, str | int):
        raise InputError(f'{source}: `signoff.size-budget` must be a size such as "200MB"')
    return dict(waivers), None if budget is None else str(budget)


def _table_from(path: Path) -> Mapping[str, Any] | None:
    data = load_toml(decode_text(path.read_bytes(), str(path)), str(path))
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("repro") if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    return data


def load_config(start: Path) -> ProjectConfig:
    """The nearest config at or above ``start``; an empty config when there is none."""
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                table = _table_from(candidate)
                if table is not None:
                    return parse_config(table, source=candidate)
    return ProjectConfig()
