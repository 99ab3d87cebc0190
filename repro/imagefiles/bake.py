"""buildx bake files, HCL and JSON: ``contexts`` images as sites, each target's build inputs.

- Every ``target.<name>.contexts.<key> = "docker-image://REF"`` is a bake-context site
  whose span is REF (the prefix stays). Other context values (paths, ``target:``,
  ``oci-layout://``, URLs) are not images.
- Each target becomes a BakeTarget (context, dockerfile, args, target, platforms,
  contexts, tags, inherits) as far as it is literal: ``${NAME}`` and bare ``NAME`` take a
  variable's literal default; function calls, conditionals and ``matrix`` are listed in
  ``not_literal``, never guessed. ``resolve_bake`` applies override files and
  ``inherits`` the way bake does. Dockerfiles named by targets are the Dockerfile
  finder's.
- A reference that uses ``${...}`` is unpinnable: bake fills it in from variables, which
  the environment may override. ``assumed`` gives it with the variables' defaults.

HCL is parsed by python-hcl2, which gives no positions: hclscan finds each string's span,
and a span is used only when the scanner's strings equal the library's, one for one, in
that attribute (otherwise a Problem says so and nothing there is rewritten). JSON is
parsed by the json module and matched token for token with a string scanner the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from repro.errors import InputError
from repro.imagefiles.hclscan import HclScanError, HclString, scan_hcl
from repro.imagefiles.model import BakeDefinition, BakeTarget, ImageSite, Problem, SiteKind
from repro.imagefiles.sites import Located, site
from repro.imagefiles.text import SourceText, UnreadableText

DOCKER_IMAGE = "docker-image://"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_BLOCK_MARKER = "__is_block__"


@dataclass(frozen=True)
class _Template:
    """A string value: ``text`` as written (HCL: escapes not decoded yet)."""

    text: str
    escaped: bool  # HCL source text, with \\ escapes; JSON strings arrive decoded


@dataclass(frozen=True)
class _Expression:
    text: str  # an HCL expression that is not a string: NAME, f(x), a ? b : c ...


Lookup = Callable[[str], str | None]


@dataclass(frozen=True)
class BakeScan:
    sites: tuple[ImageSite, ...]
    definition: BakeDefinition
    problems: tuple[Problem, ...]


def find_bake_hcl(display: str, source: SourceText) -> BakeScan:
    # Imported here: python-hcl2 and lark take ~0.1 s to import and ~0.15 s to build the
    # parser, which every repro command would pay otherwise.
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    options = hcl2.SerializationOptions(with_comments=False, explicit_blocks=True)
    try:
        parsed: dict[str, Any] = hcl2.loads(source.text, serialization_options=options)
    except UnexpectedInput as error:
        line, column = int(getattr(error, "line", 1) or 1), int(getattr(error, "column", 1) or 1)
        raise UnreadableText(f"not valid HCL: {_first_line(error)}", line, column) from error
    except LarkError as error:  # an error while building the tree carries no position
        raise UnreadableText(f"not valid HCL: {_first_line(error)}", 1, 1) from error
    blocks = _hcl_blocks(parsed)
    variables = _variables(
        (labels[0], body.get("default"))
        for kind, labels, body in blocks
        if kind == "variable" and labels
    )
    lookup: Lookup = variables.get
    problems: list[Problem] = []
    try:
        tokens = scan_hcl(source.text)
    except HclScanError as error:
        line, column = source.position(min(error.index, len(source.text)))
        message = f"could not locate the strings of this HCL ({error}); nothing is pinned here"
        problems.append(Problem(display, line, column, message))
        tokens = None
    starts = {(b.type, b.labels): b.start for b in tokens.blocks} if tokens else {}
    scanned: dict[tuple[str, ...], list[HclString]] = {}
    for string in tokens.strings if tokens else ():
        if string.raw.startswith(DOCKER_IMAGE):
            scanned.setdefault(string.group, []).append(string)
    sites: list[ImageSite] = []
    targets: list[BakeTarget] = []
    groups: list[tuple[str, tuple[str, ...]]] = []
    for kind, labels, body in blocks:
        line = source.position(starts.get((kind, labels), 0))[0] if starts else 1
        if kind == "group" and labels:
            members = _texts(body.get("targets"), lookup) or ()
            groups.append((labels[0], members))
        if kind != "target" or not labels:
            continue
        targets.append(_target(display, labels[0], line, body, lookup))
        for attribute, value in body.items():
            group = (kind, *labels, attribute)
            library = [raw for raw in _hcl_strings(value) if raw.startswith(DOCKER_IMAGE)]
            found = scanned.get(group, [])
            if tokens is None or not (library or found):
                continue
            if [string.raw for string in found] != library:
                message = (
                    f"target {labels[0]!r} {attribute}: the strings python-hcl2 read are not "
                    "the ones found in the text; nothing in it is pinned"
                )
                problems.append(Problem(display, line, 1, message))
                continue
            if attribute == "contexts" and isinstance(value, dict):
                sites.extend(_hcl_context_sites(display, source, labels[0], value, found, lookup))
    definition = BakeDefinition(tuple(targets), tuple(groups), tuple(variables.items()))
    return BakeScan(tuple(sites), definition, tuple(problems))


def _hcl_context_sites(
    display: str,
    source: SourceText,
    target: str,
    contexts: dict[str, Any],
    found: list[HclString],
    lookup: Lookup,
) -> list[ImageSite]:
    """The docker-image:// values of one contexts object, matched with scanned strings."""
    remaining = iter(found)
    sites: list[ImageSite] = []
    for key, value in contexts.items():
        if _unquote(key).startswith(DOCKER_IMAGE) and _is_quoted(key):
            next(remaining)  # a key that looks like a reference is not a site
        for raw in _hcl_strings(value):
            if not raw.startswith(DOCKER_IMAGE):
                continue
            string = next(remaining)
            path = f"target.{target}.contexts.{_unquote(key)}"
            sites.append(
                _site(
                    display,
                    source,
                    path,
                    string.start,
                    string.end,
                    raw,
                    escaped=True,
                    lookup=lookup,
                )
            )
    return sites


