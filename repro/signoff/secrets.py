"""Secret detection on text and file names. Findings carry a masked value, never the secret.

Patterns: PEM private keys, GitHub tokens (ghp_/gho_/ghs_/ghu_/ghr_/github_pat_), AWS
access key ids (AKIA/ASIA) and secret keys in credential files, GCP service-account keys,
and generic ``password=``-style assignments. File names: ``.env`` files, AWS/GCP
credential files, SSH private keys, ``.git-credentials``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from repro.masking import AWS_ACCESS_KEY_ID, GITHUB_TOKEN
from repro.masking import mask_value as mask


@dataclass(frozen=True)
class Finding:
    kind: str  # what it looks like: "private key (PEM)", "GitHub token", ...
    masked: str  # the value as repro.masking shows it: sha256:<8 hex>…(N chars)


_PEM = re.compile(
    rb"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----\s*([A-Za-z0-9+/=]{4,})?"
)
_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub token", GITHUB_TOKEN),
    ("AWS access key id", AWS_ACCESS_KEY_ID),
)
_AWS_SECRET = re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?([A-Za-z0-9/+=]{20,})")
_GCP_KEY = re.compile(r'"type"\s*:\s*"service_account"')
# KEY=VALUE / KEY: VALUE where the key names a secret and the value is a literal.
_ASSIGNMENT = re.compile(
    r"(?im)^(?![ \t]*[#;])[^\n=]*?\b([A-Z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key"
    r"|access[_-]?key))\s*=\s*['\"]?([^\s'\"$;&|)]{4,})"
)
_PLACEHOLDERS = frozenset({"none", "null", "true", "false", "changeme", "example", "xxxx"})

CONFIG_SUFFIXES = (".env", ".ini", ".cfg", ".conf", ".properties", ".toml", ".yaml", ".yml")
SECRET_FILE_NAMES = {
    ".git-credentials": "git credentials file",
    "id_rsa": "SSH private key file",
    "id_ecdsa": "SSH private key file",
    "id_ed25519": "SSH private key file",
    "id_dsa": "SSH private key file",
    "application_default_credentials.json": "GCP credentials file",
}
_ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})


def _is_example(value: str) -> bool:
    return "EXAMPLE" in value.upper() or value.lower() in _PLACEHOLDERS


def scan_text(text: str, *, assignments: bool = True) -> list[Finding]:
    """Token patterns (always) and ``password=``-style assignments (when asked) in text."""
    findings: list[Finding] = []
    for kind, pattern in _TOKENS:
        for match in pattern.finditer(text):
            if not _is_example(match.group(1)):
                findings.append(Finding(kind, mask(match.group(1))))
    for match in _AWS_SECRET.finditer(text):
        findings.append(Finding("AWS secret access key", mask(match.group(1))))
    if assignments:
        for match in _ASSIGNMENT.finditer(text):
            value = match.group(2)
            if _is_example(value) or value.startswith("{"):
                continue
            findings.append(Finding(f"secret assignment ({match.group(1)}=)", mask(value)))
    return _unique(findings)


def scan_env_entry(entry: str) -> list[Finding]:
    """An ``Env`` entry ``KEY=VALUE``: a secret-named key with a literal value, or a token."""
    key, sep, value = entry.partition("=")
    if not sep:
        return []
    return scan_text(f"{key}={value}") if value else []


def scan_content(path: str, head: bytes) -> list[Finding]:
    """The start of a file: private keys everywhere; tokens in text; assignments in configs."""
    findings: list[Finding] = []
    for match in _PEM.finditer(head):
        body = (match.group(2) or b"").decode("ascii", "replace")
        findings.append(Finding(f"private key (PEM {match.group(1).decode()})", mask(body)))
    if b"\0" in head[:1024]:
        return findings  # binary: only a PEM block is worth reporting
    text = head.decode("utf-8", "replace")
    base = posixpath.basename(path)
    config_like = base.startswith(".env") or base.endswith(CONFIG_SUFFIXES)
    findings.extend(scan_text(text, assignments=config_like))
    if base.endswith(".json") and _GCP_KEY.search(text) and '"private_key"' in text:
        findings.append(Finding("GCP service-account key", mask(base)))
    return _unique(findings)


def secret_file_kind(path: str) -> str | None:
    """What a file is by its name alone: a ``.env`` file or a credentials file."""
    base = posixpath.basename(path)
    if base == ".env" or (base.startswith(".env.") and base not in _ENV_TEMPLATES):
        return ".env file"
    if path.endswith("/.aws/credentials"):
        return "AWS credentials file"
    if path.endswith("/gcloud/credentials.db"):
        return "GCP credentials file"
    return SECRET_FILE_NAMES.get(base)


def wants_content(path: str, size: int) -> int:
    """How much of a file to read for the content scan (a PeekPolicy)."""
    if size == 0 or size > 4 << 20:
        return 0
    if path.startswith(("/usr/share/zoneinfo/", "/usr/share/locale/", "/usr/lib/locale/")):
        return 0
    return 64 << 10


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
