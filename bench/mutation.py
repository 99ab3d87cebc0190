"""The mutation score of the pure core, from mutmut's own records (``scripts/mutation``).

mutmut keeps, beside each mutated file in mutants/, a ``.meta`` JSON whose
``exit_code_by_key`` holds the pytest exit code of every mutant (None: not run yet). This
reads those, sets aside the mutants judged equivalent (scripts/mutation-equivalent.txt:
one ``name  reason`` a line), prints the survivors and writes bench/results/mutation.json
in the shape ``scripts/bench --markdown`` shows.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TARGET_PERCENT = 90.0

# mutmut's exit codes (mutmut/stats.py), folded into what the score needs: a mutant the
# tests noticed (failed, hung, crashed, or refused by the type check) is killed; one they
# passed, or that no test ran, survived; "skipped" and "not checked" are not judged.
KILLED = "killed"
SURVIVED = "survived"
NO_TESTS = "no tests"
TIMEOUT = "timeout"
NOT_CHECKED = "not checked"
SKIPPED = "skipped"
SUSPICIOUS = "suspicious"
_STATUS_BY_EXIT_CODE: Mapping[int | None, str] = {
    1: KILLED,
    3: KILLED,
    37: KILLED,  # caught by the type check
    -11: KILLED,  # segfault
    -9: KILLED,
    0: SURVIVED,
    5: NO_TESTS,
    33: NO_TESTS,
    34: SKIPPED,
    36: TIMEOUT,
    -24: TIMEOUT,
    24: TIMEOUT,
    152: TIMEOUT,
    255: TIMEOUT,
    None: NOT_CHECKED,
}
_COUNTED_KILLED = frozenset({KILLED, TIMEOUT})
_COUNTED_SURVIVED = frozenset({SURVIVED, NO_TESTS, SUSPICIOUS})


def status_of(exit_code: int | None) -> str:
    return _STATUS_BY_EXIT_CODE.get(exit_code, SUSPICIOUS)


@dataclass(frozen=True)
class Score:
    statuses: Mapping[str, str]  # mutant name -> status
    equivalent: Mapping[str, str]  # mutant name -> why it cannot be killed

    @property
    def judged(self) -> dict[str, str]:
        return {n: s for n, s in self.statuses.items() if n not in self.equivalent}

    @property
    def killed(self) -> int:
        return sum(1 for s in self.judged.values() if s in _COUNTED_KILLED)

    @property
    def survivors(self) -> list[tuple[str, str]]:
        return sorted((n, s) for n, s in self.judged.items() if s in _COUNTED_SURVIVED)

    @property
    def not_checked(self) -> int:
        return sum(1 for s in self.judged.values() if s in (NOT_CHECKED, SKIPPED))

    @property
    def percent(self) -> float:
        scored = self.killed + len(self.survivors)
        return round(100.0 * self.killed / scored, 1) if scored else 0.0


def wilson_interval(killed: int, scored: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of killed/scored, in percent (a sample's score)."""
    if scored == 0:
        return (0.0, 100.0)
    p = killed / scored
    denominator = 1 + z * z / scored
    centre = (p + z * z / (2 * scored)) / denominator
    half = z * math.sqrt(p * (1 - p) / scored + z * z / (4 * scored * scored)) / denominator
    return (round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1))


def draw_sample(names: Iterable[str], size: int, seed: int) -> list[str]:
    """``size`` mutant names drawn uniformly (without replacement) with ``seed``, sorted."""
    population = sorted(names)
    if size >= len(population):
        return population
    # A seeded draw, so a sample can be drawn again: not for secrets.
    return sorted(random.Random(seed).sample(population, size))  # noqa: S311


@dataclass(frozen=True)
class Sample:
    names: frozenset[str]
    population: int  # how many mutants the scope has
    seed: int | None


