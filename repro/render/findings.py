"""Findings for CI: SARIF 2.1.0 for code scanning, and GitHub workflow-command annotations.

Every command that gates CI (`lock --check`, `verify`, `signoff`, later `verify --all`)
turns its result into ``Finding`` values with a file and a line, and these two emitters
print them. One place, so every command's SARIF validates the same way and every
annotation escapes the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from repro import __version__
from repro.errors import InputError

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
LEVELS = ("error", "warning", "note")


@dataclass(frozen=True)
class Rule:
    """What a kind of finding means, once per run (SARIF ``reportingDescriptor``)."""

    id: str  # e.g. "lock/unpinned"
    title: str  # one line
    help: str = ""  # how to fix it


@dataclass(frozen=True)
class Finding:
    rule: str  # a Rule id
    level: str  # "error" (fails the gate), "warning", "note"
    message: str  # whole: digests, paths and references uncut
    file: str  # relative to the repository root, posix separators
    line: int  # 1-based
    column: int | None = None  # 1-based
    title: str = ""  # a short heading for the annotation (defaults to the rule id)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level {self.level!r} is not one of {LEVELS}")


def sarif_log(command: str, rules: Sequence[Rule], findings: Iterable[Finding]) -> dict[str, Any]:
    """One SARIF run of ``repro <command>`` with every finding located at file:line."""
    index = {rule.id: position for position, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for finding in findings:
        region: dict[str, Any] = {"startLine": max(1, finding.line)}
        if finding.column is not None:
            region["startColumn"] = max(1, finding.column)
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": finding.level,
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
                        "region": region,
                    }
                }
            ],
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        results.append(result)
    driver: dict[str, Any] = {
        "name": "repro",
        "version": __version__,
        "rules": [
            {
                "id": rule.id,
                "name": rule.id.replace("/", "-"),
                "shortDescription": {"text": rule.title},
                **({"help": {"text": rule.help}} if rule.help else {}),
            }
            for rule in rules
        ],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "automationDetails": {"id": f"repro/{command}/"},
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repository"}}},
                "results": results,
            }
        ],
    }


def sarif_text(command: str, rules: Sequence[Rule], findings: Iterable[Finding]) -> str:
    return json.dumps(sarif_log(command, rules, findings), indent=2, sort_keys=True) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def github_annotations(findings: Iterable[Finding]) -> str:
    """``::error file=F,line=N,col=C,title=T::message``, one line per finding."""
    lines: list[str] = []
    for finding in findings:
        properties = [f"file={_escape_property(finding.file)}", f"line={max(1, finding.line)}"]
        if finding.column is not None:
            properties.append(f"col={max(1, finding.column)}")
        properties.append(f"title={_escape_property(finding.title or finding.rule)}")
        command = _GITHUB_COMMAND[finding.level]
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(finding.message)}")
    return "".join(line + "\n" for line in lines)


OUTPUT_FORMATS = ("text", "json", "sarif", "github", "markdown")


def output_format(
    value: str | None, *, json_flag: bool = False, allowed: tuple[str, ...] = OUTPUT_FORMATS
) -> str:
    """``--format`` (``--json`` is its alias); ``md`` spells ``markdown``."""
    chosen = (value or ("json" if json_flag else "text")).strip().lower()
    chosen = {"md": "markdown"}.get(chosen, chosen)
    if json_flag and chosen != "json":
        raise InputError(f"--json and --format {value} disagree", hint="give one of them")
    if chosen not in allowed:
        raise InputError(f"--format must be one of {', '.join(allowed)}, not {value!r}")
    return chosen
