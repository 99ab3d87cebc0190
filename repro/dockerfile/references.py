"""Find every image reference in a parsed Dockerfile, with the exact bytes to rewrite.

ARG scoping follows Docker: ARGs before the first FROM are global and feed FROM lines;
inside a stage only the stage's own ARGs (a bare ``ARG NAME`` re-imports a global one)
feed ``COPY --from`` and ``RUN --mount=from=``. A reference whose value depends on a
variable we cannot know is skipped, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from repro.dockerfile.expand import expand, needs_expansion, single_variable
from repro.dockerfile.model import Dockerfile, Instruction
from repro.dockerfile.source import LocatedText
from repro.dockerfile.span import Span
from repro.dockerfile.words import shell_words, split_whitespace

SCRATCH = "scratch"


class ReferenceKind(StrEnum):
    FROM = "from"  # FROM image
    COPY_FROM = "copy-from"  # COPY/ADD --from=image
    MOUNT_FROM = "mount-from"  # RUN --mount=...,from=image
    SYNTAX = "syntax"  # the # syntax= parser directive


@dataclass(frozen=True)
class ImageReference:
    """One image reference and where its text lives in the original bytes.

    ``span`` covers exactly the text to replace when pinning. When a FROM is just
    ``${VAR}`` of an ARG with a literal default, the span is that default inside the
    ARG line (``arg_name`` says which ARG), so pinning rewrites the ARG.
    """

    kind: ReferenceKind
    raw: str  # the text at ``span`` as written (quotes around it excluded)
    resolved: str  # after ARG substitution; what the build would pull
    span: Span
    line: int
    column: int
    via_arg: bool  # the reference was written with one or more variables
    arg_name: str | None  # set when ``span`` lies in this ARG's default value
    instruction_line: int  # the line of the instruction that uses the image
    platform: str | None = None  # FROM --platform, as written
    stage: str | None = None  # FROM ... AS name, as written
    # Why the value is unknown (an ARG without a default, an undefined variable); set
    # only with ``include_unresolved``, and then ``resolved`` is the text as written.
    unresolved: str | None = None


@dataclass(frozen=True)
class _PinSite:
    """The literal ARG default a variable's value comes from."""

    arg_name: str
    text: LocatedText


@dataclass(frozen=True)
class _Binding:
    value: str | None  # None: declared but its value is unknown
    pin_site: _PinSite | None


_UNKNOWN = _Binding(None, None)
_Scope = dict[str, _Binding]


def find_references(
    df: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    *,
    include_unresolved: bool = False,
) -> list[ImageReference]:
    """Every image reference in ``df`` in file order, stages and ``scratch`` left out.

    ``build_args`` override ARG defaults, as ``--build-arg`` does; like Docker they only
    apply to ARGs the Dockerfile declares. A FROM whose image depends on a variable with
    no known value is left out, unless ``include_unresolved``: then it is listed with
    ``unresolved`` saying why (the gate must see a base it cannot pin).
    """
    return _Finder(df, dict(build_args or {}), include_unresolved).run()


_MENTIONED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _why_unknown(word: str, scope: Mapping[str, _Binding]) -> str:
    reasons: list[str] = []
    for name in dict.fromkeys(_MENTIONED.findall(word)):
        binding = scope.get(name)
        if binding is None:
            reasons.append(f"${name} is not defined")
        elif binding.value is None:
            reasons.append(f"ARG {name} has no default")
    if not reasons:
        return "its value cannot be worked out from the Dockerfile"
    return "; ".join(reasons)


