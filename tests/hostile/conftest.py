"""Registers the hostile suite's fixtures (tests/hostile/fixtures.py); nothing else."""

from tests.hostile.fixtures import (  # noqa: F401  (pytest finds fixtures by name)
    build_project,
    identical_pair,
    release_project,
    secret_pair,
    slow_pair,
    sparse_image,
)
