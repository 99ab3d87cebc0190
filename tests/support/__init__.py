"""Real components for the integration and hostile test suites.

Servers that run inside the test process (a token issuer, a misbehaving fake registry),
the canned OCI image they serve, the addresses and credentials of the registries that
scripts/setup starts, and the pytest fixtures that hand all of these to tests. None of it
is used by unit tests, which may not open sockets.
"""
