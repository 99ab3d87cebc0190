"""Which certificates repro trusts for a registry, found where Docker and Podman look.

For ``host[:port]``, in this order (every source adds to the others):

1. the OS trust store (truststore's rules: OpenSSL's default paths, else the first
   system bundle found; on macOS and Windows the native verifier through truststore);
2. ``certs.d/<host:port>/*.crt`` as Docker and containers/image read them, in
   ``/etc/docker/certs.d``, ``~/.docker/certs.d``, ``/etc/containers/certs.d`` and
   ``~/.config/containers/certs.d`` (``*.cert`` + ``*.key`` pairs there are client
   certificates, as for Docker);
3. ``[tool.repro] ca-files`` and ``REPRO_CA_FILE`` (a path, or several joined by ``:``),
   for every registry.

Each TLS context is built once per process and set of sources: loading the OS bundle
costs OpenSSL ~30-120 ms here, which truststore on Linux pays on every handshake.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPRO_CA_FILE = "REPRO_CA_FILE"
OS_STORE = "the OS trust store"


def default_certs_dirs(environment: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The certs.d roots Docker and containers/image read, system-wide ones first."""
    env = os.environ if environment is None else environment
    home = Path(env.get("HOME") or Path.home())
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    docker_config = env.get("DOCKER_CONFIG")
    roots = [
        Path("/etc/docker/certs.d"),
        (Path(docker_config) if docker_config else home / ".docker") / "certs.d",
        Path("/etc/containers/certs.d"),
        config / "containers" / "certs.d",
    ]
    return tuple(dict.fromkeys(roots))


@dataclass(frozen=True)
class ClientCertificate:
    cert: Path
    key: Path


@dataclass(frozen=True)
class HostTrust:
    """What repro trusts for one registry host, and where each piece came from."""

    host: str
    os_store: bool
    ca_files: tuple[Path, ...]  # certs.d first, then ca-files / REPRO_CA_FILE
    client_certs: tuple[ClientCertificate, ...]
    certs_d: tuple[Path, ...]  # the certs.d directories found for this host

    def sources(self) -> list[str]:
        found = [OS_STORE] if self.os_store else []
        found.extend(str(path) for path in self.ca_files)
        return found


@dataclass
class TrustSettings:
    """Where to look. The defaults are the user's; tests pass their own directories."""

    ca_files: tuple[Path, ...] = ()  # [tool.repro] ca-files, resolved against the config
    certs_dirs: tuple[Path, ...] | None = None  # None: default_certs_dirs()
    use_os_store: bool = True
    environment: Mapping[str, str] | None = None
    _contexts: dict[tuple[object, ...], ssl.SSLContext] = field(
        default_factory=dict, init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _env(self) -> Mapping[str, str]:
        return os.environ if self.environment is None else self.environment

    def env_ca_files(self) -> tuple[Path, ...]:
        value = self._env().get(REPRO_CA_FILE, "")
        return tuple(Path(part) for part in value.split(os.pathsep) if part)

    def for_host(self, host: str) -> HostTrust:
        roots = self.certs_dirs if self.certs_dirs is not None else default_certs_dirs(self._env())
        directories = [root / _dir_name(host) for root in roots]
        found_dirs = tuple(directory for directory in directories if directory.is_dir())
        cas: list[Path] = []
        clients: list[ClientCertificate] = []
        for directory in found_dirs:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for name in names:
                path = directory / name
                if name.endswith(".crt"):
                    cas.append(path)
                elif name.endswith(".cert"):
                    key = directory / (name[: -len(".cert")] + ".key")
                    if key.is_file():
                        clients.append(ClientCertificate(path, key))
        cas.extend(self.ca_files)
        cas.extend(self.env_ca_files())
        return HostTrust(
            host=host,
            os_store=self.use_os_store,
            ca_files=tuple(dict.fromkeys(cas)),
            client_certs=tuple(clients),
            certs_d=found_dirs,
        )

    def context(
        self,
        host: str,
        *,
        verify: bool = True,
        os_store: bool | None = None,
        ca_files: Sequence[Path] | None = None,
    ) -> ssl.SSLContext:
        """The TLS context for ``host`` (cached). ``os_store``/``ca_files`` narrow the
        trust to one source (how `repro doctor` tells which source verified a host)."""
        trust = self.for_host(host)
        use_os = trust.os_store if os_store is None else os_store
        cas = tuple(trust.ca_files if ca_files is None else ca_files)
        key = (verify, use_os, cas, trust.client_certs)
        with self._lock:
            cached = self._contexts.get(key)
            if cached is None:
                cached = build_context(
                    verify=verify, os_store=use_os, ca_files=cas, client_certs=trust.client_certs
                )
                self._contexts[key] = cached
            return cached


def _dir_name(host: str) -> str:
    # Docker names the directory after the registry as written: host, or host:port.
    return host.removesuffix(":443") if host.endswith(":443") else host


def build_context(
    *,
    verify: bool,
    os_store: bool,
    ca_files: Sequence[Path],
    client_certs: Sequence[ClientCertificate] = (),
) -> ssl.SSLContext:
    from repro.errors import InputError

    context: ssl.SSLContext
    if verify and os_store and sys.platform in ("darwin", "win32"):
        import truststore

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if verify and os_store:
            _load_os_store(context)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    for path in ca_files:
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                f"CA file {path} cannot be used: {getattr(exc, 'strerror', None) or exc}",
                hint="fix the path in [tool.repro] ca-files or REPRO_CA_FILE, "
                "or the file in certs.d",
            ) from exc
    for client in client_certs:
        try:
            context.load_cert_chain(certfile=str(client.cert), keyfile=str(client.key))
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"client certificate {client.cert} cannot be used: {exc}") from exc
    return context


