"""The release use cases' orchestration against fakes: record, push, publish, check, rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.build.model import BuildRequest
from repro.dockerfile import ImageRef
from repro.errors import InputError, VerdictError
from repro.lockfile import parse_lockfile, releases_of
from repro.oci import open_image
from repro.oci.blobsource import BlobSource
from repro.oci.mediatypes import OCI_INDEX
from repro.registry.model import ManifestResponse, PushedImage
from repro.registry.referrers import ArtifactRegistry
from repro.release.service import (
    ReleaseOutcome,
    ReleaseRequest,
    attach_signoff,
    rebuild,
    release_diff,
    run_release,
)
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

IMAGE = "registry.example/team/app"


class PathOpener:
    def open(self, text: str) -> BlobSource:
        return open_image(text)


def _release(
    tmp_path: Path, store: FakeRegistry, *, push: str | None = None, vary: bool = False
) -> tuple[Path, FakeBuilder, ReleaseOutcome]:
    project = git_project(tmp_path / "p")
    builder = FakeBuilder(vary=vary)
    registry = ArtifactRegistry(lambda _registry: store, push_archive=store.push_archive)
    outcome = run_release(
        ReleaseRequest("1.4.0", VerifyOptions(context=project), push=push),
        builder=builder,
        engine=builder,
        source_control=FakeSourceControl(tag="v1.4.0", remote="https://git.example/team/app"),
        clock=FakeClock(),
        registry=registry,
    )
    return project, builder, outcome


def test_release_records_the_verified_image_and_pushes_it(tmp_path: Path) -> None:
    store = FakeRegistry()
    project, builder, _ = _release(tmp_path, store, push=f"{IMAGE}:1.4.0")
    assert len(builder.requests) == 2  # verified: built twice
    text = (project / "repro.lock").read_text()
    (release,) = releases_of(parse_lockfile(text), text).values()
    assert (release.version, release.commit, release.tag) == ("1.4.0", COMMIT, "v1.4.0")
    assert release.source_date_epoch == COMMIT_EPOCH and release.buildx == "0.13.1"
    assert release.repository == f"{IMAGE}:1.4.0"
    # The facts of the run that SLSA provenance states: both builds, the remote, times.
    assert [(b.name, b.builder, b.digest) for b in release.builds] == [
        ("A", "default", release.digest),
        ("B", "default", release.digest),
    ]
    assert release.source == "https://git.example/team/app"
    assert release.started_at is not None and release.started_at <= release.verified_at
    assert release.repro is not None and release.attest == ()
    # One builder: everything but the builder was varied, and the record says so.
    assert release.variations == ("umask", "tz", "locale", "path", "time", "clock")
    # What the registry serves for the tag is the recorded, verified image.
    assert store.get_manifest("team/app", "1.4.0").digest == release.digest
    assert [ref for _, ref in store.pushed_archives] == [f"{IMAGE}:1.4.0"]


def test_builds_that_differ_record_nothing_and_push_nothing(tmp_path: Path) -> None:
    store = FakeRegistry()
    project, _, outcome = _release(tmp_path, store, push=f"{IMAGE}:1.4.0", vary=True)
    assert outcome.release is None
    assert not (project / "repro.lock").exists() and store.pushed_archives == []


def test_a_registry_serving_another_image_after_the_push_records_nothing(tmp_path: Path) -> None:
    class Rewriting(ArtifactRegistry):
        def push_archive(self, archive: Path, ref: ImageRef) -> PushedImage:
            return PushedImage("sha256:" + "9" * 64, loopback=False)

    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    with pytest.raises(VerdictError, match="after the push") as raised:
        run_release(
            ReleaseRequest("1.4.0", VerifyOptions(context=project), push=f"{IMAGE}:1.4.0"),
            builder=builder,
            engine=builder,
            source_control=FakeSourceControl(),
            clock=FakeClock(),
            registry=Rewriting(lambda _registry: FakeRegistry()),
        )
    assert raised.value.hint == "check for a proxy rewriting images"
    assert not (project / "repro.lock").exists()


def test_rebuild_builds_the_recorded_commit_once_and_compares(tmp_path: Path) -> None:
    store = FakeRegistry()
    project, _, _ = _release(tmp_path, store)
    builder, git = FakeBuilder(), FakeSourceControl()
    same = rebuild(
        project / "repro.lock", "1.4.0", builder=builder, source_control=git, opener=PathOpener()
    )
    assert same.identical and len(builder.requests) == 1
    assert builder.requests[0].source_date_epoch == COMMIT_EPOCH
    assert git.clones[0][0] == COMMIT

    # --against an image file: the compare engine's answer, with its digest.
    other = FakeBuilder(vary=True)
    other.build(BuildRequest(context=project, dest=tmp_path / "other.tar", source_date_epoch=1))
    differs = rebuild(
        project / "repro.lock",
        "1.4.0",
        builder=FakeBuilder(),
        source_control=FakeSourceControl(),
        opener=PathOpener(),
        against=str(tmp_path / "other.tar"),
    )
    assert not differs.identical and differs.comparison is not None
    assert differs.expected_digest == differs.comparison.image_digest_a
    with pytest.raises(InputError, match="is not recorded"):
        rebuild(
            project / "repro.lock",
            "9.9.9",
            builder=builder,
            source_control=git,
            opener=PathOpener(),
        )


def test_diff_lists_the_commits_between_two_releases(tmp_path: Path) -> None:
    store = FakeRegistry()
    project, _, _ = _release(tmp_path, store)
    git = FakeSourceControl(history=["abc1234 bump base"])
    changes = release_diff(project / "repro.lock", "1.4.0", "1.4.0", source_control=git)
    assert changes.commits == ("abc1234 bump base",)


def test_attach_signoff_refuses_a_report_about_another_image(tmp_path: Path) -> None:
    project, _, _ = _release(tmp_path, FakeRegistry())
    with pytest.raises(InputError, match=r"release 1\.4\.0 is"):
        attach_signoff(project, "1.4.0", "sha256:" + "1" * 64, b"{}")


def test_manifest_response_is_the_subject_descriptor() -> None:
    served = ManifestResponse("sha256:" + "a" * 64, OCI_INDEX, b"{}")
    assert served.media_type == OCI_INDEX


def test_a_release_with_buildkits_attestations_verifies_the_images_apart_from_them(
    tmp_path: Path,
) -> None:
    store = FakeRegistry()
    project = git_project(tmp_path / "p")
    builder = FakeBuilder()
    options = VerifyOptions(context=project, attest=("provenance", "sbom"), sbom_generator="g")
    outcome = run_release(
        ReleaseRequest("1.4.0", options, push=f"{IMAGE}:1.4.0"),
        builder=builder,
        engine=builder,
        source_control=FakeSourceControl(),
        clock=FakeClock(),
        registry=ArtifactRegistry(lambda _registry: store, push_archive=store.push_archive),
    )
    assert [(r.attest, r.sbom_generator) for r in builder.requests] == [
        (("provenance", "sbom"), "g")
    ] * 2
    result, release = outcome.result, outcome.release
    # The two indexes differ by their attestations; the images are the same: recorded.
    assert result.identical and not result.comparison.bit_identical
    assert release is not None and release.attest == ("provenance", "sbom")
    assert release.builds[0].digest == release.digest != release.builds[1].digest
    assert result.record().to_json()["attest"] == ["provenance", "sbom"]
    # What was pushed is build A's index, attestations and all.
    pushed = json.loads(store.get_manifest("team/app", "1.4.0").body or b"")
    kinds = [m.get("annotations", {}).get("vnd.docker.reference.type") for m in pushed["manifests"]]
    assert kinds == [None, "attestation-manifest"]
    # A rebuild (without attestations) matches the release's images.
    rebuilt = rebuild(
        project / "repro.lock",
        "1.4.0",
        builder=FakeBuilder(),
        source_control=FakeSourceControl(),
        opener=PathOpener(),
    )
    assert rebuilt.identical, rebuilt.problems
