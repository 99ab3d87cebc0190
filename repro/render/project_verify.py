"""Render a ProjectResult: one summary table, then each image that did not verify, explained.

The table is aligned plain text, never cut to the terminal's width: digests, names and
builder names are printed whole (a long line wraps where the terminal wraps it). Each
differing image's explanation is the single-image report (repro.render.verify).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.text import Text

from repro.jsonout import dumps_stable
from repro.project_verify.model import (
    ImageOutcome,
    PoolBuilder,
    ProjectResult,
    Verdict,
    difference_counts,
)
from repro.render.compare import short_digest
from repro.render.findings import Finding
from repro.render.findings import Rule as FindingRule
from repro.render.verify import VERIFY_RULES, verification_summary, verify_findings

COLUMNS = ("image", "verdict", "digest", "differences", "time", "builders")
VERDICT_STYLES = {
    Verdict.IDENTICAL: "bold green",
    Verdict.DIFFERS: "bold red",
    Verdict.REFUSED: "bold red",
    Verdict.INVALID: "bold yellow",
    Verdict.FAILED: "bold red",
    Verdict.NOT_RUN: "bold yellow",
}
NOT_APPLICABLE = "-"
LOG_LINES = 14  # of a failed build's log, below its error (the JSON keeps the whole tail)


def project_json(result: ProjectResult) -> str:
    """The project verification record (repro.project_verify.model), as stable JSON."""
    return dumps_stable(result.record().to_json())


def _digest(outcome: ImageOutcome) -> str:
    comparison = outcome.result.comparison if outcome.result is not None else None
    if comparison is None:
        return NOT_APPLICABLE
    if comparison.bit_identical:
        return comparison.image_digest_a
    return (
        f"A {short_digest(comparison.image_digest_a)} B {short_digest(comparison.image_digest_b)}"
    )


def _differences(outcome: ImageOutcome) -> str:
    if outcome.result is None:
        return NOT_APPLICABLE
    if outcome.result.identical:
        return "0"
    total, causes = difference_counts(outcome.result.record())
    if len(causes) == 1:
        return f"{total} {next(iter(causes))}"
    listing = ", ".join(f"{count} {cause}" for cause, count in causes.items())
    return f"{total} ({listing})" if listing else str(total)


def _builders(outcome: ImageOutcome) -> str:
    if not outcome.builders:
        return NOT_APPLICABLE
    a, b = outcome.builders
    text = f"{a}, {b}" if a != b else f"{a} (A then B)"
    if outcome.moved:
        text += f"; {'; '.join(outcome.moved)}"
    return text


def _name(outcome: ImageOutcome) -> str:
    also = outcome.image.also
    return f"{outcome.image.name} (also {', '.join(also)})" if also else outcome.image.name


def summary_table(result: ProjectResult) -> Group:
    """The table: one aligned line per image, nothing truncated."""
    rows = [
        (
            _name(o),
            o.verdict.value,
            _digest(o),
            _differences(o),
            f"{o.seconds:.1f}s" if o.seconds else NOT_APPLICABLE,
            _builders(o),
        )
        for o in result.outcomes
    ]
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...], verdict: Verdict | None) -> Text:
        text = Text(no_wrap=False, overflow="ignore")
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            last = index == len(cells) - 1
            padded = cell if last else cell.ljust(width) + "  "
            style = VERDICT_STYLES[verdict] if verdict is not None and index == 1 else ""
            text.append(padded, style=style)
        return text

    header = line(COLUMNS, None)
    header.stylize("bold")
    return Group(
        header, *(line(row, o.verdict) for row, o in zip(rows, result.outcomes, strict=True))
    )


def _builder_lines(builders: tuple[PoolBuilder, ...]) -> list[Text]:
    lines = []
    for builder in builders:
        if not builder.up:
            lines.append(
                Text.assemble(
                    ("builder down: ", "bold yellow"),
                    f"{builder.name}: its share went to the others ({builder.detail})",
                )
            )
        elif builder.went_down:
            lines.append(
                Text.assemble(
                    ("builder went down: ", "bold yellow"),
                    f"{builder.name}: what it was building moved to the others ({builder.detail})",
                )
            )
    return lines


def _totals(result: ProjectResult) -> Text:
    counts: dict[Verdict, int] = {}
    for outcome in result.outcomes:
        counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
    verdicts = ", ".join(f"{n} {v.value}" for v, n in sorted(counts.items(), key=_by_order))
    builders = ", ".join(f"{b.name} ({b.builds} builds)" for b in result.builders if b.builds)
    images = len(result.outcomes)
    noun = "image" if images == 1 else "images"
    return Text(
        f"{images} {noun}: {verdicts}; builders: {builders or 'none'}; {result.seconds:.1f}s"
    )


def _by_order(item: tuple[Verdict, int]) -> int:
    return list(Verdict).index(item[0])


def _verdict_line(result: ProjectResult) -> Text:
    images = len(result.outcomes)
    bad = [o for o in result.outcomes if o.verdict is not Verdict.IDENTICAL]
    if not bad:
        every = {1: "the image is", 2: "both images are"}.get(images, f"all {images} images are")
        return Text(f"✔ reproducible: {every} bit-identical", style="bold green")
    differing = sum(1 for o in bad if o.verdict is Verdict.DIFFERS)
    parts = []
    if differing:
        parts.append(f"{differing} of {images} {'differs' if differing == 1 else 'differ'}")
    unverified = len(bad) - differing
    if unverified:
        parts.append(f"{unverified} of {images} not verified")
    return Text(f"✘ not reproducible: {', '.join(parts)}", style="bold red")


def _explanation(
    outcome: ImageOutcome, max_diffs: int | None, verbose: bool
) -> list[RenderableType]:
    title = Text.assemble(
        (outcome.image.name, "bold"), " ", (outcome.verdict.value, VERDICT_STYLES[outcome.verdict])
    )
    parts: list[RenderableType] = [Rule(title, align="left")]
    where = f"defined at {outcome.image.file}:{outcome.image.line}"
    if outcome.result is not None:
        parts.append(verification_summary(outcome.result, max_diffs=max_diffs, verbose=verbose))
        return parts
    parts.append(Text(f"{outcome.error} ({where})"))
    if outcome.log_tail:
        # The end of the log holds the failing step and BuildKit's excerpt of the file.
        tail = "\n".join(outcome.log_tail.splitlines()[-LOG_LINES:])
        parts.append(Text(tail, style="dim"))
    return parts


def project_summary(result: ProjectResult) -> RenderableType:
    """The short story: the table, the builders that were or went down, notes, totals and
    the verdict. Print it with ``soft_wrap=True``: its lines are never cut."""
    parts: list[RenderableType] = [summary_table(result), Text()]
    parts.extend(_builder_lines(result.builders))
    parts.extend(Text.assemble(("note: ", "bold"), note) for note in result.notes)
    parts.append(_totals(result))
    parts.append(_verdict_line(result))
    return Group(*parts)


def project_details(
    result: ProjectResult, *, max_diffs: int | None, verbose: bool = False
) -> RenderableType | None:
    """Each image that is not identical, explained; None when every image is."""
    parts: list[RenderableType] = []
    for outcome in result.outcomes:
        if outcome.verdict is not Verdict.IDENTICAL:
            parts.append(Text())
            parts.extend(_explanation(outcome, max_diffs, verbose))
    return Group(*parts) if parts else None


PROJECT_RULES = (
    *VERIFY_RULES,
    FindingRule(
        "verify/not-verified",
        "The image was not verified (refused, invalid, failed or not run)",
        "Read the message: pin its bases, fix how the project builds it, or bring a builder up.",
    ),
)


def project_findings(
    result: ProjectResult, lines_of: Callable[[str], Mapping[str, int]]
) -> list[Finding]:
    """For SARIF and GitHub annotations: each differing path at its image's Dockerfile
    line (``lines_of(dockerfile)``: instruction -> line), and each image that was not
    verified where the project defines it."""
    findings: list[Finding] = []
    for outcome in result.outcomes:
        image = outcome.image
        if outcome.result is not None:
            findings.extend(
                replace(finding, file=image.dockerfile)
                for finding in verify_findings(outcome.result, lines_of(image.dockerfile))
            )
        elif outcome.verdict is not Verdict.IDENTICAL:
            why = outcome.error or image.invalid or outcome.verdict.value
            findings.append(
                Finding(
                    rule="verify/not-verified",
                    level="error",
                    message=f"{image.name}: {outcome.verdict.value}: {why}",
                    file=image.file,
                    line=max(image.line, 1),
                    title=f"repro verify --all: {image.name} {outcome.verdict.value}",
                )
            )
    return findings
