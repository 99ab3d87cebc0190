"""`repro lock` against a registry of canned answers (no socket): a tag that moved never
fails the hermetic `--check` (it asks no registry); `--outdated` names it (exit 1) and
`--check --online` warns of it; a registry that fails is an environment problem (exit 3,
named, nothing written) -- never a usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import _wiring, app
from repro.registry.transport import Failure
from tests.unit.canned_registry import (
    INDEX,
    MANIFEST,
    OCI_MANIFEST,
    Harness,
    error,
    harness,
    manifest,
    refused,
    sha256,
)

runner = CliRunner()
TAG_PATH = "/v2/team/app/manifests/1"
# Another manifest for the same tag: what a registry serves after a push moved it.
MOVED = json.dumps({**json.loads(MANIFEST), "annotations": {"moved": "yes"}}).encode()


@pytest.fixture()
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    h = harness()
    monkeypatch.setattr(_wiring, "registry_session", lambda _config: h.session)
    (tmp_path / "Dockerfile").write_text("FROM reg.example/team/app:1\nRUN true\n")
    return h


def _locked(registry: Harness, tmp_path: Path) -> None:
    registry.transport.add("GET", TAG_PATH, manifest(INDEX))
    result = runner.invoke(app, ["lock"])
    assert result.exit_code == 0, result.output
    assert (
        (tmp_path / "Dockerfile")
        .read_text()
        .startswith(f"FROM reg.example/team/app:1@{sha256(INDEX)}\n")
    )
    check = runner.invoke(app, ["lock", "--check"])
    assert check.exit_code == 0, check.output


def test_a_tag_that_moved_passes_the_check_and_outdated_names_it(
    registry: Harness, tmp_path: Path
) -> None:
    _locked(registry, tmp_path)
    registry.transport.add("GET", TAG_PATH, manifest(MOVED, OCI_MANIFEST))
    hermetic = runner.invoke(app, ["lock", "--check"])
    assert hermetic.exit_code == 0, hermetic.output  # the commit is judged, not the internet
    online = runner.invoke(app, ["lock", "--check", "--online"])
    assert online.exit_code == 0, online.output
    assert f"reg.example/team/app:1 now serves {sha256(MOVED)}" in online.output
    outdated = runner.invoke(app, ["lock", "--outdated"])
    assert outdated.exit_code == 1, outdated.output
    assert "reg.example/team/app:1" in outdated.output and sha256(MOVED) in outdated.output
    assert "Traceback" not in outdated.output


def test_a_tag_that_moved_is_listed_in_the_outdated_json(registry: Harness, tmp_path: Path) -> None:
    _locked(registry, tmp_path)
    registry.transport.add("GET", TAG_PATH, manifest(MOVED, OCI_MANIFEST))
    result = runner.invoke(app, ["lock", "--outdated", "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False
    (moved,) = document["outdated"]
    assert (moved["old_digest"], moved["new_digest"]) == (sha256(INDEX), sha256(MOVED))
    assert moved["sites"] == ["Dockerfile:1"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (error(500, "UNKNOWN", "internal server error"), "HTTP 500: UNKNOWN"),
        (refused(Failure.CONNECT, "connection refused"), "reg.example"),
        (refused(Failure.TIMEOUT, "waiting for the answer"), "did not answer within"),
    ],
    ids=["http-500", "connect", "timeout"],
)
def test_a_registry_that_fails_is_exit_3_with_its_message_and_nothing_is_written(
    registry: Harness, tmp_path: Path, answer: object, message: str
) -> None:
    registry.transport.add("GET", TAG_PATH, answer)  # type: ignore[arg-type]
    result = runner.invoke(app, ["lock"])
    assert result.exit_code == 3, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "Dockerfile").read_text() == "FROM reg.example/team/app:1\nRUN true\n"
    assert not (tmp_path / "repro.lock").exists()


def test_a_registry_that_fails_during_an_online_check_is_exit_3_not_a_verdict(
    registry: Harness, tmp_path: Path
) -> None:
    _locked(registry, tmp_path)
    registry.transport.add("GET", TAG_PATH, error(503, "UNAVAILABLE", "down for maintenance"))
    assert runner.invoke(app, ["lock", "--check"]).exit_code == 0  # hermetic: asks nothing
    result = runner.invoke(app, ["lock", "--check", "--online"])
    assert result.exit_code == 3, result.output
    assert "reg.example" in result.output and "HTTP 503" in result.output
