"""Bases the gate cannot see (issue 12 §4): `repro lock --check` never says "ok" about a
FROM it could not resolve, an empty or binary "Dockerfile" is an input error, and a
misspelled configuration key is refused rather than ignored. repro runs as a real process
with a deadline; nothing is written that the user did not ask for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.crafted import assert_refused, files_under, run

UNPINNABLE: dict[str, tuple[bytes, str, str]] = {
    # Dockerfile, the reference as written, why it cannot be pinned
    "ARG without default": (
        b"ARG BASE\nFROM ${BASE}\nRUN true\n",
        "Dockerfile:2",
        "ARG BASE has no default",
    ),
    "undefined variable": (b"FROM $UNDEFINED\n", "Dockerfile:1", "$UNDEFINED is not defined"),
    "one of two stages": (
        # a global ARG (before the first FROM) without a default, used by the second stage
        b"ARG TOOLS\nFROM localhost:5000/library/busybox:1.35@sha256:" + b"0" * 64 + b" AS ok\n"
        b"FROM ${TOOLS}:1\n",
        "Dockerfile:3",
        "ARG TOOLS has no default",
    ),
}


def _project(tmp_path: Path, dockerfile: bytes) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_bytes(dockerfile)
    return root


@pytest.mark.parametrize("case", list(UNPINNABLE))
def test_check_fails_on_a_base_it_cannot_see_and_names_the_line(case: str, tmp_path: Path) -> None:
    content, site, reason = UNPINNABLE[case]
    root = _project(tmp_path, content)
    before = files_under(root)
    outcome = run("lock", "--check", cwd=root, deadline=20)
    # a failed check is a verdict (exit 1), said with the file, line and reason
    assert outcome.code == 1, outcome.explain()
    assert "Traceback" not in outcome.output and "ok:" not in outcome.output
    assert site in outcome.output and reason in outcome.output, outcome.explain()
    assert "unpinnable" in outcome.output, outcome.explain()
    assert files_under(root) == before  # --check writes nothing


def test_allow_unpinnable_is_the_one_way_through(tmp_path: Path) -> None:
    root = _project(tmp_path, UNPINNABLE["ARG without default"][0])
    (root / "repro.toml").write_text('allow-unpinnable = ["${BASE}"]\n')
    # lock records what it could not pin; the check then passes on that explicit choice
    assert run("lock", cwd=root, deadline=20).code == 0
    outcome = run("lock", "--check", cwd=root, deadline=20)
    assert outcome.code == 0, outcome.explain()


@pytest.mark.parametrize(
    ("case", "content", "message"),
    [
        ("empty", b"", "it is empty"),
        ("binary garbage", b"\x00\x01\xff\xfe\x89PNG\r\n\x1a\n", "binary data"),
        ("comments only", b"# nothing here\n\n", "not a Dockerfile"),
    ],
)
@pytest.mark.parametrize("command", [("lock", "--check"), ("lock",)])
def test_a_file_that_is_no_dockerfile_is_an_input_error(
    case: str, content: bytes, message: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    root = _project(tmp_path, content)
    before = files_under(root)
    outcome = run(*command, cwd=root, deadline=20)
    assert_refused(outcome, 2, "Dockerfile", message, deadline=20)
    assert files_under(root) == before  # no repro.lock, no staged files


def test_a_misspelled_config_key_is_refused_with_the_right_name(tmp_path: Path) -> None:
    root = _project(tmp_path, b"FROM localhost:5000/library/busybox:1.35\n")
    (root / "repro.toml").write_text('[mirorrs]\n"docker.io" = "http://localhost:5000"\n')
    before = files_under(root)
    outcome = run("lock", cwd=root, deadline=20)
    assert_refused(outcome, 2, "unknown key `mirorrs`", "did you mean `mirrors`?", deadline=20)
    assert files_under(root) == before
