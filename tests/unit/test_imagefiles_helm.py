"""Helm values: image strings and registry/repository/tag/digest mappings, pinned in place."""

from __future__ import annotations

from repro.imagefiles import FileKind, ImageFile, PinStyle, SiteKind, pin_file, scan_file

DIGEST = "sha256:" + "c" * 64

VALUES = b"""\
# Default values for driftwood.
replicaCount: 2

image:
  repository: registry.example.com/driftwood/api
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: "2.4.1"

metrics:
  enabled: true
  image:
    registry: docker.io
    repository: bitnami/nginx-exporter
    tag: 1.1.0-debian-12-r1
    digest: ""

worker:
  initImage: busybox:1.36
  sidecarImage: "{{ .Values.global.sidecar }}"
  image: {repository: redis, tag: '7.2', digest: }

defaults:
  image:
    repository: app
    tag: ""

legacy:
  image:
    repository: thing
    tag: 1.10

imagePullSecrets: []
podAnnotations: {}
"""


def scan(data: bytes = VALUES) -> ImageFile:
    scanned = scan_file("chart/values.yaml", data, FileKind.HELM_VALUES)
    assert scanned is not None
    return scanned


def test_image_strings_and_repository_tag_pairs() -> None:
    found = [
        (site.kind, site.path, site.where, site.reference, site.pin_style) for site in scan().sites
    ]
    assert found == [
        (
            SiteKind.HELM_REPOSITORY_TAG,
            "image",
            "chart/values.yaml:8",
            "registry.example.com/driftwood/api:2.4.1",
            PinStyle.TAG,
        ),
        (
            SiteKind.HELM_REPOSITORY_TAG,
            "metrics.image",
            "chart/values.yaml:16",
            "docker.io/bitnami/nginx-exporter:1.1.0-debian-12-r1",
            PinStyle.DIGEST,
        ),
        (
            SiteKind.HELM_IMAGE,
            "worker.initImage",
            "chart/values.yaml:19",
            "busybox:1.36",
            PinStyle.REFERENCE,
        ),
        (
            SiteKind.HELM_IMAGE,
            "worker.sidecarImage",
            "chart/values.yaml:20",
            None,
            PinStyle.REFERENCE,
        ),
        (
            SiteKind.HELM_REPOSITORY_TAG,
            "worker.image",
            "chart/values.yaml:21",
            "redis:7.2",
            PinStyle.DIGEST,
        ),
        (
            SiteKind.HELM_REPOSITORY_TAG,
            "defaults.image",
            "chart/values.yaml:25",
            None,
            PinStyle.REFERENCE,
        ),
        (
            SiteKind.HELM_REPOSITORY_TAG,
            "legacy.image",
            "chart/values.yaml:31",
            None,
            PinStyle.REFERENCE,
        ),
    ]


def test_unpinnable_values_say_why() -> None:
    reasons = {site.path: site.unpinnable for site in scan().sites if not site.pinnable}
    assert reasons == {
        "worker.sidecarImage": (
            "it is a template ({{ }}): the image is known only once it is rendered"
        ),
        "defaults.image": (
            "it has no tag: the chart picks one (often its appVersion), unknown here"
        ),
        "legacy.image": (
            "its tag: 1.10 is a YAML number or boolean, which Helm does not read as the text "
            "written (1.10 becomes 1.1): quote it to pin it"
        ),
    }


def test_pins_go_into_the_digest_key_when_there_is_one_else_into_the_tag() -> None:
    scanned = scan()
    new = pin_file(scanned, [(site, DIGEST) for site in scanned.sites if site.pinnable])
    digest = DIGEST.encode()
    expected = (
        VALUES.replace(b'tag: "2.4.1"', b'tag: "2.4.1@' + digest + b'"')
        .replace(b'digest: ""', b'digest: "' + digest + b'"')
        .replace(b"initImage: busybox:1.36", b"initImage: busybox:1.36@" + digest)
        .replace(b"digest: }", b"digest: " + digest + b" }")
    )
    assert new == expected
    again = scan(new)
    assert [site.reference for site in again.sites if site.pinnable] == [
        f"registry.example.com/driftwood/api:2.4.1@{DIGEST}",
        f"docker.io/bitnami/nginx-exporter:1.1.0-debian-12-r1@{DIGEST}",
        f"busybox:1.36@{DIGEST}",
        f"redis:7.2@{DIGEST}",
    ]


def test_an_empty_digest_key_on_its_own_line_gets_a_space_after_the_colon() -> None:
    data = b"image:\n  repository: nginx\n  tag: 1.25.3\n  digest:   # set by repro\n"
    scanned = scan(data)
    (site,) = scanned.sites
    assert site.lead == " "
    new = pin_file(scanned, [(site, DIGEST)])
    assert new == data.replace(b"digest:   #", b"digest: " + DIGEST.encode() + b"   #")


def test_a_pinned_tag_is_re_pinned_in_place() -> None:
    old = "sha256:" + "1" * 64
    data = f"image:\n  repository: nginx\n  tag: 1.25.3@{old}\n".encode()
    scanned = scan(data)
    (site,) = scanned.sites
    assert site.image is not None and site.image.digest == old
    assert pin_file(scanned, [(site, DIGEST)]) == data.replace(old.encode(), DIGEST.encode())
