"""The adapter to skopeo: copy an OCI archive to a registry with its digests preserved."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from repro.errors import EnvironmentProblem, RegistryError


def push_oci_archive(archive: Path, reference: str, *, plain_http: bool) -> None:
    """Push every manifest of ``archive`` to ``reference`` byte for byte.

    ``--preserve-digests`` makes skopeo fail rather than convert anything, so what the
    registry stores is exactly what was verified.
    """
    binary = shutil.which("skopeo")
    if binary is None:
        raise EnvironmentProblem(
            "skopeo is not installed, so the verified image cannot be pushed",
            hint="apt-get install skopeo",
        )
    command = [
        binary,
        "copy",
        "--all",
        "--preserve-digests",
        "--quiet",
        f"oci-archive:{archive}",
        f"docker://{reference}",
    ]
    if plain_http:
        command.append("--dest-tls-verify=false")
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    except subprocess.TimeoutExpired as exc:
        raise RegistryError(f"pushing to {reference} timed out") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise RegistryError(
            f"pushing to {reference} failed: {detail[-1] if detail else 'skopeo failed'}"
        )
