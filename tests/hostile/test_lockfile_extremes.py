"""repro.lock with extreme values: epochs past the year 9999 or negative, sizes past 63
bits, integers of thousands of digits, nesting, bytes that are not UTF-8. Every command
that reads releases refuses them as input errors (exit 2) naming the line and the key;
nothing is rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.crafted import assert_refused, nested, run

EPOCH = "source_date_epoch = 1700000000"
SIZE = "size = 1000"

EDITS: dict[str, tuple[str, str, str]] = {
    "epoch 2**63-1": (EPOCH, "source_date_epoch = 9223372036854775807", "`source_date_epoch`"),
    "epoch negative": (EPOCH, "source_date_epoch = -1", "`source_date_epoch`"),
    "epoch of 30 digits": (EPOCH, "source_date_epoch = " + "9" * 30, "`source_date_epoch`"),
    "epoch of 5000 digits": (EPOCH, "source_date_epoch = " + "9" * 5000, "not valid TOML"),
    "epoch a float": (EPOCH, "source_date_epoch = 1e300", "`source_date_epoch`"),
    "layer size 2**64": (SIZE, "size = 18446744073709551616", "`size`"),
    "nested 100k deep": (EPOCH, f"{EPOCH}\nextra = {nested(100_000)}", "nested too deeply"),
}


@pytest.mark.parametrize("command", [["show", "1.0.0"], ["show", "1.0.0", "--json"]])
@pytest.mark.parametrize("case", list(EDITS))
def test_extreme_values_are_input_errors(
    case: str, command: list[str], release_project: Path
) -> None:
    old, new, message = EDITS[case]
    lockfile = release_project / "repro.lock"
    text = lockfile.read_text()
    assert old in text
    lockfile.write_text(text.replace(old, new, 1))
    before = lockfile.read_bytes()
    outcome = run(*command, cwd=release_project)
    assert_refused(outcome, 2, "repro.lock", message)
    assert lockfile.read_bytes() == before


@pytest.mark.parametrize("command", [["which", "sha256:0000"], ["diff", "1.0.0", "1.0.0"]])
def test_every_reader_of_releases_refuses_them(command: list[str], release_project: Path) -> None:
    lockfile = release_project / "repro.lock"
    lockfile.write_text(lockfile.read_text().replace(EPOCH, "source_date_epoch = -5", 1))
    outcome = run(*command, cwd=release_project)
    assert_refused(outcome, 2, "release 1.0.0 `source_date_epoch` is missing or not an integer")


def test_a_lockfile_that_is_not_utf8_is_an_input_error(release_project: Path) -> None:
    (release_project / "repro.lock").write_bytes(b"schema_version = 1\n# \xff\xfe\n")
    outcome = run("show", "1.0.0", cwd=release_project)
    assert_refused(outcome, 2, "repro.lock: not UTF-8 text")


def test_the_last_second_of_9999_is_still_a_date(release_project: Path) -> None:
    lockfile = release_project / "repro.lock"
    lockfile.write_text(lockfile.read_text().replace(EPOCH, "source_date_epoch = 253402300799", 1))
    outcome = run("show", "1.0.0", cwd=release_project)
    assert outcome.code == 0, outcome.explain()
    assert "253402300799 (9999-12-31T23:59:59Z)" in outcome.stdout
