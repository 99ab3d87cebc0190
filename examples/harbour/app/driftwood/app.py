"""A WSGI app with a health endpoint and one page. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Driftwood</title></head>
<body>
<h1>Driftwood</h1>
<p>Tide tables for the harbour, served from a reproducible image.</p>
</body>
</html>
"""

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def application(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        body = json.dumps({"status": "ok"}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path == "/":
        body = PAGE.encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
