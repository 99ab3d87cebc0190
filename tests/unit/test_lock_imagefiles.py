"""`repro lock` over image files: compose, bake (HCL and JSON), Kubernetes, Helm values and
GitHub workflows found, pinned byte for byte, recorded in repro.lock, checked hermetically,
and their bad input reported at file:line, never rewritten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repro.config import load_config
from repro.errors import InputError
from repro.lock.discover import DOCKERFILE, IMAGE_FILE, discover
from repro.lock.model import UNREADABLE, Action, Mode
from repro.lock.policy import source_policy
from repro.lock.service import LockRequest, run_check, run_lock, run_outdated
from repro.lockfile import parse_lockfile
from tests.unit.test_lock_core import D1, D2, D3, FakeResolver, write
from tests.unit.test_lock_gate import FakeTags

CHECK = LockRequest(mode=Mode.CHECK)
# A pin as written: after the reference, or as a Helm digest: value.
PINNED = re.compile(rb'@sha256:[0-9a-f]{64}|(?<=digest: ")sha256:[0-9a-f]{64}')

COMPOSE = b"""\
# The stack. Anchors, comments and quoting stay as written.
x-base: &base
  restart: unless-stopped
services:
  db:
    <<: *base
    image: 'r.io/postgres:16'   # the database
  cache:
    image: "r.io/redis:7.2"
  app:
    build: ./app
    image: r.io/me/app:dev
"""
KUBERNETES = b"""\
apiVersion: apps/v1\r
kind: Deployment\r
metadata: {name: api}\r
spec:\r
  template:\r
    spec:\r
      initContainers:\r
        - {name: wait, image: r.io/busybox:1.36}\r
      containers:\r
        - name: api\r
          image: r.io/postgres:16\r
"""
HELM_VALUES = b"""\
image:
  repository: r.io/api
  tag: "1.4.0"   # bumped by the release job
sidecar:
  image:
    repository: r.io/redis
    tag: '7.2'
    digest: ""
"""
WORKFLOW = b"""\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: r.io/postgres:16
    services:
      cache: {image: r.io/redis:7.2}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://r.io/busybox:1.36
"""
BAKE_HCL = b"""\
target "app" {
  context  = "app"
  contexts = { tools = "docker-image://r.io/busybox:1.36" }
}
"""
BAKE_JSON = b"""\
{"target": {"site": {"context": "site",
  "contexts": {"web": "docker-image://r.io/nginx:1.25"}}}}
