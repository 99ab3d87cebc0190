"""What the image-file finders return: sites to pin, builds to verify, problems to report.

An ``ImageSite`` is one image reference in one file: where it is (display path, line,
column, the exact byte ``Span`` of the reference text), what is written there, the literal
reference (or why there is none), and how to write a digest into that span. Every kind of
file gives the same shape, so the lock planner can treat them all like Dockerfile sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from repro.dockerfile import ImageRef, Span


class FileKind(StrEnum):
    COMPOSE = "compose"  # compose*.y*ml, docker-compose*.y*ml
    BAKE_HCL = "bake-hcl"  # docker-bake.hcl, docker-bake.override.hcl
    BAKE_JSON = "bake-json"  # docker-bake.json, docker-bake.override.json
    KUBERNETES = "kubernetes"  # any other *.y*ml whose documents are Kubernetes objects
    HELM_VALUES = "helm-values"  # values*.y*ml
    WORKFLOW = "workflow"  # .github/workflows/*.y*ml


class SiteKind(StrEnum):
    COMPOSE_IMAGE = "compose-image"  # services.*.image of a service without build:
    COMPOSE_BUILD_CONTEXT = "compose-build-context"  # build.additional_contexts docker-image://
    BAKE_CONTEXT = "bake-context"  # target.*.contexts docker-image://
    K8S_CONTAINER = "k8s-container"  # (init|ephemeral)containers[*].image of a Pod spec
    HELM_IMAGE = "helm-image"  # *image: "name:tag" in a values file
    HELM_REPOSITORY_TAG = "helm-repository-tag"  # *image: {registry, repository, tag, digest}
    WORKFLOW_CONTAINER = "workflow-container"  # jobs.*.container (string or .image)
    WORKFLOW_SERVICE = "workflow-service"  # jobs.*.services.*.image
    WORKFLOW_USES = "workflow-uses"  # jobs.*.steps[*].uses: docker://


class PinStyle(StrEnum):
    """What the span holds, and so what a pin writes there."""

    REFERENCE = "reference"  # a whole reference: write name[:tag]@digest
    TAG = "tag"  # a Helm tag: write tag@digest
    DIGEST = "digest"  # a Helm digest: value: write the digest alone


@dataclass(frozen=True)
class ImageSite:
    """One image reference in one file.

    ``span`` covers exactly the reference text (inside quotes, after a ``docker://`` or
    ``docker-image://`` prefix), so replacing it keeps everything else byte for byte.
    ``image`` is set only when the site can be pinned; otherwise ``unpinnable`` says why
    (templated, escaped, not a valid reference...) and the file must not be rewritten there.
    """

    file: str  # display path
    kind: SiteKind
    path: str  # where in the document, for people: services.web.image
    line: int  # 1-based, of the span's start
    column: int  # 1-based, in characters
    span: Span
    raw: str  # the text at ``span`` as written
    reference: str | None  # the literal reference that is pulled (Helm: composed)
    image: ImageRef | None  # ``reference`` parsed; None when unpinnable
    unpinnable: str | None = None  # why it cannot be pinned (None when it can)
    pin_style: PinStyle = PinStyle.REFERENCE
    lead: str = ""  # written before the pin: an empty YAML value needs a space after ':'
    assumed: str | None = None  # templated: the reference with documented defaults, never written

    @property
    def pinnable(self) -> bool:
        return self.image is not None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def pinned_text(self, digest: str) -> str:
        """The text that replaces ``span`` to pin this site to ``digest``."""
        if self.image is None:
            raise ValueError(f"{self.where}: {self.path} cannot be pinned: {self.unpinnable}")
        # ImageRef.pinned validates the digest for every style.
        pinned = self.image.pinned(digest)
        if self.pin_style is PinStyle.REFERENCE:
            return self.lead + pinned
        if self.pin_style is PinStyle.TAG:
            return self.lead + f"{self.raw.partition('@')[0]}@{digest}"
        return self.lead + digest

    def replacement(self, digest: str) -> tuple[Span, bytes]:
        """The (span, bytes) pair repro.dockerfile.rewrite takes."""
        return self.span, self.pinned_text(digest).encode("utf-8")


@dataclass(frozen=True)
class Problem:
    """A file (or part of one) that could not be read: reported, never rewritten."""

    file: str
    line: int
    column: int
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ComposeBuild:
    """A compose service's ``build:`` section, as written (paths relative to the file).

    Values that use ``${VAR}`` are kept as written and their variables listed: the
    environment and ``.env`` decide them when compose runs.
    """

    file: str
    service: str
    line: int
    context: str  # "." when only a dockerfile or nothing is given
    dockerfile: str | None  # None: compose's default, Dockerfile in the context
    dockerfile_inline: str | None
    args: tuple[tuple[str, str | None], ...]  # None: taken from the environment
    target: str | None
    platforms: tuple[str, ...]
    additional_contexts: tuple[tuple[str, str], ...]
    image: str | None  # the name the built image is tagged with: an output, not a base
    variables: tuple[str, ...]  # every ${VAR} the section needs


@dataclass(frozen=True)
class BakeTarget:
    """One bake target's build inputs, as far as they are literal.

    ``None`` means not set in this target (so ``inherits`` and override files may set
    it); ``not_literal`` names the attributes whose value is an expression or needs a
    variable without a literal default: they are left out, never guessed.
    """

    file: str
    name: str
    line: int
    context: str | None = None
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    args: tuple[tuple[str, str | None], ...] | None = None  # value None: not literal
    target: str | None = None
    platforms: tuple[str, ...] | None = None
    contexts: tuple[tuple[str, str], ...] | None = None
    tags: tuple[str, ...] | None = None
    inherits: tuple[str, ...] = ()
    not_literal: tuple[str, ...] = ()


@dataclass(frozen=True)
class BakeDefinition:
    """The targets, groups and literal variable defaults of one bake file."""

    targets: tuple[BakeTarget, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    variables: tuple[tuple[str, str | None], ...]  # default None: not literal


@dataclass(frozen=True)
class ImageFile:
    """One scanned file: its bytes, its sites in file order, and what could not be read."""

    display: str
    kind: FileKind
    data: bytes
    sites: tuple[ImageSite, ...]
    problems: tuple[Problem, ...] = ()
    builds: tuple[ComposeBuild, ...] = ()
    bake: BakeDefinition | None = None
