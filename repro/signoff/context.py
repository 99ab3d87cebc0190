"""The inputs every check reads: the gathered image facts and the project's files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.dockerfile import Dockerfile, Instruction
from repro.lockfile import LOCKFILE_NAME, Lockfile
from repro.signoff.facts import ImageFacts


@dataclass(frozen=True)
class Verification:
    """A stored `repro verify` result: where it came from and what it says."""

    source: str  # "repro.lock [[release]] 1.4.0", "verify.json", ...
    commit: str
    identical: bool
    image_digest: str | None = None
    dockerfile_sha256: str | None = None


@dataclass(frozen=True)
class CheckContext:
    images: tuple[ImageFacts, ...]
    image_digest: str
    dockerfile: Dockerfile | None = None
    lockfile: Lockfile | None = None
    lockfile_path: str = LOCKFILE_NAME
    dockerignore: tuple[str, ...] | None = None  # patterns; None when there is no file
    dockerignore_path: str = ".dockerignore"
    # What the build context holds: relative paths, directories with a trailing "/"
    # (not descended into when they are caches, virtualenvs or .git); None: unknown.
    context_paths: frozenset[str] | None = None
    verification: Verification | None = None
    commit: str | None = None
    dockerfile_sha256: str | None = None
    source_date_epoch: int | None = None
    size_budget: int | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)

    def where(self, facts: ImageFacts, text: str) -> str:
        """Prefix evidence with the platform when the image has several."""
        return f"[{facts.platform}] {text}" if len(self.images) > 1 else text

    def final_stage(self) -> tuple[Instruction, ...]:
        """The instructions of the last stage (what the shipped image is made of)."""
        if self.dockerfile is None:
            return ()
        instructions = self.dockerfile.instructions
        starts = [i for i, ins in enumerate(instructions) if ins.command == "FROM"]
        return instructions[starts[-1] :] if starts else instructions

    def at(self, instruction: Instruction) -> str:
        path = self.dockerfile.path if self.dockerfile else "Dockerfile"
        return f"{path}:{instruction.line}"

    def line_of(self, created_by: str | None) -> str | None:
        """file:line of the final-stage instruction a history entry came from, if found."""
        if created_by is None:
            return None
        wanted = _normalise(created_by)
        for instruction in self.final_stage():
            text = _normalise(f"{instruction.command} {instruction.arguments.text}")
            if text and (text == wanted or wanted.startswith(text) or text.startswith(wanted)):
                return self.at(instruction)
        return None


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\\n", " ")).strip()


def config_value(facts: ImageFacts, key: str) -> Any:
    return facts.container_config.get(key)
