"""Each sign-off check, result by result: status, evidence, summary and fix, with the
boundary and asymmetric cases (a uid:gid pair that disagrees, a value that differs only
at its end)."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_dockerfile
from repro.signoff.checks import non_root
from repro.signoff.model import CheckResult, Status
from tests.unit.test_signoff import ctx, facts

NON_ROOT_FIX = (
    "Add `USER 10001:10001` (a numeric uid) to the final stage, after files are in place."
)


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        (None, "not set (root)"),
        ("", "not set (root)"),
        ("root", "'root'"),
        ("0", "'0'"),
        ("0:0", "'0:0'"),
        ("root:root", "'root:root'"),
        ("0:10001", "'0:10001'"),  # uid 0 with a non-root group is still root
        ("root:app", "'root:app'"),
    ],
)
def test_non_root_fails_when_the_user_half_is_root(user: str | None, shown: str) -> None:
    container = {} if user is None else {"User": user}
    result = non_root.check(ctx(facts(container)))
    assert result == CheckResult(
        "non-root",
        "Runs as a non-root user",
        Status.FAIL,
        (f"config User: {shown}",),
        NON_ROOT_FIX,
        "the container runs as root",
    )


@pytest.mark.parametrize("user", ["10001", "10001:0", "app", "app:root", "10001:10001", "1"])
def test_non_root_passes_when_the_user_half_is_not_root(user: str) -> None:
    result = non_root.check(ctx(facts({"User": user})))
    assert result == CheckResult(
        "non-root",
        "Runs as a non-root user",
        Status.PASS,
        (f"config User: {user}",),
        summary="non-root user",
    )


def test_non_root_names_the_last_user_instruction_of_the_final_stage() -> None:
    dockerfile = parse_dockerfile(
        b"FROM busybox AS build\nUSER 0\nFROM busybox\nUSER 10001\nRUN true\nUSER 10002:0\n",
        "app/Dockerfile",
    )
    result = non_root.check(ctx(facts({"User": "10002:0"}), dockerfile=dockerfile))
    assert result.status is Status.PASS
    assert result.evidence == ("config User: 10002:0", "app/Dockerfile:6: USER 10002:0")


def test_non_root_says_when_the_final_stage_has_no_user() -> None:
    dockerfile = parse_dockerfile(b"FROM busybox\nUSER 10001\nFROM busybox\n", "Dockerfile")
    result = non_root.check(ctx(facts(), dockerfile=dockerfile))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "config User: not set (root)",
        "Dockerfile: no USER in the final stage",
    )


def test_non_root_fails_when_one_platform_of_several_is_root() -> None:
    amd64 = facts({"User": "10001"})
    arm64 = facts({"User": "0:10001"})
    arm64 = type(arm64)(**{**arm64.__dict__, "platform": "linux/arm64"})
    result = non_root.check(ctx(amd64, arm64))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "[linux/amd64] config User: 10001",
        "[linux/arm64] config User: '0:10001'",
    )
