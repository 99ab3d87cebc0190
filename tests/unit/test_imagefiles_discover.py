"""Discovery rules: names, include/exclude globs, sniffing, and the cheap pre-filter."""

from __future__ import annotations

import pytest

from repro.imagefiles import (
    DiscoveryRules,
    FileKind,
    classify,
    kind_by_name,
    may_be_image_file,
    scan_file,
    worth_parsing,
)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("compose.yaml", FileKind.COMPOSE),
        ("compose.override.yml", FileKind.COMPOSE),
        ("deploy/docker-compose.prod.yaml", FileKind.COMPOSE),
        ("docker-bake.hcl", FileKind.BAKE_HCL),
        ("docker-bake.override.hcl", FileKind.BAKE_HCL),
        ("sub/docker-bake.json", FileKind.BAKE_JSON),
        (".github/workflows/ci.yml", FileKind.WORKFLOW),
        (".github/workflows/release.yaml", FileKind.WORKFLOW),
        ("chart/values.yaml", FileKind.HELM_VALUES),
        ("chart/values-prod.yml", FileKind.HELM_VALUES),
        ("k8s/deployment.yaml", FileKind.KUBERNETES),
        (".github/dependabot.yml", FileKind.KUBERNETES),  # a candidate; its content decides
        ("Dockerfile", None),
        ("docker-bake.hcl.bak", None),
        ("README.md", None),
    ],
)
def test_kinds_by_name(path: str, kind: FileKind | None) -> None:
    assert kind_by_name(path) is kind


def test_exclude_leaves_files_and_directories_out() -> None:
    rules = DiscoveryRules(exclude=("node_modules", "deploy/legacy/**", "*.tmpl.yaml"))
    assert classify("web/node_modules/x/compose.yaml", b"", rules) is None
    assert classify("deploy/legacy/a/b.yaml", b"", rules) is None
    assert classify("deploy/current/b.yaml", b"", rules) is FileKind.KUBERNETES
    assert classify("k8s/app.tmpl.yaml", b"", rules) is None
    assert not may_be_image_file("web/node_modules/compose.yaml", rules)


def test_include_adds_odd_names_and_sniffs_their_kind() -> None:
    rules = DiscoveryRules(include=("deploy/**/*.tpl", "stack.conf", "infra/*.txt"))
    assert may_be_image_file("deploy/a/app.tpl", rules)
    assert not may_be_image_file("deploy/a/app.txt", rules)
    assert classify("deploy/a/app.tpl", b"apiVersion: v1\nkind: Pod\n", rules) is (
        FileKind.KUBERNETES
    )
    assert classify("stack.conf", b"version: '3'\nservices:\n  a: {}\n", rules) is (
        FileKind.COMPOSE
    )
    assert classify("infra/ci.txt", b"on: push\njobs: {}\n", rules) is FileKind.WORKFLOW
    assert classify("infra/x.txt", b"image: {repository: a, tag: b}\n", rules) is (
        FileKind.HELM_VALUES
    )


def test_files_without_the_words_a_finder_needs_are_not_parsed() -> None:
    assert not worth_parsing(FileKind.KUBERNETES, b"apiVersion: v1\nkind: ConfigMap\n")
    assert not worth_parsing(FileKind.COMPOSE, b"volumes: {}\n")
    assert worth_parsing(FileKind.WORKFLOW, b"jobs:\n  a:\n    container: node:20\n")
    assert worth_parsing(FileKind.HELM_VALUES, b"coreImage: x\n")
    assert worth_parsing(FileKind.BAKE_HCL, b"")
    # Not parsed, so not even a broken file is a problem: it has nothing to pin.
    scanned = scan_file("compose.yaml", b"volumes: [\n", FileKind.COMPOSE)
    assert scanned is not None and scanned.sites == () and scanned.problems == ()


DEEP_VALUES = (
    b"a:\n" + b"".join(b" " * i + b"k:\n" for i in range(1, 990)) + b" " * 990 + b"image: x:1\n"
)


def test_deeply_nested_values_are_walked_without_recursion() -> None:
    scanned = scan_file("values.yaml", DEEP_VALUES, FileKind.HELM_VALUES)
    assert scanned is not None and scanned.problems == ()
    assert [site.reference for site in scanned.sites] == ["x:1"]


@pytest.mark.parametrize(
    ("path", "kind", "data", "message"),
    [
        (
            "docker-bake.json",
            FileKind.BAKE_JSON,
            b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "nested too deeply to read; nothing is pinned here",
        ),
        (
            "compose.yaml",
            FileKind.COMPOSE,
            b"image: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "not valid YAML: exceeded maximum nesting depth while increasing flow level",
        ),
    ],
)
def test_files_nested_too_deeply_are_problems_not_crashes(
    path: str, kind: FileKind, data: bytes, message: str
) -> None:
    scanned = scan_file(path, data, kind)
    assert scanned is not None and scanned.sites == ()
    assert [problem.message for problem in scanned.problems] == [message]
