"""Turn a located value into an ImageSite: templating, prefixes, literalness, validity.

Every finder calls ``site`` with the text it found and where; the rules for when a site
can be pinned live here once: a templated value (the caller's ``templating`` says which
syntax the file uses) or a non-literal one is reported with its reason, and so is text
that is not a valid image reference. Only a literal, valid reference gets an ``image``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import yaml

from repro.dockerfile import ImageRef, Span, parse_image_ref
from repro.errors import InputError
from repro.imagefiles.interpolation import interpolation
from repro.imagefiles.model import ImageSite, PinStyle, SiteKind
from repro.imagefiles.yamltext import YamlText

# A templating rule: for a value, (why it is templated, the assumed value) or None.
Templating = Callable[[str], tuple[str, str | None] | None]


def compose_templating(value: str) -> tuple[str, str | None] | None:
    found = interpolation(value)
    if found is None:
        return None
    names = ", ".join(f"${{{name}}}" for name in found.variables)
    return f"it needs {names}, which compose takes from the environment or .env", found.assumed


def go_templating(value: str) -> tuple[str, str | None] | None:
    if "{{" in value:
        return "it is a template ({{ }}): the image is known only once it is rendered", None
    return None


def github_templating(value: str) -> tuple[str, str | None] | None:
    if "${{" in value:
        return "it is a GitHub expression (${{ }}): the image is known only when the job runs", None
    return None


@dataclass(frozen=True)
class Located:
    """Text at a place in a file, and whether that text is exactly the value."""

    value: str
    span: Span
    line: int
    column: int
    not_literal: str | None = None


def site(
    file: str,
    kind: SiteKind,
    path: str,
    located: Located,
    templating: Templating,
    *,
    prefix: str = "",
) -> ImageSite:
    """The site for a reference written as ``prefix + reference`` at ``located``."""
    value = located.value
    span, column = located.span, located.column
    if prefix and value.startswith(prefix) and located.not_literal is None:
        # The prefix is ASCII, so its length in characters is its length in bytes.
        span = Span(span.start + len(prefix), span.end)
        column += len(prefix)
    reference = value.removeprefix(prefix)
    reason: str | None = None
    assumed: str | None = None
    templated = templating(reference)
    if templated is not None:
        reason, assumed = templated
    elif located.not_literal is not None:
        reason = located.not_literal
    image: ImageRef | None = None
    if reason is None:
        image, reason = _parsed(reference)
    return ImageSite(
        file=file,
        kind=kind,
        path=path,
        line=located.line,
        column=column,
        span=span,
        raw=reference if located.not_literal is None else value,
        reference=None if templated is not None else reference,
        image=image,
        unpinnable=reason,
        assumed=assumed,
    )


def checked_site(candidate: ImageSite) -> ImageSite:
    """``candidate`` with ``image`` parsed when nothing made it unpinnable yet."""
    if candidate.unpinnable is not None or candidate.reference is None:
        return candidate
    image, reason = _parsed(candidate.reference)
    return replace(candidate, image=image, unpinnable=reason)


def _parsed(reference: str) -> tuple[ImageRef | None, str | None]:
    """The reference parsed, or why it is not a valid one."""
    try:
        return parse_image_ref(reference), None
    except InputError as error:
        return None, error.message


def located_yaml(source: YamlText, node: yaml.Node) -> Located | None:
    """Where a YAML value's text is; None for an empty value (nothing to pin)."""
    if isinstance(node, yaml.ScalarNode):
        literal = source.literal(node)
        if literal.is_null or not literal.value:
            return None
        return Located(
            literal.value, literal.span, literal.line, literal.column, literal.not_literal
        )
    line, column = source.position(node.start_mark.index)
    text = source.node_text(node)
    return Located(text, source.node_span(node), line, column, "it is not a string")


def yaml_site(
    file: str,
    kind: SiteKind,
    path: str,
    source: YamlText,
    node: yaml.Node,
    templating: Templating,
    *,
    prefix: str = "",
) -> ImageSite | None:
    located = located_yaml(source, node)
    if located is None:
        return None
    return site(file, kind, path, located, templating, prefix=prefix)


def unpinnable(file: str, kind: SiteKind, path: str, located: Located, reason: str) -> ImageSite:
    return located_site(file, kind, path, located, reference=None, unpinnable=reason)


def located_site(
    file: str,
    kind: SiteKind,
    path: str,
    located: Located,
    *,
    reference: str | None,
    unpinnable: str | None = None,
    pin_style: PinStyle = PinStyle.REFERENCE,
    lead: str = "",
) -> ImageSite:
    """A site at ``located`` whose reference was composed elsewhere (not parsed yet)."""
    return ImageSite(
        file=file,
        kind=kind,
        path=path,
        line=located.line,
        column=located.column,
        span=located.span,
        raw=located.value,
        reference=reference,
        image=None,
        unpinnable=unpinnable,
        pin_style=pin_style,
        lead=lead,
    )
