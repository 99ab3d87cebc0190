"""The real cosign 2.5 (Debian 13's, installed by scripts/setup) as the tests' oracle."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# The local registries speak plain HTTP.
PLAIN = ["--allow-insecure-registry", "--allow-http-registry"]
# A trusted root with nothing in it: verifying a bundle with --key needs no Sigstore
# instance, but cosign 2.5 otherwise fetches the public one over TUF (no network here).
EMPTY_TRUSTED_ROOT = '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}'


def run_cosign(
    *args: str, password: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """cosign with ``args``; COSIGN_PASSWORD is ``password`` (unset when None)."""
    env = {**os.environ, "COSIGN_YES": "true"}
    env.pop("COSIGN_PASSWORD", None)
    if password is not None:
        env["COSIGN_PASSWORD"] = password
    return subprocess.run(
        ["cosign", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=180
    )


def verify_attestation(
    image: str, public: Path, predicate_type: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`cosign verify-attestation --key PUBLIC --insecure-ignore-tlog --type T IMAGE`."""
    return run_cosign(
        "verify-attestation",
        "--key",
        str(public),
        "--insecure-ignore-tlog",
        *PLAIN,
        *extra,
        "--type",
        predicate_type,
        image,
    )
