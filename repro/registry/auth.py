"""Registry credentials from the docker config, found the way docker finds them."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from repro.errors import InputError

_DOCKER_HUB_AUTH_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")


def docker_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``."""
    directory = os.environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


def _auth_keys(host: str) -> list[str]:
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in ("registry-1.docker.io", "docker.io", "index.docker.io"):
        keys = [*_DOCKER_HUB_AUTH_KEYS, *keys]
    return keys


def credentials_for(
    host: str,
    config: Mapping[str, Any],
    helper: Callable[[str, str], tuple[str, str] | None] | None = None,
) -> tuple[str, str] | None:
    """(username, secret) for ``host`` from a parsed docker config, or None.

    Order as docker does it: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
    ``helper(suffix, server)`` runs ``docker-credential-<suffix> get``.
    """
    helper = helper or _run_credential_helper
    keys = _auth_keys(host)
    helpers = config.get("credHelpers") or {}
    for key in keys:
        if isinstance(helpers, dict) and isinstance(helpers.get(key), str):
            found = helper(helpers[key], key)
            if found is not None:
                return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        for key in keys[:1]:
            found = helper(store, key)
            if found is not None:
                return found
    auths = config.get("auths") or {}
    if isinstance(auths, dict):
        for key in keys:
            entry = auths.get(key)
            if not isinstance(entry, dict):
                continue
            encoded = entry.get("auth")
            if isinstance(encoded, str) and encoded:
                try:
                    user, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
                return user, secret
            name, password = entry.get("username"), entry.get("password")
            if isinstance(name, str) and isinstance(password, str):
                return name, password
    return None


def _run_credential_helper(suffix: str, server: str) -> tuple[str, str] | None:
    import subprocess

    try:
        proc = subprocess.run(
            [f"docker-credential-{suffix}", "get"],
            input=server.encode(),
            capture_output=True,
            check=True,
            timeout=10,
        )
        payload = json.loads(proc.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    user, secret = payload.get("Username"), payload.get("Secret")
    if isinstance(user, str) and isinstance(secret, str):
        return user, secret
    return None


def load_docker_config(path: Path | None = None) -> dict[str, Any]:
    path = path or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable docker config: {exc}") from exc
    return data if isinstance(data, dict) else {}