def find_bake_json(display: str, source: SourceText) -> BakeScan:
    try:
        document = json.loads(source.text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as error:
        raise UnreadableText(f"not valid JSON: {error.msg}", error.lineno, error.colno) from error
    walked = list(_json_strings(document, ()))
    tokens = list(_JSON_STRING.finditer(source.text))
    problems: list[Problem] = []
    matched = len(walked) == len(tokens) and all(
        json.loads(token.group()) == value
        for token, (_, _, value) in zip(tokens, walked, strict=True)
    )
    if not matched:  # cannot happen for JSON the json module read; never guess a span
        problems.append(
            Problem(display, 1, 1, "could not locate the strings of this JSON; nothing is pinned")
        )
    root = _dict(_json_value(document))
    variables = _variables(
        (name, _dict(body).get("default")) for name, body in _dict(root.get("variable")).items()
    )
    lookup: Lookup = variables.get
    key_at = {
        path: token.start()
        for token, (path, is_key, _) in zip(tokens, walked, strict=False)
        if is_key and matched
    }
    targets = [
        _target(
            display,
            name,
            source.position(key_at.get(("target", name), 0))[0],
            _dict(body),
            lookup,
        )
        for name, body in _dict(root.get("target")).items()
    ]
    groups = [
        (name, _texts(_dict(body).get("targets"), lookup) or ())
        for name, body in _dict(root.get("group")).items()
    ]
    sites: list[ImageSite] = []
    if matched:
        for token, (path, is_key, value) in zip(tokens, walked, strict=True):
            is_context = len(path) == 4 and path[0] == "target" and path[2] == "contexts"
            if is_key or not is_context or not value.startswith(DOCKER_IMAGE):
                continue
            start, end = token.start() + 1, token.end() - 1
            raw = source.text[start:end]
            located_path = f"target.{path[1]}.contexts.{path[3]}"
            sites.append(
                _site(display, source, located_path, start, end, raw, escaped=True, lookup=lookup)
            )
    definition = BakeDefinition(tuple(targets), tuple(groups), tuple(variables.items()))
    return BakeScan(tuple(sites), definition, tuple(problems))


def _site(
    display: str,
    source: SourceText,
    path: str,
    start: int,
    end: int,
    raw: str,
    *,
    escaped: bool,
    lookup: Lookup,
) -> ImageSite:
    line, column = source.position(start)
    not_literal = None
    if "\\" in raw or "$${" in raw or "%%{" in raw:
        not_literal = "it is written with escapes, so its text is not the value"

    def templating(reference: str) -> tuple[str, str | None] | None:
        if "${" not in reference.replace("$${", "") and "%{" not in reference.replace("%%{", ""):
            return None
        assumed = _interpolate(reference, lookup, escaped=escaped)
        return "it uses ${...}, which bake fills in from variables or the environment", assumed

    located = Located(raw, source.span(start, end), line, column, not_literal)
    return site(display, SiteKind.BAKE_CONTEXT, path, located, templating, prefix=DOCKER_IMAGE)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its pairs, in order and with duplicates, as the text has them."""


def _json_strings(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], bool, str]]:
    """Every string of a JSON document in text order: (path, is a key, value)."""
    if isinstance(value, _Pairs):
        for key, item in value:
            yield (*path, key), True, key
            yield from _json_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, (*path, str(index)))
    elif isinstance(value, str):
        yield path, False, value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json_value(value: Any) -> Any:
    """A JSON value with objects as dicts (the last duplicate wins) and strings as templates."""
    if isinstance(value, _Pairs):
        return {key: _json_value(item) for key, item in value}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, str):
        return _Template(value, escaped=False)
    return value


def _hcl_blocks(parsed: dict[str, Any]) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    """Every block as (type, labels, body as the library gives it), in text order per type.

    Top-level attributes are left out: bake reads no image from them.
    """
    blocks: list[tuple[str, tuple[str, ...], dict[str, Any]]] = []
    for kind, value in parsed.items():
        if isinstance(value, list) and value and all(_holds_block(item) for item in value):
            for item in value:
                for labels, body in _labelled(item, ()):
                    blocks.append((kind, labels, body))
    return blocks


def _holds_block(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get(_BLOCK_MARKER):
        return True
    return len(value) == 1 and _holds_block(next(iter(value.values())))


def _labelled(
    value: dict[str, Any], labels: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    if value.get(_BLOCK_MARKER):
        yield labels, {key: item for key, item in value.items() if key != _BLOCK_MARKER}
        return
    for label, inner in value.items():
        if isinstance(inner, dict):
            yield from _labelled(inner, (*labels, _unquote(label)))


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text.startswith('"') and text.endswith('"')


def _unquote(text: str) -> str:
    return text[1:-1] if _is_quoted(text) else text


def _hcl_strings(value: Any) -> Iterator[str]:
    """The quoted strings in a library value, in text order (object keys included)."""
    if isinstance(value, str) and _is_quoted(value):
        yield value[1:-1]
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == _BLOCK_MARKER:
                continue
            if _is_quoted(key):
                yield key[1:-1]
            yield from _hcl_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hcl_strings(item)


def _neutral(value: Any) -> Any:
    """A library value with strings as _Template or _Expression (HCL)."""
    if isinstance(value, _Template | _Expression):
        return value
    if isinstance(value, str):
        if value.startswith('"<<') and _is_quoted(value):
            return _heredoc(value[1:-1])
        if _is_quoted(value):
            return _Template(value[1:-1], escaped=True)
        return _Expression(value)
    if isinstance(value, dict):
        return {_unquote(key): _neutral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_neutral(item) for item in value]
    return value


def _heredoc(text: str) -> _Template | _Expression:
    """``<<EOT`` / ``<<-EOT`` text as the library keeps it: its body, indentation trimmed."""
    lines = text.split("\n")
    if len(lines) < 2:
        return _Expression(text)
    body = lines[1:-1]
    if lines[0].startswith("<<-"):
        indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
        trim = min(indents, default=0)
        body = [line[trim:] for line in body]
    return _Template("".join(f"{line}\n" for line in body), escaped=False)


def _variables(defaults: Iterator[tuple[str, Any]]) -> dict[str, str | None]:
    """Each variable's default, resolved as far as it is literal (None: it is not)."""
    raw = {name: _neutral(default) for name, default in defaults}
    resolved: dict[str, str | None] = {}
    resolving: set[str] = set()

    def lookup(name: str) -> str | None:
        if name in resolved:
            return resolved[name]
        if name not in raw or name in resolving:
            return None
        resolving.add(name)
        value = _text(raw[name], lookup)
        resolving.discard(name)
        resolved[name] = value
        return value

    for name in raw:
        lookup(name)
    return resolved


def _text(value: Any, lookup: Lookup) -> str | None:
    value = _neutral(value)
    if isinstance(value, _Template):
        return _interpolate(value.text, lookup, escaped=value.escaped)
    if isinstance(value, _Expression):
        name = value.text.removeprefix("${").removesuffix("}").strip()
        return lookup(name) if _NAME.fullmatch(name) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _texts(value: Any, lookup: Lookup) -> tuple[str, ...] | None:
    value = _neutral(value)
    if not isinstance(value, list):
        return None
    texts = [_text(item, lookup) for item in value]
    if any(text is None for text in texts):
        return None
    return tuple(text for text in texts if text is not None)


def _interpolate(text: str, lookup: Lookup, *, escaped: bool) -> str | None:
    """A template's value with ``${NAME}`` filled in; None when that is not literal."""
    pieces: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if escaped and char == "\\":
            decoded, index = _escape(text, index)
            if decoded is None:
                return None
            pieces.append(decoded)
        elif text.startswith(("$${", "%%{"), index):
            pieces.append(text[index + 1 : index + 3])
            index += 3
        elif text.startswith("${", index):
            match = _INTERPOLATION.match(text, index)
            value = lookup(match.group(1)) if match else None
            if match is None or value is None:
                return None
            pieces.append(value)
            index = match.end()
        elif text.startswith("%{", index):
            return None
        else:
            pieces.append(char)
            index += 1
    return "".join(pieces)


def _escape(text: str, index: int) -> tuple[str | None, int]:
    code = text[index + 1 : index + 2]
    if code in _ESCAPES:
        return _ESCAPES[code], index + 2
    width = {"u": 4, "U": 8}.get(code)
    digits = text[index + 2 : index + 2 + width] if width else ""
    if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
        return chr(int(digits, 16)), index + 2 + width
    return None, index + 1


def _target(display: str, name: str, line: int, body: dict[str, Any], lookup: Lookup) -> BakeTarget:
    fields = _neutral(body)
    not_literal: list[str] = []

    def text(attribute: str) -> str | None:
        if attribute not in fields:
            return None
        value = _text(fields[attribute], lookup)
        if value is None:
            not_literal.append(attribute)
        return value

    def texts(attribute: str) -> tuple[str, ...] | None:
        if attribute not in fields:
            return None
        value = _texts(fields[attribute], lookup)
        if value is None:
            not_literal.append(attribute)
        return value

    def pairs(attribute: str) -> tuple[tuple[str, str | None], ...] | None:
        if attribute not in fields:
            return None
        items = fields[attribute]
        if not isinstance(items, dict):
            not_literal.append(attribute)
            return None
        found: list[tuple[str, str | None]] = []
        for key, item in items.items():
            value = _text(item, lookup)
            if value is None:
                not_literal.append(f"{attribute}.{key}")
            found.append((key, value))
        return tuple(found)

    if "matrix" in fields:
        not_literal.append("matrix")
    contexts = pairs("contexts")
    return BakeTarget(
        file=display,
        name=name,
        line=line,
        context=text("context"),
        dockerfile=text("dockerfile"),
        dockerfile_inline=text("dockerfile-inline"),
        args=pairs("args"),
        target=text("target"),
        platforms=texts("platforms"),
        contexts=None
        if contexts is None
        else tuple((key, value) for key, value in contexts if value is not None),
        tags=texts("tags"),
        inherits=texts("inherits") or (),
        not_literal=tuple(not_literal),
    )


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def resolve_bake(definitions: Sequence[BakeDefinition]) -> tuple[BakeTarget, ...]:
    """Targets as bake builds them: files merged in order, then ``inherits`` applied.

    A later file's target of the same name overrides attribute by attribute (``args``
    and ``contexts`` merge key by key), as ``docker-bake.override.hcl`` does; a parent's
    attributes come first and the target's own override them.
    """
    merged: dict[str, BakeTarget] = {}
    for definition in definitions:
        for target in definition.targets:
            base = merged.get(target.name)
            if base is not None:
                # An override that does not say `inherits` keeps the base file's.
                target = _overlay(base, replace(target, inherits=target.inherits or base.inherits))
            merged[target.name] = target
    done: dict[str, BakeTarget] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> BakeTarget:
        if name in done:
            return done[name]
        target = merged[name]
        if name in chain:
            raise InputError(
                f"{target.file}:{target.line}: target {name!r} inherits from itself "
                f"({' -> '.join((*chain, name))})"
            )
        base: BakeTarget | None = None
        for parent in target.inherits:
            if parent not in merged:
                raise InputError(
                    f"{target.file}:{target.line}: target {name!r} inherits {parent!r}, "
                    "which no bake file defines"
                )
            found = resolve(parent, (*chain, name))
            base = found if base is None else _overlay(base, found)
        result = target if base is None else _overlay(base, target)
        done[name] = replace(result, name=target.name, file=target.file, line=target.line)
        return done[name]

    return tuple(resolve(name, ()) for name in merged)


def _overlay(base: BakeTarget, top: BakeTarget) -> BakeTarget:
    def merged(
        below: tuple[tuple[str, Any], ...] | None, above: tuple[tuple[str, Any], ...] | None
    ) -> tuple[tuple[str, Any], ...] | None:
        if below is None or above is None:
            return above if above is not None else below
        return tuple({**dict(below), **dict(above)}.items())

    return BakeTarget(
        file=top.file,
        name=top.name,
        line=top.line,
        context=top.context if top.context is not None else base.context,
        dockerfile=top.dockerfile if top.dockerfile is not None else base.dockerfile,
        dockerfile_inline=top.dockerfile_inline
        if top.dockerfile_inline is not None
        else base.dockerfile_inline,
        args=merged(base.args, top.args),
        target=top.target if top.target is not None else base.target,
        platforms=top.platforms if top.platforms is not None else base.platforms,
        contexts=merged(base.contexts, top.contexts),
        tags=top.tags if top.tags is not None else base.tags,
        inherits=top.inherits,
        not_literal=tuple(dict.fromkeys((*base.not_literal, *top.not_literal))),
    )
