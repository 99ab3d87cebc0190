"""Artifacts that refer to an image: push them, list them, fetch one back.

An artifact is an OCI image manifest with an ``artifactType``, the empty config, one
layer (the document) and a ``subject`` (the image). It is listed in the referrers tag
``<alg>-<hex>`` of the image (an OCI index): the fallback the OCI distribution spec
defines for registries without the referrers API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from repro.dockerfile import ImageRef
from repro.errors import VerdictError
from repro.jsonout import canonical_json
from repro.oci.mediatypes import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from repro.registry.client import is_plain_http_host
from repro.registry.model import (
    Artifact,
    Attachment,
    ManifestResponse,
    PushedImage,
    Referrer,
    ReferrerListing,
)
from repro.registry.skopeo import push_oci_archive


class ManifestStore(Protocol):
    """The registry operations artifacts need (what RegistryClient offers)."""

    @property
    def host(self) -> str: ...

    @property
    def plain_http(self) -> bool: ...

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse: ...

    def find_manifest(self, repository: str, reference: str) -> ManifestResponse | None: ...

    def resolve(self, repository: str, reference: str) -> ManifestResponse: ...

    def put_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> str: ...

    def push_blob(self, repository: str, data: bytes) -> str: ...

    def get_blob(self, repository: str, digest: str) -> bytes: ...


def referrers_tag(digest: str) -> str:
    """The OCI referrers tag schema: ``<alg>-<hex>``."""
    return digest.replace(":", "-")


def push_artifact(
    store: ManifestStore,
    repository: str,
    subject: ManifestResponse,
    artifact: Artifact,
    annotations: Mapping[str, str],
) -> dict[str, Any]:
    """Push ``artifact`` as a manifest that refers to ``subject``; its index descriptor."""
    empty = store.push_blob(repository, b"{}")
    blob_digest = store.push_blob(repository, artifact.data)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact.artifact_type,
            "config": {"mediaType": OCI_EMPTY, "digest": empty, "size": 2},
            "layers": [
                {
                    "mediaType": artifact.layer_media_type,
                    "digest": blob_digest,
                    "size": len(artifact.data),
                }
            ],
            "subject": _descriptor(subject),
            "annotations": dict(annotations),
        }
    )
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    store.put_manifest(repository, digest, manifest, OCI_MANIFEST)
    return {
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": len(manifest),
        "artifactType": artifact.artifact_type,
        "annotations": dict(annotations),
    }


def _descriptor(manifest: ManifestResponse) -> dict[str, Any]:
    return {
        "mediaType": manifest.media_type,
        "digest": manifest.digest,
        "size": len(manifest.body or b""),
    }


def listed_referrers(store: ManifestStore, repository: str, tag: str) -> list[dict[str, Any]]:
    """The descriptors the referrers tag ``tag`` lists (none when there is no such tag)."""
    found = store.find_manifest(repository, tag)
    if found is None:
        return []
    try:
        document = json.loads(found.body or b"{}")
    except ValueError:
        return []
    manifests = document.get("manifests") if isinstance(document, dict) else None
    return [m for m in manifests or [] if isinstance(m, dict)]


def attach(
    store: ManifestStore,
    repository: str,
    subject: ManifestResponse,
    artifacts: Sequence[Artifact],
    annotations: Mapping[str, str],
) -> Attachment:
    """Push every artifact and list them in the subject's referrers tag (keeping the others)."""
    pushed = [push_artifact(store, repository, subject, a, annotations) for a in artifacts]
    tag = referrers_tag(subject.digest)
    new_digests = {descriptor["digest"] for descriptor in pushed}
    merged = [
        d for d in listed_referrers(store, repository, tag) if d.get("digest") not in new_digests
    ] + pushed
    index = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": merged})
    store.put_manifest(repository, tag, index, OCI_INDEX)
    return Attachment(tuple(_referrer(d) for d in pushed), tag, len(merged))


def _referrer(descriptor: Mapping[str, Any]) -> Referrer:
    annotations = descriptor.get("annotations")
    artifact_type = descriptor.get("artifactType")
    return Referrer(
        digest=str(descriptor.get("digest")),
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        annotations={
            str(k): str(v)
            for k, v in (annotations if isinstance(annotations, dict) else {}).items()
        },
    )


def artifact_blob(
    store: ManifestStore, repository: str, where: str, referrer: Referrer, subject_digest: str
) -> bytes:
    """The document an artifact holds, after checking that it refers to ``subject_digest``."""
    manifest = json.loads(store.get_manifest(repository, referrer.digest).body or b"")
    subject = manifest.get("subject") if isinstance(manifest, dict) else None
    if not isinstance(subject, dict) or subject.get("digest") != subject_digest:
        raise VerdictError(
            f"{where} does not refer to {subject_digest} (its subject is {subject!r})"
        )
    layers = manifest.get("layers")
    if not isinstance(layers, list) or not layers or not isinstance(layers[0], dict):
        raise VerdictError(f"{where} holds no envelope layer")
    return store.get_blob(repository, str(layers[0].get("digest")))


class ArtifactRegistry:
    """Push verified images and attach artifacts to them, by image reference.

    ``store_for(registry)`` gives the client for a registry (through its mirror);
    ``push_archive`` copies an OCI archive byte for byte (skopeo in real use).
    """

    def __init__(
        self,
        store_for: Callable[[str], ManifestStore],
        push_archive: Callable[[Path, str, bool], None] | None = None,
    ) -> None:
        self._store_for = store_for
        self._push_archive = push_archive or _skopeo_push

    def push_archive(self, archive: Path, ref: ImageRef) -> PushedImage:
        """Push every manifest of ``archive`` to ``ref``; what its tag serves afterwards."""
        store = self._store_for(ref.registry)
        self._push_archive(archive, f"{ref.name}:{ref.tag}", store.plain_http)
        served = store.resolve(ref.repository, ref.tag or "latest")
        return PushedImage(served.digest, is_plain_http_host(store.host))

    def manifest(self, ref: ImageRef) -> ManifestResponse:
        return self._store_for(ref.registry).get_manifest(
            ref.repository, ref.digest or ref.tag or "latest"
        )

    def attach(
        self,
        ref: ImageRef,
        subject: ManifestResponse,
        artifacts: Sequence[Artifact],
        annotations: Mapping[str, str],
    ) -> Attachment:
        return attach(
            self._store_for(ref.registry), ref.repository, subject, artifacts, annotations
        )

    def referrers(self, ref: ImageRef) -> ReferrerListing:
        store = self._store_for(ref.registry)
        served = store.resolve(ref.repository, ref.digest or ref.tag or "latest").digest
        tag = referrers_tag(served)
        listed = listed_referrers(store, ref.repository, tag)
        return ReferrerListing(served, tag, tuple(_referrer(d) for d in listed))

    def artifact_blob(self, ref: ImageRef, referrer: Referrer, subject_digest: str) -> bytes:
        where = f"{ref.name}@{referrer.digest}"
        return artifact_blob(
            self._store_for(ref.registry), ref.repository, where, referrer, subject_digest
        )


def _skopeo_push(archive: Path, reference: str, plain_http: bool) -> None:
    push_oci_archive(archive, reference, plain_http=plain_http)
