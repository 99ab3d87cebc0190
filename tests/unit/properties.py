"""How many examples a property test draws.

Under scripts/mutation (REPRO_MUTATION set) every surviving mutant reruns each property
test that reaches it, so there a tenth of the examples are drawn (and, tests/conftest.py,
always the same ones): the full count stays for the suite itself.
"""

from __future__ import annotations

import os


def examples(full: int) -> int:
    return max(10, full // 10) if os.environ.get("REPRO_MUTATION") else full
