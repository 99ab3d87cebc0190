"""`repro lock` pins every kind of file in the sample project through the real registry.

examples/harbour has Dockerfiles, a compose file, a bake file, two Kubernetes manifests, a
Helm values file and a GitHub workflow. Its own images (harbour/app, worker, site:1.4.0)
are what its release publishes, so this test serves them under its own prefix (copies of
the seeded busybox) and names them so in its copy of the project; a bake override adds a
``docker-image://`` context, the one bake site the sample has no use for.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import REPO_ROOT, run_repro, skopeo_copy
from tests.integration.test_lock_registry import skopeo_digest

pytestmark = [pytest.mark.registry]

HARBOUR = REPO_ROOT / "examples" / "harbour"
BUSYBOX = "localhost:5000/library/busybox:1.35"
PYTHON = "localhost:5000/library/python:3.11-slim"
PREFIX = "test-lockfiles/harbour-"
OWN = [f"localhost:5000/{PREFIX}{name}:1.4.0" for name in ("app", "worker", "site")]
# A pin as repro writes it: after the reference, or after a Helm tag (`tag: "1.4.0@..."`).
PIN = re.compile(r"@sha256:[0-9a-f]{64}")
BAKE_OVERRIDE = f"""\
# The site's build may name the busybox image as a context of its own.
target "site" {{
  contexts = {{ tools = "docker-image://{BUSYBOX}" }}
}}
"""


@pytest.fixture()
def harbour(tmp_path: Path, registry: str) -> Path:
    for reference in OWN:
        skopeo_copy(BUSYBOX, reference)
    root = tmp_path / "harbour"
    shutil.copytree(HARBOUR, root)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".hcl"):
            text = path.read_text()
            path.write_text(re.sub(r"\bharbour/(app|worker|site)\b", rf"{PREFIX}\1", text))
    (root / "docker-bake.override.hcl").write_text(BAKE_OVERRIDE)
    return root


def test_every_kind_of_file_is_pinned_losslessly_and_the_check_passes(harbour: Path) -> None:
    before = {
        str(path.relative_to(harbour)): path.read_text()
        for path in sorted(harbour.rglob("*"))
        if path.is_file() and path.suffix != ".whl"
    }
    result = run_repro(harbour, "lock", "--json", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["files_by_kind"] == {
        "bake-hcl": 2,
        "compose": 1,
        "dockerfile": 3,
        "helm-values": 1,
        "kubernetes": 2,
        "workflow": 1,
    }
    references = report["references"]
    assert {ref["action"] for ref in references} == {"pinned"}
    assert {ref["kind"] for ref in references} == {
        "from",
        "compose-image",
        "bake-context",
        "k8s-container",
        "helm-repository-tag",
        "helm-image",
        "workflow-container",
        "workflow-service",
        "workflow-uses",
    }
    # exactly one request per unique tag, whatever kinds of file name it
    assert report["manifest_requests"] == 5
    digests = {ref: skopeo_digest(ref) for ref in [BUSYBOX, PYTHON, *OWN]}
    for ref in references:
        assert ref["new_digest"] == digests[ref["key"]], ref

    changed = set(report["written"]) - {"repro.lock"}
    assert changed == {
        ".github/workflows/ci.yml",
        "app/Dockerfile",
        "app/worker.Dockerfile",
        "compose.yaml",
        "deploy/helm/values.yaml",
        "deploy/k8s/app.yaml",
        "deploy/k8s/worker.yaml",
        "docker-bake.override.hcl",
        "site/Dockerfile",
    }
    for relative, text in before.items():
        after = (harbour / relative).read_text()
        assert PIN.sub("", after) == text, relative  # only the references changed
    compose = (harbour / "compose.yaml").read_text()
    assert f"    image: {BUSYBOX}@{digests[BUSYBOX]}\n" in compose
    assert f"image: localhost:5000/{PREFIX}app:dev\n" in compose  # a build's output tag
    values = (harbour / "deploy/helm/values.yaml").read_text()
    assert f'  tag: "1.4.0@{digests[OWN[0]]}"\n' in values
    workflow = (harbour / ".github/workflows/ci.yml").read_text()
    assert f"uses: docker://{BUSYBOX}@{digests[BUSYBOX]}\n" in workflow
    lock = (harbour / "repro.lock").read_text()
    for block in ("bake-hcl", "compose", "dockerfile", "helm-values", "kubernetes", "workflow"):
        assert f"\n{block} = '''\n" in lock

    check = run_repro(harbour, "lock", "--check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    verdict = json.loads(check.stdout)
    assert verdict["ok"] is True and len(verdict["references"]) == len(references)
    assert verdict["files_from_record"] == 10  # nothing parsed: every file's bytes match
    plain = run_repro(harbour, "lock", "--check")
    assert plain.stdout.splitlines()[-1] == (
        f"ok: {len(references)} references in 10 files (3 Dockerfiles, 1 compose file, "
        "2 bake files, 2 Kubernetes manifests, 1 Helm values file, 1 workflow) are pinned "
        "and agree with repro.lock"
    )

    pinned = {relative: (harbour / relative).read_bytes() for relative in before}
    again = run_repro(harbour, "lock")
    assert again.returncode == 0, again.stderr
    assert "written: nothing changed" in again.stdout
    assert {relative: (harbour / relative).read_bytes() for relative in before} == pinned
    outdated = run_repro(harbour, "lock", "--outdated", "--json")
    assert outdated.returncode == 0, outdated.stdout + outdated.stderr
    assert json.loads(outdated.stdout)["manifest_requests"] == 5
