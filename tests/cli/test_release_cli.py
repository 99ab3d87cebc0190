"""Release commands without an engine: exit codes, messages, keys, signatures, tampering."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repro.cli import app
from repro.lockfile import (
    Lockfile,
    Release,
    ReleaseBase,
    ReleaseImage,
    ReleaseLayer,
    dump_lockfile,
    with_release,
)
from repro.release import keys
from tests.cli.expect import input_error
from tests.unit.fakes import recorded_release

runner = CliRunner()


def d(n: int) -> str:
    return f"sha256:{n:x}".ljust(71, "0")


def release(version: str, base: int, layer: int) -> Release:
    return recorded_release(
        version,
        bases=(ReleaseBase("r.io/python:3.11", d(base)),),
        digest=d(layer + 1),
        images=(
            ReleaseImage(
                "linux/amd64",
                d(layer + 1),
                d(layer + 2),
                1234,
                (ReleaseLayer(d(0xAAA), 1000, "ADD rootfs /"), ReleaseLayer(d(layer), 9, "RUN x")),
            ),
        ),
    )


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lock = with_release(Lockfile(), release("1.3.0", 0x100, 0xBBBB10))
    lock = with_release(lock, release("1.4.0", 0x200, 0xBBBB20))
    (tmp_path / "repro.lock").write_text(dump_lockfile(lock))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_show_json_and_unknown_version(project: Path) -> None:
    result = runner.invoke(app, ["show", "1.3.0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "release" and data["release"]["digest"] == d(0xBBBB11)
    assert data["signature"]["present"] is False
    missing = runner.invoke(app, ["show", "9.9"])
    assert missing.exit_code == 2 and "not recorded" in missing.output


def test_which_exit_codes(project: Path) -> None:
    found = runner.invoke(app, ["which", d(0xBBBB20)])
    assert found.exit_code == 0 and "1.4.0" in found.stdout and "RUN x" in found.stdout
    assert runner.invoke(app, ["which", "sha256:ffff"]).exit_code == 1
    ambiguous = runner.invoke(app, ["which", "sha256:bbbb"])
    assert ambiguous.exit_code == 2
    assert d(0xBBBB10) in ambiguous.output and d(0xBBBB20) in ambiguous.output


def test_diff_without_git_history_still_answers(project: Path) -> None:
    result = runner.invoke(app, ["diff", "1.3.0", "1.4.0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["bases"] == [{"reference": "r.io/python:3.11", "old": d(0x100), "new": d(0x200)}]
    assert [c["kind"] for c in data["platforms"][0]["layers"]] == ["changed"]


def test_hand_edited_lockfile_is_exit_2_with_the_line(project: Path) -> None:
    text = (project / "repro.lock").read_text()
    (project / "repro.lock").write_text(
        text.replace(f'digest = "{d(0xBBBB21)}"', 'digest = "x"', 1)
    )
    result = runner.invoke(app, ["show", "1.4.0"])
    assert result.exit_code == 2
    line = text.splitlines().index("[[release]]", text.splitlines().index("[[release]]") + 1) + 1
    assert f"repro.lock:{line}: release 1.4.0 `digest`" in result.output
    assert "Traceback" not in result.output


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cosign"
FIXTURE_PASSWORD = "repro-fixture-password"


def test_keygen_sign_verify_and_tamper(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", "correct horse")
    keygen = runner.invoke(app, ["keygen", "--out", "k"])
    assert keygen.exit_code == 0, keygen.output
    private = (project / "k.key").read_text()
    assert stat.S_IMODE((project / "k.key").stat().st_mode) == 0o600
    # cosign's format and cosign's default algorithm; neither the key nor its password shown.
    assert private.startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    assert "algorithm:   ecdsa-p256" in keygen.output
    assert private.splitlines()[1] not in keygen.output
    assert "correct horse" not in keygen.output
    input_error(runner.invoke(app, ["keygen", "--out", "k"]), "k.key already exists")

    unsigned = runner.invoke(app, ["verify-release", "1.3.0", "--pubkey", "k.pub"])
    assert unsigned.exit_code == 1 and "not signed" in unsigned.output
    signed = runner.invoke(app, ["sign", "1.3.0", "--key", "k.key"])
    assert signed.exit_code == 0, signed.output
    # A release recorded without its builds has no provenance to sign: said, not failed.
    assert "no SLSA provenance" in signed.output
    good = runner.invoke(app, ["verify-release", "1.3.0", "--pubkey", "k.pub"])
    assert good.exit_code == 0, good.output
    shown = runner.invoke(app, ["show", "1.3.0", "--pubkey", "k.pub"])
    assert "verifies, and matches repro.lock" in shown.stdout
    assert "nowhere yet" in shown.stdout

    lockfile = project / "repro.lock"
    original = lockfile.read_text()
    lockfile.write_text(original.replace(d(0xBBBB10), d(0xBBBB1F)))
    bad = runner.invoke(app, ["verify-release", "1.3.0", "--pubkey", "k.pub"])
    assert bad.exit_code == 1
    assert "predicate.image[0].layer[1].digest" in bad.stdout
    lockfile.write_text(original)

    envelope = project / ".repro" / "releases" / "1.3.0.dsse.json"
    document = json.loads(envelope.read_text())
    sig = document["signatures"][0]["sig"]
    document["signatures"][0]["sig"] = ("B" if sig[0] != "B" else "C") + sig[1:]
    envelope.write_text(json.dumps(document))
    tampered = runner.invoke(app, ["verify-release", "1.3.0", "--pubkey", "k.pub"])
    assert tampered.exit_code == 1 and "does not verify" in tampered.output

    input_error(
        runner.invoke(app, ["sign", "1.3.0", "--key", "k.pub"]),
        "k.pub holds a PUBLIC KEY, not a private key",
    )
    input_error(runner.invoke(app, ["sign", "1.3.0", "--key", "nope.key"]), "nope.key not found")


def test_keygen_needs_a_password_source_and_keeps_ed25519(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    refused = runner.invoke(app, ["keygen", "--out", "k"])  # no terminal to ask on
    assert refused.exit_code == 2 and "set COSIGN_PASSWORD" in refused.output
    assert not (project / "k.key").exists()
    monkeypatch.setenv("COSIGN_PASSWORD", "")  # empty is a password, as for cosign
    made = runner.invoke(app, ["keygen", "--out", "ed", "--algorithm", "ed25519"])
    assert made.exit_code == 0, made.output
    assert "algorithm:   ed25519" in made.output
    public = keys.load_public_key((project / "ed.pub").read_bytes(), "ed.pub")
    assert keys.algorithm_of(public) is keys.Algorithm.ED25519
    assert runner.invoke(app, ["sign", "1.3.0", "--key", "ed.key"]).exit_code == 0
    unknown = runner.invoke(app, ["keygen", "--out", "x", "--algorithm", "rsa"])
    assert unknown.exit_code == 2 and "ecdsa-p256, ed25519" in unknown.output


def test_keys_from_cosign_and_from_older_repro_sign(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key made by `cosign generate-key-pair` (the committed fixture), with its password.
    monkeypatch.setenv("COSIGN_PASSWORD", FIXTURE_PASSWORD)
    signed = runner.invoke(app, ["sign", "1.3.0", "--key", str(FIXTURES / "ecdsa.key")])
    assert signed.exit_code == 0, signed.output
    assert "SHA256:QUyXrH5ZXIMUojVcM77xqx3Kz2K+UvEK+jfwXYaaPRY" in signed.output
    checked = runner.invoke(
        app, ["verify-release", "1.3.0", "--pubkey", str(FIXTURES / "ecdsa.pub")]
    )
    assert checked.exit_code == 0, checked.output

    # A wrong COSIGN_PASSWORD: exit 2, one line, no key material, no traceback.
    monkeypatch.setenv("COSIGN_PASSWORD", "not the password")
    wrong = runner.invoke(app, ["sign", "1.4.0", "--key", str(FIXTURES / "ecdsa.key")])
    assert wrong.exit_code == 2
    assert "wrong password for this encrypted key" in wrong.output
    assert "Traceback" not in wrong.output and "not the password" not in wrong.output
    body = (FIXTURES / "ecdsa.key").read_text().splitlines()[1]
    assert body not in wrong.output
    monkeypatch.delenv("COSIGN_PASSWORD")
    missing = runner.invoke(app, ["sign", "1.4.0", "--key", str(FIXTURES / "ecdsa.key")])
    assert missing.exit_code == 2 and "set COSIGN_PASSWORD" in missing.output

    # The unencrypted Ed25519 PKCS#8 key `repro keygen` wrote before needs no password.
    old = keys.generate(keys.Algorithm.ED25519)
    (project / "old.key").write_bytes(keys.unencrypted_pem(old))
    (project / "old.pub").write_bytes(keys.public_pem(old.public_key()))
    assert runner.invoke(app, ["sign", "1.4.0", "--key", "old.key"]).exit_code == 0
    assert runner.invoke(app, ["verify-release", "1.4.0", "--pubkey", "old.pub"]).exit_code == 0


def test_release_of_a_recorded_version_is_refused_before_any_build(project: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    (project / "Dockerfile").write_text("FROM scratch\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(project), *args], check=True, env=env)
    result = runner.invoke(app, ["release", "1.3.0", str(project)])
    assert result.exit_code == 2
    assert "already recorded" in result.output and "--replace" in result.output
    input_error(
        runner.invoke(app, ["release", "../evil", str(project)]),
        "'../evil' is not a usable release version",
    )
    bad_push = runner.invoke(app, ["release", "2.0", str(project), "--push", "r.io/a@" + d(1)])
    assert bad_push.exit_code == 2 and "registry/repository:tag" in bad_push.output
    bad_attest = runner.invoke(app, ["release", "2.0", str(project), "--attest", "provenance,x"])
    assert bad_attest.exit_code == 2
    assert "unknown attestation x" in bad_attest.output and "provenance, sbom" in bad_attest.output
    generator = ["--attest", "provenance", "--sbom-generator", "r.io/gen:1"]
    lonely = runner.invoke(app, ["verify", str(project), *generator])
    assert lonely.exit_code == 2 and "--sbom-generator needs --attest sbom" in lonely.output
