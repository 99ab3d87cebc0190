"""Broken configuration files: every command that reads the project's configuration
refuses them as input errors (exit 2) naming the file, never a crash (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.crafted import assert_refused, nested, run
from tests.hostile.fixtures import Pair

BROKEN: dict[str, tuple[bytes, str]] = {
    "not UTF-8": (b'registries = ["\xff\xfe"]\n', "not UTF-8 text"),
    "deeply nested": (f"x = {nested(100_000)}\n".encode(), "nested too deeply"),
    "nested past the cap": (f"x = {nested(100)}\n".encode(), "nested too deeply"),
    "an integer of 5000 digits": (b"x = " + b"9" * 5000 + b"\n", "not valid TOML"),
    "not TOML": (b"registries = [\n", "not valid TOML"),
    "mirrors of the wrong type": (b'mirrors = ["docker.io"]\n', "`mirrors` must map"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_repro_toml_is_an_input_error(
    case: str, identical_pair: Pair, tmp_path: Path
) -> None:
    content, message = BROKEN[case]
    project = tmp_path / "project"
    project.mkdir()
    (project / "repro.toml").write_bytes(content)
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b), cwd=project)
    assert_refused(outcome, 2, f"{project / 'repro.toml'}", message, deadline=20)


@pytest.mark.parametrize("case", ["not UTF-8", "deeply nested"])
def test_a_broken_pyproject_is_an_input_error(
    case: str, identical_pair: Pair, tmp_path: Path
) -> None:
    content, message = BROKEN[case]
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_bytes(b"[tool.repro]\n" + content)
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b), cwd=project)
    assert_refused(outcome, 2, f"{project / 'pyproject.toml'}", message, deadline=20)
