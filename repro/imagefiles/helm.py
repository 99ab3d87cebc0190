"""Helm values files: ``*image`` keys, as a string or as a registry/repository/tag mapping.

The rule is Renovate's helm-values heuristic (the common shape of chart values): a key
ending in ``image`` (any case: ``image``, ``initImage``, ``coreImage``) whose value is

- a string: a helm-image site (``image: nginx:1.25``);
- a mapping with ``repository`` and ``tag``, and optionally ``registry`` and ``digest``:
  one helm-repository-tag site for the composed ``[registry/]repository:tag``, when each
  part is a literal string.

How the pin is written there:

- with a sibling ``digest:`` key, the digest goes into it (``digest: sha256:...``): that
  is the Bitnami convention (their ``common.images.image`` helper writes
  ``repository@digest`` when ``digest`` is set), and a chart that declares the key reads
  it. Its tag stays as it is, for people.
- without one, ``tag: "1.25"`` becomes ``tag: "1.25@sha256:..."``, quoting kept: what
  Renovate's helm-values manager writes (its replace template is
  ``{{newValue}}@{{newDigest}}``), and what ``helm create``'s ``repository:tag`` image
  line turns into a pinned reference.

A tag written as a YAML number (``tag: 1.10``) is unpinnable: Helm reads it as a float
(1.1), and pinning would silently turn it into the string "1.10". A tag that is missing
or empty (the chart falls back to its appVersion) is unpinnable too, reported on the
repository. ``{{ }}`` values are templates: unpinnable.
"""

from __future__ import annotations

import re

import yaml

from repro.dockerfile import Span
from repro.imagefiles.model import ImageSite, PinStyle, SiteKind
from repro.imagefiles.sites import (
    Located,
    checked_site,
    go_templating,
    located_site,
    located_yaml,
    unpinnable,
    yaml_site,
)
from repro.imagefiles.yamltext import YamlText, mapping, mapping_key, sequence

_IMAGE_KEY = re.compile(r".*image", re.IGNORECASE)
_STRING = "tag:yaml.org,2002:str"


def find_helm_values(display: str, source: YamlText) -> list[ImageSite]:
    sites: list[ImageSite] = []
    seen: set[int] = set()  # aliases: each node once
    # A stack, not recursion: values may nest as deep as libyaml allows (1,000 levels).
    stack: list[tuple[yaml.Node, str]] = [(document, "") for document in source.documents()]
    stack.reverse()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            items = [(item, f"{path}[{index}]") for index, item in enumerate(sequence(node))]
            stack.extend(reversed(items))
            continue
        below: list[tuple[yaml.Node, str]] = []
        for key, value in mapping(node).items():
            here = f"{path}.{key}" if path else key
            is_image, found = (
                _image(display, source, value, here) if _IMAGE_KEY.fullmatch(key) else (False, None)
            )
            if not is_image:
                below.append((value, here))
                continue
            seen.add(id(value))
            if found is not None:
                sites.append(found)
        stack.extend(reversed(below))
    return sites


def _image(
    display: str, source: YamlText, value: yaml.Node, path: str
) -> tuple[bool, ImageSite | None]:
    """Whether an ``*image`` key's value is an image (else look inside it), and its site."""
    if isinstance(value, yaml.ScalarNode):
        if source.implicit_tag(value) != _STRING:
            return True, None  # pullImage: true
        return True, yaml_site(display, SiteKind.HELM_IMAGE, path, source, value, go_templating)
    if "repository" in mapping(value):
        return True, _repository_tag(display, source, value, path)
    return False, None


def _repository_tag(display: str, source: YamlText, node: yaml.Node, path: str) -> ImageSite | None:
    fields = mapping(node)
    parts: dict[str, str] = {}
    for name in ("registry", "repository", "tag", "digest"):
        part = fields.get(name)
        located = located_yaml(source, part) if part is not None else None
        if part is None or located is None:
            continue
        problem = _part_problem(source, part, located)
        if problem is not None:
            return unpinnable(
                display, SiteKind.HELM_REPOSITORY_TAG, path, located, f"its {name}: {problem}"
            )
        parts[name] = located.value
    repository = located_yaml(source, fields["repository"])
    if repository is None:
        return None
    base = parts["repository"]
    if parts.get("registry"):
        base = f"{parts['registry']}/{base}"
    tag, digest = parts.get("tag"), parts.get("digest")
    if tag is None and digest is None:
        reason = "it has no tag: the chart picks one (often its appVersion), unknown here"
        return unpinnable(display, SiteKind.HELM_REPOSITORY_TAG, path, repository, reason)
    if tag is not None and "@" in tag and digest is not None:
        return unpinnable(
            display,
            SiteKind.HELM_REPOSITORY_TAG,
            path,
            repository,
            "both its tag and digest hold a digest",
        )
    reference = base + (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest else "")
    tag_located = located_yaml(source, fields["tag"]) if "tag" in fields else None
    if "digest" in fields:
        where, lead = _digest_site(source, node, fields["digest"])
        style = PinStyle.DIGEST
    elif tag_located is not None:
        where, lead, style = tag_located, "", PinStyle.TAG
    else:  # a digest without a tag is only possible with a digest key
        return None
    return checked_site(
        located_site(
            display,
            SiteKind.HELM_REPOSITORY_TAG,
            path,
            where,
            reference=reference,
            pin_style=style,
            lead=lead,
        )
    )


def _part_problem(source: YamlText, node: yaml.Node, located: Located) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        return "it is not a string"
    templated = go_templating(located.value)
    if templated is not None:
        return templated[0]
    if located.not_literal is not None:
        return located.not_literal
    if source.implicit_tag(node) != _STRING:
        return (
            f"{located.value} is a YAML number or boolean, which Helm does not read as the "
            "text written (1.10 becomes 1.1): quote it to pin it"
        )
    return None


def _digest_site(source: YamlText, parent: yaml.Node, digest: yaml.Node) -> tuple[Located, str]:
    """Where a digest goes: the value's text, or just after ``digest:`` when it is empty."""
    located = located_yaml(source, digest)
    if located is not None:
        return located, ""
    if isinstance(digest, yaml.ScalarNode) and digest.style:  # digest: "" keeps its quotes
        literal = source.literal(digest)
        return Located("", literal.span, literal.line, literal.column), ""
    # An empty plain value's mark is unreliable (libyaml and PyYAML disagree): use the key.
    key = mapping_key(parent, "digest")
    index = digest.start_mark.index
    if key is not None:
        index = source.text.index(":", key.end_mark.index) + 1
    offset = source.byte_offset(index)
    line, column = source.position(index)
    return Located("", Span(offset, offset), line, column), " "