_SYSTEM_BUNDLES = (  # truststore's candidates, when OpenSSL's default paths hold nothing
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)
_HASHED_NAME = re.compile(r"^[0-9a-fA-F]{8}\.[0-9]$")


def _load_os_store(context: ssl.SSLContext) -> None:
    defaults = ssl.get_default_verify_paths()
    capath_has_certs = bool(
        defaults.capath
        and os.path.isdir(defaults.capath)
        and any(_HASHED_NAME.match(name) for name in os.listdir(defaults.capath))
    )
    if defaults.cafile or capath_has_certs:
        context.set_default_verify_paths()
        return
    for bundle in _SYSTEM_BUNDLES:
        if os.path.isfile(bundle):
            context.load_verify_locations(cafile=bundle)
            return


# --- what a server presented (for error messages and doctor) ----------------------------


@dataclass(frozen=True)
class PresentedCertificate:
    subject: str
    issuer: str
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    not_before: datetime
    not_after: datetime

    def describe(self, now: datetime | None = None) -> str:
        moment = now or datetime.now(UTC)
        validity = f"valid {self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d}"
        if moment > self.not_after:
            validity = f"expired {self.not_after:%Y-%m-%d}"
        elif moment < self.not_before:
            validity = f"not valid before {self.not_before:%Y-%m-%d}"
        names = ", ".join(self.names) or "none"
        return f"subject {self.subject}, issuer {self.issuer}, names {names}, {validity}"


def parse_certificate(der: bytes) -> PresentedCertificate:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.extend(san.get_values_for_type(x509.DNSName))
        names.extend(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    return PresentedCertificate(
        subject=cert.subject.rfc4514_string() or "(empty)",
        issuer=cert.issuer.rfc4514_string() or "(empty)",
        names=tuple(names),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def fetch_presented_certificate(host: str, timeout: float = 5.0) -> PresentedCertificate | None:
    """The leaf certificate ``host`` presents, read without verifying it (only to say in an
    error or in `repro doctor` what was presented); None when it cannot be read."""
    import socket

    name, port = split_host(host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((name, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=name) as sock,
        ):
            der = sock.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    if not der:
        return None
    try:
        return parse_certificate(der)
    except ValueError:
        return None


def split_host(host: str, default_port: int = 443) -> tuple[str, int]:
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") else default_port
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, int(port)
    return host, default_port


def handshake_verifies(host: str, context: ssl.SSLContext, timeout: float = 5.0) -> bool:
    """Whether a TLS handshake with ``host`` verifies under ``context`` alone."""
    import socket

    name, port = split_host(host)
    try:
        with (
            socket.create_connection((name, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=name),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False
