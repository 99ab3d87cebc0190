"""buildx bake files: docker-image:// contexts pinned by span, targets read structurally."""

from __future__ import annotations

import pytest

from repro.errors import InputError
from repro.imagefiles import (
    BakeDefinition,
    BakeTarget,
    FileKind,
    ImageFile,
    SiteKind,
    pin_file,
    resolve_bake,
    scan_file,
)
from repro.imagefiles.hclscan import HclScanError, scan_hcl

DIGEST = "sha256:" + "e" * 64

BAKE_HCL = b"""\
# Bake file for driftwood: `docker buildx bake`.
variable "TAG" {
  default = "dev"
}
variable "PYTHON" { default = "3.11" }

group "default" {
  targets = ["app", "worker"]
}

target "_common" {
  args = {
    PYTHON_VERSION = PYTHON
    BUILDKIT_INLINE_CACHE = 1
  }
  platforms = ["linux/amd64", "linux/arm64"]
}

target "app" {
  inherits = ["_common"]
  context = "."
  dockerfile = "Dockerfile"
  target = "runtime"
  contexts = {
    /* pinned by repro lock */
    python = "docker-image://localhost:5000/library/python:3.11-slim"
    "busybox" = "docker-image://busybox:1.36" // a tool image
    src = "./src"
    base = "docker-image://python:${PYTHON}-slim"
  }
  tags = ["driftwood/app:${TAG}"]
}

target "worker" {
  inherits = ["app"]
  dockerfile = "worker.Dockerfile"
  args = { ROLE = "worker" }
  contexts = { tools = "docker-image://alpine:3.19" }
  dockerfile-inline = <<EOT
FROM busybox
RUN echo "docker-image://not-a-context"
EOT
}
"""


def scan(data: bytes, display: str = "docker-bake.hcl") -> ImageFile:
    kind = FileKind.BAKE_JSON if display.endswith(".json") else FileKind.BAKE_HCL
    scanned = scan_file(display, data, kind)
    assert scanned is not None
    return scanned


def test_docker_image_contexts_are_sites_with_exact_spans() -> None:
    scanned = scan(BAKE_HCL)
    assert scanned.problems == ()
    found = [
        (site.kind, site.path, site.where, site.span.slice(BAKE_HCL)) for site in scanned.sites
    ]
    assert found == [
        (
            SiteKind.BAKE_CONTEXT,
            "target.app.contexts.python",
            "docker-bake.hcl:26",
            b"localhost:5000/library/python:3.11-slim",
        ),
        (
            SiteKind.BAKE_CONTEXT,
            "target.app.contexts.busybox",
            "docker-bake.hcl:27",
            b"busybox:1.36",
        ),
        (
            SiteKind.BAKE_CONTEXT,
            "target.app.contexts.base",
            "docker-bake.hcl:29",
            b"python:${PYTHON}-slim",
        ),
        (
            SiteKind.BAKE_CONTEXT,
            "target.worker.contexts.tools",
            "docker-bake.hcl:38",
            b"alpine:3.19",
        ),
    ]
    base = scanned.sites[2]
    assert not base.pinnable
    assert (
        base.unpinnable == "it uses ${...}, which bake fills in from variables or the environment"
    )
    assert base.assumed == "python:3.11-slim"


def test_pinning_keeps_comments_and_the_prefix() -> None:
    scanned = scan(BAKE_HCL)
    new = pin_file(scanned, [(site, DIGEST) for site in scanned.sites if site.pinnable])
    digest = DIGEST.encode()
    assert new == (
        BAKE_HCL.replace(b'3.11-slim"\n', b"3.11-slim@" + digest + b'"\n', 1)
        .replace(b'busybox:1.36" //', b"busybox:1.36@" + digest + b'" //')
        .replace(b'alpine:3.19"', b"alpine:3.19@" + digest + b'"')
    )


