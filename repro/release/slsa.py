"""SLSA provenance v1 for a release: what was built, from what, on which builders, and the
evidence that two independent builds gave the same bytes. Pure: a Release and the facts of
its run in, an in-toto Statement out.

The statement (predicateType ``https://slsa.dev/provenance/v1``, subject = the image
digest, as for the release statement)::

    {"buildDefinition": {
        "buildType": "https://repro.dev/build/v1",
        "externalParameters": {"repository": "<git remote>", "commit": "<sha>",
            "ref": "refs/tags/<tag>", "context": ".", "dockerfile": "Dockerfile",
            "dockerfileSha256": "<hex>", "target": "<stage>", "platforms": [...],
            "buildArgs": {...}, "sourceDateEpoch": <int>},
        "internalParameters": {"builders": ["default", "repro-b"]},
        "resolvedDependencies": [
            {"uri": "git+<remote>@<ref>", "digest": {"gitCommit": "<sha>"}},
            {"name": "Dockerfile", "digest": {"sha256": "<hex>"}},
            {"name": "<base name:tag>", "uri": "pkg:oci/<name>@sha256%3A<hex>?...",
             "digest": {"sha256": "<hex>"}}, ...]},
     "runDetails": {
        "builder": {"id": "https://repro.dev/builder/v1?builders=default,repro-b",
                    "version": {"repro": ..., "buildkit": ..., "buildx": ...}},
        "metadata": {"startedOn": "<RFC 3339>", "finishedOn": "<RFC 3339>"},
        "byproducts": [{"name": "linux/amd64", "digest": {"sha256": "<manifest>"}}, ...]},
     "repro_reproducibility": {"identical": true, "verifiedAt": "<RFC 3339>",
        "builds": [{"name": "a", "builder": "default", "digest": "sha256:..."},
                   {"name": "b", "builder": "repro-b", "digest": "sha256:..."}]}}

``repro_reproducibility`` is an extension field as SLSA v1 defines them (``<vendor>_<name>``,
allowed in any object, ignored by consumers that do not know it; removing it can only
remove the evidence, never turn a DENY into an ALLOW).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from repro import __version__
from repro.dockerfile import parse_image_ref
from repro.errors import InputError
from repro.lockfile import Release, ReleaseBase
from repro.release.attest import make_statement

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://repro.dev/build/v1"
BUILDER_ID = "https://repro.dev/builder/v1"
EXTENSION = "repro_reproducibility"


@dataclass(frozen=True)
class BuildRun:
    """One of the independent builds `repro verify` made."""

    name: str  # "a" | "b"
    builder: str | None  # the buildx builder; None: the default one
    digest: str  # the image (index) digest it produced


@dataclass(frozen=True)
class ProvenanceRun:
    """What the release record does not keep: the run's builds, times and source URI."""

    builds: tuple[BuildRun, ...]
    started_on: str | None = None  # RFC 3339 UTC
    finished_on: str | None = None  # RFC 3339 UTC; the release's verified_at when None
    source_uri: str | None = None  # the git remote, e.g. https://github.com/o/r
    repro_version: str = __version__


def _builder_name(build: BuildRun) -> str:
    return build.builder or "default"


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise InputError(f"{digest!r} is not a sha256 digest")
    return value


def _base_dependency(base: ReleaseBase) -> dict[str, Any]:
    """A base image as a ResourceDescriptor, its ``uri`` a purl (pkg:oci)."""
    ref = parse_image_ref(base.reference)
    repository_url = f"{ref.registry}/{ref.repository}"
    last = ref.repository.rsplit("/", 1)[-1]
    qualifiers = f"repository_url={quote(repository_url, safe='/:')}"
    if ref.tag and not ref.implicit_latest:
        qualifiers += f"&tag={quote(ref.tag, safe='')}"
    return {
        "name": base.reference,
        "uri": f"pkg:oci/{last}@{quote(base.digest, safe='')}?{qualifiers}",
        "digest": {"sha256": _hex(base.digest)},
    }


def provenance_predicate(release: Release, run: ProvenanceRun) -> dict[str, Any]:
    """The SLSA v1 predicate for ``release`` (see the module docstring for its shape)."""
    if not run.builds:
        raise InputError("provenance needs the builds that were compared")
    builders = [_builder_name(build) for build in run.builds]
    ref = f"refs/tags/{release.tag}" if release.tag else None
    external: dict[str, Any] = {}
    if run.source_uri:
        external["repository"] = run.source_uri
    external["commit"] = release.commit
    if ref:
        external["ref"] = ref
    external.update(
        {
            "context": release.context,
            "dockerfile": release.dockerfile,
            "dockerfileSha256": release.dockerfile_sha256,
        }
    )
    if release.target is not None:
        external["target"] = release.target
    external.update(
        {
            "platforms": list(release.platforms),
            "buildArgs": dict(sorted(release.build_args.items())),
            "sourceDateEpoch": release.source_date_epoch,
        }
    )
    source: dict[str, Any] = {"digest": {"gitCommit": release.commit}}
    if run.source_uri:
        source = {"uri": f"git+{run.source_uri}@{ref or release.commit}", **source}
    else:
        source = {"name": "source", **source}
    dependencies = [
        source,
        {"name": release.dockerfile, "digest": {"sha256": release.dockerfile_sha256}},
        *(_base_dependency(base) for base in release.bases),
    ]
    metadata: dict[str, Any] = {}
    if run.started_on:
        metadata["startedOn"] = run.started_on
    metadata["finishedOn"] = run.finished_on or release.verified_at
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {"builders": builders},
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": f"{BUILDER_ID}?builders=" + ",".join(quote(b, safe="") for b in builders),
                "version": {
                    "buildkit": release.buildkit,
                    "buildx": release.buildx,
                    "repro": run.repro_version,
                },
            },
            "metadata": metadata,
            "byproducts": [
                {"name": image.platform, "digest": {"sha256": _hex(image.manifest)}}
                for image in release.images
            ],
        },
        EXTENSION: reproducibility(release, run),
    }


def reproducibility(release: Release, run: ProvenanceRun) -> dict[str, Any]:
    """The evidence: each build's image digest, and whether they are all the release's."""
    return {
        "builds": [
            {"name": build.name, "builder": _builder_name(build), "digest": build.digest}
            for build in run.builds
        ],
        "identical": len(run.builds) > 1
        and all(build.digest == release.digest for build in run.builds),
        "verifiedAt": release.verified_at,
    }


def provenance_statement(release: Release, run: ProvenanceRun, subject_name: str) -> bytes:
    """The in-toto Statement v1 (canonical JSON) to sign, about the image ``release.digest``."""
    return make_statement(
        subject_name, release.digest, provenance_predicate(release, run), PREDICATE_TYPE
    )
