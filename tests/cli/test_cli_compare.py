"""`repro compare` on synthetic OCI layouts: verdict, exit codes, stable JSON, bad input."""

from __future__ import annotations

import tarfile
from pathlib import Path

from typer.testing import CliRunner

from repro.cli import app
from tests.unit.oci_factory import LayerFiles, tar_directory, write_image

runner = CliRunner()

BASE: LayerFiles = {"etc/": (b"", {"type": tarfile.DIRTYPE, "mode": 0o755}), "etc/os": (b"x\n", {})}
APP: LayerFiles = {"app/": (b"", {"type": tarfile.DIRTYPE}), "app/tide.txt": (b"high 06:12\n", {})}
APP_CHANGED: LayerFiles = {**APP, "app/tide.txt": (b"high 06:13\n", {})}


def test_identical_layouts_exit_0(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP])
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("identical")


def test_differing_tars_exit_1_and_name_the_file(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP_CHANGED])
    a = tar_directory(tmp_path / "a", tmp_path / "a.tar")
    b = tar_directory(tmp_path / "b", tmp_path / "b.tar")
    result = runner.invoke(app, ["compare", str(a), str(b)])
    assert result.exit_code == 1
    assert "differs  1 difference" in result.output
    assert "/app/tide.txt" in result.output


def test_json_is_byte_identical_across_runs(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP_CHANGED])
    args = ["compare", "--json", str(tmp_path / "a"), str(tmp_path / "b")]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == second.exit_code == 1
    assert first.stdout == second.stdout
    assert '"schema_version": 2' in first.stdout


def test_corrupted_blob_is_exit_2_naming_the_blob(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    write_image(tmp_path / "b", [BASE, APP_CHANGED])
    blobs = sorted((tmp_path / "b" / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    victim = blobs[-1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 2
    assert victim.name in result.output
    assert "Traceback" not in result.output


def test_missing_image_is_exit_2(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "nowhere")])
    assert result.exit_code == 2
