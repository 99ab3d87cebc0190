"""The `repro` command and `python -m repro`: Ctrl-C while Python is still loading the
CLI is an interruption (130, one line) like any other, not an import traceback. The
command line goes to repro.entry (the hermetic check's fast path, else the CLI)."""

from __future__ import annotations

from collections.abc import Callable


def _load_cli() -> Callable[[], None]:
    from repro.entry import main

    return main


def run(load: Callable[[], Callable[[], None]] = _load_cli) -> None:
    from repro import interrupt

    try:
        main = load()
    except KeyboardInterrupt:
        interrupt.announce()
        interrupt.exit_interrupted()
        raise  # not reached: exit_interrupted exits
    main()


if __name__ == "__main__":
    run()
