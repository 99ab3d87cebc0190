"""YAML read for positions: PyYAML's node graph, and the exact bytes behind each scalar.

PyYAML's ``compose_all`` gives nodes with start/end marks (libyaml's C parser when it
is there, else the pure-Python one). Marks count characters of the decoded text, not
bytes, and the C parser does not count a BOM while the Python one does: so the BOM is
cut off before parsing and every character index is turned into a byte offset here.

A scalar is *literal* when the source text between its delimiters is exactly its value
(no escapes, no line folding): only then can its bytes be replaced without changing
anything else. Nothing here serialises YAML; files are rewritten by span only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from repro.dockerfile import Span
from repro.imagefiles.text import SourceText, UnreadableText

_BaseLoader: type[yaml.BaseLoader] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_DEFAULT_TAGS = {
    yaml.ScalarNode: yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG,
    yaml.SequenceNode: yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    yaml.MappingNode: yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
}


class _FastLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's composer (~15x faster than PyYAML's) with no tag resolution at all.

    The composer calls the resolver for every node; typing is not needed to find sites
    (implicit_tag asks for it where it matters), so these three calls do nothing.
    """

    def resolve(self, kind: type[yaml.Node], value: object, implicit: object) -> str:
        return _DEFAULT_TAGS[kind]

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


_Loader: type[yaml.BaseLoader] = _FastLoader
_IMPLICIT = yaml.resolver.Resolver()
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# Before a scalar's text, its node mark may include an anchor and a tag.
_PROPERTIES = re.compile(r"\s*(?:(?:&\S+|!\S*)\s+)*")
MERGE_KEY = "<<"


@dataclass(frozen=True)
class Literal:
    """A scalar's value and the bytes of its text (inside quotes, without properties)."""

    value: str
    span: Span  # the value's text when literal, else the whole node
    line: int  # 1-based
    column: int  # 1-based, characters
    not_literal: str | None  # why the source text is not the value
    style: str  # "", "'", '"', "|", ">"

    @property
    def is_null(self) -> bool:
        return self.style == "" and self.value in _NULLS


class YamlText(SourceText):
    """A YAML file's text, its documents, and the exact text behind each scalar."""

    _documents: list[yaml.Node] | None = None

    def documents(self) -> list[yaml.Node]:
        """Every non-empty document's root node (parsed once); UnreadableText if not YAML."""
        if self._documents is None:
            self._documents = self._compose()
        return self._documents

    def _compose(self) -> list[yaml.Node]:
        try:
            documents = yaml.compose_all(self.text, Loader=_Loader)
            return [node for node in documents if node is not None]
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            message = " ".join(part for part in (error.problem, error.context) if part)
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise UnreadableText(
                f"not valid YAML: {message or 'syntax error'}", line, column
            ) from error
        except yaml.YAMLError as error:  # a ReaderError: a character YAML does not allow
            index = min(int(getattr(error, "position", 0)), len(self.text))
            line, column = self.position(index)
            raise UnreadableText(f"not valid YAML: {error}", line, column) from error

    def node_text(self, node: yaml.Node) -> str:
        return self.text[node.start_mark.index : node.end_mark.index]

    def node_span(self, node: yaml.Node) -> Span:
        return self.span(node.start_mark.index, node.end_mark.index)

    def literal(self, node: yaml.ScalarNode) -> Literal:
        """Where the value's text is, and whether it is exactly the value."""
        start, end = node.start_mark.index, node.end_mark.index
        value: str = node.value
        style = node.style or ""
        inner: tuple[int, int] | None
        if style in ("'", '"'):
            inner = self._quoted(start, end, value, style)
            reason = (
                "its quoted text has escapes or folded lines, so it is not the value as written"
            )
        elif style in ("|", ">"):
            inner = self._block(start, end, value)
            reason = "it is a block scalar of more than one line"
        else:
            inner = self._plain(start, end, value)
            reason = "it is a plain scalar folded across lines"
        if inner is None:
            line, column = self._line_column(node, start)
            return Literal(value, self.node_span(node), line, column, reason, style)
        line, column = self._line_column(node, inner[0])
        span = self.span(*inner)
        return Literal(value, span, line, column, None, style)

    def _line_column(self, node: yaml.Node, index: int) -> tuple[int, int]:
        mark = node.start_mark
        line = mark.line + 1 + self.text.count("\n", mark.index, index)
        return line, index - (self.text.rfind("\n", 0, index) + 1) + 1

    def _properties_only(self, start: int, stop: int) -> bool:
        return _PROPERTIES.fullmatch(self.text, start, stop) is not None

    def _plain(self, start: int, end: int, value: str) -> tuple[int, int] | None:
        text_start = end - len(value)
        if self.text[text_start:end] == value and self._properties_only(start, text_start):
            return text_start, end
        return None

    def _quoted(self, start: int, end: int, value: str, quote: str) -> tuple[int, int] | None:
        close = end - 1
        text_start = close - len(value)
        open_quote = text_start - 1
        if (
            open_quote >= start
            and self.text[close] == quote
            and self.text[open_quote] == quote
            and self.text[text_start:close] == value
            and self._properties_only(start, open_quote)
        ):
            return text_start, close
        return None

    def _block(self, start: int, end: int, value: str) -> tuple[int, int] | None:
        content = value.rstrip("\n")
        if not content or "\n" in content:
            return None
        body = self.text.find("\n", start, end) + 1
        if body == 0:
            return None
        found = self.text.find(content, body, end)
        if found == -1:
            return None
        if self.text[body:found].strip() or self.text[found + len(content) : end].strip():
            return None
        return found, found + len(content)

    def implicit_tag(self, node: yaml.ScalarNode) -> str:
        """The YAML 1.1 type of a plain scalar (str, int, float, bool, null...)."""
        if node.style:
            return "tag:yaml.org,2002:str"
        resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = _IMPLICIT.resolve
        return resolve(yaml.ScalarNode, node.value, (True, False))


def scalar_string(node: yaml.Node | None) -> str | None:
    """The value of a scalar node (None for anything else)."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return None


def non_null_string(node: yaml.Node | None) -> str | None:
    """A scalar's value, None for a YAML null (``key:``, ``~``, ``null``) or a non-scalar."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    if not node.style and node.value in _NULLS:
        return None
    return str(node.value)


def mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """A mapping's string keys and values, ``<<`` merge keys applied (explicit keys win).

    Anything but a mapping gives an empty dict, so finders can walk without type checks.
    """
    if not isinstance(node, yaml.MappingNode):
        return {}
    merged: dict[str, yaml.Node] = {}
    explicit: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = scalar_string(key)
        if name is None:
            continue
        if name == MERGE_KEY and not key.style:
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                for merged_key, merged_value in mapping(source).items():
                    merged.setdefault(merged_key, merged_value)  # earlier sources win
            continue
        explicit[name] = value
    merged.update(explicit)
    return merged


def mapping_key(node: yaml.Node | None, name: str) -> yaml.ScalarNode | None:
    """The key node of ``name`` in a mapping (for positions), merges not followed."""
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == name:
                return key
    return None


def sequence(node: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
