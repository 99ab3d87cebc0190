"""`repro verify`'s orchestration against fakes: two checkouts, two builds, one verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import InputError, VerdictError
from repro.project import EpochPolicy
from repro.verify.model import VerificationRecord
from repro.verify.service import VerifyOptions, verify
from tests.unit.fakes import (
    COMMIT,
    COMMIT_EPOCH,
    FakeBuilder,
    FakeClock,
    FakeSourceControl,
    git_project,
)


def test_two_fresh_checkouts_built_alike_are_identical(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    builder, git = FakeBuilder(), FakeSourceControl()
    phases: list[str] = []
    logs: list[tuple[str, str]] = []
    result = verify(
        VerifyOptions(context=project, build_args={"VERSION": "1"}),
        builder=builder,
        source_control=git,
        clock=FakeClock(),
        on_log=lambda name, line: logs.append((name, line)),
        on_phase=phases.append,
    )
    assert result.identical and result.commit == COMMIT and result.epoch == COMMIT_EPOCH
    # Each build got its own clone, under a different umask and time zone.
    assert [(c[0], c[1], c[2]["TZ"]) for c in git.clones] == [
        (COMMIT, 0o022, "UTC"),
        (COMMIT, 0o002, "Pacific/Kiritimati"),
    ]
    a, b = builder.requests
    assert a.context != b.context and a.dest.name == "a.oci.tar" and b.dest.name == "b.oci.tar"
    assert a.source_date_epoch == b.source_date_epoch == COMMIT_EPOCH
    assert a.build_args == {"VERSION": "1"}
    assert phases[-1] == "comparing A and B" and {name for name, _ in logs} == {"A", "B"}
    record = result.record()
    assert record.identical and record.image_digest_a == record.image_digest_b
    assert VerificationRecord.from_json(record.to_json(), "verify.json") == record


def test_builds_that_differ_are_a_negative_result_with_the_difference(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    result = verify(
        VerifyOptions(context=project, keep=tmp_path / "kept"),
        builder=FakeBuilder(vary=True),
        source_control=FakeSourceControl(),
        clock=FakeClock(),
    )
    assert not result.identical
    assert "/etc/built-as" in {d.path for d in result.comparison.differences}
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["a.oci.tar", "b.oci.tar"]


def test_bad_input_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    with pytest.raises(InputError, match="uncommitted changes"):
        verify(
            VerifyOptions(context=project),
            builder=builder,
            source_control=FakeSourceControl(dirty=["hello.txt"]),
            clock=FakeClock(),
        )
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH=5 disagrees"):
        verify(
            VerifyOptions(context=project, build_args={"SOURCE_DATE_EPOCH": "5"}),
            builder=builder,
            source_control=FakeSourceControl(),
            clock=FakeClock(),
        )
    (project / "repro.lock").write_text("schema_version = 1\n")
    with pytest.raises(VerdictError, match="unpinned base image"):
        (project / "Dockerfile").write_text("FROM busybox:1.35\n")
        verify(
            VerifyOptions(context=project),
            builder=builder,
            source_control=FakeSourceControl(),
            clock=FakeClock(),
        )
    outside = tmp_path / "no-git"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(InputError, match="not inside a git repository"):
        verify(
            VerifyOptions(context=outside),
            builder=builder,
            source_control=FakeSourceControl(),
            clock=FakeClock(),
        )
    assert builder.requests == []


def test_a_fixed_epoch_builds_a_copy_outside_git(tmp_path: Path) -> None:
    outside = tmp_path / "no-git"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM scratch\n")
    builder, git = FakeBuilder(), FakeSourceControl()
    result = verify(
        VerifyOptions(
            context=outside, epoch=EpochPolicy(42), build_args={"SOURCE_DATE_EPOCH": "42"}
        ),
        builder=builder,
        source_control=git,
        clock=FakeClock(),
    )
    assert result.identical and result.commit == "none" and result.epoch == 42
    assert git.clones == []  # no repository: each build gets a fresh copy of the files
    assert all(r.source_date_epoch == 42 for r in builder.requests)
