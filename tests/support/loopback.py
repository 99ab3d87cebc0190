"""A threaded HTTP(S) server on a loopback address, run on a background thread.

The base of the token issuer and the fake registry: daemon handler threads (a client that
hangs never keeps pytest alive), the TLS handshake done in the handler thread (a client
that never handshakes cannot block accept), and a `stopping` event that handlers which
wait on purpose (trickle, hang) watch so that `stop()` returns at once.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.stopping = threading.Event()
        self.owner: Any = None  # the object whose state the handlers serve
        self.tls_context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile=str(tls[0]), keyfile=str(tls[1]))
            self.tls_context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the handler thread: a slow or silent TLS client delays only itself.
        if self.tls_context is not None:
            try:
                request.settimeout(10)
                request = self.tls_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (OSError, ssl.SSLError):
                # A client that rejects our certificate (the point of some tests) or leaves.
                with contextlib.suppress(OSError):
                    request.close()
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or drop the connection on purpose are expected here.
        pass


class BackgroundServer:
    """Owns a LoopbackHTTPServer and the thread that serves it."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self._handler = handler
        self._host = host
        self._requested_port = port
        self._tls = tls
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = LoopbackHTTPServer(
            (self._host, self._requested_port), self._handler, tls=self._tls
        )
        server.owner = self
        self.port = server.server_address[1]
        self._requested_port = self.port  # a restart after stop() comes back on the same port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def stopping(self) -> threading.Event:
        if self._server is None:
            event = threading.Event()
            event.set()
            return event
        return self._server.stopping


class BodyTooLargeError(ValueError):
    pass


def read_request_body(handler: BaseHTTPRequestHandler, limit: int = 1 << 20) -> bytes:
    """The request body, by Content-Length or chunked (Go clients send forms chunked)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        parts: list[bytes] = []
        size = 0
        while True:
            line = handler.rfile.readline(1024)
            chunk_size = int(line.split(b";")[0].strip() or b"0", 16)
            if chunk_size == 0:
                while handler.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            size += chunk_size
            if size > limit:
                raise BodyTooLargeError(f"request body over {limit} bytes")
            parts.append(handler.rfile.read(chunk_size))
            handler.rfile.readline(1024)  # the CRLF after each chunk
    length = int(handler.headers.get("Content-Length") or 0)
    if length > limit:
        raise BodyTooLargeError(f"request body over {limit} bytes")
    return handler.rfile.read(length) if length else b""
