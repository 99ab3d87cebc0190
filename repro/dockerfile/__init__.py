"""Lossless Dockerfile parsing, image reference discovery and in-place rewriting.

``parse_dockerfile`` tokenizes without losing a byte, ``find_references`` locates every
image to pin (with the byte span to replace), ``parse_image_ref`` normalises a reference
the way docker does, and ``rewrite`` splices new text into exactly those spans.

Names are loaded on first use: a caller that only normalises references (the hermetic
`lock --check` on files repro.lock already describes) does not pay for the parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repro.dockerfile.imageref import ImageRef, parse_image_ref
    from repro.dockerfile.model import (
        Directive,
        Dockerfile,
        Flag,
        Heredoc,
        Instruction,
        ParseWarning,
    )
    from repro.dockerfile.parser import parse_dockerfile
    from repro.dockerfile.references import ImageReference, ReferenceKind, find_references
    from repro.dockerfile.source import LocatedText
    from repro.dockerfile.span import Span, rewrite

_HOMES = {
    "ImageRef": "imageref",
    "parse_image_ref": "imageref",
    "Directive": "model",
    "Dockerfile": "model",
    "Flag": "model",
    "Heredoc": "model",
    "Instruction": "model",
    "ParseWarning": "model",
    "parse_dockerfile": "parser",
    "ImageReference": "references",
    "ReferenceKind": "references",
    "find_references": "references",
    "LocatedText": "source",
    "Span": "span",
    "rewrite": "span",
}

__all__ = [
    "Directive",
    "Dockerfile",
    "Flag",
    "Heredoc",
    "ImageRef",
    "ImageReference",
    "Instruction",
    "LocatedText",
    "ParseWarning",
    "ReferenceKind",
    "Span",
    "find_references",
    "parse_dockerfile",
    "parse_image_ref",
    "rewrite",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'repro.dockerfile' has no attribute {name!r}")
    value = getattr(import_module(f"repro.dockerfile.{home}"), name)
    globals()[name] = value
    return value
