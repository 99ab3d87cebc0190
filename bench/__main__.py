"""``python -m bench [NAME...]``: run benchmarks, print a table, write bench/results/NAME.json."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench import BENCHMARKS, Result

RESULTS = Path(__file__).resolve().parent / "results"


def _load() -> None:
    import bench.compare
    import bench.imagefiles
    import bench.lock
    import bench.project_lock
    import bench.verify
    import bench.verify_project  # noqa: F401


def _print(result: Result) -> None:
    widths = [
        max(len(row[i]) for row in [("metric", "value", "target"), *result.rows]) for i in range(3)
    ]
    print(f"\n== {result.name} ==")
    for row in [("metric", "value", "target"), *result.rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def markdown() -> str:
    """The saved results as Markdown tables, for the README."""
    parts = []
    for path in sorted(RESULTS.glob("*.json")):
        document = json.loads(path.read_text())
        parts.append(f"`scripts/bench {document['benchmark']}` ({document['when']}):\n")
        parts.append("| metric | value | target |\n|---|---|---|")
        parts.extend(f"| {m} | {v} | {t} |" for m, v, t in document.get("table", []))
        parts.append("")
    return "\n".join(parts)


def main() -> int:
    _load()
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--markdown", action="store_true", help="print the saved results as Markdown; run nothing"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown())
        return 0
    names = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    ok = True
    for name in names:
        result = BENCHMARKS[name]()
        _print(result)
        document = {
            "benchmark": name,
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "passed": result.passed,
            "results": result.data,
            "table": [list(row) for row in result.rows],
        }
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"-> {path}")
        ok = ok and result.passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
