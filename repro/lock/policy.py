"""A BuildKit source policy that pins by conversion instead of by editing Dockerfiles.

``docker buildx build`` reads it from ``EXPERIMENTAL_BUILDKIT_SOURCE_POLICY``; each
rule converts ``docker-image://name:tag`` (the normalised identifier BuildKit matches)
to ``docker-image://name:tag@sha256:...``.
"""

from __future__ import annotations

from typing import Any

from repro.jsonout import dumps_stable
from repro.lockfile import Lockfile

_SCHEME = "docker-image://"


def source_policy(lock: Lockfile) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for key in sorted(lock.images):
        image = lock.images[key]
        if image.tag is None or "@" in key:
            continue  # digest-only references are already immutable
        tagged = f"{image.name}:{image.tag}"
        rules.append(
            {
                "action": "CONVERT",
                "selector": {"identifier": f"{_SCHEME}{tagged}"},
                "updates": {"identifier": f"{_SCHEME}{tagged}@{image.digest}"},
            }
        )
    return {"rules": rules}


def source_policy_json(lock: Lockfile) -> str:
    return dumps_stable(source_policy(lock))
