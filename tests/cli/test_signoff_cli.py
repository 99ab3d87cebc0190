"""`repro signoff --image` on a synthetic OCI layout: exit codes, --out, waivers, bad input."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from typer.testing import CliRunner

from repro.cli import app
from tests.unit.oci_factory import LayerFiles, write_image

runner = CliRunner()
APP: LayerFiles = {"app/": (b"", {"type": tarfile.DIRTYPE}), "app/tide.txt": (b"06:12\n", {})}


def _image(tmp_path: Path) -> Path:
    write_image(tmp_path / "img", [APP])
    (tmp_path / "ctx").mkdir()
    return tmp_path / "img"


def test_failing_image_exits_1_with_a_markdown_table(tmp_path: Path) -> None:
    image = _image(tmp_path)
    result = runner.invoke(app, ["signoff", str(tmp_path / "ctx"), "--image", str(image)])
    assert result.exit_code == 1, result.output
    assert "## Release sign-off: FAIL" in result.output
    assert "| ❌ | `non-root` Runs as a non-root user | fail | config User: not set (root)" in (
        result.output
    )


def test_waivers_from_config_and_allow_make_it_pass_and_show(tmp_path: Path) -> None:
    image = _image(tmp_path)
    (tmp_path / "ctx" / "repro.toml").write_text(
        '[signoff.waivers]\nnon-root = "the sidecar drops privileges"\n'
        'healthcheck = "probed by the orchestrator"\n'
    )
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "signoff",
            str(tmp_path / "ctx"),
            "--image",
            str(image),
            "--format",
            "json",
            "--out",
            str(out),
            "--allow",
            "exec-form",
            "--allow",
            "dockerignore",
            "--size-budget",
            "1MB",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["verdict"] == "pass"
    waived = {c["id"]: c["waived"] for c in report["checks"] if c["waived"]}
    assert waived == {
        "non-root": "the sidecar drops privileges",
        "healthcheck": "probed by the orchestrator",
        "exec-form": "allowed on the command line (--allow)",
        "dockerignore": "allowed on the command line (--allow)",
    }


def test_bad_input_exits_2(tmp_path: Path) -> None:
    image = _image(tmp_path)
    ctx = str(tmp_path / "ctx")
    bad_format = runner.invoke(app, ["signoff", ctx, "--image", str(image), "--format", "xml"])
    assert bad_format.exit_code == 2 and "--format must be one of" in bad_format.output
    unknown = runner.invoke(app, ["signoff", ctx, "--image", str(image), "--allow", "vibes"])
    assert unknown.exit_code == 2 and "unknown check 'vibes'" in unknown.output
    budget = runner.invoke(app, ["signoff", ctx, "--image", str(image), "--size-budget", "lots"])
    assert budget.exit_code == 2 and "is not a size" in budget.output
    no_df = runner.invoke(app, ["signoff", ctx])
    assert no_df.exit_code == 2 and "not found" in no_df.output
    epoch = runner.invoke(app, ["signoff", ctx, "--image", str(image), "--epoch", "soon"])
    assert epoch.exit_code == 2 and "--epoch must be a number of seconds or 'git'" in epoch.output
    base = ["signoff", ctx, "--image", str(image)]
    disagrees = runner.invoke(
        app,
        [*base, "--epoch", "5", "--build-arg", "SOURCE_DATE_EPOCH=6"],
    )
    assert disagrees.exit_code == 2 and "SOURCE_DATE_EPOCH=6 disagrees" in disagrees.output
    agrees = runner.invoke(
        app,
        [*base, "--epoch", "git", "--build-arg", "SOURCE_DATE_EPOCH=6"],
    )
    assert agrees.exit_code == 1, agrees.output  # outside git, no epoch to contradict


def test_sign_wraps_the_json_report_in_a_verifiable_dsse_envelope(tmp_path: Path) -> None:
    import base64

    from repro.release import attest

    image = _image(tmp_path)
    private, public = attest.generate_key()
    (tmp_path / "k.key").write_bytes(private)
    out = tmp_path / "signed.json"
    args = ["signoff", str(tmp_path / "ctx"), "--image", str(image), "--format", "json"]
    result = runner.invoke(app, [*args, "--sign", str(tmp_path / "k.key"), "--out", str(out)])
    assert result.exit_code == 1, result.output  # the report still fails; it is signed anyway
    envelope = attest.parse_envelope(out.read_bytes())
    attest.verify_envelope(envelope, attest.load_public_key(public, "k.pub"))
    statement = json.loads(base64.b64decode(json.loads(out.read_text())["payload"]))
    assert statement["predicateType"] == "https://repro.dev/signoff/v1"
    assert statement["predicate"]["kind"] == "signoff"
    assert statement["predicate"]["verdict"] == "fail"
    digest = statement["predicate"]["image_digest"]
    assert statement["subject"][0]["digest"] == {"sha256": digest.removeprefix("sha256:")}

    markdown = runner.invoke(
        app,
        [
            "signoff",
            str(tmp_path / "ctx"),
            "--image",
            str(image),
            "--sign",
            str(tmp_path / "k.key"),
        ],
    )
    assert markdown.exit_code == 2
    assert "--format json" in markdown.output
    missing = runner.invoke(app, [*args, "--sign", str(tmp_path / "nope.key")])
    assert missing.exit_code == 2
    assert "repro keygen" in missing.output
