"""Signatures and records that are hostile JSON: an envelope nested 100k deep, one of
50 MB, NaN, a validly signed payload nested 100k deep. verify-release answers with its
verdict (exit 1: not validly signed) and says why; show reports the problem; a file past
the read cap and a record given to signoff are input errors (exit 2). Never a
RecursionError."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.release import attest
from tests.hostile.crafted import assert_refused, nested, run
from tests.hostile.fixtures import Pair

ENVELOPE = Path(".repro/releases/1.0.0.dsse.json")


def _signed(project: Path) -> Path:
    assert run("keygen", "--out", "k", cwd=project).code == 0
    signed = run("sign", "1.0.0", "--key", "k.key", cwd=project)
    assert signed.code == 0, signed.explain()
    return project / ENVELOPE


ENVELOPES: dict[str, tuple[bytes, str]] = {
    "nested 100k deep": (nested(100_000).encode(), "is nested too deeply"),
    "NaN": (b'{"payloadType": NaN}', "NaN is not a JSON number"),
    "not UTF-8": (b'{"payloadType": "\xff"}', "is not valid JSON"),
}


@pytest.mark.parametrize("case", list(ENVELOPES))
def test_a_hostile_envelope_is_a_negative_verdict_with_the_reason(
    case: str, release_project: Path
) -> None:
    envelope = _signed(release_project)
    content, message = ENVELOPES[case]
    envelope.write_bytes(content)
    outcome = run("verify-release", "1.0.0", "--pubkey", "k.pub", cwd=release_project)
    assert_refused(outcome, 1, message)
    shown = run("show", "1.0.0", "--pubkey", "k.pub", cwd=release_project)
    assert shown.code == 0, shown.explain()
    assert "Traceback" not in shown.output


def test_an_envelope_past_the_read_cap_is_refused_unread(release_project: Path) -> None:
    envelope = _signed(release_project)
    with envelope.open("r+b") as handle:
        handle.truncate(50 << 20)
    outcome = run("verify-release", "1.0.0", "--pubkey", "k.pub", cwd=release_project)
    assert_refused(outcome, 2, f"{envelope} is too large (more than 33554432 bytes)")


def test_a_signed_payload_nested_100k_deep_is_caught(release_project: Path) -> None:
    envelope_path = _signed(release_project)
    key = attest.load_private_key(
        (release_project / "k.key").read_bytes(), "k.key", b""
    )  # keygen ran with COSIGN_PASSWORD empty
    envelope_path.write_bytes(attest.sign(nested(100_000).encode(), key).dumps())
    outcome = run("verify-release", "1.0.0", "--pubkey", "k.pub", cwd=release_project)
    assert outcome.code == 1, outcome.explain()
    assert "the signed payload is nested too deeply" in outcome.stdout
    assert "Traceback" not in outcome.output


def test_a_deep_verification_record_is_an_input_error(identical_pair: Pair, tmp_path: Path) -> None:
    record = tmp_path / "verify.json"
    record.write_text(nested(100_000))
    context = tmp_path / "context"
    context.mkdir()
    outcome = run(
        "signoff", str(context), "--image", str(identical_pair.a), "--verification", str(record)
    )
    assert_refused(outcome, 2, f"{record} is nested too deeply")
