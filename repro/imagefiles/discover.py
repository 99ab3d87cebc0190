"""Which files are image files: pure rules over (relative path, bytes), no file system.

By name (``relative`` is posix, relative to the project root):

- ``compose*.y*ml``, ``docker-compose*.y*ml``: compose;
- ``docker-bake.hcl``, ``docker-bake.json``, ``docker-bake.override.hcl|json``: bake;
- ``.github/workflows/*.y*ml``: GitHub workflow;
- ``values*.y*ml``: Helm values;
- any other ``*.y*ml``: a Kubernetes candidate, which counts only if its documents parse
  as Kubernetes objects (scan_file decides; it returns None otherwise).

``exclude`` globs leave files (or whole directories) out; ``include`` globs add files
whose names the rules above do not know, their kind then sniffed from the content. A
glob without ``/`` matches a name at any depth (``*.k8s.yml``); with ``/`` it matches
from the root (``deploy/**/*.yaml``); ``**`` spans directories.

``worth_parsing`` is the cheap pre-filter: a file without any of the words its finder
looks for cannot hold a site, so it is not parsed at all.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass

from repro.imagefiles.model import FileKind

YAML_SUFFIXES = (".yaml", ".yml")
BAKE_FILES = {
    "docker-bake.hcl": FileKind.BAKE_HCL,
    "docker-bake.override.hcl": FileKind.BAKE_HCL,
    "docker-bake.json": FileKind.BAKE_JSON,
    "docker-bake.override.json": FileKind.BAKE_JSON,
}
# compose*.y*ml, docker-compose*.y*ml and values*.y*ml, as fnmatch reads them.
_COMPOSE_NAME = re.compile(r"(?:docker-)?compose.*\.y.*ml")
_VALUES_NAME = re.compile(r"values.*\.y.*ml")
_WORKFLOWS = "/.github/workflows/"
_WORDS: dict[FileKind, re.Pattern[bytes]] = {
    FileKind.COMPOSE: re.compile(rb"image|build"),
    FileKind.KUBERNETES: re.compile(rb"image"),
    FileKind.HELM_VALUES: re.compile(rb"(?i)image"),
    FileKind.WORKFLOW: re.compile(rb"image|container|docker://"),
}
_TOP_KEY = re.compile(rb"^(apiVersion|kind|services|jobs):", re.MULTILINE)


@dataclass(frozen=True)
class DiscoveryRules:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def kind_by_name(relative: str) -> FileKind | None:
    # String operations, not PurePosixPath: this runs for every file of a monorepo.
    name = relative.rpartition("/")[2]
    if name in BAKE_FILES:
        return BAKE_FILES[name]
    if not name.endswith(YAML_SUFFIXES):
        return None
    if f"/{relative}".endswith(_WORKFLOWS + name):
        return FileKind.WORKFLOW
    if _COMPOSE_NAME.fullmatch(name):
        return FileKind.COMPOSE
    if _VALUES_NAME.fullmatch(name):
        return FileKind.HELM_VALUES
    return FileKind.KUBERNETES


def may_be_image_file(relative: str, rules: DiscoveryRules = DiscoveryRules()) -> bool:
    """Whether reading the file is worth it at all (by name and globs only)."""
    if matches_any(relative, rules.exclude):
        return False
    return kind_by_name(relative) is not None or matches_any(relative, rules.include)


def classify(
    relative: str, data: bytes, rules: DiscoveryRules = DiscoveryRules()
) -> FileKind | None:
    """The kind of file to scan ``relative`` as, or None to leave it alone."""
    if matches_any(relative, rules.exclude):
        return None
    kind = kind_by_name(relative)
    if kind is None and matches_any(relative, rules.include):
        kind = sniff_kind(relative, data)
    return kind


def sniff_kind(relative: str, data: bytes) -> FileKind:
    """The kind of an included file with a name the rules do not know, from its text."""
    if relative.endswith(".hcl"):
        return FileKind.BAKE_HCL
    if relative.endswith(".json"):
        return FileKind.BAKE_JSON
    keys = {match.group(1) for match in _TOP_KEY.finditer(data)}
    if {b"apiVersion", b"kind"} <= keys:
        return FileKind.KUBERNETES
    if b"services" in keys:
        return FileKind.COMPOSE
    if b"jobs" in keys:
        return FileKind.WORKFLOW
    return FileKind.HELM_VALUES


def worth_parsing(kind: FileKind, data: bytes) -> bool:
    words = _WORDS.get(kind)
    return words is None or words.search(data) is not None


def matches_any(relative: str, patterns: tuple[str, ...]) -> bool:
    """Whether a glob matches ``relative`` or one of the directories it lies in."""
    if not patterns:
        return False
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for raw in patterns:
        pattern = raw.strip().removeprefix("./").strip("/")
        if not pattern:
            continue
        if "/" not in pattern:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
        elif any(_glob(pattern).fullmatch(prefix) for prefix in prefixes):
            return True
    return False


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    pieces: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            pieces.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            pieces.append(".*")
            index += 2
        elif pattern[index] == "*":
            pieces.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            pieces.append("[^/]")
            index += 1
        else:
            pieces.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(pieces))
