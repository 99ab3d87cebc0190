"""`repro lock` of a whole project: Dockerfiles and the files that run the images.

Issue 18: 200 Dockerfiles, 100 compose files, 200 Kubernetes manifests and 20 GitHub
workflows naming 2,000 references to 50 unique tags: < 2 s as a CLI process, exactly one
request per unique tag. Then the hermetic check of the result (every file's sites from
repro.lock's record) and the same check parsing every file again. The machine is
shared: each CLI figure is the best of several runs (a lock run on a fresh copy each).
The processes run as an installed repro does, with bytecode cached: this environment
sets PYTHONDONTWRITEBYTECODE, which makes every run compile repro's modules again (0.2 s
here), and pip compiles an installed package's modules once, at install.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from bench import Result, register
from bench.lock import REGISTRY, REPOSITORY, REPRO, TAGS, best_of, ensure_tags, tag

DOCKERFILES, COMPOSE, KUBERNETES, WORKFLOWS = 200, 100, 200, 20
# references per file: 800 + 600 + 400 + 200 = 2,000
PER_DOCKERFILE, PER_COMPOSE, PER_KUBERNETES, PER_WORKFLOW = 4, 6, 2, 10
REFERENCES = (
    DOCKERFILES * PER_DOCKERFILE
    + COMPOSE * PER_COMPOSE
    + KUBERNETES * PER_KUBERNETES
    + WORKFLOWS * PER_WORKFLOW
)


class References:
    """The next reference, round-robin over the 50 tags."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        reference = f"{REGISTRY}/{REPOSITORY}:{tag(self.count % TAGS)}"
        self.count += 1
        return reference


def dockerfile(refs: References) -> str:
    a, b, c, d = (refs.next() for _ in range(PER_DOCKERFILE))
    return (
        f"FROM {a} AS build\nRUN echo build > /out\nFROM {b}\n"
        f"COPY --from={c} --link /bin/busybox /usr/local/bin/bb\n"
        f"RUN --mount=type=bind,from={d},target=/m true\nCOPY --from=build /out /out\n"
    )


def compose(index: int, refs: References) -> str:
    services = "".join(
        f"  svc{n}:\n    <<: *defaults\n    image: {refs.next()}  # service {n}\n"
        f'    environment: {{PORT: "80{n}0"}}\n    ports: ["80{n}0:80{n}0"]\n'
        for n in range(PER_COMPOSE)
    )
    return (
        f"# stack {index}\nx-defaults: &defaults\n  restart: unless-stopped\n"
        f"services:\n{services}  app:\n    build: ./app\n    image: app{index}:dev\n"
    )


def kubernetes(index: int, refs: References) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{index}\n"
        f"spec:\n  replicas: 3\n  template:\n    metadata:\n      labels: {{app: app{index}}}\n"
        f"    spec:\n      initContainers:\n        - name: migrate\n"
        f"          image: {refs.next()}\n      containers:\n        - name: app\n"
        f'          image: "{refs.next()}"\n          ports: [{{containerPort: 8080}}]\n'
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app{index}\n"
        f"spec:\n  selector: {{app: app{index}}}\n  ports: [{{port: 80}}]\n"
    )


def workflow(refs: References) -> str:
    services = "".join(f"      s{n}: {{image: {refs.next()}}}\n" for n in range(4))
    steps = "".join(f"      - uses: docker://{refs.next()}\n" for _ in range(5))
    return (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        f"    container: {refs.next()}\n    services:\n{services}    steps:\n"
        f"      - uses: actions/checkout@v4\n{steps}"
    )


def generate(root: Path) -> None:
    refs = References()
    for number in range(DOCKERFILES):
        directory = root / f"svc{number // 20:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"app{number:03d}.Dockerfile").write_text(dockerfile(refs))
    for number in range(COMPOSE):
        directory = root / "stacks" / f"s{number:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "compose.yaml").write_text(compose(number, refs))
    for number in range(KUBERNETES):
        directory = root / "deploy" / f"team{number // 50}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"app{number:03d}.yaml").write_text(kubernetes(number, refs))
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for number in range(WORKFLOWS):
        (workflows / f"ci{number:02d}.yml").write_text(workflow(refs))
    assert refs.count == REFERENCES


@register("project-lock")
def bench_project_lock() -> Result:
    result = Result(
        f"lock of a project: {DOCKERFILES} Dockerfiles, {COMPOSE} compose, {KUBERNETES} "
        f"Kubernetes, {WORKFLOWS} workflows, {REFERENCES:,} references, {TAGS} tags"
    )
    ensure_tags()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="repro-bench-project-lock-") as temp:
        base = Path(temp)
        pristine = base / "pristine"
        generate(pristine)
        best: tuple[float, float, dict[str, object]] | None = None
        project = base / "project"
        # once to cache the bytecode of every module the runs below import
        best_of([REPRO, "lock", "--dry-run"], pristine, runs=1, env=env)
        for run in range(3):
            copy = base / f"run{run}"
            shutil.copytree(pristine, copy)
            wall, cpu, code, out = best_of([REPRO, "lock", "--json"], copy, runs=1, env=env)
            assert code == 0, out
            if best is None or wall < best[0]:
                best = (wall, cpu, json.loads(out))
                if project.exists():
                    shutil.rmtree(project)
                copy.rename(project)
        assert best is not None
        wall, cpu, report = best
        references = report["references"]
        assert isinstance(references, list)
        kinds = report["files_by_kind"]
        files = sum(kinds.values()) if isinstance(kinds, dict) else 0
        expected_files = DOCKERFILES + COMPOSE + KUBERNETES + WORKFLOWS
        result.add("files read", files, f"== {expected_files}", ok=files == expected_files)
        result.add("files by kind", json.dumps(kinds, sort_keys=True))
        pinned = sum(1 for ref in references if ref["action"] == "pinned")
        result.add("references pinned", pinned, f"== {REFERENCES}", ok=pinned == REFERENCES)
        requests = report["manifest_requests"]
        result.add("manifest requests", requests, f"== {TAGS} (one per tag)", ok=requests == TAGS)
        result.add("repro lock (CLI process, best of 3) s", wall, "< 2 s", ok=wall < 2)
        result.add("repro lock (CLI process) CPU s", cpu)
        check, check_cpu, code, out = best_of(
            [REPRO, "lock", "--check", "--json"], project, env=env
        )
        verdict = json.loads(out) if out else {}
        result.add(
            "repro lock --check, from repro.lock's record (CLI, best of 5) s",
            check,
            "exit 0, every file from the record",
            ok=code == 0 and verdict.get("files_from_record") == expected_files,
        )
        result.add("repro lock --check CPU s", check_cpu)
        reparse, _, code, _ = best_of(
            [REPRO, "lock", "--check", "--reparse"], project, runs=3, env=env
        )
        result.add("repro lock --check --reparse (every file parsed, CLI) s", reparse, ok=code == 0)
    return result
