"""Lossless Dockerfile parsing, image reference discovery and in-place rewriting.

``parse_dockerfile`` tokenizes without losing a byte, ``find_references`` locates every
image to pin (with the byte span to replace), ``parse_image_ref`` normalises a reference
the way docker does, and ``rewrite`` splices new text into exactly those spans.
"""

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