"""
TAGS = {
    "r.io/postgres:16": D1,
    "r.io/redis:7.2": D2,
    "r.io/busybox:1.36": D3,
    "r.io/api:1.4.0": D2,
    "r.io/nginx:1.25": D3,
}
EVERY_KIND = {
    "compose.yaml": COMPOSE,
    "deploy/api.yaml": KUBERNETES,
    "chart/values.yaml": HELM_VALUES,
    ".github/workflows/ci.yml": WORKFLOW,
    "docker-bake.hcl": BAKE_HCL,
    "site/docker-bake.json": BAKE_JSON,
    "Dockerfile": b"FROM r.io/postgres:16\n",
    "mkdocs.yml": b"site_name: docs\ntheme: {logo: image.png}\n",
}


def project(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        write(root / relative, data, 0o644)
    return root


def test_discovery_finds_image_files_by_their_usual_names(tmp_path: Path) -> None:
    names = [
        "compose.yaml",
        "docker-compose.override.yml",
        "docker-bake.hcl",
        "docker-bake.json",
        "deploy/k8s/app.yaml",
        "chart/values-prod.yaml",
        ".github/workflows/ci.yml",
        "app/Dockerfile",
        "README.md",
        "package.json",
        "node_modules/pkg/compose.yaml",
        "vendor/lib/deploy.yaml",
        "vendor/lib/Dockerfile",
        ".git/compose.yaml",
    ]
    project(tmp_path, {name: b"image: r.io/a:1\n" for name in names})
    found = {file.display: file.kind for file in discover([], tmp_path).files}
    assert found == {
        "compose.yaml": IMAGE_FILE,
        "docker-compose.override.yml": IMAGE_FILE,
        "docker-bake.hcl": IMAGE_FILE,
        "docker-bake.json": IMAGE_FILE,
        "deploy/k8s/app.yaml": IMAGE_FILE,
        "chart/values-prod.yaml": IMAGE_FILE,
        ".github/workflows/ci.yml": IMAGE_FILE,
        "app/Dockerfile": DOCKERFILE,
        # other people's YAML is not the project's; their Dockerfiles were always found
        "vendor/lib/Dockerfile": DOCKERFILE,
    }
    only_dockerfiles = discover([], tmp_path, image_files=False).files
    assert {file.display for file in only_dockerfiles} == {
        "app/Dockerfile",
        "vendor/lib/Dockerfile",
    }


def test_include_adds_names_and_exclude_leaves_them_out(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "pyproject.toml": b'[tool.repro]\ninclude = ["*.k8s", "build/*.df"]\n'
            b'exclude = ["deploy/legacy"]\n',
            "app.k8s": b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
            b"    - {name: a, image: r.io/redis:7.2}\n",
            "build/app.df": b"FROM r.io/busybox:1.36\n",
            "deploy/legacy/old.yaml": b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
            b"    - {name: a, image: r.io/old:1}\n",
        },
    )
    config = load_config(tmp_path)
    request = LockRequest(includes=config.include, excludes=config.exclude)
    outcome = run_lock(request, cwd=tmp_path, resolver=FakeResolver(TAGS))
    assert [(ref.file, ref.kind, ref.action) for ref in outcome.references] == [
        ("app.k8s", "k8s-container", Action.PINNED),
        ("build/app.df", "from", Action.PINNED),
    ]
    assert outcome.kinds == (("dockerfile", 1), ("kubernetes", 1))
    check = run_check(
        LockRequest(mode=Mode.CHECK, includes=config.include, excludes=config.exclude),
        cwd=tmp_path,
    )
    assert check.offenders == () and check.reused == 2


def test_config_reads_include_and_exclude_and_still_refuses_unknown_keys(
    tmp_path: Path,
) -> None:
    (tmp_path / "repro.toml").write_text('include = ["ops/*.yml"]\nexclude = ["examples"]\n')
    config = load_config(tmp_path)
    assert (config.include, config.exclude) == (("ops/*.yml",), ("examples",))
    (tmp_path / "repro.toml").write_text('includes = ["ops/*.yml"]\n')
    with pytest.raises(InputError, match="unknown key `includes`") as refused:
        load_config(tmp_path)
    assert "did you mean `include`?" in (refused.value.hint or "")
    (tmp_path / "repro.toml").write_text('exclude = "examples"\n')
    with pytest.raises(InputError, match="`exclude` must be a list of strings"):
        load_config(tmp_path)


def test_every_kind_is_pinned_and_only_the_references_change(tmp_path: Path) -> None:
    root = project(tmp_path, EVERY_KIND)
    resolver = FakeResolver(TAGS)
    outcome = run_lock(LockRequest(), cwd=root, resolver=resolver)
    kinds = {(ref.file, ref.kind) for ref in outcome.references}
    assert kinds == {
        ("Dockerfile", "from"),
        ("compose.yaml", "compose-image"),
        ("deploy/api.yaml", "k8s-container"),
        ("chart/values.yaml", "helm-repository-tag"),
        (".github/workflows/ci.yml", "workflow-container"),
        (".github/workflows/ci.yml", "workflow-service"),
        (".github/workflows/ci.yml", "workflow-uses"),
        ("docker-bake.hcl", "bake-context"),
        ("site/docker-bake.json", "bake-context"),
    }
    assert {ref.action for ref in outcome.references} == {Action.PINNED}
    assert len(outcome.references) == 12
    # one request per unique tag, whatever the kinds of file that name it
    assert sorted(str(key) for key in resolver.calls) == sorted(TAGS)
    for relative, original in EVERY_KIND.items():
        assert PINNED.sub(b"", (root / relative).read_bytes()) == original, relative
    assert (
        b"image: 'r.io/postgres:16@" + D1.encode() + b"'   # the database"
        in (root / "compose.yaml").read_bytes()
    )
    values = (root / "chart/values.yaml").read_bytes()
    assert b'tag: "1.4.0@' + D2.encode() + b'"   # bumped' in values
    # a values file with a digest: key gets the digest there (its tag stays as it is)
    assert b"tag: '7.2'\n    digest: \"" + D2.encode() + b'"' in values
    assert b"image: r.io/me/app:dev" in (root / "compose.yaml").read_bytes()  # a build output
    assert outcome.kinds == (
        ("bake-hcl", 1),
        ("bake-json", 1),
        ("compose", 1),
        ("dockerfile", 1),
        ("helm-values", 1),
        ("kubernetes", 1),
        ("workflow", 1),
    )
    assert "mkdocs.yml" not in outcome.files_scanned


def test_repro_lock_records_each_site_and_the_check_reuses_the_record(tmp_path: Path) -> None:
    root = project(tmp_path, EVERY_KIND)
    run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    lock = parse_lockfile((root / "repro.lock").read_text())
    assert {path: record.kind for path, record in lock.files.items()} == {
        ".github/workflows/ci.yml": "workflow",
        "Dockerfile": "dockerfile",
        "chart/values.yaml": "helm-values",
        "compose.yaml": "compose",
        "deploy/api.yaml": "kubernetes",
        "docker-bake.hcl": "bake-hcl",
        "site/docker-bake.json": "bake-json",
    }
    helm = lock.files["chart/values.yaml"]
    assert [site.reference for site in helm.sites] == [
        f"r.io/api:1.4.0@{D2}",
        f"r.io/redis:7.2@{D2}",
    ]
    assert [(site.line, site.kind) for site in lock.files["compose.yaml"].sites] == [
        (7, "compose-image"),
        (9, "compose-image"),
    ]
    assert set(lock.images) == set(TAGS)
    policy = source_policy(lock)
    assert len(policy["rules"]) == len(TAGS)

    check = run_check(CHECK, cwd=root)
    assert check.offenders == ()
    assert check.reused == 7  # no file parsed: every one's bytes match its record
    assert len(check.references) == 12
    again = run_check(LockRequest(mode=Mode.CHECK, reparse=True), cwd=root)
    assert again.offenders == () and again.reused == 0
    before = (root / "repro.lock").read_bytes()
    run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    assert (root / "repro.lock").read_bytes() == before


def test_the_check_fails_on_an_image_file_pin_repro_lock_does_not_have(tmp_path: Path) -> None:
    root = project(tmp_path, EVERY_KIND)
    run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    manifest = root / "deploy/api.yaml"
    manifest.write_bytes(manifest.read_bytes().replace(f"postgres:16@{D1}".encode(), b"pg:16"))
    values = root / "chart/values.yaml"
    values.write_bytes(values.read_bytes().replace(f"1.4.0@{D2}".encode(), f"1.4.0@{D3}".encode()))
    check = run_check(CHECK, cwd=root)
    assert [(ref.file, ref.line, ref.action) for ref in check.offenders] == [
        ("chart/values.yaml", 3, Action.LOCK_MISMATCH),
        ("deploy/api.yaml", 11, Action.UNPINNED),
    ]
    assert check.reused == 5


def test_outdated_asks_once_per_unique_tag_across_every_kind(tmp_path: Path) -> None:
    root = project(tmp_path, EVERY_KIND)
    run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    tags = FakeTags({**TAGS, "r.io/redis:7.2": D1})
    outcome = run_outdated(LockRequest(), cwd=root, tags=tags)
    assert sorted(str(key) for key in tags.asked) == sorted(TAGS)
    (moved,) = outcome.outdated
    assert moved.tag == "r.io/redis:7.2"
    assert moved.sites == (
        "compose.yaml:9",
        ".github/workflows/ci.yml:7",
        "chart/values.yaml:8",
    )


BAD = {
    "compose.yaml": b"services:\n  web:\n    image: ${REGISTRY:-r.io}/web:1\n"
    b"  db:\n    image: r.io/postgres:16\n",
    "docker-compose.yml": b"services:\n  web: [\n    image: r.io/web:1\n",
    "chart/templates/deploy.yaml": b"apiVersion: apps/v1\nkind: Deployment\nspec:\n"
    b"  template:\n    spec:\n      containers:\n        - name: a\n"
    b"          image: {{ .Values.image }}\n",
    "pod.yaml": b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
    b'    - name: a\n      image: "{{ .Values.image }}"\n',
}


def test_bad_input_is_unpinnable_at_its_line_and_never_rewritten(tmp_path: Path) -> None:
    root = project(tmp_path, BAD)
    outcome = run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    found = [(ref.file, ref.line, ref.kind, ref.action) for ref in outcome.references]
    assert found == [
        ("compose.yaml", 3, "compose-image", Action.UNPINNABLE),
        ("compose.yaml", 5, "compose-image", Action.PINNED),
        ("docker-compose.yml", 4, UNREADABLE, Action.UNPINNABLE),  # where YAML gave up
        ("pod.yaml", 6, "k8s-container", Action.UNPINNABLE),
        ("chart/templates/deploy.yaml", 8, "k8s-container", Action.UNPINNABLE),
    ]
    warnings = "\n".join(outcome.warnings)
    assert "compose.yaml:3: ${REGISTRY:-r.io}/web:1: it needs ${REGISTRY}" in warnings
    assert "(with its defaults it would be r.io/web:1)" in warnings
    assert "docker-compose.yml:4: (unreadable compose file): not valid YAML" in warnings
    assert "pod.yaml:6: {{ .Values.image }}: it is a template ({{ }})" in warnings
    assert "chart/templates/deploy.yaml:8: {{ .Values.image }}: it is a template" in warnings
    for relative in ("docker-compose.yml", "chart/templates/deploy.yaml", "pod.yaml"):
        assert (root / relative).read_bytes() == BAD[relative]
    assert (root / "compose.yaml").read_bytes() == BAD["compose.yaml"].replace(
        b"postgres:16", f"postgres:16@{D1}".encode()
    )
    lock = parse_lockfile((root / "repro.lock").read_text())
    assert set(lock.files) == set()  # no file with an unpinnable site is recorded

    check = run_check(CHECK, cwd=root)
    assert [(ref.file, ref.line) for ref in check.offenders] == [
        ("compose.yaml", 3),
        ("docker-compose.yml", 4),
        ("pod.yaml", 6),
        ("chart/templates/deploy.yaml", 8),
    ]
    unreadable = check.offenders[1]
    assert "fix the file, or leave it out with [tool.repro] exclude" in unreadable.fix
    assert "write the image as a literal reference" in check.offenders[0].fix
    allowed = LockRequest(
        mode=Mode.CHECK,
        allow_unpinnable=("docker-compose.yml", "chart/templates/*", "{{ .Values.image }}"),
        excludes=("compose.yaml",),
    )
    assert run_check(allowed, cwd=root).offenders == ()


def test_a_project_with_only_image_files_is_locked_and_one_without_any_is_an_error(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "a", {"compose.yaml": COMPOSE})
    outcome = run_lock(LockRequest(), cwd=root, resolver=FakeResolver(TAGS))
    assert [ref.action for ref in outcome.references] == [Action.PINNED, Action.PINNED]
    empty = project(tmp_path / "b", {"mkdocs.yml": b"site_name: image docs\n"})
    with pytest.raises(InputError, match=r"no Dockerfiles found in .*nor compose, bake"):
        run_check(CHECK, cwd=empty)
