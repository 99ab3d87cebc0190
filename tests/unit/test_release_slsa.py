"""SLSA provenance v1 for a release, checked against a JSON Schema of the spec."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repro.errors import InputError
from repro.lockfile import Release, ReleaseBase, ReleaseBuild, ReleaseImage, ReleaseLayer
from repro.release import attest, keys, slsa

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "fixtures"
        / "slsa"
        / "provenance-v1.statement.schema.json"
    ).read_text()
)
IMAGE = "sha256:" + "1" * 64
MANIFEST = "sha256:" + "2" * 64
BASE = "sha256:" + "3" * 64
RELEASE = Release(
    version="1.4.0",
    commit="c" * 40,
    tag="v1.4.0",
    context=".",
    dockerfile="app/Dockerfile",
    dockerfile_sha256="e" * 64,
    source_date_epoch=1700000000,
    build_args={"B": "2", "A": "1"},
    target="runtime",
    platforms=("linux/amd64", "linux/arm64"),
    bases=(
        ReleaseBase("localhost:5000/library/python:3.11-slim", BASE),
        ReleaseBase("docker.io/library/busybox", "sha256:" + "4" * 64),
    ),
    digest=IMAGE,
    images=(
        ReleaseImage(
            platform="linux/amd64",
            manifest=MANIFEST,
            config="sha256:" + "5" * 64,
            size=10,
            layers=(ReleaseLayer("sha256:" + "6" * 64, 8, "RUN make"),),
        ),
    ),
    buildkit="0.13.2",
    buildx="0.13.1",
    verified_at="2026-01-01T00:10:00Z",
    repository="localhost:5000/team/app:1.4.0",
    builds=(ReleaseBuild("A", "default", IMAGE), ReleaseBuild("B", "repro-b", IMAGE)),
    started_at="2026-01-01T00:00:00Z",
    source="https://github.com/example/app",
    repro="0.1.0",
)
OTHER_INDEX = "sha256:" + "7" * 64
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def statement(release: Release = RELEASE) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        slsa.provenance_statement(release, "localhost:5000/team/app")
    )
    return document


def errors(document: dict[str, Any]) -> list[str]:
    return sorted(error.message for error in VALIDATOR.iter_errors(document))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_provenance_of_a_release_is_valid_slsa_v1() -> None:
    document = statement()
    assert errors(document) == []
    assert document["predicateType"] == "https://slsa.dev/provenance/v1"
    assert document["subject"] == [
        {"name": "localhost:5000/team/app", "digest": {"sha256": "1" * 64}}
    ]


def test_build_definition_holds_the_parameters_and_every_input() -> None:
    definition = statement()["predicate"]["buildDefinition"]
    assert definition["buildType"] == "https://repro.dev/build/v1"
    assert definition["externalParameters"] == {
        "repository": "https://github.com/example/app",
        "commit": "c" * 40,
        "ref": "refs/tags/v1.4.0",
        "context": ".",
        "dockerfile": "app/Dockerfile",
        "dockerfileSha256": "e" * 64,
        "target": "runtime",
        "platforms": ["linux/amd64", "linux/arm64"],
        "buildArgs": {"A": "1", "B": "2"},
        "sourceDateEpoch": 1700000000,
    }
    assert definition["internalParameters"] == {"builders": ["default", "repro-b"]}
    assert definition["resolvedDependencies"] == [
        {
            "uri": "git+https://github.com/example/app@refs/tags/v1.4.0",
            "digest": {"gitCommit": "c" * 40},
        },
        {"name": "app/Dockerfile", "digest": {"sha256": "e" * 64}},
        {
            "name": "localhost:5000/library/python:3.11-slim",
            "uri": "pkg:oci/python@sha256%3A"
            + "3" * 64
            + "?repository_url=localhost:5000/library/python&tag=3.11-slim",
            "digest": {"sha256": "3" * 64},
        },
        {
            "name": "docker.io/library/busybox",
            "uri": "pkg:oci/busybox@sha256%3A"
            + "4" * 64
            + "?repository_url=docker.io/library/busybox",
            "digest": {"sha256": "4" * 64},
        },
    ]


def test_run_details_name_the_builders_times_and_byproducts() -> None:
    details = statement()["predicate"]["runDetails"]
    assert details["builder"] == {
        "id": "https://repro.dev/builder/v1?builders=default,repro-b",
        "version": {"buildkit": "0.13.2", "buildx": "0.13.1", "repro": "0.1.0"},
    }
    assert details["metadata"] == {
        "startedOn": "2026-01-01T00:00:00Z",
        "finishedOn": "2026-01-01T00:10:00Z",
    }
    assert details["byproducts"] == [{"name": "linux/amd64", "digest": {"sha256": "2" * 64}}]


def test_the_reproducibility_evidence_is_an_extension_field() -> None:
    predicate = statement()["predicate"]
    assert predicate["repro_reproducibility"] == {
        "builds": [
            {"name": "A", "builder": "default", "digest": IMAGE},
            {"name": "B", "builder": "repro-b", "digest": IMAGE},
        ],
        "identical": True,
        "verifiedAt": "2026-01-01T00:10:00Z",
    }
    other = replace(RELEASE, builds=(RELEASE.builds[0], ReleaseBuild("B", "x", OTHER_INDEX)))
    assert not statement(other)["predicate"]["repro_reproducibility"]["identical"]


def test_with_buildkit_attestations_the_images_are_compared_apart_from_them() -> None:
    # Each build's index holds its own provenance (timestamps differ): the index digests
    # differ, the platform manifests the release records are those of both builds.
    attested = replace(
        RELEASE,
        attest=("provenance",),
        builds=(RELEASE.builds[0], ReleaseBuild("B", "repro-b", OTHER_INDEX)),
    )
    document = statement(attested)
    assert errors(document) == []
    evidence = document["predicate"]["repro_reproducibility"]
    assert evidence["identical"] is True
    assert evidence["attestationsApart"] == ["provenance"]
    assert document["predicate"]["buildDefinition"]["externalParameters"]["attest"] == [
        "provenance"
    ]


def test_without_a_remote_or_tag_the_source_is_the_commit() -> None:
    document = statement(
        replace(RELEASE, tag=None, target=None, source=None, started_at=None, repro=None)
    )
    assert errors(document) == []
    definition = document["predicate"]["buildDefinition"]
    assert "repository" not in definition["externalParameters"]
    assert "ref" not in definition["externalParameters"]
    assert "target" not in definition["externalParameters"]
    assert definition["resolvedDependencies"][0] == {
        "name": "source",
        "digest": {"gitCommit": "c" * 40},
    }
    # No start time recorded: finishedOn is when the release was verified.
    details = document["predicate"]["runDetails"]
    assert details["metadata"] == {"finishedOn": "2026-01-01T00:10:00Z"}
    assert details["builder"]["version"] == {"buildkit": "0.13.2", "buildx": "0.13.1"}


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda d: d["predicate"]["runDetails"]["builder"].pop("id"), "'id' is a required"),
        (lambda d: d["predicate"].pop("buildDefinition"), "'buildDefinition' is a required"),
        (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "was expected"),
        (
            lambda d: d["predicate"]["runDetails"].update(buildr={}),
            "'buildr' is not valid under any of the given schemas",
        ),
        (
            lambda d: d["predicate"]["buildDefinition"]["resolvedDependencies"][0].update(
                digest={"gitCommit": "C" * 40}
            ),
            "does not match",
        ),
        (
            lambda d: d["predicate"]["runDetails"]["metadata"].update(startedOn="yesterday"),
            "does not match",
        ),
        (lambda d: d["subject"][0].pop("digest"), "'digest' is a required property"),
    ],
)
def test_the_schema_refuses_what_the_spec_does_not_allow(break_it: Any, message: str) -> None:
    document = statement()
    break_it(document)
    assert any(message in error for error in errors(document)), errors(document)


def test_provenance_needs_the_builds() -> None:
    old = replace(RELEASE, builds=())
    assert not slsa.has_provenance(old)
    with pytest.raises(InputError, match="needs the builds"):
        slsa.provenance_predicate(old)


def test_the_statement_signs_and_verifies_like_the_release_statement() -> None:
    key = keys.generate()
    envelope = attest.sign(slsa.provenance_statement(RELEASE, "image"), key)
    verified = attest.verify_attestation(
        envelope, key.public_key(), digest=IMAGE, predicate_type=slsa.PREDICATE_TYPE
    )
    assert verified.predicate["buildDefinition"]["buildType"] == slsa.BUILD_TYPE


def test_provenance_rejects_digests_that_are_not_sha256_lowercase_hex() -> None:
    upper = "sha256:" + "A" * 64
    moved = replace(RELEASE, bases=(ReleaseBase("docker.io/library/busybox", upper),))
    with pytest.raises(InputError) as caught:
        slsa.provenance_predicate(moved)
    assert caught.value.message == f"{upper!r} is not a sha256 digest"
    sha512 = "sha512:" + "2" * 64
    image = replace(RELEASE.images[0], manifest=sha512)
    with pytest.raises(InputError) as caught:
        slsa.provenance_predicate(replace(RELEASE, images=(image,)))
    assert caught.value.message == f"{sha512!r} is not a sha256 digest"


def test_a_base_is_a_purl_named_by_the_last_part_of_its_repository() -> None:
    bases = (
        ReleaseBase("localhost:5000/team/tools/builder:1.0", BASE),
        ReleaseBase("localhost:5000/app:2", BASE),
    )
    dependencies = slsa.provenance_predicate(replace(RELEASE, bases=bases))["buildDefinition"][
        "resolvedDependencies"
    ][2:]
    assert [dependency["uri"] for dependency in dependencies] == [
        f"pkg:oci/builder@sha256%3A{'3' * 64}"
        "?repository_url=localhost:5000/team/tools/builder&tag=1.0",
        f"pkg:oci/app@sha256%3A{'3' * 64}?repository_url=localhost:5000/app&tag=2",
    ]


def test_provenance_without_builds_says_how_to_record_them() -> None:
    with pytest.raises(InputError) as caught:
        slsa.provenance_predicate(replace(RELEASE, builds=()))
    assert (caught.value.message, caught.value.hint) == (
        "release 1.4.0 records no builds, so provenance needs the builds that were compared",
        "record it again with `repro release 1.4.0 --replace`",
    )


def test_one_build_is_no_evidence_of_reproducibility() -> None:
    alone = replace(RELEASE, builds=RELEASE.builds[:1])
    assert statement(alone)["predicate"]["repro_reproducibility"] == {
        "builds": [{"name": "A", "builder": "default", "digest": IMAGE}],
        "identical": False,
        "verifiedAt": "2026-01-01T00:10:00Z",
    }
