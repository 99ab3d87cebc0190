"""Fixtures every suite may use: the real registries and the test servers in tests/support.

pytest-randomly shuffles the unit and cli tests on every run (it prints the seed; rerun an
order with ``--randomly-seed=N``), so an order dependency between them shows up. The engine
and registry tests (integration, hostile) keep their written order: they share one live
engine and registry, where a reorder costs CI time and tells nothing about repro.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.fixtures import (  # noqa: F401  (pytest finds fixtures by name)
    _token_issuer_session,
    fake_registry,
    fake_registry_factory,
    referrers_registry,
    tls_registry,
    tls_registry_docker_config,
    token_issuer,
    token_registry,
)

TESTS = Path(__file__).resolve().parent

# scripts/mutation sets REPRO_MUTATION: a mutant's verdict must not hang on what hypothesis
# happens to draw in that run, so every property test draws the same examples each time.
if os.environ.get("REPRO_MUTATION"):
    settings.register_profile("mutation", derandomize=True, database=None)
    settings.load_profile("mutation")
ORDER_KEPT = frozenset({"integration", "hostile"})


def _order_kept(item: pytest.Item) -> bool:
    try:
        return item.path.resolve().relative_to(TESTS).parts[0] in ORDER_KEPT
    except ValueError:
        return False


@pytest.hookimpl(wrapper=True, tryfirst=True)  # around pytest-randomly's shuffle
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Generator[None, None, None]:
    written = list(items)
    result = yield
    kept = {id(item) for item in written if _order_kept(item)}
    shuffled = [item for item in items if id(item) not in kept]
    items[:] = shuffled + [item for item in written if id(item) in kept]
    return result
