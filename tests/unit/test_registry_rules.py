import pytest

from repro.registry.client import is_plain_http_host


@pytest.mark.parametrize(
    ("host", "plain"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("localhost", True),
        ("docker.io", False),
        ("registry.example.com:5000", False),
        ("registry.lan:5000", True),
    ],
)
def test_plain_http_only_for_loopback_or_listed(host: str, plain: bool) -> None:
    assert is_plain_http_host(host, frozenset({"registry.lan:5000"})) is plain
