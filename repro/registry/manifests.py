"""What a registry served at /manifests/, checked before anything trusts it (pure).

A manifest body is accepted only when it is what its Content-Type says, shaped as the
OCI image spec (and Docker's schema 2 twins) define it: an index is an object whose
``manifests`` are descriptors (``mediaType``, a well-formed ``digest``, an integer
``size``, a ``platform`` object, ``annotations`` mapping strings to strings); an image
manifest has a ``config`` descriptor and a list of ``layers``. Anything else, and any
body nested deeper than a manifest ever is, is the registry's fault: a RegistryError
(exit 3) naming the registry and the reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repro.errors import RegistryError
from repro.jsonout import load_json
from repro.oci.mediatypes import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
)

MAX_DEPTH = 32  # objects/arrays; real manifests nest 4-5 deep
KNOWN_TYPES = INDEX_TYPES | MANIFEST_TYPES
# Content-Types that say nothing: the body's mediaType (or its shape) decides.
GENERIC_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}


def well_formed_digest(value: object) -> bool:
    """``algorithm:encoded`` as the OCI spec writes it; sha256/sha512 as lowercase hex."""
    if not isinstance(value, str) or not _DIGEST.match(value):
        return False
    algorithm, _, encoded = value.partition(":")
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        return True  # a registered algorithm repro does not compute: shape only
    return len(encoded) == expected and all(c in "0123456789abcdef" for c in encoded)


@dataclass(frozen=True)
class ManifestDocument:
    media_type: str
    platforms: Mapping[str, str] | None  # an index: os/arch[/variant] -> child digest
    children: frozenset[str]  # an index: every child manifest digest


def content_type_of(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def validate_manifest(body: bytes, content_type: str, where: str) -> ManifestDocument:
    """The checked document; RegistryError naming ``where`` (``host/repo:ref``) otherwise."""
    declared = content_type_of(content_type)
    if declared in DOCKER_SCHEMA1:
        raise RegistryError(
            f"{where} is a Docker schema 1 manifest, which is deprecated and not supported",
            hint="push the image again with a current client (schema 2 or OCI)",
        )
    if declared not in KNOWN_TYPES and declared not in GENERIC_TYPES:
        raise RegistryError(
            f"{where}: the registry served Content-Type {declared!r}, not an image "
            "manifest or index",
            hint="check that the reference names an image; a proxy or login page may be "
            "answering instead of the registry",
        )
    document = _load(body, where)
    body_type = document.get("mediaType")
    if body_type is not None and not isinstance(body_type, str):
        raise RegistryError(f"{where}: the manifest's mediaType is not a string")
    if declared in KNOWN_TYPES:
        if body_type and body_type != declared:
            raise RegistryError(
                f"{where}: served as {declared} but the body says it is {body_type}"
            )
        media_type = declared
    elif body_type in KNOWN_TYPES:
        media_type = str(body_type)
    elif body_type in DOCKER_SCHEMA1:
        raise RegistryError(f"{where} is a Docker schema 1 manifest, which is not supported")
    elif body_type:
        raise RegistryError(f"{where}: {body_type!r} is not an image manifest or index")
    elif "manifests" in document:
        media_type = OCI_INDEX
    elif "config" in document and "layers" in document:
        media_type = OCI_MANIFEST
    else:
        raise RegistryError(f"{where}: the body is neither an image manifest nor an index")
    schema = document.get("schemaVersion")
    if schema != 2 or isinstance(schema, bool):
        raise RegistryError(f"{where}: schemaVersion is {schema!r}, not 2")
    _check_annotations(document.get("annotations"), f"{where}: annotations")
    if media_type in INDEX_TYPES:
        return _index(document, media_type, where)
    _descriptor(document.get("config"), f"{where}: config")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise RegistryError(f"{where}: layers is not a list")
    for number, layer in enumerate(layers):
        _descriptor(layer, f"{where}: layers[{number}]")
    if "subject" in document:
        _descriptor(document["subject"], f"{where}: subject")
    return ManifestDocument(media_type, None, frozenset())


def _load(body: bytes, where: str) -> dict[str, Any]:
    # The size was bounded by the read (bodies.py); the limit here only has to let it in.
    document = load_json(
        body,
        f"{where}: the manifest",
        error=RegistryError,
        max_bytes=len(body),
        max_nesting=MAX_DEPTH,
    )
    if not isinstance(document, dict):
        raise RegistryError(
            f"{where}: the manifest is a JSON {type(document).__name__}, not an object"
        )
    return document


def _check_annotations(value: object, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise RegistryError(f"{where} must map strings to strings")


def _descriptor(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RegistryError(f"{where} is not a descriptor (an object)")
    if not isinstance(value.get("mediaType"), str):
        raise RegistryError(f"{where}: mediaType is missing or not a string")
    if not well_formed_digest(value.get("digest")):
        raise RegistryError(f"{where}: digest {value.get('digest')!r} is not a valid digest")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RegistryError(f"{where}: size {size!r} is not a non-negative integer")
    _check_annotations(value.get("annotations"), f"{where}: annotations")
    urls = value.get("urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, str) for u in urls)):
        raise RegistryError(f"{where}: urls must be a list of strings")
    return value


def _index(document: Mapping[str, Any], media_type: str, where: str) -> ManifestDocument:
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        raise RegistryError(f"{where}: manifests is not a list")
    platforms: dict[str, str] = {}
    children: set[str] = set()
    for number, item in enumerate(manifests):
        spot = f"{where}: manifests[{number}]"
        child = _descriptor(item, spot)
        digest = str(child["digest"])
        children.add(digest)
        platform = child.get("platform")
        if platform is None:
            continue
        if not isinstance(platform, dict):
            raise RegistryError(f"{spot}: platform is not an object")
        for key in ("os", "architecture", "variant", "os.version"):
            if key in platform and not isinstance(platform[key], str):
                raise RegistryError(f"{spot}: platform.{key} is not a string")
        features = platform.get("os.features")
        if features is not None and not (
            isinstance(features, list) and all(isinstance(f, str) for f in features)
        ):
            raise RegistryError(f"{spot}: platform.os.features is not a list of strings")
        annotations = child.get("annotations") or {}
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            continue  # BuildKit's attestations ride along as unknown/unknown children
        os_name, arch = platform.get("os", "unknown"), platform.get("architecture", "unknown")
        if os_name == "unknown" or arch == "unknown":
            continue
        variant = platform.get("variant")
        name = f"{os_name}/{arch}" + (f"/{variant}" if variant else "")
        platforms.setdefault(name, digest)  # the first child for a platform, as pullers choose
    return ManifestDocument(media_type, dict(sorted(platforms.items())), frozenset(children))
