"""The seam between the registry client and the network: one HTTP exchange at a time.

``Transport`` is the Protocol the client talks to; ``Urllib3Transport`` is the real one
(the only importer of urllib3), and unit tests hand the client a transport that serves
canned responses with no socket. A transport does no retries, follows no redirect,
decodes no ``Content-Encoding`` and knows nothing of auth: all of that is the client's,
so it is the same whatever serves the bytes.

Failures below HTTP are a ``TransportError`` with a ``Failure`` kind, so the client can
say what failed (DNS, TCP connect, TLS verification, a server that does not speak TLS, a
timeout) without parsing library messages.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit


class Failure(StrEnum):
    DNS = "DNS lookup failed"
    CONNECT = "TCP connect failed"
    TLS_VERIFY = "TLS certificate verification failed"
    NOT_TLS = "the server does not speak TLS"
    TLS = "TLS handshake failed"
    TIMEOUT = "timed out"
    PROXY = "the proxy failed"
    BROKEN = "the connection broke"


class TransportError(Exception):
    """An exchange that failed below HTTP. ``detail`` is safe to show (no secret)."""

    def __init__(self, failure: Failure, detail: str, *, host: str = "") -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
        self.host = host


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def host(self) -> str:
        """``name[:port]`` as the URL spells it."""
        return urlsplit(self.url).netloc


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively (repeated headers joined by ', ')."""

    def __init__(self, pairs: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs or [])
        merged: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._values = merged
        self._all: dict[str, list[str]] = {}
        for name, value in items:
            self._all.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get_all(self, name: str) -> list[str]:
        """Every value of a header sent more than once (WWW-Authenticate may be)."""
        return list(self._all.get(name.lower(), []))


