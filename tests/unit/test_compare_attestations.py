"""BuildKit's attestation manifests compared apart from the image (`--attest`): listed,
not compared, and the verdict is about the image."""

from __future__ import annotations

import json
from pathlib import Path

from repro.oci import compare_images, open_image
from tests.unit.oci_factory import LayerFiles, write_image

BASE: LayerFiles = {"etc/os-release": (b"ID=test\n", {})}
APP: LayerFiles = {"app/main.py": (b"print('hi')\n", {})}


def _pair(tmp_path: Path, app_b: LayerFiles = APP) -> None:
    # Each build's provenance records its own times: the attestations always differ.
    write_image(tmp_path / "a", [BASE, APP], attestation=b'{"buildFinishedOn":"1"}')
    write_image(tmp_path / "b", [BASE, app_b], attestation=b'{"buildFinishedOn":"2"}')


def test_with_attestations_apart_the_verdict_is_about_the_image(tmp_path: Path) -> None:
    _pair(tmp_path)
    result = compare_images(
        open_image(tmp_path / "a"), open_image(tmp_path / "b"), attestations_apart=True
    )
    assert not result.bit_identical  # the indexes differ by their attestations
    assert result.images_identical and result.differences == ()
    assert len(result.attestations_a) == 1 and result.attestations_a != result.attestations_b
    assert all(platform.identical for platform in result.platforms)
    document = json.loads(json.dumps(result.to_json_dict()))
    assert document["verdict"] == "identical"
    assert document["images_identical"] is True and document["attestations_apart"] is True
    assert document["attestations_a"][0]["digest"] != document["attestations_b"][0]["digest"]


def test_with_attestations_apart_a_different_image_still_differs(tmp_path: Path) -> None:
    _pair(tmp_path, app_b={"app/main.py": (b"print('bye')\n", {})})
    result = compare_images(
        open_image(tmp_path / "a"), open_image(tmp_path / "b"), attestations_apart=True
    )
    assert not result.images_identical
    assert result.differences and all(d.field != "attestations" for d in result.differences)
    assert any(d.path == "/app/main.py" for d in result.differences)


def test_without_attestations_apart_they_are_a_difference(tmp_path: Path) -> None:
    _pair(tmp_path)
    result = compare_images(open_image(tmp_path / "a"), open_image(tmp_path / "b"))
    assert not result.images_identical
    [attestation] = result.differences
    assert attestation.cause_id == "attestation-manifests"