def test_targets_are_read_as_far_as_literal_and_inherits_applied() -> None:
    definition = scan(BAKE_HCL).bake
    assert definition is not None
    assert definition.groups == (("default", ("app", "worker")),)
    assert definition.variables == (("TAG", "dev"), ("PYTHON", "3.11"))
    worker = {target.name: target for target in resolve_bake([definition])}["worker"]
    assert worker == BakeTarget(
        file="docker-bake.hcl",
        name="worker",
        line=34,
        context=".",
        dockerfile="worker.Dockerfile",
        dockerfile_inline='FROM busybox\nRUN echo "docker-image://not-a-context"\n',
        args=(("PYTHON_VERSION", "3.11"), ("BUILDKIT_INLINE_CACHE", "1"), ("ROLE", "worker")),
        target="runtime",
        platforms=("linux/amd64", "linux/arm64"),
        contexts=(
            ("python", "docker-image://localhost:5000/library/python:3.11-slim"),
            ("busybox", "docker-image://busybox:1.36"),
            ("src", "./src"),
            ("base", "docker-image://python:3.11-slim"),
            ("tools", "docker-image://alpine:3.19"),
        ),
        tags=("driftwood/app:dev",),
        inherits=("app",),
        not_literal=(),
    )


def test_expressions_are_not_guessed() -> None:
    data = b"""\
target "app" {
  platforms = split(",", PLATFORMS)
  args = { V = lower("X"), W = "ok" }
  matrix = { py = ["3.11", "3.12"] }
  name = "app-${py}"
}
"""
    (target,) = scan(data).bake.targets  # type: ignore[union-attr]
    assert target.platforms is None
    assert target.args == (("V", None), ("W", "ok"))
    assert target.not_literal == ("matrix", "args.V", "platforms")


def test_a_string_the_library_and_the_scanner_disagree_on_is_a_problem_not_a_pin() -> None:
    data = b"""\
target "app" {
  contexts = {
    base = true ? "docker-image://alpine:3.19" : "docker-image://alpine:3.18"
  }
}
target "ok" {
  contexts = { base = "docker-image://busybox:1.36" }
}
"""
    scanned = scan(data)
    assert [site.path for site in scanned.sites] == ["target.ok.contexts.base"]
    (problem,) = scanned.problems
    assert problem.where == "docker-bake.hcl:1"
    assert "nothing in it is pinned" in problem.message


def test_an_hcl_syntax_error_is_a_problem_at_its_line() -> None:
    scanned = scan(b'target "app" {\n  context = \n}\n')
    assert scanned.sites == ()
    (problem,) = scanned.problems
    assert problem.where == "docker-bake.hcl:2"
    assert problem.message.startswith("not valid HCL: ")


def test_json_bake_files() -> None:
    data = b"""\
{
  "variable": {"TAG": {"default": "1.0"}},
  "group": {"default": {"targets": ["site"]}},
  "target": {
    "site": {
      "context": "site",
      "contexts": {
        "nginx": "docker-image://nginx:1.25-alpine",
        "tagged": "docker-image://site-base:${TAG}",
        "escaped": "docker-image://nginx\\u003a1"
      },
      "args": {"VERSION": "${TAG}"},
      "platforms": ["linux/amd64"]
    }
  }
}
"""
    scanned = scan(data, "docker-bake.json")
    nginx, tagged, escaped = scanned.sites
    assert (nginx.where, nginx.span.slice(data)) == ("docker-bake.json:8", b"nginx:1.25-alpine")
    assert tagged.assumed == "site-base:1.0" and not tagged.pinnable
    assert escaped.unpinnable == "it is written with escapes, so its text is not the value"
    (target,) = scanned.bake.targets  # type: ignore[union-attr]
    assert (target.line, target.context, target.args) == (5, "site", (("VERSION", "1.0"),))
    new = pin_file(scanned, [(nginx, DIGEST)])
    assert new == data.replace(b"1.25-alpine", b"1.25-alpine@" + DIGEST.encode())