class HttpResponse(Protocol):
    """A response whose body has not been read yet."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Headers: ...

    def read(self, amount: int, timeout: float) -> bytes:
        """Up to ``amount`` bytes as they arrive, waiting at most ``timeout`` seconds;
        ``b""`` at the end. Raises TransportError (TIMEOUT, BROKEN)."""
        ...

    def close(self) -> None: ...


class Transport(Protocol):
    def send(self, request: HttpRequest, *, timeout: float, verify: bool = True) -> HttpResponse:
        """Send ``request`` and wait at most ``timeout`` seconds for connect and headers.

        ``verify=False`` skips certificate verification (registries listed as
        insecure). Raises TransportError; any HTTP status is a response."""
        ...


# --- the real transport ------------------------------------------------------------------

ContextFor = Callable[[str, bool], ssl.SSLContext]  # (host, verify) -> context


def proxy_for(url: str, environment: Mapping[str, str] | None = None) -> str | None:
    """The proxy HTTPS_PROXY/HTTP_PROXY name for ``url``, unless NO_PROXY exempts its host.

    The lower-case spellings win, as curl and Python's urllib read them.
    """
    parts = urlsplit(url)
    proxies = (
        urllib.request.getproxies_environment()
        if environment is None
        else {
            key.lower().removesuffix("_proxy"): value
            for key, value in sorted(environment.items(), key=lambda item: item[0].islower())
            if key.lower().endswith("_proxy") and value
        }
    )
    proxy = proxies.get(parts.scheme)
    if not proxy:
        return None
    no_proxy = proxies.get("no", "")
    if no_proxy == "*" or _bypassed(parts.hostname or "", parts.port, no_proxy):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _bypassed(hostname: str, port: int | None, no_proxy: str) -> bool:
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if not entry:
            continue
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and port is not None and entry_port != str(port):
            continue
        name = name.lstrip(".").lstrip("*.")
        host = hostname.lower()
        if host == name or host.endswith("." + name):
            return True
    return False


class _Urllib3Response:
    def __init__(self, response: Any, host: str) -> None:
        self._response = response
        self._host = host
        self.status: int = response.status
        self.headers = Headers(list(response.headers.items()))

    def read(self, amount: int, timeout: float) -> bytes:
        from urllib3.exceptions import HTTPError, ProtocolError, ReadTimeoutError

        connection = self._response.connection
        sock = getattr(connection, "sock", None)
        if sock is not None:
            sock.settimeout(max(timeout, 0.001))
        try:
            data: bytes = self._response.read1(amount, decode_content=False)
        except (ReadTimeoutError, TimeoutError) as exc:
            raise TransportError(Failure.TIMEOUT, "no data", host=self._host) from exc
        except (ProtocolError, HTTPError, OSError) as exc:
            raise TransportError(Failure.BROKEN, _summary(exc), host=self._host) from exc
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._response.close()
        with contextlib.suppress(Exception):
            self._response.release_conn()


class Urllib3Transport:
    """HTTP(S) through urllib3: pooled keep-alive connections, proxies from the
    environment, a TLS context per registry host from ``context_for``.

    urllib3 is told to retry nothing, follow nothing and decode nothing.
    """

    def __init__(
        self,
        context_for: ContextFor,
        *,
        connect_timeout: float = 10.0,
        pool_size: int = 8,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self._context_for = context_for
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._environment = environment
        self._lock = threading.Lock()
        self._managers: dict[tuple[str, str, bool, str | None], Any] = {}

    def _manager(self, scheme: str, host: str, verify: bool, proxy: str | None) -> Any:
        import urllib3

        key = (scheme, host, verify, proxy)
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                options: dict[str, Any] = {
                    "maxsize": self._pool_size,
                    "block": False,
                    "retries": False,
                }
                if scheme == "https":
                    context = self._context_for(host, verify)
                    options["ssl_context"] = context
                    if not verify:
                        options["cert_reqs"] = "CERT_NONE"
                        options["assert_hostname"] = False
                if proxy is None:
                    manager = urllib3.PoolManager(num_pools=4, **options)
                else:
                    manager = urllib3.ProxyManager(proxy, num_pools=4, **options)
                self._managers[key] = manager
            return manager

    def send(self, request: HttpRequest, *, timeout: float, verify: bool = True) -> HttpResponse:
        import urllib3
        from urllib3 import exceptions as errors

        parts = urlsplit(request.url)
        host = parts.netloc
        proxy = proxy_for(request.url, self._environment)
        manager = self._manager(parts.scheme, host, verify, proxy)
        limit = max(timeout, 0.001)
        try:
            response = manager.request(
                request.method,
                request.url,
                body=request.body,
                headers=dict(request.headers),
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=urllib3.Timeout(connect=min(self._connect_timeout, limit), read=limit),
            )
        except errors.NameResolutionError as exc:
            raise TransportError(
                Failure.DNS, f"cannot resolve {parts.hostname}", host=host
            ) from exc
        except errors.NewConnectionError as exc:  # before ConnectTimeoutError: a subclass
            raise TransportError(Failure.CONNECT, _summary(exc), host=host) from exc
        except errors.ConnectTimeoutError as exc:
            raise TransportError(Failure.TIMEOUT, "connecting", host=host) from exc
        except errors.ReadTimeoutError as exc:
            raise TransportError(Failure.TIMEOUT, "waiting for the answer", host=host) from exc
        except errors.ProxyError as exc:
            raise TransportError(Failure.PROXY, f"{proxy}: {_summary(exc)}", host=host) from exc
        except errors.SSLError as exc:
            raise _tls_error(exc, host) from exc
        except (errors.HTTPError, OSError) as exc:
            cause = _root(exc)
            if isinstance(cause, ssl.SSLError):
                raise _tls_error(cause, host) from exc
            if isinstance(cause, TimeoutError | socket.timeout):
                raise TransportError(Failure.TIMEOUT, "waiting for the answer", host=host) from exc
            raise TransportError(Failure.BROKEN, _summary(exc), host=host) from exc
        return _Urllib3Response(response, host)


def _root(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or exc.__context__
        if inner is None and exc.args and isinstance(exc.args[-1], BaseException):
            inner = exc.args[-1]
        if inner is None:
            break
        exc = inner
    return exc


def _tls_error(exc: BaseException, host: str) -> TransportError:
    cause = _root(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return TransportError(Failure.TLS_VERIFY, cause.verify_message or str(cause), host=host)
    text = str(cause)
    if isinstance(cause, ssl.SSLError) and cause.reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST"):
        return TransportError(Failure.NOT_TLS, "it answered in plain HTTP", host=host)
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return TransportError(Failure.NOT_TLS, "it answered in plain HTTP", host=host)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return TransportError(Failure.TLS_VERIFY, text, host=host)
    return TransportError(Failure.TLS, _summary(cause), host=host)


def _summary(exc: BaseException) -> str:
    """A one-line reason without the library's object reprs."""
    cause = _root(exc)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    text = str(cause).strip() or type(cause).__name__
    return text.split(": ", 1)[-1] if "object at 0x" in text else text
