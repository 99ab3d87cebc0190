"""Progress of many builds: live lines per running build on a terminal, plain lines in CI."""

from __future__ import annotations

import io

from rich.console import Console

from repro.project_verify.model import ImageOutcome, ImageSource, ProjectImage, Verdict
from repro.render.progress import ProjectProgress

APP = ProjectImage(
    "compose.yaml:app", ImageSource.COMPOSE, "compose.yaml", 3, "app", "app/Dockerfile"
)
SITE = ProjectImage(
    "compose.yaml:site", ImageSource.COMPOSE, "compose.yaml", 9, "site", "site/Dockerfile"
)


def drive(progress: ProjectProgress) -> None:
    progress.begin(3, ("default", "repro-b"))
    progress.started(APP, ("default", "repro-b"))
    progress.started(SITE, ("repro-b", "default"))
    progress.phase(APP, "checking out 1234567890ab for build A (umask 022, TZ=UTC)")
    progress.log(APP, "B", "#7 [build 5/7] RUN python3 -m venv /opt/venv")
    progress.log(APP, "B", "#7 0.512 Collecting gunicorn")  # not a step: ignored
    progress.finished(ImageOutcome(SITE, Verdict.IDENTICAL, seconds=3.2), 1, 3)


def test_a_terminal_shows_one_line_per_running_build_and_the_count() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with ProjectProgress(console) as progress:
        drive(progress)
        lines = _lines(progress)
    assert lines == [
        "verifying: 1 done, 1 running, 1 left of 3",
        "  compose.yaml:app A on default: checking out",
        "  compose.yaml:app B on repro-b: build 5/7: RUN python3 -m venv /opt/venv",
    ]


def test_without_a_terminal_each_image_is_a_plain_line() -> None:
    out = io.StringIO()
    with ProjectProgress(Console(file=out, width=80)) as progress:
        drive(progress)
    assert out.getvalue().splitlines() == [
        "==> verifying 3 images on default, repro-b",
        "==> compose.yaml:app: A on default, B on repro-b",
        "==> compose.yaml:site: A on repro-b, B on default",
        "[1/3] compose.yaml:site: identical in 3.2s",
    ]


def _lines(progress: ProjectProgress) -> list[str]:
    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(progress._renderable())  # what Live redraws four times a second
    return console.export_text().splitlines()
