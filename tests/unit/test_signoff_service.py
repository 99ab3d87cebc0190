"""`repro signoff`'s orchestration against fakes: build once (or open --image), then check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.build.model import BuildRequest
from repro.config import ProjectConfig
from repro.errors import InputError
from repro.oci import open_image
from repro.oci.blobsource import BlobSource
from repro.project import EpochPolicy
from repro.registry.referrers import ArtifactRegistry
from repro.release import attest, keys
from repro.release.service import ReleaseRequest, run_release
from repro.signoff.model import SignoffReport, Status
from repro.signoff.service import SignoffOptions, run_signoff, sign_report
from repro.verify.service import VerifyOptions
from tests.unit.fakes import (
    COMMIT,
    COMMIT_EPOCH,
    FakeBuilder,
    FakeClock,
    FakeRegistry,
    FakeSourceControl,
    git_project,
)


class RecordingOpener:
    def __init__(self) -> None:
        self.opened: list[str] = []

    def open(self, text: str) -> BlobSource:
        self.opened.append(text)
        return open_image(text)


def _signoff(options: SignoffOptions, builder: FakeBuilder | None = None) -> SignoffReport:
    return run_signoff(
        options,
        config=ProjectConfig(),
        builder=builder or FakeBuilder(),
        source_control=FakeSourceControl(),
        opener=RecordingOpener(),
    )


def _check(report: SignoffReport, check_id: str) -> tuple[Status, tuple[str, ...]]:
    (check,) = [c for c in report.checks if c.id == check_id]
    return check.status, check.evidence


def test_builds_the_commit_once_from_a_fresh_checkout(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    phases: list[str] = []
    report = run_signoff(
        SignoffOptions(context=project, build_args={"VERSION": "1"}),
        config=ProjectConfig(),
        builder=builder,
        source_control=FakeSourceControl(),
        opener=RecordingOpener(),
        on_phase=phases.append,
    )
    (request,) = builder.requests
    assert request.context != project  # a fresh checkout, as verify's build A
    assert request.source_date_epoch == COMMIT_EPOCH and request.build_args == {"VERSION": "1"}
    assert report.commit == COMMIT and report.image == "built from p"
    assert phases[0].startswith(f"checking out {COMMIT[:12]}")
    assert _check(report, "reproducible")[0] is Status.SKIP  # nothing verified yet


def test_the_released_image_is_reproducible_and_another_image_fails(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    builder, store = FakeBuilder(), FakeRegistry()
    outcome = run_release(
        ReleaseRequest("1.4.0", VerifyOptions(context=project)),
        builder=builder,
        engine=builder,
        source_control=FakeSourceControl(),
        clock=FakeClock(),
        registry=ArtifactRegistry(lambda _registry: store),
    )
    assert outcome.release is not None

    rebuilt = _signoff(SignoffOptions(context=project))
    assert rebuilt.image_digest == outcome.release.digest
    status, evidence = _check(rebuilt, "reproducible")
    assert status is Status.PASS
    assert f"the signed-off image is the verified one ({outcome.release.digest})" in evidence

    other = FakeBuilder(vary=True).build(
        BuildRequest(context=project, dest=tmp_path / "other.tar", source_date_epoch=1)
    )
    opener = RecordingOpener()
    different = run_signoff(
        SignoffOptions(context=project, image=str(other)),
        config=ProjectConfig(),
        builder=FakeBuilder(),
        source_control=FakeSourceControl(),
        opener=opener,
    )
    assert opener.opened == [str(other)]
    status, evidence = _check(different, "reproducible")
    assert status is Status.FAIL
    assert f"verified image {outcome.release.digest}" in evidence[-1]


def test_bad_input_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH=1 disagrees"):
        _signoff(SignoffOptions(context=project, build_args={"SOURCE_DATE_EPOCH": "1"}), builder)
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH=1 disagrees"):
        _signoff(
            SignoffOptions(
                context=project, epoch=EpochPolicy(7), build_args={"SOURCE_DATE_EPOCH": "1"}
            ),
            builder,
        )
    assert builder.requests == []
    (tmp_path / "v.json").write_text('{"kind": "signoff"}')
    with pytest.raises(InputError, match="is not a `repro verify --json` record"):
        _signoff(SignoffOptions(context=project, verification=tmp_path / "v.json"), builder)


def test_a_signed_report_carries_the_record_it_serialises(tmp_path: Path) -> None:
    project = git_project(tmp_path / "p")
    report = _signoff(SignoffOptions(context=project))
    key = keys.generate()
    envelope = attest.parse_envelope(sign_report(report, key))
    attest.verify_envelope(envelope, key.public_key())
    statement = json.loads(envelope.payload)
    assert statement["predicateType"] == attest.SIGNOFF_PREDICATE_TYPE
    assert SignoffReport.from_json(statement["predicate"], "predicate") == report
    assert statement["subject"][0]["digest"]["sha256"] == report.image_digest.split(":")[1]
