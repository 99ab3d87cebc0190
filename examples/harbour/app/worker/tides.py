"""The tides worker: driftwood's code without the web server, publishing the tide page.

Built from the same repository as the app, with a second Dockerfile (worker.Dockerfile).
Standard library only.
"""

from __future__ import annotations

import hashlib
import sys
import time

from driftwood.app import PAGE

PERIOD_SECONDS = 3600


def publish() -> str:
    """One round: the page's fingerprint, as the worker logs it."""
    return hashlib.sha256(PAGE.encode()).hexdigest()[:12]


def main() -> int:
    while True:
        print(f"tide page {publish()}", flush=True)
        if "--once" in sys.argv:
            return 0
        time.sleep(PERIOD_SECONDS)


if __name__ == "__main__":
    raise SystemExit(main())