class _Finder:
    def __init__(self, df: Dockerfile, build_args: dict[str, str], unresolved: bool) -> None:
        self.df = df
        self.build_args = build_args
        self.include_unresolved = unresolved
        self.global_scope: _Scope = {}
        self.stage_scope: _Scope | None = None  # None until the first FROM
        self.stage_names: set[str] = set()  # lower-cased AS names seen so far
        self.found: list[ImageReference] = []

    def run(self) -> list[ImageReference]:
        syntax = self.df.directive("syntax")
        if syntax is not None:
            line, column = self.df.position(syntax.value_span.start)
            self.found.append(
                ImageReference(
                    kind=ReferenceKind.SYNTAX,
                    raw=syntax.value,
                    resolved=syntax.value,
                    span=syntax.value_span,
                    line=line,
                    column=column,
                    via_arg=False,
                    arg_name=None,
                    instruction_line=syntax.line,
                )
            )
        for instruction in self.df.instructions:
            command = instruction.command
            if command == "ARG":
                self._declare_args(instruction)
            elif command == "ENV" and self.stage_scope is not None:
                _shadow_env(instruction, self.stage_scope, self.df.escape)
            elif command == "FROM":
                self._from(instruction)
            elif command in ("COPY", "ADD"):
                for flag in instruction.flags_named("from"):
                    if flag.located_value is not None:
                        self._stage_or_image(
                            ReferenceKind.COPY_FROM, flag.located_value, instruction
                        )
            elif command == "RUN":
                for flag in instruction.flags_named("mount"):
                    if flag.located_value is not None:
                        for source in _mount_sources(flag.located_value):
                            self._stage_or_image(ReferenceKind.MOUNT_FROM, source, instruction)
        return self.found

    # -- variables -------------------------------------------------------------------

    def _declare_args(self, instruction: Instruction) -> None:
        scope = self.global_scope if self.stage_scope is None else self.stage_scope
        for word in shell_words(instruction.arguments, 0, self.df.escape):
            equals = word.text.find("=")
            name = word.text if equals == -1 else word.text[:equals]
            default = None if equals == -1 else word.slice(equals + 1)
            scope[name] = self._bind(name, default, scope)

    def _bind(self, name: str, default: LocatedText | None, scope: _Scope) -> _Binding:
        if name in self.build_args:
            return _Binding(self.build_args[name], None)
        if default is None:
            if self.stage_scope is not None and name in self.global_scope:
                return self.global_scope[name]  # `ARG NAME` in a stage re-imports the global
            return _UNKNOWN
        expansion = expand(default.text, _lookup(scope), self.df.escape)
        if expansion is None:
            return _UNKNOWN
        if not expansion.variables:
            literal = _literal_text(default, expansion.text)
            site = None if literal is None else _PinSite(name, literal)
            return _Binding(expansion.text, site)
        alias = single_variable(default.text)
        site = scope[alias].pin_site if alias is not None and alias in scope else None
        return _Binding(expansion.text, site)

    # -- references ------------------------------------------------------------------

    def _from(self, instruction: Instruction) -> None:
        words = split_whitespace(instruction.arguments, 0)
        stage = words[2].text if len(words) == 3 else None
        platform_flags = instruction.flags_named("platform")
        platform = platform_flags[-1].value if platform_flags else None
        self.stage_scope = {}
        reference = self._resolve(ReferenceKind.FROM, words[0], self.global_scope, instruction)
        if reference is None and self.include_unresolved:
            reference = self._unresolved(words[0], self.global_scope, instruction)
        if reference is not None and reference.resolved.lower() not in self.stage_names:
            self.found.append(replace(reference, platform=platform, stage=stage))
        if stage is not None:
            self.stage_names.add(stage.lower())

    def _stage_or_image(
        self, kind: ReferenceKind, word: LocatedText, instruction: Instruction
    ) -> None:
        scope = self.stage_scope if self.stage_scope is not None else {}
        reference = self._resolve(kind, word, scope, instruction)
        if reference is None:
            return
        resolved = reference.resolved
        if resolved.isdigit() or resolved.lower() in self.stage_names:
            return  # a build stage by index or by name, not an image
        self.found.append(reference)

    def _resolve(
        self, kind: ReferenceKind, word: LocatedText, scope: _Scope, instruction: Instruction
    ) -> ImageReference | None:
        site = word
        arg_name: str | None = None
        via_arg = False
        resolved = word.text
        if needs_expansion(word.text, self.df.escape):
            expansion = expand(word.text, _lookup(scope), self.df.escape)
            if expansion is None:
                return None  # depends on a variable whose value is unknown
            resolved = expansion.text
            via_arg = bool(expansion.variables)
            alias = single_variable(word.text)
            pin_site = scope[alias].pin_site if alias is not None and alias in scope else None
            if pin_site is not None:
                site, arg_name = pin_site.text, pin_site.arg_name
            elif not via_arg:
                site = _literal_text(word, resolved) or word
        if not resolved or resolved.lower() == SCRATCH:
            return None
        line, column = self.df.position(site.span().start)
        raw = site.span().slice(self.df.data).decode("utf-8", "surrogateescape")
        return ImageReference(
            kind=kind,
            raw=raw,
            resolved=resolved,
            span=site.span(),
            line=line,
            column=column,
            via_arg=via_arg,
            arg_name=arg_name,
            instruction_line=instruction.line,
        )

    def _unresolved(
        self, word: LocatedText, scope: _Scope, instruction: Instruction
    ) -> ImageReference | None:
        """A FROM word that needs a variable whose value is unknown, as written."""
        if not needs_expansion(word.text, self.df.escape):
            return None
        if expand(word.text, _lookup(scope), self.df.escape) is not None:
            return None  # it resolved (to scratch or nothing): not an image
        line, column = self.df.position(word.span().start)
        return ImageReference(
            kind=ReferenceKind.FROM,
            raw=word.text,
            resolved=word.text,
            span=word.span(),
            line=line,
            column=column,
            via_arg=True,
            arg_name=None,
            instruction_line=instruction.line,
            unresolved=_why_unknown(word.text, scope),
        )


def _shadow_env(instruction: Instruction, scope: _Scope, escape: str) -> None:
    """ENV values are not tracked; names they set become unknown in the stage."""
    words = shell_words(instruction.arguments, 0, escape)
    if words and "=" not in words[0].text:
        scope[words[0].text] = _UNKNOWN  # legacy `ENV NAME value`
        return
    for word in words:
        scope[word.text.split("=", 1)[0]] = _UNKNOWN


def _lookup(scope: _Scope) -> Callable[[str], str | None]:
    def lookup(name: str) -> str | None:
        binding = scope.get(name)
        return None if binding is None else binding.value

    return lookup


def _literal_text(word: LocatedText, value: str) -> LocatedText | None:
    """The part of ``word`` that spells ``value`` literally: itself, or inside its quotes."""
    if word.text == value:
        return word
    if len(word.text) >= 2 and word.text[0] in "'\"" and word.text[-1] == word.text[0]:
        inner = word.slice(1, len(word.text) - 1)
        if inner.text == value:
            return inner
    return None


def _mount_sources(spec: LocatedText) -> list[LocatedText]:
    """The ``from=`` values of a ``--mount`` spec (comma-separated key=value options)."""
    sources: list[LocatedText] = []
    start = 0
    text = spec.text
    while start <= len(text):
        comma = text.find(",", start)
        stop = len(text) if comma == -1 else comma
        option = text[start:stop]
        key, equals, _ = option.partition("=")
        if equals and key.strip().lower() == "from":
            sources.append(spec.slice(start + len(key) + 1, stop))
        start = stop + 1
    return sources
