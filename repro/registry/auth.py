"""Registry credentials found where Docker and Podman keep them, and the auth vocabulary.

Credentials for a registry host (and repository, for per-repository entries), first
match wins, file by file:

1. ``$REGISTRY_AUTH_FILE`` (containers-auth.json), when set;
2. Docker's ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``);
3. ``$XDG_RUNTIME_DIR/containers/auth.json`` (where ``podman login`` writes);
4. ``$XDG_CONFIG_HOME/containers/auth.json`` (default ``~/.config/containers/auth.json``).

Within a file, as Docker reads it: ``credHelpers[host]``, then ``credsStore``, then
``auths`` (``auth`` = base64 ``user:password``, ``username``/``password``,
``identitytoken``: a refresh token for the registry's token service). A helper is
``docker-credential-<name> get``; a ``<token>`` username means its secret is an
identity token.

Secrets travel as ``Secret``, whose repr and str never show the value: a credential can
reach an exception, a log or a report only masked. ``Credential.source`` says where it
came from, for `repro doctor` and for error messages.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from repro.errors import InputError

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
HELPER_TIMEOUT = 10.0


class Secret:
    """A password or token: ``reveal()`` gives it; repr and str never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"<secret, {len(self._value)} chars>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True)
class Credential:
    """A login for one registry. ``identity_token`` replaces the password with the token
    service (OAuth2 refresh token); ``source`` names the file or helper it came from."""

    username: str
    password: Secret
    source: str
    identity_token: Secret | None = None

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


# --- where credentials live ----------------------------------------------------------------


@dataclass(frozen=True)
class AuthFile:
    path: Path
    kind: str  # "docker config" | "containers auth.json" | "REGISTRY_AUTH_FILE"


def auth_files(environment: Mapping[str, str] | None = None) -> list[AuthFile]:
    """The files credentials are read from, in the order they are tried."""
    env = os.environ if environment is None else environment
    home = Path(env.get("HOME") or Path.home())
    files: list[AuthFile] = []
    explicit = env.get("REGISTRY_AUTH_FILE")
    if explicit:
        files.append(AuthFile(Path(explicit), "REGISTRY_AUTH_FILE"))
    docker_dir = env.get("DOCKER_CONFIG")
    docker = (Path(docker_dir) if docker_dir else home / ".docker") / "config.json"
    files.append(AuthFile(docker, "docker config"))
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        files.append(AuthFile(Path(runtime) / "containers" / "auth.json", "containers auth.json"))
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    files.append(AuthFile(config_home / "containers" / "auth.json", "containers auth.json"))
    unique: dict[Path, AuthFile] = {}
    for found in files:
        unique.setdefault(found.path, found)
    return list(unique.values())


@dataclass(frozen=True)
class HelperAnswer:
    username: str
    secret: Secret


HelperRunner = Callable[[str, str], HelperAnswer | None]  # (helper suffix, server) -> answer


