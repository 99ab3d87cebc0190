"""`.dockerignore` exists and keeps .git, .env, virtualenvs and caches out of the context."""

from __future__ import annotations

from repro.lock.discover import is_excluded
from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status

ID = "dockerignore"
TITLE = ".dockerignore excludes .git, .env, virtualenvs and caches"
FIX = (
    "Add a .dockerignore next to the Dockerfile listing at least: .git, .env, .env.*, "
    ".venv, venv/, __pycache__/, .pytest_cache/, .mypy_cache/."
)
# what must be excluded -> sample paths of the build context it stands for
REQUIRED: tuple[tuple[str, tuple[str, ...]], ...] = (
    (".git", (".git/HEAD",)),
    (".env", (".env",)),
    ("virtualenvs", (".venv/bin/python", "venv/bin/python")),
    ("caches", ("__pycache__/app.cpython-311.pyc", ".pytest_cache/README.md")),
)


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    in_image = [
        ctx.where(facts, f"{facts.layer_label(file.layer)}: {path} is in the image")
        for facts in ctx.images
        for path, file in sorted(facts.files.items())
        if path.endswith("/.git") and file.kind == "directory"
    ]
    if ctx.dockerignore is None:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            (f"{ctx.dockerignore_path}: missing", *in_image),
            FIX,
            "no .dockerignore",
        )
    missing = [
        name
        for name, samples in REQUIRED
        if not all(is_excluded(sample, ctx.dockerignore) for sample in samples)
    ]
    if missing:
        evidence.append(f"{ctx.dockerignore_path}: does not exclude {', '.join(missing)}")
    evidence.extend(in_image)
    if evidence:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            FIX,
            "the build context can carry .git, secrets or caches",
        )
    return CheckResult(
        ID,
        TITLE,
        Status.PASS,
        (f"{ctx.dockerignore_path}: excludes .git, .env, virtualenvs, caches",),
        summary="lean, secret-free build context",
    )
