"""Comparing two ~200 MB layers keeps memory bounded: nothing whole is held in memory."""

from __future__ import annotations

import hashlib
import json
import resource
import tarfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from repro.oci import OciLayoutDir, compare_images

MIB = 1 << 20
FILE_COUNT = 20
FILE_SIZE = 10 * MIB  # 20 x 10 MiB = 200 MiB per layer


class _PatternReader:
    """``size`` bytes of a repeating 1 MiB pattern, generated as they are read."""

    def __init__(self, size: int, seed: int) -> None:
        self._block = bytes((i * 7 + seed) % 251 for i in range(256)) * (MIB // 256)
        self._remaining = size
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self._remaining
        size = min(size, self._remaining, MIB - self._offset)
        chunk = self._block[self._offset : self._offset + size]
        self._offset = (self._offset + size) % MIB
        self._remaining -= size
        return chunk


def _json_blob(blobs: Path, document: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(document).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def _write_big_image(root: Path, differing_seed: int) -> None:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layer_path = root / "layer.tmp"
    with tarfile.open(layer_path, "w", format=tarfile.PAX_FORMAT) as archive:
        for number in range(FILE_COUNT):
            info = tarfile.TarInfo(f"data/file-{number:02d}.bin")
            info.size = FILE_SIZE
            seed = differing_seed if number == 7 else 0
            archive.addfile(info, _PatternReader(FILE_SIZE, seed))
    digest = hashlib.sha256()
    with layer_path.open("rb") as layer:
        while chunk := layer.read(MIB):
            digest.update(chunk)
    size = layer_path.stat().st_size
    layer_path.rename(blobs / digest.hexdigest())
    layer_digest = "sha256:" + digest.hexdigest()
    config = _json_blob(
        blobs,
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "history": [{"created_by": "COPY data /data # buildkit"}],
        },
    )
    manifest = _json_blob(
        blobs,
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest,
                    "size": size,
                }
            ],
        },
    )
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest}],
    }
    (root / "index.json").write_text(json.dumps(index))


@pytest.mark.slow
def test_two_200mb_layers_compare_in_bounded_memory(tmp_path: Path) -> None:
    _write_big_image(tmp_path / "a", differing_seed=0)
    _write_big_image(tmp_path / "b", differing_seed=1)
    peak_rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        result = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_rss_before
    files = [d for d in result.differences if d.area == "file"]
    assert [(d.path, d.field) for d in files] == [("/data/file-07.bin", "content")]
    assert files[0].instruction == "COPY data /data"
    assert traced_peak < 32 * MIB, f"traced peak {traced_peak / MIB:.1f} MiB"
    assert rss_growth * 1024 < 100 * MIB, f"RSS grew {rss_growth / 1024:.1f} MiB"
