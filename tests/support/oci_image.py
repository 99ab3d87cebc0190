"""A tiny, valid OCI image built in code: an index, one linux/amd64 manifest, its config
and one gzip layer holding one file. Deterministic: the same bytes on every run."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from functools import cache
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

LAYER_FILE = "hello.txt"
LAYER_FILE_CONTENT = b"hello from the fake registry\n"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Blob:
    """Some bytes and the media type they are served as."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass(frozen=True)
class CannedImage:
    index: Blob
    manifest: Blob
    config: Blob
    layer: Blob
    layer_tar: bytes  # the layer uncompressed: its sha256 is the config's diff_id

    @property
    def manifests(self) -> dict[str, Blob]:
        return {b.digest: b for b in (self.index, self.manifest)}

    @property
    def blobs(self) -> dict[str, Blob]:
        return {b.digest: b for b in (self.config, self.layer)}


def _layer_tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(LAYER_FILE)
        info.size = len(LAYER_FILE_CONTENT)
        info.mode = 0o644
        info.mtime = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(LAYER_FILE_CONTENT))
    return out.getvalue()


@cache
def canned_image() -> CannedImage:
    layer_tar = _layer_tar()
    layer = Blob(OCI_LAYER_GZIP, gzip.compress(layer_tar, mtime=0))
    config = Blob(
        OCI_CONFIG,
        canonical_json(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["/bin/cat", "/" + LAYER_FILE]},
                "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer_tar)]},
            }
        ),
    )
    manifest = Blob(
        OCI_MANIFEST,
        canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": config.descriptor(),
                "layers": [layer.descriptor()],
            }
        ),
    )
    index = Blob(
        OCI_INDEX,
        canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    manifest.descriptor(platform={"architecture": "amd64", "os": "linux"})
                ],
            }
        ),
    )
    return CannedImage(
        index=index, manifest=manifest, config=config, layer=layer, layer_tar=layer_tar
    )
