"""Key files as the user gives them, and their password, as cosign takes it.

The password of an encrypted key (cosign's ``ENCRYPTED SIGSTORE PRIVATE KEY``) is
``COSIGN_PASSWORD`` when it is set (the empty string is a password, as in cosign), else
asked on the terminal; with neither, exit 2 saying to set it. Keys and passwords are
never printed; a wrong password is exit 2 in one line (repro.release.keys).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from repro.errors import InputError
from repro.fsutil import read_regular_file
from repro.release import keys

PASSWORD_ENV = "COSIGN_PASSWORD"  # noqa: S105 (the variable's name, not a password)


def password(*, confirm: bool = False, what: str = "the private key") -> bytes:
    """``COSIGN_PASSWORD``, else asked on the terminal (twice with ``confirm``)."""
    found = os.environ.get(PASSWORD_ENV)
    if found is not None:
        return found.encode("utf-8")
    if not sys.stdin.isatty():
        raise InputError(
            f"{what} needs a password and there is no terminal to ask for it",
            hint=f"set {PASSWORD_ENV} (it may be empty, as for cosign)",
        )
    answer: str = typer.prompt(
        f"Enter password for {what}",
        hide_input=True,
        confirmation_prompt=confirm,
        default="",
        show_default=False,
        err=True,
    )
    return answer.encode("utf-8")


# A PEM key is a few hundred bytes; a FIFO or a device given as a key must not be read on.
MAX_KEY_BYTES = 1 << 20


def _read(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path} not found", hint="create a key pair with `repro keygen`")
    return read_regular_file(path, limit=MAX_KEY_BYTES)


def signing_key(path: Path) -> keys.SigningKey:
    """The private key in ``path``: cosign's encrypted format (the password as above),
    or an unencrypted PKCS#8/SEC1 key (what `repro keygen` wrote before)."""
    data = _read(path)
    secret = password(what=str(path)) if keys.is_encrypted(data) else None
    return keys.load_private_key(data, str(path), secret)


def verifying_key(path: Path) -> keys.VerifyingKey:
    return keys.load_public_key(_read(path), str(path))