def run_credential_helper(suffix: str, server: str) -> HelperAnswer | None:
    """``docker-credential-<suffix> get`` with ``server`` on stdin; None when it has none.

    A helper that is missing or fails is an environment error (exit 3): the user's
    configuration names it, so silently going anonymous would hide the problem. Its
    output is never shown (it holds the secret).
    """
    import shutil
    import subprocess

    from repro.errors import EnvironmentProblem

    binary = shutil.which(f"docker-credential-{suffix}")
    if binary is None:
        raise EnvironmentProblem(
            f"the credential helper docker-credential-{suffix} (for {server}) is not installed",
            hint="install it, or remove it from credHelpers/credsStore in the docker config",
        )
    try:
        proc = subprocess.run(
            [binary, "get"],
            input=server.encode(),
            capture_output=True,
            check=False,
            timeout=HELPER_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem(
            f"the credential helper docker-credential-{suffix} did not answer for {server} "
            f"within {HELPER_TIMEOUT:.0f} s"
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(
            f"the credential helper docker-credential-{suffix} cannot run: {exc.strerror}"
        ) from exc
    if proc.returncode != 0:
        if b"credentials not found" in proc.stdout + proc.stderr:
            return None
        raise EnvironmentProblem(
            f"the credential helper docker-credential-{suffix} failed for {server} "
            f"(exit {proc.returncode})"
        )
    try:
        payload = json.loads(proc.stdout)
    except (ValueError, RecursionError) as exc:
        raise EnvironmentProblem(
            f"the credential helper docker-credential-{suffix} answered something that is not JSON"
        ) from exc
    user, secret = (
        (payload.get("Username"), payload.get("Secret")) if isinstance(payload, dict) else (0, 0)
    )
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    return HelperAnswer(user, Secret(secret))


def _key_host_and_path(key: str) -> tuple[str, str]:
    """An ``auths`` key (``host``, ``https://host/v1/``, ``host/ns/repo``) as (host, path)."""
    text = key.strip()
    if "://" in text:
        parts = urlsplit(text)
        host, path = parts.netloc, parts.path
    else:
        host, _, path = text.partition("/")
    path = path.strip("/")
    if path in ("v1", "v2"):
        path = ""
    host = host.lower()
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
    return host, path


def _normal_host(host: str) -> str:
    host = host.lower()
    return "docker.io" if host in DOCKER_HUB_HOSTS else host


def _helper_server(host: str) -> str:
    return DOCKER_HUB_AUTH_KEY if _normal_host(host) == "docker.io" else host


@dataclass
class CredentialStore:
    """Finds the credential for a host the way Docker and Podman do (see the module doc).

    ``environment`` and ``run_helper`` default to the real ones; tests pass their own.
    Files are read once per store.
    """

    environment: Mapping[str, str] | None = None
    run_helper: HelperRunner = run_credential_helper
    _files: dict[Path, dict[str, Any] | None] = field(default_factory=dict, init=False)

    def files(self) -> list[AuthFile]:
        return auth_files(self.environment)

    def _read(self, found: AuthFile) -> dict[str, Any] | None:
        if found.path not in self._files:
            self._files[found.path] = _load_json_file(found)
        return self._files[found.path]

    def find(self, host: str, repository: str | None = None) -> Credential | None:
        for found in self.files():
            data = self._read(found)
            if data is None:
                continue
            credential = self._in_file(data, found, host, repository)
            if credential is not None:
                return credential
        return None

    def _in_file(
        self, data: Mapping[str, Any], found: AuthFile, host: str, repository: str | None
    ) -> Credential | None:
        wanted = _normal_host(host)
        helpers = data.get("credHelpers")
        if isinstance(helpers, dict):
            for key, suffix in helpers.items():
                if (
                    isinstance(key, str)
                    and isinstance(suffix, str)
                    and suffix
                    and _key_host_and_path(key)[0] == wanted
                ):
                    return self._from_helper(suffix, key, f"credHelpers in {found.path}")
        store = data.get("credsStore")
        if isinstance(store, str) and store:
            credential = self._from_helper(
                store, _helper_server(host), f"credsStore in {found.path}"
            )
            if credential is not None:
                return credential
        auths = data.get("auths")
        if not isinstance(auths, dict):
            return None
        best: tuple[int, str, dict[str, Any]] | None = None
        for key, entry in auths.items():
            if not isinstance(key, str) or not isinstance(entry, dict):
                continue
            key_host, path = _key_host_and_path(key)
            if key_host != wanted:
                continue
            if path and (repository is None or not (repository + "/").startswith(path + "/")):
                continue
            if best is None or len(path) > best[0]:
                best = (len(path), key, entry)
        if best is None:
            return None
        return _from_entry(best[2], f"{found.path} ({found.kind}, auths[{best[1]!r}])", found)

    def _from_helper(self, suffix: str, server: str, where: str) -> Credential | None:
        answer = self.run_helper(suffix, server)
        if answer is None:
            return None
        source = f"docker-credential-{suffix} ({where})"
        if answer.username == "<token>":
            return Credential("", Secret(""), source, identity_token=answer.secret)
        return Credential(answer.username, answer.secret, source)


def _from_entry(entry: Mapping[str, Any], source: str, found: AuthFile) -> Credential | None:
    username, password = entry.get("username"), entry.get("password")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{found.path}: an `auth` entry is not base64 of user:password",
                hint="run `docker login` (or `podman login`) again",
            ) from exc
        if ":" not in decoded:
            raise InputError(f"{found.path}: an `auth` entry has no ':' between user and password")
        username, _, password = decoded.partition(":")
    token = entry.get("identitytoken")
    identity = Secret(token) if isinstance(token, str) and token else None
    if not isinstance(username, str):
        username = ""
    if not isinstance(password, str):
        password = ""
    if not username and not password and identity is None:
        return None  # an empty entry: docker writes these for credsStore logins
    return Credential(username, Secret(password), source, identity_token=identity)


def _load_json_file(found: AuthFile) -> dict[str, Any] | None:
    try:
        text = found.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, PermissionError):
            return None  # another user's file (a root-owned runtime dir): not ours to read
        raise InputError(f"{found.path}: cannot be read ({exc})") from exc
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"{found.path}: nested too deeply ({found.kind})") from None
    except ValueError as exc:
        raise InputError(
            f"{found.path}: not valid JSON ({found.kind}): {exc}",
            hint="fix the file, or log in again with `docker login` / `podman login`",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(f"{found.path}: not a JSON object ({found.kind})")
    return data


# --- challenges (RFC 7235 WWW-Authenticate) -------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower-case: "basic", "bearer", ...
    params: Mapping[str, str]  # parameter names lower-case

    def get(self, name: str) -> str | None:
        return self.params.get(name)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")


def parse_challenges(values: list[str]) -> list[Challenge]:
    """Every challenge in the WWW-Authenticate values (several per header, several
    headers). Unreadable parts are skipped; an empty list means none could be read."""
    found: list[Challenge] = []
    for value in values:
        found.extend(_parse_one_header(value))
    return found


def _parse_one_header(value: str) -> list[Challenge]:
    challenges: list[tuple[str, dict[str, str]]] = []
    position, length = 0, len(value)
    while position < length:
        while position < length and value[position] in " \t,":
            position += 1
        match = _TOKEN.match(value, position)
        if match is None:
            break  # garbage: keep what was read
        word, position = match.group(), match.end()
        after = position
        while after < length and value[after] in " \t":
            after += 1
        if after < length and value[after] == "=" and challenges:
            # name=value for the current challenge (a token68 ends with '=' and no value)
            position = after + 1
            while position < length and value[position] in " \t":
                position += 1
            if position < length and value[position] == '"':
                text, position = _quoted(value, position)
                if text is None:
                    break
            else:
                value_match = _TOKEN.match(value, position)
                text = value_match.group() if value_match else ""
                position = value_match.end() if value_match else position
            challenges[-1][1][word.lower()] = text
            continue
        challenges.append((word.lower(), {}))
        position = after
        token68 = _TOKEN68.match(value, position)
        if token68 and not _is_param_start(value, position):
            position = token68.end()
    return [Challenge(scheme, params) for scheme, params in challenges]


def _is_param_start(value: str, position: int) -> bool:
    match = _TOKEN.match(value, position)
    if match is None:
        return False
    rest = value[match.end() :].lstrip(" \t")
    return rest.startswith("=") and not rest.startswith("==")


def _quoted(value: str, position: int) -> tuple[str | None, int]:
    chars: list[str] = []
    position += 1
    while position < len(value):
        char = value[position]
        if char == "\\" and position + 1 < len(value):
            chars.append(value[position + 1])
            position += 2
            continue
        if char == '"':
            return "".join(chars), position + 1
        chars.append(char)
        position += 1
    return None, position  # unterminated


# --- scopes and tokens ----------------------------------------------------------------------


def repository_scope(repository: str, push: bool) -> str:
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


@dataclass(frozen=True)
class Token:
    value: Secret
    expires_at: float  # on the monotonic clock
    refresh_token: Secret | None = None


MIN_TOKEN_LIFETIME = 60  # seconds, the distribution token spec's default


def parse_token_response(body: bytes, now: float) -> Token | None:
    """A token service's answer: ``token`` or ``access_token``, ``expires_in`` (60 s when
    absent or shorter, as Docker does). None when the body holds no token."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("token") or data.get("access_token")
    if not isinstance(value, str) or not value:
        return None
    lifetime = data.get("expires_in")
    seconds = lifetime if isinstance(lifetime, int) and not isinstance(lifetime, bool) else 0
    refresh = data.get("refresh_token")
    return Token(
        Secret(value),
        now + max(seconds, MIN_TOKEN_LIFETIME),
        Secret(refresh) if isinstance(refresh, str) and refresh else None,
    )


@dataclass
class TokenCache:
    """Tokens by (realm, service, scopes) until a little before they expire."""

    clock: Callable[[], float] = time.monotonic
    margin: float = 5.0
    _tokens: dict[tuple[str, str, tuple[str, ...]], Token] = field(default_factory=dict)

    def get(self, realm: str, service: str, scopes: tuple[str, ...]) -> Token | None:
        token = self._tokens.get((realm, service, scopes))
        if token is None or token.expires_at - self.margin <= self.clock():
            return None
        return token

    def put(self, realm: str, service: str, scopes: tuple[str, ...], token: Token) -> None:
        self._tokens[(realm, service, scopes)] = token

    def drop(self, realm: str, service: str, scopes: tuple[str, ...]) -> None:
        self._tokens.pop((realm, service, scopes), None)
