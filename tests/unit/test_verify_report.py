"""The verify report: the variations applied, and under each fixable group the Dockerfile
line it becomes (once per change); --suggest's diff; the record keeps both."""

from __future__ import annotations

from rich.console import Console

from repro.dockerfile import parse_dockerfile
from repro.oci.causes import classify
from repro.oci.groups import group_differences
from repro.oci.model import Comparison, Difference, PlatformComparison
from repro.render.verify import suggestion_diff, verification_summary
from repro.verify.model import (
    BuildRecord,
    NotVaried,
    VariationRecord,
    VerificationRecord,
    VerifyResult,
)
from repro.verify.suggest import suggest_fixes

BASE = "FROM localhost:5000/library/python:3.11-slim"
APT = "RUN apt-get update && apt-get install -y openssh-server"
DOCKERFILE = f"{BASE}\nCOPY tides.csv /srv/tides.csv\n{APT}\nRUN echo other\n"


def _diff(
    layer: int, instruction: str, path: str, field: str = "content", **values: str
) -> Difference:
    a, b = values.get("a", "sha256:a"), values.get("b", "sha256:b")
    return classify(
        Difference("linux/amd64", "file", layer, instruction, path, field, "changed", a, b)
    )


def _result(dockerfile: str = DOCKERFILE) -> VerifyResult:
    diffs = (
        _diff(1, "COPY tides.csv /srv/tides.csv", "/srv/tides.csv", "mode", a="0644", b="0664"),
        _diff(2, APT, "/etc/ssh/ssh_host_ed25519_key"),
        _diff(2, APT, "/var/log/dpkg.log"),
        _diff(3, "RUN echo other", "/etc/odd", "content"),
    )
    platform = PlatformComparison("linux/amd64", "sha256:a", "sha256:b", diffs)
    comparison = Comparison(
        "i", "j", "sha256:a", "sha256:b", (platform,), diffs, groups=group_differences(diffs)
    )
    change = suggest_fixes(parse_dockerfile(dockerfile.encode(), "app/Dockerfile"), comparison)
    return VerifyResult(
        commit="c0ffee",
        epoch=1700000000,
        dockerfile="app/Dockerfile",
        dockerfile_sha256="0" * 64,
        build_args={},
        platforms=(),
        target=None,
        builds=(BuildRecord("A", None, "a", 1.0), BuildRecord("B", "two", "b", 1.0)),
        comparison=comparison,
        variations=(
            VariationRecord("umask", "umask 022", "umask 002"),
            VariationRecord("tz", "TZ=UTC", "TZ=Pacific/Kiritimati", reaches_build=False),
        ),
        not_varied=(NotVaried("clock", "A and B built at the same time"),),
        suggestion=change,
    )


def _text(result: VerifyResult, *, verbose: bool = False) -> str:
    console = Console(record=True, width=200, no_color=True)
    console.print(verification_summary(result, max_diffs=None, verbose=verbose))
    return console.export_text()


def test_each_fixable_group_shows_the_line_it_becomes_once() -> None:
    text = _text(_result())
    assert "varied             umask, tz (checkout only)" in text
    assert "not varied         clock (A and B built at the same time)" in text
    assert "app/Dockerfile:2 becomes: COPY --chmod=0644 tides.csv /srv/tides.csv" in text
    # ssh keys and apt state are deleted by one change to line 3: shown once, then named.
    assert text.count("app/Dockerfile:3 becomes: RUN apt-get update") == 1
    assert "app/Dockerfile:3: in the change shown above" in text
    assert "rm -rf /etc/ssh/ssh_host_* /var/log/dpkg.log" in text
    assert "`repro verify --suggest` prints the change as a diff" in text
    verbose = _text(_result(), verbose=True)
    assert "vary umask         A umask 022; B umask 002" in verbose
    assert "not clock          A and B built at the same time" in verbose


def test_suggest_prints_a_diff_from_the_repository_root() -> None:
    diff = suggestion_diff(_result())
    assert diff.startswith("--- a/app/Dockerfile\n+++ b/app/Dockerfile\n")
    assert "+COPY --chmod=0644 tides.csv /srv/tides.csv\n" in diff
    nothing = _result(f"{BASE}\nRUN echo unrelated\n")
    assert suggestion_diff(nothing) == ""
    assert "no change made" in _text(nothing)


def test_the_record_keeps_the_change_and_the_variations() -> None:
    record = _result().record()
    data = record.to_json()
    change = data["suggested_change"]
    assert change["path"] == "app/Dockerfile" and change["diff"] == suggestion_diff(_result())
    assert [c["line"] for c in change["changes"]] == [2, 3]
    assert data["not_varied"] == [{"name": "clock", "instead": "A and B built at the same time"}]
    assert VerificationRecord.from_json(data, "verify.json") == record
    # A record written before repro kept them reads as having none.
    for key in ("variations", "not_varied", "suggested_change"):
        del data[key]
    old = VerificationRecord.from_json(data, "old.json")
    assert old.variations == () and old.suggested_change is None
