"""Kubernetes manifests: containers of every Pod spec, templates unpinnable, others ignored."""

from __future__ import annotations

from repro.imagefiles import FileKind, ImageFile, SiteKind, pin_file, scan_file

DIGEST = "sha256:" + "b" * 64

MANIFESTS = b"""\
# Source: driftwood/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: driftwood}
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: driftwood}
    spec:
      initContainers:
        - name: migrate
          image: "registry.example.com/driftwood/migrate:2.4.1"
          args: ["--wait", "60s"]
      containers:
        - name: api
          image: registry.example.com/driftwood/api:2.4.1
          ports:
            - containerPort: 8080
        - name: envoy
          image: envoyproxy/envoy:v1.29.1   # sidecar
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  ports: [{port: 80}]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: 'busybox:1.36'
          ephemeralContainers:
          - name: debug
            image: busybox:1.36-musl
"""


def scan(data: bytes, display: str = "deploy/app.yaml") -> ImageFile | None:
    return scan_file(display, data, FileKind.KUBERNETES)


def test_each_container_of_a_deployment_and_a_cronjob() -> None:
    scanned = scan(MANIFESTS)
    assert scanned is not None
    assert [(site.kind, site.path, site.where, site.raw) for site in scanned.sites] == [
        (
            SiteKind.K8S_CONTAINER,
            "Deployment/api: spec.template.spec.initContainers[migrate].image",
            "deploy/app.yaml:15",
            "registry.example.com/driftwood/migrate:2.4.1",
        ),
        (
            SiteKind.K8S_CONTAINER,
            "Deployment/api: spec.template.spec.containers[api].image",
            "deploy/app.yaml:19",
            "registry.example.com/driftwood/api:2.4.1",
        ),
        (
            SiteKind.K8S_CONTAINER,
            "Deployment/api: spec.template.spec.containers[envoy].image",
            "deploy/app.yaml:23",
            "envoyproxy/envoy:v1.29.1",
        ),
        (
            SiteKind.K8S_CONTAINER,
            "CronJob/nightly: spec.jobTemplate.spec.template.spec.containers[report].image",
            "deploy/app.yaml:44",
            "busybox:1.36",
        ),
        (
            SiteKind.K8S_CONTAINER,
            "CronJob/nightly: spec.jobTemplate.spec.template.spec.ephemeralContainers[debug].image",
            "deploy/app.yaml:47",
            "busybox:1.36-musl",
        ),
    ]


def test_pinning_a_multi_document_file_keeps_every_other_byte() -> None:
    scanned = scan(MANIFESTS.replace(b"\n", b"\r\n"))
    assert scanned is not None
    new = pin_file(scanned, [(site, DIGEST) for site in scanned.sites])
    assert new.replace(b"@" + DIGEST.encode(), b"") == scanned.data
    assert new.count(DIGEST.encode()) == 5
    assert b"image: 'busybox:1.36@" + DIGEST.encode() + b"'\r\n" in new
    assert b"envoy:v1.29.1@" + DIGEST.encode() + b"   # sidecar\r\n" in new


def test_files_that_are_not_kubernetes_objects_do_not_count() -> None:
    assert scan(b"site_name: docs\nimage: logo.png\n", "mkdocs.yml") is None
    assert scan(MANIFESTS + b"---\nimage: not-an-object\n") is None
    assert scan(b"apiVersion: v2\nname: chart\n", "Chart.yaml") is None  # no kind
    assert scan(b"steps: []\n", "ci.yml") is None  # no image at all: not even parsed


def test_a_list_contributes_its_items() -> None:
    data = b"""\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: one}
    spec:
      containers: [{name: a, image: nginx:1.25}]
"""
    scanned = scan(data)
    assert scanned is not None
    assert [site.path for site in scanned.sites] == ["Pod/one: spec.containers[a].image"]


def test_a_templated_image_that_parses_is_unpinnable() -> None:
    data = b"""\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: web
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""
    scanned = scan(data)
    assert scanned is not None
    (site,) = scanned.sites
    assert site.where == "deploy/app.yaml:7"
    assert not site.pinnable
    assert (
        site.unpinnable == "it is a template ({{ }}): the image is known only once it is rendered"
    )


def test_a_template_that_is_not_yaml_gives_an_unpinnable_site_per_image_line() -> None:
    data = b"""\
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "app.fullname" . }}
spec:
  containers:
    - name: app
      image: {{ .Values.image }}
{{- if .Values.sidecar.enabled }}
    - name: sidecar
      image: busybox:1.36
{{- end }}
"""
    scanned = scan(data, "chart/templates/pod.yaml")
    assert scanned is not None
    assert [(site.where, site.raw, site.pinnable) for site in scanned.sites] == [
        ("chart/templates/pod.yaml:8", "{{ .Values.image }}", False),
        ("chart/templates/pod.yaml:11", "busybox:1.36", False),
    ]
    assert "not YAML until it is rendered" in (scanned.sites[1].unpinnable or "")


def test_a_manifest_that_does_not_parse_is_a_problem() -> None:
    scanned = scan(b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: [a\n")
    assert scanned is not None
    (problem,) = scanned.problems
    assert problem.where == "deploy/app.yaml:6"
    assert scanned.sites == ()
