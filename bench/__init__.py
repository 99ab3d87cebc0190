"""A small benchmark harness: each benchmark registers itself, results go to bench/results/.

Run ``scripts/bench`` (all) or ``scripts/bench lock``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """One benchmark's measurements: rows for the table, and everything for the JSON."""

    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # metric, value, target
    data: dict[str, Any] = field(default_factory=dict)
    passed: bool = True

    def add(self, metric: str, value: Any, target: str = "", *, ok: bool | None = None) -> None:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        if ok is not None:
            target = f"{target} {'ok' if ok else 'MISSED'}".strip()
            self.passed = self.passed and ok
        self.rows.append((metric, shown, target))
        self.data[metric] = value


Benchmark = Callable[[], Result]
BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str) -> Callable[[Benchmark], Benchmark]:
    def decorator(function: Benchmark) -> Benchmark:
        BENCHMARKS[name] = function
        return function

    return decorator
