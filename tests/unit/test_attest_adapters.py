"""The adapters' small rules for attestations: credentials never leave a git remote, and
buildx is asked for BuildKit's attestations only when they are wanted."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.build.buildx import _sbom
from repro.build.model import BuildRequest
from repro.git import without_credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ci:s3cret@git.example/team/app.git", "https://git.example/team/app.git"),
        ("https://token@git.example/app", "https://git.example/app"),
        ("https://git.example/app", "https://git.example/app"),
        ("ssh://git@git.example:2222/app.git", "ssh://git.example:2222/app.git"),
        ("git@github.com:team/app.git", "git@github.com:team/app.git"),  # a user, no secret
        ("/srv/git/app.git", "/srv/git/app.git"),
    ],
)
def test_a_remote_is_recorded_without_credentials(url: str, shown: str) -> None:
    assert without_credentials(url) == shown


def test_buildx_gets_sbom_only_when_asked_and_the_generator_when_named() -> None:
    plain = BuildRequest(context=Path("."), dest=Path("x.tar"), source_date_epoch=1)
    assert _sbom(plain) is False
    assert _sbom(BuildRequest(Path("."), Path("x"), 1, attest=("sbom",))) is True
    named = BuildRequest(Path("."), Path("x"), 1, attest=("sbom",), sbom_generator="r.io/gen:1")
    assert _sbom(named) == {"generator": "r.io/gen:1"}
