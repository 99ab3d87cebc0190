"""The one reader of untrusted JSON (repro.jsonout) and of TOML records (repro.records):
size and depth caps, numbers Python refuses, bytes that are not UTF-8; each an error of
the class the caller names, never a RecursionError or ValueError."""

from __future__ import annotations

import pytest

from repro.errors import InputError, LockfileError, VerdictError
from repro.jsonout import MAX_NESTING, check_nesting, load_json, load_object
from repro.records import MAX_EPOCH, Fields, decode_text, load_toml


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_load_json_reads_a_sane_document() -> None:
    assert load_json(b'{"a": [1, 2.5, "x", null]}', "doc") == {"a": [1, 2.5, "x", None]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (deep(100_000), "doc is nested too deeply (more than 64 levels)"),
        (deep(MAX_NESTING + 1), "doc is nested too deeply"),
        ("[NaN]", "NaN is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ("1" * 5000, "doc is not valid JSON: Exceeds the limit"),
        (b'"\xff"', "doc is not valid JSON"),
        ("{", "doc is not valid JSON"),
    ],
)
def test_load_json_refuses_hostile_documents(data: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_json(data, "doc")


def test_the_nesting_cap_is_inclusive() -> None:
    assert load_json(deep(MAX_NESTING), "doc") is not None


def test_load_json_refuses_a_document_over_the_size_cap_before_parsing() -> None:
    with pytest.raises(InputError, match=r"doc is too large for a JSON document \(11 bytes\)"):
        load_json(b'"' + b"x" * 9 + b'"', "doc", max_bytes=10)


def test_load_object_defaults_to_a_verdict_and_takes_the_callers_class() -> None:
    with pytest.raises(VerdictError, match="payload is not a JSON object"):
        load_object(b"[1]", "payload")
    with pytest.raises(InputError, match="nested too deeply"):
        load_object(deep(1000).encode(), "index.json", error=InputError)


def test_check_nesting_walks_without_recursion() -> None:
    value: list[object] = []
    for _ in range(50_000):
        value = [value]
    with pytest.raises(InputError, match="value is nested too deeply"):
        check_nesting(value, "value")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = " + deep(100_000), "not valid TOML: nested too deeply"),
        ("a = " + deep(MAX_NESTING + 1), "nested too deeply"),
        ("a = " + "9" * 5000, "not valid TOML: Exceeds the limit"),
        ("a = [", "not valid TOML"),
    ],
)
def test_load_toml_refuses_hostile_documents(text: str, message: str) -> None:
    with pytest.raises(LockfileError, match=message) as caught:
        load_toml(text, "repro.lock", error=LockfileError, hint="fix it")
    assert caught.value.hint == "fix it"


def test_decode_text_says_where_the_bytes_are_not_utf8() -> None:
    with pytest.raises(
        InputError, match=r"repro.toml: not UTF-8 text \(invalid start byte at byte 3\)"
    ):
        decode_text(b"ab=\xff", "repro.toml")


@pytest.mark.parametrize("value", [-1, MAX_EPOCH + 1, 2**63 - 1, 10**30, True, 1.5, "1"])
def test_an_epoch_must_be_a_printable_date(value: object) -> None:
    with pytest.raises(InputError, match=f"`e` is missing or not an integer from 0 to {MAX_EPOCH}"):
        Fields({"e": value}, "rec").epoch("e")


def test_integers_fit_in_63_bits() -> None:
    assert Fields({"n": 2**63 - 1}, "rec").integer("n") == 2**63 - 1
    with pytest.raises(InputError, match="`n` is missing or not an integer"):
        Fields({"n": 2**63}, "rec").integer("n")
