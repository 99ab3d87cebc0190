"""Machine output for CI: SARIF 2.1.0 valid against the official schema, GitHub
annotations escaped as the runner expects, for `lock --check`, `verify` and `signoff`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repro.config import ProjectConfig
from repro.lock.model import Mode
from repro.lock.service import LockRequest, run_check, run_lock
from repro.render.findings import Finding, Rule, github_annotations, sarif_log, sarif_text
from repro.render.lock import LOCK_RULES, check_findings, check_markdown
from repro.render.signoff import signoff_findings, signoff_rules
from repro.render.verify import (
    VERIFY_RULES,
    instruction_lines,
    verification_markdown,
    verify_findings,
)
from repro.signoff.service import SignoffOptions, run_signoff
from repro.verify.service import VerifyOptions, verify
from tests.unit.fakes import FakeBuilder, FakeClock, FakeSourceControl, git_project
from tests.unit.test_lock_core import D2, FakeResolver, write

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_schema() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema)


def _valid(validator: jsonschema.Draft4Validator, text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return document


def _locations(document: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for result in document["runs"][0]["results"]
    ]


def test_lock_check_sarif_locates_every_offence(
    tmp_path: Path, sarif_schema: jsonschema.Draft4Validator
) -> None:
    write(tmp_path / "Dockerfile", b"# base\nFROM r.io/a:1\n")
    write(tmp_path / "svc" / "api.Dockerfile", b"ARG BASE\nFROM ${BASE}\n")
    outcome = run_check(LockRequest(mode=Mode.CHECK), cwd=tmp_path)
    document = _valid(sarif_schema, sarif_text("lock-check", LOCK_RULES, check_findings(outcome)))
    assert _locations(document) == [("Dockerfile", 2), ("svc/api.Dockerfile", 2)]
    results = document["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["lock/unpinned", "lock/unpinnable"]
    assert all(r["level"] == "error" for r in results)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["lock/unpinned", "lock/unpinnable"]
    assert "| `svc/api.Dockerfile:2` | `${BASE}` | unpinnable" in check_markdown(outcome)


def test_a_passing_check_is_an_empty_valid_sarif_run(
    tmp_path: Path, sarif_schema: jsonschema.Draft4Validator
) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    outcome = run_check(LockRequest(mode=Mode.CHECK), cwd=tmp_path)
    document = _valid(sarif_schema, sarif_text("lock-check", LOCK_RULES, check_findings(outcome)))
    assert document["runs"][0]["results"] == []
    assert github_annotations(check_findings(outcome)) == ""


def test_verify_findings_point_at_the_instruction_that_made_the_layer(
    tmp_path: Path, sarif_schema: jsonschema.Draft4Validator
) -> None:
    dockerfile = "FROM scratch\n# the app\nCOPY . /app\n"
    project = git_project(tmp_path / "p", dockerfile)
    result = verify(
        VerifyOptions(context=project),
        builder=FakeBuilder(vary=True),
        source_control=FakeSourceControl(),
        clock=FakeClock(),
    )
    assert not result.identical
    lines = instruction_lines(dockerfile.encode())
    findings = verify_findings(result, lines)
    assert findings and all(f.file == "Dockerfile" for f in findings)
    document = _valid(sarif_schema, sarif_text("verify", VERIFY_RULES, findings))
    assert all(line in (1, 3) for _, line in _locations(document))
    assert any("/etc/built-as" in f.message for f in findings)
    assert "NOT reproducible" in verification_markdown(result)


def test_instruction_lines_match_history_text() -> None:
    data = b"FROM a AS build\nRUN  echo \\\n  hi\nCOPY --from=build /out /out\nFROM b\nCOPY x /x\n"
    lines = instruction_lines(data)
    assert lines["RUN echo hi"] == 2
    assert lines["COPY --from=build /out /out"] == 4
    assert lines["FROM"] == 5  # where an unplaced difference goes: the stage that ships


def test_signoff_findings_use_file_line_evidence(
    tmp_path: Path, sarif_schema: jsonschema.Draft4Validator
) -> None:
    project = git_project(tmp_path / "p", "FROM scratch\nCOPY . /app\nCMD python app.py\n")
    report = run_signoff(
        SignoffOptions(context=project),
        config=ProjectConfig(),
        builder=FakeBuilder(),
        source_control=FakeSourceControl(),
        opener=_Opener(),
    )
    findings = signoff_findings(report)
    document = _valid(sarif_schema, sarif_text("signoff", signoff_rules(report), findings))
    by_rule = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    assert "signoff/exec-form" in by_rule
    location = by_rule["signoff/exec-form"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "Dockerfile"
    assert location["region"]["startLine"] == 3  # "Dockerfile:3: CMD in shell form"
    assert all(f.level in ("error", "warning", "note") for f in findings)


class _Opener:
    def open(self, text: str) -> Any:
        from repro.oci import open_image

        return open_image(text)


def test_github_annotations_escape_what_the_runner_would_misread() -> None:
    findings = [
        Finding(
            "lock/unpinned",
            "error",
            "line one\nline two: 100%",
            "dir,x/Dockerfile",
            3,
            6,
            title="a: b",
        ),
        Finding("lock/tag-moved", "warning", "moved", "Dockerfile", 1),
        Finding("signoff/size", "note", "waived", "Dockerfile", 1),
    ]
    assert github_annotations(findings).splitlines() == [
        "::error file=dir%2Cx/Dockerfile,line=3,col=6,title=a%3A b::line one%0Aline two: 100%25",
        "::warning file=Dockerfile,line=1,title=lock/tag-moved::moved",
        "::notice file=Dockerfile,line=1,title=signoff/size::waived",
    ]


def test_a_finding_has_a_known_level() -> None:
    with pytest.raises(ValueError, match="level"):
        Finding("x", "fatal", "m", "f", 1)
    log = sarif_log("x", [Rule("x", "t")], [Finding("x", "note", "m", "f", 0)])
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1
    }
