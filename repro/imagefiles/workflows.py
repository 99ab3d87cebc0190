"""GitHub Actions workflow files: the images a job runs in, beside, and as steps.

- ``jobs.<id>.container``: a string, or a mapping's ``image`` (workflow-container);
- ``jobs.<id>.services.<name>.image`` (workflow-service);
- ``jobs.<id>.steps[*].uses: docker://REF`` (workflow-uses; the span is REF, so the
  ``docker://`` prefix stays).

A value with a ``${{ }}`` expression (``container: ${{ matrix.image }}``) is known only
when the job runs: unpinnable.
"""

from __future__ import annotations

import yaml

from repro.imagefiles.model import ImageSite, SiteKind
from repro.imagefiles.sites import github_templating, yaml_site
from repro.imagefiles.yamltext import YamlText, mapping, scalar_string, sequence

DOCKER = "docker://"


def find_workflow(display: str, source: YamlText) -> list[ImageSite]:
    documents = source.documents()
    if not documents:
        return []
    found: list[ImageSite | None] = []
    for job_id, job_node in mapping(mapping(documents[0]).get("jobs")).items():
        job = mapping(job_node)
        container = job.get("container")
        if isinstance(container, yaml.MappingNode):
            container = mapping(container).get("image")
        if container is not None:
            found.append(
                _site(
                    display,
                    source,
                    SiteKind.WORKFLOW_CONTAINER,
                    f"jobs.{job_id}.container",
                    container,
                )
            )
        for name, service in mapping(job.get("services")).items():
            image = mapping(service).get("image")
            if image is not None:
                path = f"jobs.{job_id}.services.{name}.image"
                found.append(_site(display, source, SiteKind.WORKFLOW_SERVICE, path, image))
        for index, step in enumerate(sequence(job.get("steps"))):
            uses = mapping(step).get("uses")
            if (scalar_string(uses) or "").startswith(DOCKER) and uses is not None:
                path = f"jobs.{job_id}.steps[{index}].uses"
                found.append(
                    _site(display, source, SiteKind.WORKFLOW_USES, path, uses, prefix=DOCKER)
                )
    return [site for site in found if site is not None]


def _site(
    display: str,
    source: YamlText,
    kind: SiteKind,
    path: str,
    node: yaml.Node,
    *,
    prefix: str = "",
) -> ImageSite | None:
    return yaml_site(display, kind, path, source, node, github_templating, prefix=prefix)
