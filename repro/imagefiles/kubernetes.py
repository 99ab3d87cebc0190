"""Kubernetes manifests: ``image:`` of every container of every Pod spec.

A file counts only when each of its YAML documents is a Kubernetes object (a mapping
with string ``apiVersion`` and ``kind``; a ``*List`` kind contributes its ``items``).
The Pod spec is at ``spec`` (Pod), ``template.spec`` (PodTemplate),
``spec.template.spec`` (Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job) and ``spec.jobTemplate.spec.template.spec`` (CronJob); its
``initContainers``, ``containers`` and ``ephemeralContainers`` give k8s-container sites.

An image written as a Go/Helm template (``{{ }}``) is unpinnable. A template file that
is not YAML until rendered (``image: {{ .Values.image }}`` unquoted, ``{{- if }}``
lines) gets one unpinnable site per ``image:`` line, found line by line, so each is
reported with file:line and none is ever rewritten.
"""

from __future__ import annotations

import re

import yaml

from repro.dockerfile import Span
from repro.imagefiles.model import ImageSite, SiteKind
from repro.imagefiles.sites import Located, go_templating, unpinnable, yaml_site
from repro.imagefiles.yamltext import YamlText, mapping, scalar_string, sequence

_WORKLOAD = ("spec", "template", "spec")
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "ReplicationController": _WORKLOAD,
    "Job": _WORKLOAD,
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
_TEMPLATE_FILE = "the file is a template ({{ }}) that is not YAML until it is rendered"
_IMAGE_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?image:[ \t]*(?P<value>\S.*?)[ \t]*$", re.MULTILINE)


def kubernetes_objects(documents: list[yaml.Node]) -> list[yaml.Node] | None:
    """The objects of a file whose every document is one; None when any is not."""
    objects: list[yaml.Node] = []
    for document in documents:
        fields = mapping(document)
        kind = scalar_string(fields.get("kind"))
        if not kind or not scalar_string(fields.get("apiVersion")):
            return None
        if kind.endswith("List") and "items" in fields:
            items = [item for item in sequence(fields["items"]) if _is_object(item)]
            objects.extend(items)
        else:
            objects.append(document)
    return objects or None


def _is_object(node: yaml.Node) -> bool:
    fields = mapping(node)
    return bool(scalar_string(fields.get("kind")) and scalar_string(fields.get("apiVersion")))


def find_kubernetes(display: str, source: YamlText, objects: list[yaml.Node]) -> list[ImageSite]:
    sites: list[ImageSite] = []
    for document in objects:
        fields = mapping(document)
        kind = scalar_string(fields.get("kind")) or ""
        spec_path = POD_SPEC_PATHS.get(kind)
        if spec_path is None:
            continue
        name = scalar_string(mapping(fields.get("metadata")).get("name")) or "?"
        pod_spec: yaml.Node | None = document
        for step in spec_path:
            pod_spec = mapping(pod_spec).get(step)
        for field in CONTAINER_FIELDS:
            for index, container in enumerate(sequence(mapping(pod_spec).get(field))):
                container_fields = mapping(container)
                image = container_fields.get("image")
                if image is None:
                    continue
                label = scalar_string(container_fields.get("name")) or str(index)
                path = f"{kind}/{name}: {'.'.join(spec_path)}.{field}[{label}].image"
                found = yaml_site(
                    display, SiteKind.K8S_CONTAINER, path, source, image, go_templating
                )
                if found is not None:
                    sites.append(found)
    return sites


def template_sites(display: str, source: YamlText) -> list[ImageSite]:
    """Each ``image:`` line of a template that does not parse as YAML: unpinnable."""
    text = source.text
    sites: list[ImageSite] = []
    for match in _IMAGE_LINE.finditer(text):
        value = match.group("value")
        if value.startswith("#"):
            continue
        start, end = match.span("value")
        line, column = source.position(start)
        located = Located(
            value, Span(source.byte_offset(start), source.byte_offset(end)), line, column
        )
        templated = go_templating(value)
        reason = templated[0] if templated else _TEMPLATE_FILE
        sites.append(unpinnable(display, SiteKind.K8S_CONTAINER, "image", located, reason))
    return sites
