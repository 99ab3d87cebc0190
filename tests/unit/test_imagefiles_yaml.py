"""YAML positions: every scalar style's text is found at its exact bytes, or refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from repro.imagefiles import yamltext
from repro.imagefiles.text import UnreadableText
from repro.imagefiles.yamltext import YamlText, mapping

LOADERS = [yaml.BaseLoader, yamltext._FastLoader]


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """Both PyYAML parsers must give the same bytes: C when installed, Python otherwise."""
    monkeypatch.setattr(yamltext, "_Loader", request.param)
    yield request.param


def located(data: bytes, key: str = "image") -> tuple[bytes, yamltext.Literal]:
    source = YamlText(data)
    node = mapping(source.documents()[0])[key]
    assert isinstance(node, yaml.ScalarNode)
    found = source.literal(node)
    return found.span.slice(data), found


@pytest.mark.parametrize(
    ("data", "text", "line", "column"),
    [
        (b"image: nginx:1.25\n", b"nginx:1.25", 1, 8),
        (b"image: 'nginx:1.25'\n", b"nginx:1.25", 1, 9),
        (b'image: "nginx:1.25"\n', b"nginx:1.25", 1, 9),
        (b"image: |\n  nginx:1.25\n", b"nginx:1.25", 2, 3),
        (b"image: >-\n    nginx:1.25\nother: x\n", b"nginx:1.25", 2, 5),
        (b"a: b\r\nimage: nginx:1.25\r\n", b"nginx:1.25", 2, 8),
        (b"\xef\xbb\xbfa: b\nimage: nginx:1.25\n", b"nginx:1.25", 2, 8),
        (
            "# caf\u00e9 \u65e5\u672c\na: \u00fc\nimage: 'nginx:1.25'\n".encode(),
            b"nginx:1.25",
            3,
            9,
        ),
        (
            "x: \u00e9\u00e9\u00e9\nimage: &img \u00e9:1 # \u00fc\n".encode(),
            "\u00e9:1".encode(),
            2,
            13,
        ),
        (b"image: !!str nginx:1.25  # typed\n", b"nginx:1.25", 1, 14),
        (b"image: &base 'nginx:1.25'\n", b"nginx:1.25", 1, 15),
        (b"{image: nginx:1.25, b: c}\n", b"nginx:1.25", 1, 9),
    ],
)
def test_literal_text_is_found_at_its_exact_bytes(
    loader: type, data: bytes, text: bytes, line: int, column: int
) -> None:
    found, literal = located(data)
    assert found == text
    assert literal.not_literal is None
    assert (literal.line, literal.column) == (line, column)


def test_the_c_parser_is_used() -> None:
    # PyYAML's wheels bundle libyaml; the speed targets assume its ~15x faster composer.
    assert issubclass(yamltext._Loader, yaml.CBaseLoader)


def test_tabs_between_key_and_value_with_the_c_parser() -> None:
    # YAML allows tabs as separation; libyaml accepts them (the Python parser does not).
    found, literal = located(b"image:\tnginx:1.25\t# tab\n")
    assert found == b"nginx:1.25"
    assert literal.column == 8


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'image: "nginx\\x3a1.25"\n', "escapes"),
        (b"image: 'it''s'\n", "escapes"),
        (b'image: "nginx:\n  1.25"\n', "folded"),
        (b"image: nginx\n  :1.25\n", "folded across lines"),
        (b"image: |\n  nginx\n  redis\n", "more than one line"),
    ],
)
def test_text_that_is_not_the_value_is_refused_with_a_reason(
    loader: type, data: bytes, reason: str
) -> None:
    _, literal = located(data)
    assert literal.not_literal is not None
    assert reason in literal.not_literal


def test_a_syntax_error_has_a_line_and_column(loader: type) -> None:
    with pytest.raises(UnreadableText) as raised:
        YamlText(b"services:\n  web:\n    image: [nginx\n").documents()
    assert raised.value.line == 4
    assert raised.value.message.startswith("not valid YAML: ")


def test_bytes_that_are_not_utf8_are_unreadable_at_their_line() -> None:
    with pytest.raises(UnreadableText) as raised:
        YamlText(b"a: b\nimage: caf\xe9\n")
    assert (raised.value.line, raised.value.column) == (2, 11)
    assert "not UTF-8" in raised.value.message


def test_merge_keys_apply_and_explicit_keys_win() -> None:
    source = YamlText(b"base: &b {image: a, x: 1}\nsvc:\n  <<: *b\n  x: 2\n")
    merged = mapping(mapping(source.documents()[0])["svc"])
    assert {key: node.value for key, node in merged.items()} == {"image": "a", "x": "2"}
