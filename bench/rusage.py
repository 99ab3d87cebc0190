"""``python -m bench.rusage OUT ARG...``: run ``repro ARG...`` in this very process, then
write the process's own getrusage (peak RSS, CPU time of all its threads) to OUT as JSON.

Children (docker, git) are not counted: the figures are repro's own.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path


def main() -> int:
    out = Path(sys.argv[1])
    sys.argv = ["repro", *sys.argv[2:]]
    from repro.cli import main as repro

    code: int | str | None = 0
    try:
        repro()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out.write_text(
            json.dumps(
                {"max_rss_mib": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}
            )
        )
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
