"""Fixtures every suite may use: the real registries and the test servers in tests/support."""

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
