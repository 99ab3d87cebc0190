"""Build progress: a live status line on a terminal, plain step lines in CI and pipes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from repro.masking import mask_text
from repro.project_verify.model import ImageOutcome, ProjectImage

VERDICT_STYLE = {"identical": "bold green", "differs": "bold red", "failed": "bold red"}

_STEP = re.compile(r"^#\d+ \[(?P<step>[^\]]+)\] (?P<what>.+)$")


@contextmanager
def build_progress(
    console: Console,
) -> Iterator[tuple[Callable[[str, str], None], Callable[[str], None]]]:
    """Yield (on_log, on_phase) callbacks for the build use cases."""
    seen: set[tuple[str, str]] = set()
    lock = threading.Lock()
    status = console.status("starting") if console.is_terminal else None

    def on_phase(text: str) -> None:
        with lock:
            if status is not None:
                status.update(text)
            console.print(f"[bold]==>[/] {escape(mask_text(text))}", highlight=False)

    def on_log(build: str, line: str) -> None:
        match = _STEP.match(line)
        if match is None:
            return
        key = (build, line)
        with lock:
            if key in seen:  # plain progress repeats a step's header when its output resumes
                return
            seen.add(key)
            # The builder masks the values it knows; the patterns catch the rest.
            text = mask_text(f"[{build}] {match['step']}: {match['what']}")
            if status is not None:
                status.update(text)
            else:
                console.print(f"    {text}", markup=False, highlight=False)

    if status is not None:
        with status:
            yield on_log, on_phase
    else:
        yield on_log, on_phase


class ProjectProgress:
    """Progress of `repro verify --all`: on a terminal, one live line per running build
    under a count of done, running and left; in CI and pipes, one plain line per image
    started and finished (the steps of eight builds at once would drown the log)."""

    def __init__(self, console: Console, total: int = 0) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._builds: dict[tuple[str, str], str] = {}  # (image, A|B) -> what it is doing
        self._builders: dict[tuple[str, str], str] = {}
        self._live: Live | None = None

    def __enter__(self) -> ProjectProgress:
        if self.console.is_terminal:
            self._live = Live(
                get_renderable=self._renderable,
                console=self.console,
                refresh_per_second=4,
                transient=True,
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def _renderable(self) -> RenderableType:
        with self._lock:
            running = len({image for image, _ in self._builds})
            left = max(0, self.total - self.done - running)
            lines = [
                Text(
                    f"verifying: {self.done} done, {running} running, {left} left of {self.total}",
                    style="bold",
                )
            ]
            for (image, build), text in sorted(self._builds.items()):
                builder = self._builders.get((image, build), "")
                lines.append(
                    Text(
                        f"  {image} {build} on {builder}: {text}",
                        overflow="ellipsis",
                        no_wrap=True,
                    )
                )
        return Group(*lines)

    def _say(self, text: Text | str) -> None:
        if self._live is not None:
            self._live.console.print(text, highlight=False, soft_wrap=True)
        else:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def begin(self, total: int, builders: tuple[str, ...]) -> None:
        with self._lock:
            self.total = total
        noun = "image" if total == 1 else "images"
        self._say(f"==> verifying {total} {noun} on {', '.join(builders)}")

    def started(self, image: ProjectImage, builders: tuple[str, ...]) -> None:
        with self._lock:
            for build, builder in zip(("A", "B"), (builders[0], builders[-1]), strict=True):
                self._builds[(image.name, build)] = "waiting for its checkout"
                self._builders[(image.name, build)] = builder
        if self._live is None:
            self._say(f"==> {image.name}: A on {builders[0]}, B on {builders[-1]}")

    def phase(self, image: ProjectImage, text: str) -> None:
        # "checking out <commit> for build A (umask 022, TZ=UTC)": the build's line says
        # which build and where; the phase adds only what it is doing.
        with self._lock:
            for build in ("A", "B"):
                key = (image.name, build)
                if key not in self._builds:
                    continue
                if text.startswith("comparing"):
                    self._builds[key] = "comparing A and B"
                elif text.startswith("checking out") and text.find(f"build {build} ") > 0:
                    self._builds[key] = "checking out"

    def log(self, image: ProjectImage, build: str, line: str) -> None:
        match = _STEP.match(line)
        if match is None:
            return
        with self._lock:
            key = (image.name, build)
            if key in self._builds:
                self._builds[key] = f"{match['step']}: {match['what']}"

    def finished(self, outcome: ImageOutcome, done: int, total: int) -> None:
        with self._lock:
            self.done = done
            self.total = total
            for build in ("A", "B"):
                self._builds.pop((outcome.image.name, build), None)
        seconds = f" in {outcome.seconds:.1f}s" if outcome.seconds else ""
        text = Text.assemble(
            f"[{done}/{total}] {outcome.image.name}: ",
            (outcome.verdict.value, VERDICT_STYLE.get(outcome.verdict.value, "bold")),
            seconds,
        )
        if outcome.error:
            text.append(f" ({outcome.error})")
        self._say(text)

    def builder_down(self, name: str, detail: str) -> None:
        self._say(Text.assemble(("builder down: ", "bold yellow"), f"{name}: {detail}"))