def read_statuses(meta_files: Iterable[Path]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for meta in meta_files:
        document = json.loads(meta.read_text(encoding="utf-8"))
        for name, code in document["exit_code_by_key"].items():
            statuses[name] = status_of(code)
    return statuses


def read_equivalent(path: Path) -> dict[str, str]:
    """``name  reason`` lines; blank lines and ``#`` comments are skipped."""
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {name} has no reason; say why it is equivalent")
        found[name] = reason.strip()
    return found


def _module(name: str) -> str:
    return name.split(".x_", 1)[0].split(".xǁ", 1)[0]


def document(
    score: Score,
    *,
    seconds: int,
    scope: Mapping[str, object],
    sample: Sample | None = None,
) -> dict[str, object]:
    counts = Counter(score.statuses.values())
    survivors_by_module = Counter(_module(name) for name, _ in score.survivors)
    results: dict[str, object] = {
        "tool": "mutmut",
        "scope": dict(scope),
        "mutants": len(score.statuses),
        "mutmut_verdicts": dict(sorted(counts.items())),  # equivalent ones included
        "equivalent": dict(sorted(score.equivalent.items())),
        "killed": score.killed,
        "survived": len(score.survivors),
        "not_checked": score.not_checked,
        "score_percent": score.percent,
        "target_percent": TARGET_PERCENT,
        "seconds": seconds,
        "survivors": [{"mutant": n, "status": s} for n, s in score.survivors],
        "survivors_by_module": dict(sorted(survivors_by_module.items())),
    }
    table = [
        ["mutants", str(len(score.statuses)), ""],
        ["killed", str(score.killed), ""],
        ["survived", str(len(score.survivors)), ""],
        ["equivalent (listed with reasons)", str(len(score.equivalent)), ""],
        ["not checked", str(score.not_checked), "0"],
        ["score", f"{score.percent}%", f">= {TARGET_PERCENT:g}%"],
    ]
    passed = score.percent >= TARGET_PERCENT and score.not_checked == 0
    if sample is not None:
        low, high = wilson_interval(score.killed, score.killed + len(score.survivors))
        results["sample"] = {
            "size": len(sample.names),
            "population": sample.population,
            "seed": sample.seed,
            "score_ci95_percent": [low, high],
        }
        table[0] = ["mutants (uniform sample)", f"{len(sample.names)} of {sample.population}", ""]
        table.append(["score, 95% interval", f"{low}-{high}%", ""])
    table.append(["run time", f"{seconds} s", ""])
    return {
        "benchmark": "mutation",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "passed": passed,
        "results": results,
        "table": table,
    }


def _scope(pyproject: Path) -> dict[str, object]:
    import tomllib

    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mutmut"]
    return {
        "mutated": config.get("only_mutate", config.get("source_paths", [])),
        "tests": config.get("pytest_add_cli_args_test_selection", []),
    }


def _in_scope(meta: Path, scope: Mapping[str, object]) -> bool:
    """mutants/ keeps the verdicts of files mutated before; only the configured ones count."""
    source = meta.as_posix().removesuffix(".meta")
    patterns = scope["mutated"]
    assert isinstance(patterns, list)
    return any(fnmatch.fnmatch(source, str(pattern)) for pattern in patterns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation")
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--equivalent", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--list-survivors",
        action="store_true",
        help="print the survivors' names only; write nothing",
    )
    parser.add_argument(
        "--draw",
        type=int,
        metavar="N",
        help="print N mutant names of the scope drawn uniformly with --seed; write nothing",
    )
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--sample",
        type=Path,
        metavar="FILE",
        help="score only the mutants named in FILE (one a line, as --draw printed them)",
    )
    args = parser.parse_args(argv)

    scope = _scope(Path("pyproject.toml"))
    metas = [
        meta
        for meta in sorted(args.mutants.rglob("*.py.meta"))
        if _in_scope(meta.relative_to(args.mutants), scope)
    ]
    if not metas:
        print(f"no mutmut results under {args.mutants}: run scripts/mutation", file=sys.stderr)
        return 3
    statuses = read_statuses(metas)
    equivalent = read_equivalent(args.equivalent)
    if args.draw is not None:
        for name in draw_sample(statuses, args.draw, args.seed):
            print(name)
        return 0
    sample = None
    if args.sample is not None:
        names = frozenset(args.sample.read_text(encoding="utf-8").split())
        sample = Sample(names, population=len(statuses), seed=args.seed)
        gone = len(names - set(statuses))
        if gone:
            print(f"{gone} sampled mutants are no longer generated (their code changed)")
        score = Score(
            {n: s for n, s in statuses.items() if n in names},
            {n: r for n, r in equivalent.items() if n in names},
        )
    else:
        score = Score(statuses, equivalent)
    if args.list_survivors:
        for name, _ in score.survivors:
            print(name)
        return 0
    if args.output is None:
        parser.error("--output is required")
    stale = sorted(set(equivalent) - set(statuses))
    result = document(score, seconds=args.seconds, scope=scope, sample=sample)

    if score.survivors:
        print(f"surviving mutants ({len(score.survivors)}); see one with `mutmut show NAME`:")
        for name, status in score.survivors:
            print(f"  {name}" + ("" if status == SURVIVED else f"  ({status})"))
    for name in stale:
        print(f"warning: {args.equivalent}: {name} is no longer a mutant; drop it")
    if score.not_checked:
        print(f"{score.not_checked} mutants not checked yet: run scripts/mutation again")
    print(
        f"mutation score: {score.percent}% ({score.killed} killed, {len(score.survivors)} "
        f"survived, {len(score.equivalent)} equivalent; target >= {TARGET_PERCENT:g}%)"
    )
    if sample is not None:
        low, high = wilson_interval(score.killed, score.killed + len(score.survivors))
        print(
            f"on a uniform sample of {len(sample.names)} of the scope's {sample.population} "
            f"mutants (seed {sample.seed}): the whole scope's score is {low}-{high}% "
            "with 95% confidence"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(args.output)  # atomic: a half-written score is never read
    print(f"-> {args.output}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
