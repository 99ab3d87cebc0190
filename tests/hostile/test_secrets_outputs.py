"""A secret planted in an image's Env, labels and history, in build arguments, in an ARG
default that BuildKit expands into its progress, and in a failing build's log: no output
of any command, in any format, shows it; each says that it masked something."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hostile.crafted import SECRET, TOKEN, Outcome, assert_no_secret, run
from tests.hostile.fixtures import Pair

MASKED = "sha256:"


def _compare(pair: Pair, *extra: str) -> Outcome:
    return run("compare", *extra, str(pair.a_tar), str(pair.b_tar))


def test_compare_masks_secrets_in_text_and_json(secret_pair: Pair) -> None:
    text = _compare(secret_pair)
    assert text.code == 1, text.explain()
    assert_no_secret(text)
    flat = " ".join(text.stdout.split())
    assert "DB_PASSWORD=sha256:" in flat  # both sides of the Env difference, masked
    assert "masked: " in flat and "values that look secret as sha256:<8 hex>…(length)" in flat

    as_json = _compare(secret_pair, "--json")
    assert as_json.code == 1, as_json.explain()
    assert_no_secret(as_json)
    document = json.loads(as_json.stdout)
    assert document["masked_values"] >= 3
    env = [d for d in document["differences"] if d["path"].startswith("config.Env")]
    assert env and all(str(d["value_a"]).startswith("DB_PASSWORD=sha256:") for d in env)
    assert all(d["value_a"] != d["value_b"] for d in env)  # still tells the values apart


def test_signoff_masks_secrets_in_markdown_json_and_the_signed_predicate(
    secret_pair: Pair, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    context.mkdir()
    base = ["signoff", str(context), "--image", str(secret_pair.a)]
    markdown = run(*base)
    assert markdown.code == 1, markdown.explain()  # no-secrets fails: the verdict
    assert_no_secret(markdown)
    assert "- masked: " in markdown.stdout

    as_json = run(*base, "--format", "json")
    assert_no_secret(as_json)
    report = json.loads(as_json.stdout)
    assert report["masked_values"] > 0
    instructions = [layer["instruction"] for size in report["size"] for layer in size["layers"]]
    assert any("password=sha256:" in (text or "") for text in instructions)

    assert run("keygen", "--out", str(tmp_path / "k")).code == 0
    signed = run(*base, "--format", "json", "--sign", str(tmp_path / "k.key"))
    assert_no_secret(signed)
    envelope = json.loads(signed.stdout)
    import base64

    payload = base64.b64decode(envelope["payload"]).decode()
    assert SECRET not in payload and TOKEN not in payload and "masked_values" in payload


def test_show_masks_recorded_build_arguments_and_instructions(release_project: Path) -> None:
    for args in (["show", "1.0.0"], ["show", "1.0.0", "--json"], ["which", "sha256:0000000"]):
        outcome = run(*args, cwd=release_project)
        assert outcome.code in (0, 2), outcome.explain()
        assert_no_secret(outcome)
    shown = run("show", "1.0.0", cwd=release_project)
    assert "DB_PASSWORD=sha256:" in shown.stdout


def test_verify_masks_build_arguments_arg_defaults_and_progress(build_project: Path) -> None:
    args = ["verify", ".", "--build-arg", f"API_TOKEN={TOKEN}"]
    text = run(*args, cwd=build_project, deadline=600)
    assert text.code == 0, text.explain()
    assert_no_secret(text)
    assert 'RUN echo "sha256:' in text.stderr  # the step name BuildKit expanded, masked

    as_json = run(*args, "--json", cwd=build_project, deadline=600)
    assert as_json.code == 0, as_json.explain()
    assert_no_secret(as_json)
    record = json.loads(as_json.stdout)
    assert record["masked_build_args"] == ["API_TOKEN"]
    assert record["build_args"]["API_TOKEN"].startswith(MASKED)


def test_a_failing_build_log_is_masked(build_project: Path) -> None:
    dockerfile = build_project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + 'RUN echo "token $DB_PASSWORD" && exit 3\n')
    outcome = run("verify", ".", "--allow-dirty", cwd=build_project, deadline=600)
    assert outcome.code == 3, outcome.explain()
    assert "error: " in outcome.stderr and "Traceback" not in outcome.output
    assert_no_secret(outcome)
    assert 'echo "token sha256:' in outcome.stderr


def test_verify_release_masks_the_secrets_it_finds_changed(release_project: Path) -> None:
    assert run("keygen", "--out", "k", cwd=release_project).code == 0
    assert run("sign", "1.0.0", "--key", "k.key", cwd=release_project).code == 0
    lockfile = release_project / "repro.lock"
    lockfile.write_text(lockfile.read_text().replace(SECRET, SECRET + "-edited"))
    check = run("verify-release", "1.0.0", "--pubkey", "k.pub", cwd=release_project)
    assert check.code == 1, check.explain()
    assert "build_args" in check.stdout  # the change is named...
    assert_no_secret(check)  # ...its values are not shown
    shown = run("show", "1.0.0", "--pubkey", "k.pub", "--json", cwd=release_project)
    assert_no_secret(shown)
