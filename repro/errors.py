"""The one error hierarchy. Every expected failure is a ReproError; the CLI catches it once.

Exit codes are a contract for every command:
  0  success / identical / check passed
  1  the verdict is negative (differs, not pinned, check failed)
  2  usage or input error (bad Dockerfile, missing file, malformed lockfile)
  3  environment error (engine missing or too old, registry unreachable, auth refused)
  4  internal error: an exception that is not a ReproError is a bug in repro
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NEGATIVE = 1
    INPUT = 2
    ENVIRONMENT = 3
    INTERNAL = 4


class ReproError(Exception):
    """An expected failure with a message for the user and, where we know one, a fix."""

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class VerdictError(ReproError):
    """The check ran and its answer is no (differs, not pinned, check failed)."""

    exit_code = ExitCode.NEGATIVE


class InputError(ReproError):
    """Bad usage or bad input: a missing file, a malformed Dockerfile or lockfile."""

    exit_code = ExitCode.INPUT


class DockerfileSyntaxError(InputError):
    """A Dockerfile that cannot be parsed; carries the position of the problem."""

    def __init__(
        self, message: str, *, path: str, line: int, column: int, hint: str | None = None
    ) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}", hint=hint)
        self.path = path
        self.line = line
        self.column = column


class LockfileError(InputError):
    """repro.lock is malformed or from an unknown schema."""


class EnvironmentProblem(ReproError):
    """Something outside repro is missing or broken: engine, registry, git, credentials."""

    exit_code = ExitCode.ENVIRONMENT


class EngineError(EnvironmentProblem):
    """The container engine or buildx is missing, too old, or a build failed."""


class BuildFailed(EngineError):
    """A build ran and failed; carries the failing step and the tail of its log."""

    def __init__(self, message: str, *, log_tail: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.log_tail = log_tail


class RegistryError(EnvironmentProblem):
    """A registry could not be reached or answered with an error."""


class AuthError(RegistryError):
    """A registry refused our credentials."""


class GitError(EnvironmentProblem):
    """git is missing or a git command failed."""
