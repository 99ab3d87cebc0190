"""Secret masking: the one place that decides what looks secret and how it is shown.

A value that looks secret is shown as ``sha256:<8 hex>…(N chars)``: enough to tell two
values apart (and to check one against a value you hold), never the value itself.
What looks secret:
  - the value of a key whose name contains PASSWORD, PASSWD, TOKEN, SECRET or KEY (any
    case): ``DB_PASSWORD=...`` in an Env entry, a build argument, a label, a history
    line, ``--build-arg API_TOKEN=...`` on a command line, a JSON table's ``"api_key"``;
  - the credentials patterns the sign-off secret scan reports (repro.signoff.secrets):
    GitHub tokens, AWS access key ids, the body of a PEM private key;
  - the password in a URL (``https://user:PASSWORD@host``).

Every output that can carry image or build data passes through here: compare and verify
(their differences and records), signoff (every format and the signed predicate), the
build progress lines, and error messages with a build log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

KEY_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY")
MASK_PREFIX = "sha256:"

# The credential patterns; repro.signoff.secrets scans with these same expressions.
GITHUB_TOKEN = re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")
AWS_ACCESS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b")
PEM_PRIVATE_KEY = re.compile(
    r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----)"
    r"([\s\S]*?)(?=-----END |\Z)"
)
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub token", GITHUB_TOKEN),
    ("AWS access key id", AWS_ACCESS_KEY_ID),
)

_MASKED = re.compile(r"sha256:[0-9a-f]{8}…\(\d+ chars\)")
_KEY_CHARS = r"[A-Za-z0-9_.-]"
# A whole ``KEY=VALUE`` string (an Env entry, a build argument): the value is all of it.
_WHOLE_ASSIGNMENT = re.compile(rf"({_KEY_CHARS}+)=(.*)", re.DOTALL)
_ANOTHER_ASSIGNMENT = re.compile(rf"\s{_KEY_CHARS}+=")
# ``KEY=VALUE`` inside a line: the value runs to the next blank or quote, or is quoted.
_ASSIGNMENT = re.compile(
    rf"(?<![A-Za-z0-9_.-])({_KEY_CHARS}*(?i:{'|'.join(KEY_WORDS)}){_KEY_CHARS}*)"
    r"""([ \t]*=[ \t]*)(sha256:[0-9a-f]{8}…\(\d+ chars\)|"[^"\n]*"|'[^'\n]*'|[^\s"'`;&|)]+)"""
)
# ``"api_key": "VALUE"`` in JSON or YAML-like text.
_QUOTED_KEY = re.compile(
    rf"""(["']{_KEY_CHARS}*(?i:{"|".join(KEY_WORDS)}){_KEY_CHARS}*["'][ \t]*:[ \t]*)"""
    r"""("[^"\n]*"|'[^'\n]*')"""
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@]+:)([^\s/@]+)(@)")


def mask_value(value: str) -> str:
    """``sha256:<8 hex>…(N chars)``: the value hashed, never shown."""
    if _MASKED.fullmatch(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{MASK_PREFIX}{digest}…({len(value)} chars)"


def is_secret_key(name: str) -> bool:
    """A key, variable or argument name that says its value is secret."""
    upper = name.upper()
    return any(word in upper for word in KEY_WORDS)


def _keeps(value: str) -> bool:
    """Values that show nothing: empty, a variable reference, or already masked."""
    return not value or value.startswith("$") or bool(_MASKED.fullmatch(value))


# In running text, ``KEY=VALUE`` is often a placeholder (``--build-arg KEY=VALUE``).
_PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*[,.:]?|<[^<>]*>[,.:]?")


def _mask_assignment(match: re.Match[str]) -> str:
    key, equals, value = match.group(1), match.group(2), match.group(3)
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] else ""
    inner = value[1:-1] if quote else value
    if _keeps(inner) or _PLACEHOLDER.fullmatch(inner):
        return match.group(0)
    return f"{key}{equals}{quote}{mask_value(inner)}{quote}"


def _mask_quoted(match: re.Match[str]) -> str:
    value = match.group(2)
    if _keeps(value[1:-1]):
        return match.group(0)
    return f"{match.group(1)}{value[0]}{mask_value(value[1:-1])}{value[0]}"


def _mask_pem(match: re.Match[str]) -> str:
    body = match.group(2)
    if not body.strip() or _MASKED.search(body):
        return match.group(0)
    return f"{match.group(1)}{mask_value(body.strip())}\n"


def mask_text(text: str) -> str:
    """``text`` with every value that looks secret masked (see the module docstring)."""
    whole = _WHOLE_ASSIGNMENT.fullmatch(text)
    if (
        whole is not None
        and is_secret_key(whole.group(1))
        and not _ANOTHER_ASSIGNMENT.search(whole.group(2))
    ):
        if _keeps(whole.group(2)):
            return text
        return f"{whole.group(1)}={mask_value(whole.group(2))}"
    if "PRIVATE KEY-----" in text:
        text = PEM_PRIVATE_KEY.sub(_mask_pem, text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    text = _QUOTED_KEY.sub(_mask_quoted, text)
    text = _URL_PASSWORD.sub(
        lambda m: m.group(0) if _keeps(m.group(2)) else m.group(1) + mask_value(m.group(2)) + "@",
        text,
    )
    for _kind, pattern in TOKEN_PATTERNS:
        text = pattern.sub(lambda m: mask_value(m.group(1)), text)
    return text


def mask_json(value: Any) -> Any:
    """A JSON-like value with secrets masked: string values of secret-named keys, and
    every string through mask_text. Other values are returned as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {
            key: mask_value(item)
            if isinstance(key, str)
            and is_secret_key(key)
            and isinstance(item, str)
            and not _keeps(item)
            else mask_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_json(item) for item in value]
    return value


def mask_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """Build arguments and the like: a secret-named key's value masked, others scanned."""
    return {
        key: mask_value(value) if is_secret_key(key) and not _keeps(value) else mask_text(value)
        for key, value in values.items()
    }


def masked_keys(values: Mapping[str, str]) -> list[str]:
    """The keys whose values mask_mapping changes, sorted."""
    shown = mask_mapping(values)
    return sorted(key for key, value in values.items() if shown[key] != value)


def count_masked(text: str) -> int:
    """How many masked values ``text`` shows."""
    return len(_MASKED.findall(text))


# Known values shorter than this are left to the patterns: replacing every "ab" in a
# build log would hide the log, not a secret.
MIN_KNOWN_LENGTH = 4


class Masker:
    """mask_text, and also every occurrence of values known to be secret (ARG defaults,
    build arguments) wherever they appear, as in BuildKit's expanded step names."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        values = sorted({v for v in known if len(v) >= MIN_KNOWN_LENGTH}, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, values))) if values else None

    def text(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(lambda m: mask_value(m.group(0)), text)
        return mask_text(text)


def secret_arguments(values: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the secret-named entries of ``values`` (build arguments)."""
    return tuple(value for key, value in values.items() if is_secret_key(key) and value)
