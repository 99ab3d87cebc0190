"""What `repro verify` varies between build A and build B, and how a user chooses.

Each variation is something that differs between real builds of one commit and that a
reproducible build must not notice (reprotest's idea, applied to BuildKit builds):

  umask    B checks out under umask 002 (A: 022): COPY keeps the checkout's modes
  tz       B's checkout runs with TZ=Pacific/Kiritimati (A: UTC), and B gets
           --build-arg TZ where the Dockerfile declares ``ARG TZ`` without a default
  locale   the same with LC_ALL/LANG=POSIX (A: C.UTF-8) and ``ARG LANG``/``ARG LC_*``
  path     B is checked out in another directory (off: where A was, once A is built)
  time     B is checked out in a later two-second interval than A (off: B's files get
           A's times), so archives and pycs of checked-out files cannot agree by chance
  clock    B is built after A, starting in a later two-second interval than A ended
           (off: both at once), so no time B's build writes, to the second or to zip's
           two seconds, can equal one of A's
  builder  B runs on the second --builder (off: on the first)

BuildKit gives a RUN none of the host's environment: TZ and locale reach a build only
as build arguments, so they enter it only where the Dockerfile asks for them (an ARG
without a default is one a CI fills from its environment); a default in the Dockerfile
is the build's own choice and is left alone.

All are on by default. ``--vary a,b`` builds with exactly those, ``--no-vary a,b``
drops them; ``[tool.repro.verify]`` ``vary`` and ``no-vary`` set the project's own
default the same way (the command line's ``--vary`` replaces it, ``--no-vary`` drops
more from it).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from repro.dockerfile import Dockerfile
from repro.errors import InputError
from repro.oci.fixes import ENVIRONMENT_ARG_DEFAULTS


class Vary(StrEnum):
    UMASK = "umask"
    TZ = "tz"
    LOCALE = "locale"
    PATH = "path"
    TIME = "time"
    CLOCK = "clock"
    BUILDER = "builder"


ALL_NAME = "all"
ORDER: tuple[Vary, ...] = tuple(Vary)

# Build arguments a Dockerfile may declare to take the builder's time zone or locale.
TZ_ARGS = frozenset({"TZ"})
LOCALE_ARGS = frozenset(ENVIRONMENT_ARG_DEFAULTS) - TZ_ARGS
# B's values. As a build argument the zone is spelled as POSIX TZ (Kiritimati's, UTC+14),
# which needs no zoneinfo in the image: a zone name would fall back to UTC without it.
TZ_B_ARG = "<+14>-14"
LOCALE_B = "POSIX"


@dataclass(frozen=True)
class Variations:
    """The variations asked for (what is applied also depends on what is there: two
    builders for ``builder``, a declared ARG for the build-argument part of tz/locale)."""

    enabled: frozenset[Vary] = frozenset(Vary)

    def __contains__(self, name: object) -> bool:
        return name in self.enabled

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(str(v) for v in ORDER if v in self.enabled)

    @property
    def off(self) -> tuple[Vary, ...]:
        return tuple(v for v in ORDER if v not in self.enabled)


DEFAULT_VARIATIONS = Variations()


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip().lower() for value in values for part in value.split(",") if part.strip()]


def parse_names(values: Iterable[str], what: str) -> frozenset[Vary]:
    """``umask,tz`` (repeatable, comma-separated) or ``all``; InputError names the unknown."""
    names: set[Vary] = set()
    known = [str(v) for v in ORDER]
    for word in _split(values):
        if word == ALL_NAME:
            names.update(Vary)
            continue
        try:
            names.add(Vary(word))
        except ValueError:
            close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
            suggestion = f"did you mean `{close[0]}`? " if close else ""
            raise InputError(
                f"{what}: unknown variation `{word}`",
                hint=f"{suggestion}choose from {', '.join(known)} (or all), comma-separated",
            ) from None
    return frozenset(names)


def choose_variations(
    vary: Sequence[str] | None,
    no_vary: Sequence[str],
    *,
    config_vary: Sequence[str] | None = None,
    config_no_vary: Sequence[str] = (),
    config_source: str = "the configuration",
) -> Variations:
    """The variations to apply: the command line's ``--vary`` (else the configuration's
    ``vary``, else all), less the configuration's ``no-vary`` and the command line's."""
    wanted_cli = parse_names(vary, "--vary") if vary else None
    dropped_cli = parse_names(no_vary, "--no-vary")
    # `--vary all --no-vary clock` says what it means; `--vary tz --no-vary tz` does not.
    named = parse_names([w for w in _split(vary or ()) if w != ALL_NAME], "--vary")
    both = named & dropped_cli
    if both:
        names = ", ".join(v for v in ORDER if v in both)
        raise InputError(f"--vary and --no-vary both name {names}")
    if wanted_cli is not None:
        # The command line's own list replaces the project's default entirely.
        return Variations(wanted_cli - dropped_cli)
    wanted = (
        parse_names(config_vary, f"{config_source}: verify.vary")
        if config_vary is not None
        else frozenset(Vary)
    )
    dropped_config = parse_names(config_no_vary, f"{config_source}: verify.no-vary")
    return Variations(wanted - dropped_config - dropped_cli)


def _declared(text: str) -> list[tuple[str, bool]]:
    """``ARG A B=1``: each name and whether it has a default."""
    found = []
    for word in text.split():
        name, equals, _ = word.partition("=")
        found.append((name.strip("\"'"), bool(equals)))
    return found


def environment_args(dockerfile: Dockerfile) -> frozenset[str]:
    """The TZ and locale build arguments a stage declares without a default (here or in a
    global ARG of the same name): the ones a build takes from whoever builds it."""
    global_defaults: set[str] = set()
    in_stage = False
    wanted: set[str] = set()
    for instruction in dockerfile.instructions:
        if instruction.command == "FROM":
            in_stage = True
        elif instruction.command == "ARG":
            for name, has_default in _declared(instruction.arguments.text):
                if name not in TZ_ARGS | LOCALE_ARGS:
                    continue
                if not in_stage:
                    if has_default:
                        global_defaults.add(name)
                elif not has_default:
                    wanted.add(name)
    return frozenset(wanted - global_defaults)
