"""Render a DoctorReport as a table or as stable JSON."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from repro.doctor import DoctorReport, Status
from repro.jsonout import document, dumps_stable
from repro.render.console import new_table

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


def doctor_table(report: DoctorReport) -> Table:
    table = new_table(title="repro doctor", title_justify="left", show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail")
    for check in report.checks:
        detail = Text(check.detail)
        if check.fix:
            detail.append(f"\nfix: {check.fix}", style="italic")
        table.add_row(check.name, Text(check.status.value, style=_STYLE[check.status]), detail)
    return table


def doctor_json(report: DoctorReport) -> str:
    return dumps_stable(
        document(
            "doctor",
            {
                "healthy": report.healthy,
                "checks": [
                    {"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
                    for c in report.checks
                ],
            },
        )
    )
