"""SLSA provenance v1 for a release: what was built, from what, on which builders, and the
evidence that two independent builds gave the same bytes. Pure: a Release in (repro.lock
records the facts of its verification run: builds, start time, git remote, repro version),
an in-toto Statement out, so the provenance can be signed again at any time.

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
        "builds": [{"name": "A", "builder": "default", "digest": "sha256:..."},
                   {"name": "B", "builder": "repro-b", "digest": "sha256:..."}],
        "attestationsApart": ["provenance", ...]}}   (only with --attest)

``repro_reproducibility`` is an extension field as SLSA v1 defines them (``<vendor>_<name>``,
allowed in any object, ignored by consumers that do not know it; removing it can only
remove the evidence, never turn a DENY into an ALLOW). ``identical`` is whether both builds
gave the release's image digest; with BuildKit attestations built in (``--attest``) the
two indexes differ by their attestation manifests (timestamps, builder ids), so it is
whether both builds gave the release's platform manifests, as `repro verify` compared them,
and ``attestationsApart`` says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from repro.dockerfile import parse_image_ref
from repro.errors import InputError
from repro.lockfile import Release, ReleaseBase
from repro.release.attest import make_statement, sha256_hex

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://repro.dev/build/v1"
BUILDER_ID = "https://repro.dev/builder/v1"
EXTENSION = "repro_reproducibility"


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
        "digest": {"sha256": sha256_hex(base.digest)},
    }


def has_provenance(release: Release) -> bool:
    """Whether repro.lock holds the run facts provenance needs (releases recorded before
    repro kept them have none)."""
    return bool(release.builds)


def provenance_predicate(release: Release) -> dict[str, Any]:
    """The SLSA v1 predicate for ``release`` (see the module docstring for its shape)."""
    if not has_provenance(release):
        raise InputError(
            f"release {release.version} records no builds, so provenance needs the builds "
            "that were compared",
            hint=f"record it again with `repro release {release.version} --replace`",
        )
    builders = [build.builder for build in release.builds]
    ref = f"refs/tags/{release.tag}" if release.tag else None
    external: dict[str, Any] = {}
    if release.source:
        external["repository"] = release.source
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
    if release.attest:
        external["attest"] = list(release.attest)
    source: dict[str, Any] = {"digest": {"gitCommit": release.commit}}
    if release.source:
        source = {"uri": f"git+{release.source}@{ref or release.commit}", **source}
    else:
        source = {"name": "source", **source}
    dependencies = [
        source,
        {"name": release.dockerfile, "digest": {"sha256": release.dockerfile_sha256}},
        *(_base_dependency(base) for base in release.bases),
    ]
    metadata: dict[str, Any] = {}
    if release.started_at:
        metadata["startedOn"] = release.started_at
    metadata["finishedOn"] = release.verified_at
    version: dict[str, str] = {"buildkit": release.buildkit, "buildx": release.buildx}
    if release.repro:
        version["repro"] = release.repro
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
                "version": version,
            },
            "metadata": metadata,
            "byproducts": [
                {"name": image.platform, "digest": {"sha256": sha256_hex(image.manifest)}}
                for image in release.images
            ],
        },
        EXTENSION: reproducibility(release),
    }


def reproducibility(release: Release) -> dict[str, Any]:
    """The evidence: each build's image digest, and whether they gave the release's image."""
    builds = release.builds
    evidence: dict[str, Any] = {
        "builds": [
            {"name": build.name, "builder": build.builder, "digest": build.digest}
            for build in builds
        ],
        # With attestations apart the index digests differ by design; `repro verify`
        # compared the platform manifests, which the release records once for both.
        "identical": len(builds) > 1
        and (bool(release.attest) or all(build.digest == release.digest for build in builds)),
        "verifiedAt": release.verified_at,
    }
    if release.attest:
        evidence["attestationsApart"] = list(release.attest)
    return evidence


def provenance_statement(release: Release, subject_name: str) -> bytes:
    """The in-toto Statement v1 (canonical JSON) to sign, about the image ``release.digest``."""
    return make_statement(
        subject_name, release.digest, provenance_predicate(release), PREDICATE_TYPE
    )
