"""The adapter to skopeo: copy an OCI archive to a registry with its digests preserved.

skopeo is given what repro trusts and knows for the destination, never on its command
line: a private certificate directory (the CA files repro trusts for the host, client
certificates) for ``--dest-cert-dir``, and a private auth file (mode 0600, in a 0700
directory removed afterwards) for ``--dest-authfile``, so no password is visible in
``ps``. Plain HTTP only where repro itself speaks it (``--dest-tls-verify=false``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from repro.errors import EnvironmentProblem, RegistryError
from repro.registry.client import SkopeoAccess

PUSH_TIMEOUT = 600


def skopeo_arguments(access: SkopeoAccess, workspace: Path) -> list[str]:
    """The ``--dest-*`` flags for ``access``, writing the files they name in ``workspace``."""
    flags: list[str] = []
    if access.plain_http or not access.verify:
        flags.append("--dest-tls-verify=false")
    else:
        certs = workspace / "certs"
        certs.mkdir(mode=0o700)
        for number, path in enumerate(access.ca_files):
            shutil.copyfile(path, certs / f"repro-{number}.crt")
        for number, client in enumerate(access.client_certs):
            shutil.copyfile(client.cert, certs / f"client-{number}.cert")
            shutil.copyfile(client.key, certs / f"client-{number}.key")
        flags.append(f"--dest-cert-dir={certs}")
    authfile = workspace / "auth.json"
    entry: dict[str, str] = {}
    credential = access.credential
    if credential is not None:
        if credential.identity_token is not None:
            entry["identitytoken"] = credential.identity_token.reveal()
            if credential.username:
                entry["auth"] = base64.b64encode(f"{credential.username}:".encode()).decode()
        else:
            raw = f"{credential.username}:{credential.password.reveal()}".encode()
            entry["auth"] = base64.b64encode(raw).decode()
    descriptor = os.open(authfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"auths": {access.host: entry} if entry else {}}, handle)
    flags.append(f"--dest-authfile={authfile}")
    return flags


def push_oci_archive(archive: Path, reference: str, access: SkopeoAccess) -> None:
    """Push every manifest of ``archive`` to ``reference`` byte for byte.

    ``--preserve-digests`` makes skopeo fail rather than convert anything, so what the
    registry stores is exactly what was verified.
    """
    binary = shutil.which("skopeo")
    if binary is None:
        raise EnvironmentProblem(
            "skopeo is not installed, so the verified image cannot be pushed",
            hint="install skopeo (Debian/Ubuntu: apt-get install skopeo)",
        )
    with tempfile.TemporaryDirectory(prefix="repro-skopeo-") as temp:
        workspace = Path(temp)
        workspace.chmod(0o700)
        command = [
            binary,
            "copy",
            "--all",
            "--preserve-digests",
            "--quiet",
            *skopeo_arguments(access, workspace),
            f"oci-archive:{archive}",
            f"docker://{reference}",
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=PUSH_TIMEOUT
            )
        except subprocess.TimeoutExpired as exc:
            raise RegistryError(f"pushing to {reference} timed out after {PUSH_TIMEOUT} s") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise RegistryError(
            f"pushing to {reference} failed: {detail[-1] if detail else 'skopeo failed'}"
        )
