"""Property: pinning generated YAML changes the reference bytes and nothing else.

Compose files and multi-document Kubernetes manifests are generated with random
comments (unicode, tabs), quoting, anchors and aliases, flow mappings, indentation, CRLF
and a BOM. Pinning every site must leave the file equal to the original once the
inserted ``@digest`` texts are taken out, parse to the same data with only the image
strings changed, and scan back to the pinned references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.imagefiles import FileKind, pin_file, scan_file
from tests.unit.properties import examples

_SPECIAL = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf"}
registries = st.sampled_from(
    ["", "localhost:5000/", "ghcr.io/org/", "registry.example.com:8443/t/"]
)
names = st.from_regex(r"[a-z][a-z0-9]{0,6}(?:[-_.][a-z0-9]{1,4})?", fullmatch=True).filter(
    lambda name: name not in _SPECIAL
)
tags = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}", fullmatch=True))
comment_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
        blacklist_characters="\x85\ufeff",
    ).filter(str.isprintable)
    | st.just("\t"),
    max_size=20,
)
quotes = st.sampled_from(["", "'", '"'])
digests = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(lambda hexes: f"sha256:{hexes}")


@st.composite
def references(draw: st.DrawFn) -> str:
    tag = draw(tags)
    return draw(registries) + draw(names) + (f":{tag}" if tag is not None else "")


@dataclass(frozen=True)
class Generated:
    data: bytes
    images: tuple[str, ...]  # one per site, in file order
    kind: FileKind


def comment(draw: st.DrawFn) -> str:
    text = draw(comment_text)
    return f"{draw(st.sampled_from([' ', '  ', chr(9)]))}# {text}" if draw(st.booleans()) else ""


def value(draw: st.DrawFn, reference: str) -> str:
    quote = draw(quotes)
    return f"{quote}{reference}{quote}"


@st.composite
def compose_files(draw: st.DrawFn) -> Generated:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    indent = " " * draw(st.sampled_from([2, 4]))
    lines: list[str] = [f"#{draw(comment_text)}"] if draw(st.booleans()) else []
    lines.append(f"services:{comment(draw)}")
    images: list[str] = []
    anchors: list[str] = []
    for index in range(draw(st.integers(1, 5))):
        reference = draw(references())
        if anchors and draw(st.integers(0, 3)) == 0:
            image = f"*{draw(st.sampled_from(anchors))}"
        else:
            anchor = f"&a{index} " if draw(st.booleans()) else ""
            if anchor:
                anchors.append(f"a{index}")
            image = anchor + value(draw, reference)
            images.append(reference)
        if draw(st.integers(0, 4)) == 0 and not image.startswith("*"):
            lines.append(f"{indent}svc{index}: {{restart: always, image: {image}}}{comment(draw)}")
            continue
        lines.append(f"{indent}svc{index}:{comment(draw)}")
        if draw(st.booleans()):
            lines.append(f"{indent * 2}restart: unless-stopped{comment(draw)}")
        separator = draw(st.sampled_from([" ", "  ", "\t"]))
        lines.append(f"{indent * 2}image:{separator}{image}{comment(draw)}")
        if draw(st.booleans()):
            lines.append(f'{indent * 2}ports: ["8080:80"]{comment(draw)}')
        if draw(st.booleans()):
            lines.append(f"#{draw(comment_text)}" if draw(st.booleans()) else "")
    return _generated(draw, lines, eol, images, FileKind.COMPOSE)


@st.composite
def kubernetes_files(draw: st.DrawFn) -> Generated:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    images: list[str] = []
    lines: list[str] = []
    for number in range(draw(st.integers(1, 3))):
        if number or draw(st.booleans()):
            lines.append(f"---{comment(draw)}")
        lines += [
            "apiVersion: apps/v1",
            "kind: Deployment",
            f"metadata: {{name: app{number}}}{comment(draw)}",
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
        ]
        dash = draw(st.sampled_from(["  - ", "- "]))
        pad = " " * len(dash)
        for index in range(draw(st.integers(1, 3))):
            reference = draw(references())
            images.append(reference)
            lines.append(f"      {dash}name: c{index}{comment(draw)}")
            lines.append(f"      {pad}image: {value(draw, reference)}{comment(draw)}")
            if draw(st.booleans()):
                lines.append(f"      {pad}args: [--port, '80']")
    return _generated(draw, lines, eol, images, FileKind.KUBERNETES)


def _generated(
    draw: st.DrawFn, lines: list[str], eol: str, images: list[str], kind: FileKind
) -> Generated:
    bom = "\ufeff" if draw(st.booleans()) else ""
    trailing = eol if draw(st.integers(0, 5)) else ""
    text = bom + eol.join(lines) + trailing
    return Generated(text.encode("utf-8"), tuple(images), kind)


def _images_replaced(document: Any, pins: dict[str, str]) -> Any:
    if isinstance(document, dict):
        return {key: _images_replaced(item, pins) for key, item in document.items()}
    if isinstance(document, list):
        return [_images_replaced(item, pins) for item in document]
    return pins.get(document, document) if isinstance(document, str) else document


def check_pinning_is_lossless(generated: Generated, digest_list: list[str]) -> None:
    scanned = scan_file("file.yaml", generated.data, generated.kind)
    assert scanned is not None and scanned.problems == ()
    assert tuple(site.raw for site in scanned.sites) == generated.images
    pins = [(site, digest_list[i % len(digest_list)]) for i, site in enumerate(scanned.sites)]
    new = pin_file(scanned, pins)
    # Every other byte is kept: taking the inserted digests out gives the original back.
    stripped = new
    for digest in set(digest_list):
        stripped = stripped.replace(f"@{digest}".encode(), b"")
    assert stripped == generated.data
    # The data is the same but for the pinned images (PyYAML's full parser agrees).
    pinned = {site.raw: f"{site.raw}@{digest}" for site, digest in pins}
    before = list(yaml.load_all(generated.data.decode("utf-8-sig"), Loader=yaml.CSafeLoader))
    after = list(yaml.load_all(new.decode("utf-8-sig"), Loader=yaml.CSafeLoader))
    if len(set(generated.images)) == len(generated.images):
        assert after == _images_replaced(before, pinned)
    again = scan_file("file.yaml", new, generated.kind)
    assert again is not None
    assert [site.reference for site in again.sites] == [
        f"{site.raw}@{digest}" for site, digest in pins
    ]


@settings(max_examples=examples(200), deadline=None)
@given(compose_files(), st.lists(digests, min_size=1, max_size=3, unique=True))
def test_pinning_compose_files_changes_only_reference_bytes(
    generated: Generated, digest_list: list[str]
) -> None:
    check_pinning_is_lossless(generated, digest_list)


@settings(max_examples=examples(150), deadline=None)
@given(kubernetes_files(), st.lists(digests, min_size=1, max_size=3, unique=True))
def test_pinning_kubernetes_manifests_changes_only_reference_bytes(
    generated: Generated, digest_list: list[str]
) -> None:
    check_pinning_is_lossless(generated, digest_list)
