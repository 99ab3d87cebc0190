"""Compose files: ``services.*.image`` sites, and each ``build:`` section as a ComposeBuild.

- ``services.<name>.image`` of a service *without* ``build:`` is a compose-image site.
- A service *with* ``build:`` builds its image; its ``image:`` is then the name the result
  is tagged with (an output, not a base), so it is not a site: pinning it would make
  compose refuse to tag the build. The section (context, dockerfile, args, target,
  platforms, additional_contexts) becomes a ComposeBuild for ``repro verify --all``; its
  Dockerfile's FROM lines are the Dockerfile finder's. ``additional_contexts`` values
  ``docker-image://REF`` are compose-build-context sites.
- A value with ``${VAR}`` is unpinnable and names its variables (see interpolation).
- ``<<`` merge keys and aliases are followed; an alias's site is its anchor's text.
"""

from __future__ import annotations

from dataclasses import replace

import yaml

from repro.imagefiles.interpolation import interpolation
from repro.imagefiles.model import ComposeBuild, ImageSite, SiteKind
from repro.imagefiles.sites import compose_templating, yaml_site
from repro.imagefiles.yamltext import (
    YamlText,
    mapping,
    mapping_key,
    non_null_string,
    scalar_string,
    sequence,
)

DOCKER_IMAGE = "docker-image://"


def find_compose(display: str, source: YamlText) -> tuple[list[ImageSite], list[ComposeBuild]]:
    documents = source.documents()
    sites: list[ImageSite] = []
    builds: list[ComposeBuild] = []
    if not documents:
        return sites, builds
    services_node = mapping(documents[0]).get("services")
    for name, node in mapping(services_node).items():
        service = mapping(node)
        build = service.get("build")
        if build is not None and scalar_string(build) != "":
            build_key = mapping_key(node, "build")
            builds.append(_build(display, source, name, build, build_key, service.get("image")))
            sites.extend(_context_sites(display, source, name, build))
            continue
        image = service.get("image")
        if image is None:
            continue
        found = yaml_site(
            display,
            SiteKind.COMPOSE_IMAGE,
            f"services.{name}.image",
            source,
            image,
            compose_templating,
        )
        if found is not None:
            sites.append(found)
    return sites, builds


def _build(
    display: str,
    source: YamlText,
    service: str,
    node: yaml.Node,
    key: yaml.Node | None,
    image: yaml.Node | None,
) -> ComposeBuild:
    used: list[str] = []

    def text(value: yaml.Node | None) -> str | None:
        found = scalar_string(value)
        if found is not None:
            used.append(found)
        return found

    fields = mapping(node)
    context = text(node) if isinstance(node, yaml.ScalarNode) else text(fields.get("context"))
    line, _ = source.position((key or node).start_mark.index)
    build = ComposeBuild(
        file=display,
        service=service,
        line=line,
        context=context or ".",
        dockerfile=text(fields.get("dockerfile")),
        dockerfile_inline=text(fields.get("dockerfile_inline")),
        args=_pairs(fields.get("args"), used, keep_unset=True),
        target=text(fields.get("target")),
        platforms=tuple(
            value for item in sequence(fields.get("platforms")) if (value := text(item))
        ),
        additional_contexts=tuple(
            (name, value)
            for name, value in _pairs(fields.get("additional_contexts"), used, keep_unset=False)
            if value is not None
        ),
        image=text(image),
        variables=(),
    )
    variables = [
        name for value in used if (found := interpolation(value)) for name in found.variables
    ]
    return replace(build, variables=tuple(dict.fromkeys(variables)))


def _pairs(
    node: yaml.Node | None, used: list[str], *, keep_unset: bool
) -> tuple[tuple[str, str | None], ...]:
    """A mapping or a ``KEY=VALUE`` list; a bare ``KEY`` (or ``KEY:``) is unset: None."""
    pairs: list[tuple[str, str | None]] = []
    if isinstance(node, yaml.SequenceNode):
        for item in sequence(node):
            entry = scalar_string(item)
            if entry is None:
                continue
            used.append(entry)
            name, equals, written = entry.partition("=")
            if equals or keep_unset:
                pairs.append((name, written if equals else None))
        return tuple(pairs)
    for name, value_node in mapping(node).items():
        value = non_null_string(value_node)
        if value is not None:
            used.append(value)
        if value is not None or keep_unset:
            pairs.append((name, value))
    return tuple(pairs)


def _context_sites(
    display: str, source: YamlText, service: str, build: yaml.Node
) -> list[ImageSite]:
    found: list[ImageSite] = []
    contexts = mapping(build).get("additional_contexts")
    path = f"services.{service}.build.additional_contexts"
    if isinstance(contexts, yaml.SequenceNode):
        for item in sequence(contexts):
            entry = scalar_string(item) or ""
            name, equals, value = entry.partition("=")
            if equals and value.startswith(DOCKER_IMAGE):
                site = yaml_site(
                    display,
                    SiteKind.COMPOSE_BUILD_CONTEXT,
                    f"{path}.{name}",
                    source,
                    item,
                    compose_templating,
                    prefix=f"{name}={DOCKER_IMAGE}",
                )
                if site is not None:
                    found.append(site)
        return found
    for name, node in mapping(contexts).items():
        if (scalar_string(node) or "").startswith(DOCKER_IMAGE):
            site = yaml_site(
                display,
                SiteKind.COMPOSE_BUILD_CONTEXT,
                f"{path}.{name}",
                source,
                node,
                compose_templating,
                prefix=DOCKER_IMAGE,
            )
            if site is not None:
                found.append(site)
    return found