def test_json_syntax_error() -> None:
    (problem,) = scan(b'{"target": {\n  "a": }\n}\n', "docker-bake.json").problems
    assert problem.where == "docker-bake.json:2"


def test_override_files_and_inherit_errors() -> None:
    main = BakeDefinition(
        (
            BakeTarget("docker-bake.hcl", "app", 1, context=".", args=(("A", "1"),)),
            BakeTarget("docker-bake.hcl", "loop", 5, inherits=("loop",)),
        ),
        (),
        (),
    )
    override = BakeDefinition(
        (BakeTarget("docker-bake.override.hcl", "app", 1, args=(("B", "2"),), target="dev"),),
        (),
        (),
    )
    with pytest.raises(InputError, match="inherits from itself"):
        resolve_bake([main, override])
    app = resolve_bake([BakeDefinition(main.targets[:1], (), ()), override])[0]
    assert (app.context, app.args, app.target) == (".", (("A", "1"), ("B", "2")), "dev")
    # An override that does not name parents keeps the base file's (bake merges them).
    child = BakeDefinition(
        (
            BakeTarget("docker-bake.hcl", "_base", 1, platforms=("linux/arm64",)),
            BakeTarget("docker-bake.hcl", "api", 2, context="api", inherits=("_base",)),
        ),
        (),
        (),
    )
    tweak = BakeDefinition((BakeTarget("docker-bake.override.hcl", "api", 1, target="t"),), (), ())
    api = resolve_bake([child, tweak])[1]
    assert (api.context, api.platforms, api.target) == ("api", ("linux/arm64",), "t")
    orphan = BakeDefinition((BakeTarget("f", "x", 3, inherits=("missing",)),), (), ())
    with pytest.raises(InputError, match="f:3: target 'x' inherits 'missing'"):
        resolve_bake([orphan])


def test_the_scanner_files_strings_under_their_block_and_attribute() -> None:
    text = (
        '# "not a string"\n'
        'target "a" {\n'
        '  x = "${f("nested")}"  // "comment"\n'
        '  y = <<-EOT\n    "in a heredoc"\n    EOT\n'
        '  z = ["one", "$${literal}"]\n'
        "}\n"
        'top = "t"\n'
    )
    tokens = scan_hcl(text)
    assert [(string.raw, string.group) for string in tokens.strings] == [
        ('${f("nested")}', ("target", "a", "x")),
        ("one", ("target", "a", "z")),
        ("$${literal}", ("target", "a", "z")),
        ("t", ("top",)),
    ]
    assert [(block.type, block.labels) for block in tokens.blocks] == [("target", ("a",))]
    with pytest.raises(HclScanError, match="unterminated string"):
        scan_hcl('x = "open\n')


def test_crlf_a_bom_and_unicode_comments_keep_spans_exact() -> None:
    data = (
        "\ufeff# Caf\u00e9 \u65e5\u672c\r\n"
        'target "app" {\r\n'
        '  contexts = { base = "docker-image://alpine:3.19" } # \u00fc\r\n'
        "}\r\n"
    ).encode()
    scanned = scan(data)
    (site,) = scanned.sites
    assert (site.where, site.column, site.span.slice(data)) == (
        "docker-bake.hcl:3",
        39,
        b"alpine:3.19",
    )
    new = pin_file(scanned, [(site, DIGEST)])
    assert new == data.replace(b"alpine:3.19", b"alpine:3.19@" + DIGEST.encode())


def test_a_pin_elsewhere_is_still_checked_when_another_attribute_is_a_problem() -> None:
    data = b"""\
target "odd" {
  contexts = { a = true ? "docker-image://alpine:3.19" : "x" }
}
target "app" {
  contexts = { base = "docker-image://busybox:1.36" }
}
"""
    scanned = scan(data)
    (site,) = scanned.sites
    assert len(scanned.problems) == 1
    new = pin_file(scanned, [(site, DIGEST)])
    assert new == data.replace(b"busybox:1.36", b"busybox:1.36@" + DIGEST.encode())
