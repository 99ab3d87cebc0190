"""Multi-stage: the final image carries no compilers, headers, or build caches."""

from __future__ import annotations

import posixpath
import re

from repro.signoff.context import CheckContext
from repro.signoff.facts import ImageFacts
from repro.signoff.model import CheckResult, Status
from repro.signoff.units import human_bytes

ID = "no-build-toolchain"
TITLE = "Final image carries no build toolchain, dev headers or build caches"
FIX = (
    "Build in a separate stage and COPY --from only the artifacts (a venv, a binary) into "
    "a -slim/distroless base; install with --no-cache-dir or a cache mount."
)
BIN_DIRS = ("/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin")
_TOOL = re.compile(
    r"^(?:[a-z0-9_]+-linux-gnu-)?(gcc|g\+\+|cc|c\+\+|cpp|ld|ld\.bfd|ld\.gold|as|make|clang)"
    r"(?:-\d+(?:\.\d+)*)?$"
)
_DEV_PACKAGE = re.compile(r"^/var/lib/dpkg/info/([a-z0-9.+-]+-dev)(?::[a-z0-9]+)?\.list$")
CACHE_PREFIXES = ("/root/.cache/",)
_HOME_CACHE = re.compile(r"^/home/[^/]+/\.cache/")
MAX_LINES = 8


_RANK = ("gcc", "g++", "cc", "c++", "make", "ld", "clang", "as", "cpp")


def _tool_rank(path: str, tool: str) -> tuple[bool, int, str]:
    """Well-known names first (gcc before x86_64-linux-gnu-cpp-12), for short evidence."""
    prefixed = posixpath.basename(path) != tool
    return (prefixed, _RANK.index(tool) if tool in _RANK else len(_RANK), path)


def _scan(facts: ImageFacts) -> list[str]:
    tools: dict[str, tuple[int, str]] = {}  # path -> (layer, the tool its name is)
    dev_packages: list[str] = []
    headers = header_bytes = 0
    header_layers: set[int] = set()
    caches: dict[str, tuple[int, int]] = {}  # cache root -> (files, bytes)
    cache_layers: dict[str, set[int]] = {}  # cache root -> the layers its files are in
    docs: list[str] = []
    for path, file in facts.files.items():
        directory, base = posixpath.split(path)
        if directory in BIN_DIRS and (tool := _TOOL.match(base)) and file.kind != "directory":
            tools[path] = (file.layer, tool.group(1))
        elif path.startswith("/usr/include/") and file.kind == "file":
            headers += 1
            header_bytes += file.size
            header_layers.add(file.layer)
        elif path == "/usr/share/doc/build-essential":
            docs.append(f"{facts.layer_label(file.layer)}: {path} (the build-essential package)")
        elif (match := _DEV_PACKAGE.match(path)) is not None:
            dev_packages.append(match.group(1))
        elif file.kind == "file" and (path.startswith(CACHE_PREFIXES) or _HOME_CACHE.match(path)):
            parts = path.split("/")
            root = "/".join(parts[:4]) if parts[1] == "root" else "/".join(parts[:5])
            count, size = caches.get(root, (0, 0))
            caches[root] = (count + 1, size + file.size)
            cache_layers.setdefault(root, set()).add(file.layer)
    findings: list[str] = []
    by_layer: dict[int, list[str]] = {}
    for path, (layer, _) in sorted(tools.items(), key=lambda item: _tool_rank(item[0], item[1][1])):
        by_layer.setdefault(layer, []).append(path)
    for layer, paths in sorted(by_layer.items()):
        shown = ", ".join(paths[:6]) + (f" and {len(paths) - 6} more" if len(paths) > 6 else "")
        findings.append(f"{facts.layer_label(layer)}: compilers/build tools {shown}")
    findings.extend(docs)
    if headers:
        layers = ", ".join(str(n) for n in sorted(header_layers))
        findings.append(
            f"layer {layers}: {headers} header files under /usr/include "
            f"({human_bytes(header_bytes)})"
        )
    if dev_packages:
        shown = ", ".join(sorted(dev_packages)[:8])
        more = f" and {len(dev_packages) - 8} more" if len(dev_packages) > 8 else ""
        findings.append(
            f"/var/lib/dpkg/info: {len(dev_packages)} -dev packages installed: {shown}{more}"
        )
    for root, (count, size) in sorted(caches.items()):
        layers = ", ".join(str(n) for n in sorted(cache_layers[root]))
        findings.append(f"layer {layers}: build cache {root} ({count} files, {human_bytes(size)})")
    return findings


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    for facts in ctx.images:
        evidence.extend(ctx.where(facts, line) for line in _scan(facts))
    if evidence:
        return CheckResult(
            ID,
            TITLE,
            Status.FAIL,
            tuple(evidence),
            FIX,
            "build toolchain or caches ship in the final image",
        )
    return CheckResult(
        ID,
        TITLE,
        Status.PASS,
        summary="no compilers, /usr/include headers, -dev packages or build caches",
    )
