"""compare on image documents with one value swapped for a value of another type (a
string for a list, 2**70 for a size, a table for a digest...): whatever the shape, the
answer is a verdict or a ReproError, never another exception (a crash is exit 4)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest

from repro.errors import ReproError
from repro.oci import compare_images, open_image
from tests.unit.oci_factory import LayerFiles, write_image

VALUES: list[Any] = [None, -1, 2**70, 1.5, True, "x", "sha256:" + "0" * 64, [], {}, [1], {"a": 1}]
CASES = 150


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for position, child in enumerate(value):
            found += _paths(child, (*here, position))
    return found


def mutated(document: Any, rng: random.Random) -> Any:
    """``document`` with the value at one random path replaced."""
    document = copy.deepcopy(document)
    path = rng.choice(_paths(document))
    if not path:
        return rng.choice(VALUES)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = rng.choice(VALUES)
    return document


def _blob(root: Path, document: Any) -> tuple[str, int]:
    data = json.dumps(document).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
    return digest, len(data)


def _compare_quietly(a: Path, b: Path) -> None:
    with contextlib.suppress(ReproError):  # a verdict, or an error with a message
        compare_images(open_image(a), open_image(b))


@pytest.mark.parametrize("seed", range(3))
def test_any_shape_of_layout_document_is_a_verdict_or_an_input_error(
    tmp_path: Path, seed: int
) -> None:
    files: LayerFiles = {"etc/os-release": (b"ID=tide\n", {})}
    good = write_image(tmp_path / "good", [files])
    blobs = tmp_path / "good" / "blobs" / "sha256"
    index = json.loads((tmp_path / "good" / "index.json").read_text())
    manifest = json.loads((blobs / good.manifest_digest.removeprefix("sha256:")).read_text())
    config = json.loads((blobs / good.config_digest.removeprefix("sha256:")).read_text())
    rng = random.Random(seed)
    case = tmp_path / "case"
    write_image(case, [files])
    for _ in range(CASES):
        target = rng.choice(["index", "manifest", "config"])
        doc_config = mutated(config, rng) if target == "config" else config
        doc_manifest = mutated(manifest, rng) if target == "manifest" else copy.deepcopy(manifest)
        doc_index = copy.deepcopy(index)
        if isinstance(doc_manifest, dict) and isinstance(doc_manifest.get("config"), dict):
            digest, size = _blob(case, doc_config)
            doc_manifest["config"].update(digest=digest, size=size)
        digest, size = _blob(case, doc_manifest)
        doc_index["manifests"][0].update(digest=digest, size=size)
        if target == "index":
            doc_index = mutated(doc_index, rng)
        (case / "index.json").write_text(json.dumps(doc_index))
        _compare_quietly(tmp_path / "good", case)
        _compare_quietly(case, tmp_path / "good")


def _docker_save(path: Path, manifest: Any, config: Any, layer: bytes) -> Path:
    members = {
        "manifest.json": json.dumps(manifest).encode(),
        "config.json": json.dumps(config).encode(),
        "layer/layer.tar": layer,
    }
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_any_shape_of_docker_save_document_is_a_verdict_or_an_input_error(
    tmp_path: Path,
) -> None:
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        info = tarfile.TarInfo("f")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"1"))
    diff_id = "sha256:" + hashlib.sha256(layer.getvalue()).hexdigest()
    manifest = [{"Config": "config.json", "RepoTags": ["x:1"], "Layers": ["layer/layer.tar"]}]
    config = {"os": "linux", "architecture": "amd64", "rootfs": {"diff_ids": [diff_id]}}
    good = _docker_save(tmp_path / "good.tar", manifest, config, layer.getvalue())
    rng = random.Random(7)
    for _ in range(CASES):
        if rng.random() < 0.5:
            case_manifest, case_config = mutated(manifest, rng), config
        else:
            case_manifest, case_config = manifest, mutated(config, rng)
        case = _docker_save(tmp_path / "case.tar", case_manifest, case_config, layer.getvalue())
        _compare_quietly(good, case)
