"""`.dockerignore` keeps .git and .env out of the context, and what else the context has.

`.git` and `.env` are always required (a checkout has one, a developer's tree may get
the other at any time). Virtualenvs and caches are required only when the build
context holds them (CheckContext.context_paths), so a clean Go or Node project is not
asked to exclude `.venv` or `__pycache__` it will never have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repro.lock.discover import is_excluded
from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult, Status

ID = "dockerignore"
TITLE = ".dockerignore excludes .git, .env and the virtualenvs and caches the context has"
ALWAYS = (".git", ".env", ".env.*")
FIX_ALWAYS = ".git, .env, .env.*"


@dataclass(frozen=True)
class Requirement:
    name: str  # what must be excluded, as evidence names it
    samples: tuple[str, ...]  # context paths it stands for, when the context is not known
    markers: tuple[str, ...] = ()  # a context path ending so (a directory name) is one


REQUIRED: tuple[Requirement, ...] = (
    Requirement(".git", (".git/HEAD",)),
    Requirement(".env", (".env",)),
    Requirement("virtualenvs", (".venv/bin/python", "venv/bin/python"), ("/pyvenv.cfg",)),
    Requirement(
        "caches",
        ("__pycache__/app.cpython-311.pyc", ".pytest_cache/README.md"),
        ("__pycache__/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".tox/"),
    ),
)


def _present(requirement: Requirement, context_paths: frozenset[str] | None) -> list[str]:
    """The context paths that make ``requirement`` apply (samples when unknown)."""
    if context_paths is None or not requirement.markers:
        return list(requirement.samples)
    found: list[str] = []
    for path in sorted(context_paths):
        candidate = "/" + path
        for marker in requirement.markers:
            if candidate.endswith("/" + marker.lstrip("/")):
                # pyvenv.cfg marks its directory; a cache marker is the directory itself.
                found.append(path.removesuffix("pyvenv.cfg").rstrip("/") + "/")
    return found


FIX_UNKNOWN_CONTEXT = ".venv, venv/, __pycache__/, .pytest_cache/, .mypy_cache/"


def _fix(applicable: dict[str, list[str]], *, known: bool) -> str:
    """What to add: .git and .env, and the virtualenvs and caches the context has."""
    seen = [
        path
        for requirement in REQUIRED
        if requirement.markers
        for path in applicable.get(requirement.name, [])
    ]
    rest = ", ".join(dict.fromkeys(seen[:8])) if known else FIX_UNKNOWN_CONTEXT
    return (
        "Add a .dockerignore next to the Dockerfile listing at least: "
        f"{FIX_ALWAYS}{', ' + rest if rest else ''}."
    )


def _not_excluded(paths: Sequence[str], patterns: Sequence[str]) -> list[str]:
    return [p for p in paths if not is_excluded(p.rstrip("/") + "/x", patterns)]


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    in_image = [
        ctx.where(facts, f"{facts.layer_label(file.layer)}: {path} is in the image")
        for facts in ctx.images
        for path, file in sorted(facts.files.items())
        if path.endswith("/.git") and file.kind == "directory"
    ]
    applicable = {r.name: _present(r, ctx.context_paths) for r in REQUIRED}
    applicable = {name: paths for name, paths in applicable.items() if paths}
    fix = _fix(applicable, known=ctx.context_paths is not None)
    if ctx.dockerignore is None:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            (f"{ctx.dockerignore_path}: missing", *in_image),
            fix,
            "no .dockerignore",
        )
    missing: list[str] = []
    for requirement in REQUIRED:
        paths = applicable.get(requirement.name, [])
        if requirement.markers and ctx.context_paths is not None:
            left = _not_excluded(paths, ctx.dockerignore)
            if left:
                missing.append(f"{requirement.name} ({', '.join(left[:3])})")
        elif paths and not all(is_excluded(p, ctx.dockerignore) for p in paths):
            missing.append(requirement.name)
    if missing:
        evidence.append(f"{ctx.dockerignore_path}: does not exclude {', '.join(missing)}")
    evidence.extend(in_image)
    if evidence:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            fix,
            "the build context can carry .git, secrets or caches",
        )
    judged = ", ".join(applicable)
    return CheckResult(
        ID,
        TITLE,
        Status.PASS,
        (f"{ctx.dockerignore_path}: excludes {judged}",),
        summary="lean, secret-free build context",
    )
