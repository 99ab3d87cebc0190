"""Every blob of both sides read and checked (repro.oci.integrity), and the jobs that do
it stopped at once when one fails."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from repro.errors import InputError
from repro.oci import OciLayoutDir, compare_images, resolve_tree
from repro.oci.compare import run_layer_jobs
from repro.oci.digests import HashingReader
from tests.unit.oci_factory import LayerFiles, write_image

FILES: LayerFiles = {"etc/os-release": (b"ID=tide\n", {})}


class _Endless:
    """A stream that never ends, slowly; counts its reads."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int, /) -> bytes:
        self.reads += 1
        time.sleep(0.01)
        return b"x" * min(size, 4096)


def test_one_failing_job_stops_the_reads_under_way() -> None:
    endless = _Endless()
    stopped = threading.Event()

    def slow() -> dict[str, int]:
        try:
            HashingReader(endless).finish()
        finally:
            stopped.set()
        return {}

    def failing() -> list[object]:
        time.sleep(0.2)
        raise InputError("blob sha256:ab in b is corrupted")

    started = time.monotonic()
    with pytest.raises(InputError, match="is corrupted"):
        run_layer_jobs([failing], 4, checks=[slow])  # type: ignore[list-item]
    assert time.monotonic() - started < 2
    assert stopped.is_set()  # the endless read was stopped, not abandoned
    reads = endless.reads
    time.sleep(0.1)
    assert endless.reads == reads


def test_an_attestation_blob_corrupted_under_its_digest_is_caught(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES], attestation=b'{"_type": "statement"}')
    write_image(tmp_path / "b", [FILES], attestation=b'{"_type": "statement"}')
    statement = tmp_path / "b" / "blobs" / "sha256"
    victim = next(p for p in statement.iterdir() if p.read_bytes() == b'{"_type": "statement"}')
    victim.write_bytes(b'{"_type": "statemenT"}')
    with pytest.raises(InputError, match=f"blob sha256:{victim.name} in .* is corrupted"):
        compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))


def test_each_blob_is_counted_once_per_side(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [FILES, {"x": (b"1", {})}])
    write_image(tmp_path / "b", [FILES, {"x": (b"2", {})}])
    comparison = compare_images(OciLayoutDir(tmp_path / "a"), OciLayoutDir(tmp_path / "b"))
    tree = resolve_tree(OciLayoutDir(tmp_path / "a"))
    [image] = tree.images.values()
    expected = len(tree.documents) + len(image.layers)
    assert (comparison.blobs.count_a, comparison.blobs.count_b) == (expected, expected)
