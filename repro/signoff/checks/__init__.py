"""The sign-off checklist: one small module per check, each ``check(ctx) -> CheckResult``."""

from __future__ import annotations

from collections.abc import Callable

from repro.signoff.checks import (
    apt,
    base_pins,
    dockerignore,
    exec_form,
    expose,
    healthcheck,
    labels,
    non_root,
    reproducible,
    secrets,
    size,
    toolchain,
)
from repro.signoff.context import CheckContext
from repro.signoff.model import CheckResult

Check = Callable[[CheckContext], CheckResult]

CHECKS: tuple[tuple[str, Check], ...] = (
    (base_pins.ID, base_pins.check),
    (reproducible.ID, reproducible.check),
    (toolchain.ID, toolchain.check),
    (non_root.ID, non_root.check),
    (secrets.ID, secrets.check),
    (dockerignore.ID, dockerignore.check),
    (apt.ID, apt.check),
    (exec_form.ID, exec_form.check),
    (healthcheck.ID, healthcheck.check),
    (expose.ID, expose.check),
    (size.ID, size.check),
    (labels.ID, labels.check),
)
CHECK_IDS = tuple(check_id for check_id, _ in CHECKS)


def run_checks(ctx: CheckContext) -> tuple[CheckResult, ...]:
    return tuple(check(ctx) for _, check in CHECKS)
