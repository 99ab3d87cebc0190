"""Variable substitution in FROM and flag values: quotes, escapes, operators, unknowns."""

from __future__ import annotations

import pytest

from repro.dockerfile.expand import expand, needs_expansion, single_variable

VALUES = {"A": "a", "E": "", "V": "3.11"}


def lookup(name: str) -> str | None:
    return VALUES.get(name)


@pytest.mark.parametrize(
    ("word", "text", "variables"),
    [
        # Single quotes keep everything literal, each pair on its own.
        ("'$A'", "$A", ()),
        ("x'a b'y'c'", "xa byc", ()),
        ("''", "", ()),
        ("'a'$A", "aa", ("A",)),
        # The escape character takes the next character literally.
        ("\\$A", "$A", ()),
        # Double quotes expand variables; inside them only \" \$ \\ are escapes.
        ('"$A b"', "a b", ("A",)),
        ('x"y"z', "xyz", ()),
        ('"\\"\\$\\\\\\a"', '"$\\\\a', ()),
        ('"\\$A"', "$A", ()),
        ('"$"', "$", ()),
        ('"${A:+x}"', "x", ("A",)),
        # A dollar not followed by a name is literal.
        ("a$/b", "a$/b", ()),
        ("$/b", "$/b", ()),
        ("$", "$", ()),
        ("$A$", "a$", ("A",)),
        # Every variable mentioned is reported, in order, repeats included.
        ("${A}", "a", ("A",)),
        ("${A}${V}$A", "a3.11a", ("A", "V", "A")),
        ("${A}}", "a}", ("A",)),
        # ?: the value when set; an unused alternative never spoils the word.
        ("${A?oops}", "a", ("A",)),
        ("${E?x}", "", ("E",)),
        ("${A:-${1}}x", "ax", ("A",)),
        ("${A:-${A#x}}y", "ay", ("A", "A")),
        ("${A:-${A/x{y}z}}w", "aw", ("A", "A")),  # braces nest inside what is skipped
        ("${A:-${1{}}}x", "ax", ("A",)),
        ("${A:-${1}x}y", "ay", ("A",)),
        # Alternatives may hold quotes and escapes, a closing brace among them.
        ('${UNSET:-"a b"}', "a b", ("UNSET",)),
        ("${UNSET:-'a}'}", "a}", ("UNSET",)),
        ("${UNSET:-\\}}", "}", ("UNSET",)),
    ],
)
def test_expansion_text_and_the_variables_it_mentions(
    word: str, text: str, variables: tuple[str, ...]
) -> None:
    expansion = expand(word, lookup)
    assert expansion is not None
    assert (expansion.text, expansion.variables) == (text, variables)


@pytest.mark.parametrize(
    "word",
    [
        "'abc",  # unterminated single quote
        '"abc',  # unterminated double quote
        '"a\\"',  # the closing quote is escaped
        "a\\",  # an escape with nothing to escape
        "$UNSET",
        '"$UNSET"',
        '"${UNSET}x"',
        "${UNSET?oops}",
        "${E:?x}",  # with a colon, empty counts as unset
        "${1}x",  # not a variable name
        "${}",
        "${A",  # missing closing brace
        "${A:-x",
        "${A#x",  # an unsupported operator, unclosed
    ],
)
def test_unknown_or_malformed_words_do_not_expand(word: str) -> None:
    assert expand(word, lookup) is None


def test_the_escape_character_is_a_backslash_unless_given() -> None:
    assert expand("\\$A", lookup) == expand("`$A", lookup, "`")
    backtick = expand("\\$A", lookup, "`")
    assert backtick is not None
    assert (backtick.text, backtick.variables) == ("\\a", ("A",))
    quoted = expand('"`"`$"', lookup, "`")
    assert quoted is not None
    assert quoted.text == '"$'
    assert expand("a`", lookup, "`") is None


@pytest.mark.parametrize(
    ("word", "escape", "needed"),
    [
        ("python:3.11", "\\", False),
        ("XX", "\\", False),
        ("$A", "\\", True),
        ("'a'", "\\", True),
        ('"a"', "\\", True),
        ("a\\b", "\\", True),
        ("a\\b", "`", False),
        ("a`b", "`", True),
    ],
)
def test_only_dollars_quotes_and_the_escape_need_expansion(
    word: str, escape: str, needed: bool
) -> None:
    assert needs_expansion(word, escape) is needed


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("$BASE", "BASE"),
        ("${BASE}", "BASE"),
        ("${_b1}", "_b1"),
        ("$BASE:1", None),
        ("${BASE}x", None),
        ("${BASE:-x}", None),
        ("BASE", None),
        ("$1", None),
    ],
)
def test_single_variable_is_exactly_one_bare_variable(word: str, name: str | None) -> None:
    assert single_variable(word) == name
