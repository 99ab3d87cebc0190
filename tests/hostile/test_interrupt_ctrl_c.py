"""Ctrl-C, as a terminal sends it (SIGINT to the process group): repro exits 130 within
two seconds with one line, no traceback, and leaves no temp directory behind, whether it
is streaming layers (compare) or waiting on a build (verify)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.crafted import Outcome, clean_env, interrupt
from tests.hostile.fixtures import Pair

MESSAGE = "interrupted (Ctrl-C): stopped; nothing is left half-written"


def _private_tmp(root: Path) -> tuple[Path, dict[str, str]]:
    """A TMPDIR of the test's own: what repro leaves there is repro's, not another run's."""
    tmp = root / "tmp"
    tmp.mkdir()
    return tmp, clean_env(TMPDIR=str(tmp))


def _assert_interrupted(outcome_and_took: tuple[Outcome, float]) -> None:
    outcome, took = outcome_and_took
    assert outcome.code == 130, outcome.explain()
    assert took < 2, f"exited {took:.1f}s after Ctrl-C\n{outcome.explain()}"
    assert "Traceback" not in outcome.output, outcome.explain()
    assert outcome.stderr.strip().splitlines()[-1:] == [MESSAGE], outcome.explain()


def test_ctrl_c_while_compare_streams_layers(slow_pair: Pair) -> None:
    outcome = interrupt("compare", str(slow_pair.a), str(slow_pair.b), when_reading=slow_pair.b)
    _assert_interrupted(outcome)


def test_ctrl_c_while_compare_verifies_equal_blobs(sparse_image: Path) -> None:
    layer = max((sparse_image / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    outcome = interrupt(
        "compare", str(sparse_image), str(sparse_image), when_reading=layer.parent, after=0.3
    )
    _assert_interrupted(outcome)


@pytest.mark.parametrize(
    "command",
    [["verify", ".", "--allow-dirty"], ["signoff", ".", "--epoch", "0"]],
    ids=["verify", "signoff"],
)
def test_ctrl_c_during_a_build_leaves_no_workspace(build_project: Path, command: list[str]) -> None:
    dockerfile = build_project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN sleep 60\n")
    tmp, env = _private_tmp(build_project.parent)
    outcome = interrupt(*command, cwd=build_project, after=0, when_output="RUN sleep 60", env=env)
    _assert_interrupted(outcome)
    assert list(tmp.iterdir()) == []
