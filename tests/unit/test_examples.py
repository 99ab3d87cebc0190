"""The sample projects under examples/ stay what the README, demo and tests say they are."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIFTWOOD = REPO_ROOT / "examples" / "driftwood"
HARBOUR = REPO_ROOT / "examples" / "harbour"
# The naive Dockerfile is driftwood's lesson in what not to ship, not part of the app.
NOT_THE_APP = {"Dockerfile.naive"}


def test_the_harbour_app_is_driftwood_byte_for_byte() -> None:
    """examples/harbour/app is the driftwood app (plus its tides worker): a copy, so that
    the harbour is one repository of its own, kept identical here."""
    app = {
        p.relative_to(DRIFTWOOD).as_posix(): p.read_bytes()
        for p in sorted(DRIFTWOOD.rglob("*"))
        if p.is_file() and p.name not in NOT_THE_APP
    }
    copy = {name: (HARBOUR / "app" / name).read_bytes() for name in app}
    assert copy == app


def test_no_syntax_lines_and_only_seeded_bases() -> None:
    """Builds need no registry but the local one and no frontend image (`# syntax=`)."""
    for dockerfile in [*HARBOUR.rglob("Dockerfile"), *HARBOUR.rglob("*.Dockerfile")]:
        text = dockerfile.read_text()
        assert "# syntax=" not in text, dockerfile
        bases = [
            next(word for word in line.split()[1:] if not word.startswith("--"))
            for line in text.splitlines()
            if line.startswith("FROM ")
        ]
        assert len(bases) == 2, dockerfile  # a build stage and the shipped one
        assert all(b.startswith("localhost:5000/library/") for b in bases), bases
