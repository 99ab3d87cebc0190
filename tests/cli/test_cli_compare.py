"""`repro compare` on synthetic OCI layouts: verdict, exit codes, stable JSON, bad input."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from typer.testing import CliRunner

from repro.cli import app
from tests.cli.expect import input_error
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
    input_error(result, f"blob sha256:{victim.name} in {tmp_path / 'b'} is corrupted")


def test_missing_image_is_exit_2(tmp_path: Path) -> None:
    write_image(tmp_path / "a", [BASE, APP])
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "nowhere")])
    input_error(result, f"{tmp_path / 'nowhere'} does not exist")


def _pycs(mtime: int) -> LayerFiles:
    header = b"\xa7\x0d\x0d\x0a" + bytes(4) + mtime.to_bytes(4, "little") + bytes(4)
    return {f"app/__pycache__/m{n:02d}.cpython-311.pyc": (header + b"code", {}) for n in range(30)}


def _grouped_pair(tmp_path: Path) -> tuple[str, str]:
    log = "var/log/dpkg.log"
    write_image(tmp_path / "a", [BASE, _pycs(1700000000), {log: (b"2024-01-01\n", {})}])
    write_image(tmp_path / "b", [BASE, _pycs(1700000009), {log: (b"2024-02-02\n", {})}])
    return str(tmp_path / "a"), str(tmp_path / "b")


def test_differences_are_one_line_per_layer_and_cause_with_the_fix_once(tmp_path: Path) -> None:
    a, b = _grouped_pair(tmp_path)
    result = runner.invoke(app, ["compare", a, b], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    [pyc] = [line for line in lines if "── pyc-timestamp  " in line]
    assert "30 files, 600 B: /app/__pycache__/m00.cpython-311.pyc" in pyc
    assert "(+27 more)" in result.output
    assert sum("fix:" in line for line in lines) == 2  # one per group
    assert result.output.count("ARG SOURCE_DATE_EPOCH") == 1
    # Made from what was seen: the one log that differed in that layer, nothing else.
    [deletion] = [line for line in lines if "rm -rf" in line]
    assert "fix: delete them at the end of this RUN: `&& rm -rf /var/log/dpkg.log`" in deletion


def test_verbose_lists_every_file_and_max_diffs_limits_groups(tmp_path: Path) -> None:
    a, b = _grouped_pair(tmp_path)
    verbose = runner.invoke(app, ["compare", "--verbose", a, b], env={"COLUMNS": "200"})
    assert all(f"m{n:02d}.cpython-311.pyc" in verbose.output for n in range(30))
    assert verbose.output.count("first difference at byte 8") == 30
    limited = runner.invoke(app, ["compare", "--max-diffs", "1", a, b], env={"COLUMNS": "200"})
    assert "pyc-timestamp" in limited.output
    assert "── package-manager-state" not in limited.output
    assert "… and 1 more group of differences" in limited.output


def test_json_keeps_every_difference_and_adds_the_groups(tmp_path: Path) -> None:
    a, b = _grouped_pair(tmp_path)
    result = runner.invoke(app, ["compare", "--json", a, b])
    document = json.loads(result.stdout)
    assert document["schema_version"] == 2
    files = [d for d in document["differences"] if d["area"] == "file"]
    assert len(files) == 31
    groups = document["groups"]
    pyc = groups[files[0]["group"]]
    assert pyc["cause"]["id"] == "pyc-timestamp" and pyc["path_count"] == 30
    assert pyc["fix"]["edits"] == [
        {"kind": "add-stage-arg", "text": "SOURCE_DATE_EPOCH", "pattern": None}
    ]
    assert files[0]["evidence"]["first_difference"] == 8
