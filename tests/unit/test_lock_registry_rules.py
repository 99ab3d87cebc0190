"""Pure parts of tag resolution: index children, docker-config credentials, mirrors."""

from __future__ import annotations

import base64
import json

import pytest

from repro.errors import InputError
from repro.registry.auth import credentials_for
from repro.registry.client import endpoint_for
from repro.registry.resolver import index_platforms

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def test_index_children_skip_attestations() -> None:
    body = json.dumps(
        {
            "manifests": [
                {"digest": D1, "platform": {"os": "linux", "architecture": "amd64"}},
                {"digest": D2, "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
                {"digest": D3, "platform": {"os": "unknown", "architecture": "unknown"}},
                {
                    "digest": D3,
                    "platform": {"os": "linux", "architecture": "amd64"},
                    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                },
            ]
        }
    ).encode()
    assert index_platforms(body) == {"linux/amd64": D1, "linux/arm/v7": D2}


def test_credentials_order_helpers_then_store_then_auths() -> None:
    encoded = base64.b64encode(b"user:secret").decode()
    config = {"auths": {"r.io": {"auth": encoded}}}
    assert credentials_for("r.io", config) == ("user", "secret")
    assert credentials_for("other.io", config, helper=lambda *_: None) is None
    calls: list[tuple[str, str]] = []

    def helper(suffix: str, server: str) -> tuple[str, str]:
        calls.append((suffix, server))
        return ("h", suffix)

    with_helper = {**config, "credHelpers": {"r.io": "ecr"}, "credsStore": "desktop"}
    assert credentials_for("r.io", with_helper, helper) == ("h", "ecr")
    assert credentials_for("x.io", {"credsStore": "desktop"}, helper) == ("h", "desktop")
    hub = {"auths": {"https://index.docker.io/v1/": {"auth": encoded}}}
    assert credentials_for("registry-1.docker.io", hub) == ("user", "secret")


def test_mirror_endpoints() -> None:
    mirrors = {"docker.io": "http://localhost:5000", "ghcr.io": "https://mirror.corp"}
    assert endpoint_for("docker.io", mirrors).host == "localhost:5000"
    assert endpoint_for("docker.io", mirrors).plain_http is True
    assert endpoint_for("ghcr.io", mirrors).plain_http is False
    assert endpoint_for("docker.io", {}).host == "registry-1.docker.io"
    assert endpoint_for("r.io:5000", {}).host == "r.io:5000"
    with pytest.raises(InputError, match="plain HTTP"):
        endpoint_for("docker.io", {"docker.io": "http://mirror.corp"})
    lan = endpoint_for("docker.io", {"docker.io": "http://m.lan"}, frozenset({"m.lan"}))
    assert lan.plain_http is True
