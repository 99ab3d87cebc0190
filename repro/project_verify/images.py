"""The images a project builds: its Dockerfiles, compose build sections and bake targets.

Rules (paths are relative to the project root, posix):

- Compose files (``compose*.y*ml``, ``docker-compose*.y*ml``): each service with a
  ``build:`` section is an image named ``FILE:SERVICE``. Its context is relative to the
  compose file's directory, its Dockerfile to the context (default ``Dockerfile``); its
  ``args``, ``target`` and ``platforms`` are the build's. An arg without a value takes
  the environment's, as compose does. ``image:`` is the output's name, not an input.
- Bake files: the files of one directory merge in bake's order (``docker-bake.json``,
  ``docker-bake.hcl``, then the ``.override`` ones) and ``inherits`` applies. The images
  are the targets some group lists (groups expand), or, without groups, every target no
  other target inherits from; each is named ``FILE:TARGET`` (FILE: where it is defined
  last). Variables take their defaults.
- Each Dockerfile the lock finder finds (repro.lock.discover) that no compose service or
  bake target names is an image of its own, named by its path, built in its directory.
- Two images with the same context, Dockerfile, target, platforms and args are one
  build: verified once, under the first name, with the others listed as ``also``.

What repro cannot build as written is still an image, marked ``invalid`` with the reason
(a value that needs ``${VAR}``, an inline Dockerfile, additional build contexts, a bake
attribute that is not literal), so the report lists it instead of passing over it. A
compose or bake file that does not parse is an input error: its images are unknown.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from repro.errors import InputError
from repro.imagefiles import (
    BakeDefinition,
    BakeTarget,
    ComposeBuild,
    FileKind,
    ImageFile,
    kind_by_name,
    resolve_bake,
    scan_file,
)
from repro.imagefiles.interpolation import interpolation
from repro.lock.discover import SKIPPED_DIRECTORIES, discover, is_excluded
from repro.project_verify.model import ImageSource, ProjectImage

BUILD_FILE_KINDS = (FileKind.COMPOSE, FileKind.BAKE_HCL, FileKind.BAKE_JSON)
# bake reads the files of a directory in this order; later ones override earlier ones.
BAKE_ORDER = (
    "docker-bake.json",
    "docker-bake.hcl",
    "docker-bake.override.json",
    "docker-bake.override.hcl",
)
# The bake attributes that decide what is built (tags, outputs and caches do not).
BAKE_BUILD_ATTRIBUTES = ("context", "dockerfile", "args", "target", "platforms", "matrix")
DEFAULT_DOCKERFILE = "Dockerfile"


@dataclass(frozen=True)
class ProjectImages:
    images: tuple[ProjectImage, ...]  # sorted by name
    notes: tuple[str, ...]  # what was left out, and why


def find_images(
    root: Path, excludes: Sequence[str] = (), environment: Mapping[str, str] | None = None
) -> ProjectImages:
    """Every image the project under ``root`` builds (see the module's rules)."""
    env = os.environ if environment is None else environment
    found = discover([root], root, excludes, image_files=False)
    notes = list(found.skipped)
    builds: list[ProjectImage] = []
    bake_files: dict[str, list[ImageFile]] = {}
    scanned_files, skipped = _build_files(root, excludes)
    notes.extend(skipped)
    for scanned in scanned_files:
        if scanned.problems:
            listing = "; ".join(f"{p.where}: {p.message}" for p in scanned.problems)
            raise InputError(
                f"{listing}; the images it builds are unknown",
                hint="Fix the file, or leave it out with --exclude.",
            )
        if scanned.kind is FileKind.COMPOSE:
            if _is_override(scanned.display) and scanned.builds:
                notes.append(
                    f"{scanned.display}: an override file; its build sections are not "
                    "merged into the base file's, so they are not verified"
                )
                continue
            builds.extend(compose_image(build, env) for build in scanned.builds)
        else:
            directory = posixpath.dirname(scanned.display)
            bake_files.setdefault(directory, []).append(scanned)
    for files in bake_files.values():
        builds.extend(bake_images(files))
    named = {image.dockerfile for image in builds}
    standalone = [
        dockerfile_image(file.display) for file in found.files if file.display not in named
    ]
    return ProjectImages(_one_per_build([*builds, *standalone]), tuple(notes))


def _build_files(root: Path, excludes: Sequence[str]) -> tuple[list[ImageFile], list[str]]:
    """The compose and bake files under ``root``, scanned, in path order; what was skipped.

    As in lock's discovery, a file that is a symlink out of the project, or not a regular
    file, is skipped with a message: the project's commit does not hold what it points to.
    """
    real_root = root.resolve()
    scanned: list[ImageFile] = []
    skipped: list[str] = []
    for current, dirnames, filenames in os.walk(root):
        here = Path(current)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in SKIPPED_DIRECTORIES
            and not is_excluded(_display(here / name, root), excludes)
        )
        for name in sorted(filenames):
            display = _display(here / name, root)
            kind = kind_by_name(display)
            if kind not in BUILD_FILE_KINDS or is_excluded(display, excludes):
                continue
            assert kind is not None
            target = (here / name).resolve()
            if target != real_root and real_root not in target.parents:
                skipped.append(
                    f"{display}: skipped, it is a symlink to {target} outside the project"
                )
                continue
            if not target.is_file():
                skipped.append(f"{display}: skipped, not a regular file")
                continue
            found = scan_file(display, target.read_bytes(), kind)
            if found is not None:
                scanned.append(found)
    return scanned, skipped


def _display(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _is_override(display: str) -> bool:
    return ".override." in posixpath.basename(display)


def _join(directory: str, path: str) -> str:
    """``path`` (relative to ``directory``, itself relative to the root), normalised."""
    return posixpath.normpath(posixpath.join(directory, path))


def _dockerfile_path(context: str, dockerfile: str) -> str:
    """compose and bake both read a relative Dockerfile path from the context."""
    return dockerfile if posixpath.isabs(dockerfile) else _join(context, dockerfile)


def dockerfile_image(display: str) -> ProjectImage:
    return ProjectImage(
        name=display,
        source=ImageSource.DOCKERFILE,
        file=display,
        line=1,
        context=posixpath.dirname(display) or ".",
        dockerfile=display,
    )


def compose_image(build: ComposeBuild, environment: Mapping[str, str]) -> ProjectImage:
    directory = posixpath.dirname(build.file)
    context = _join(directory, build.context)
    dockerfile = build.dockerfile or DEFAULT_DOCKERFILE
    args: list[tuple[str, str]] = []
    for key, value in build.args:
        if value is not None:
            args.append((key, value))
        elif key in environment:  # `args: [TOKEN]`: compose passes the environment's value
            args.append((key, environment[key]))
    image = ProjectImage(
        name=f"{build.file}:{build.service}",
        source=ImageSource.COMPOSE,
        file=build.file,
        line=build.line,
        context=context,
        dockerfile=_dockerfile_path(context, dockerfile),
        target=build.target,
        platforms=build.platforms,
        build_args=tuple(sorted(args)),
    )
    # The output name (image:) may use variables freely; what is built may not.
    inputs = [build.context, dockerfile, build.target or "", *build.platforms]
    inputs.extend(value for _, value in args)
    variables = [
        name for text in inputs if (found := interpolation(text)) for name in found.variables
    ]
    invalid = None
    if build.dockerfile_inline is not None:
        invalid = "dockerfile_inline: repro verifies committed Dockerfiles only"
    elif build.additional_contexts:
        names = ", ".join(name for name, _ in build.additional_contexts)
        invalid = f"additional_contexts ({names}) are not supported by repro verify yet"
    elif variables:
        needed = ", ".join(f"${{{name}}}" for name in dict.fromkeys(variables))
        invalid = f"needs {needed} from the environment; repro does not fill in variables"
    elif "://" in build.context or build.context.startswith("git@"):
        invalid = f"a remote build context ({build.context}) is not a checkout of this commit"
    return replace(image, invalid=invalid)


def bake_images(files: Sequence[ImageFile]) -> list[ProjectImage]:
    """The targets the bake files of one directory build (see the module's rules)."""
    ordered = sorted(files, key=lambda f: BAKE_ORDER.index(posixpath.basename(f.display)))
    definitions = [f.bake for f in ordered if f.bake is not None]
    targets = {target.name: target for target in resolve_bake(definitions)}
    directory = posixpath.dirname(ordered[0].display)
    return [_bake_image(targets[name], directory) for name in _built_targets(definitions, targets)]


def _built_targets(
    definitions: Sequence[BakeDefinition], targets: Mapping[str, BakeTarget]
) -> list[str]:
    groups: dict[str, tuple[str, ...]] = {}
    for definition in definitions:
        groups.update(definition.groups)
    if not groups:
        inherited = {parent for target in targets.values() for parent in target.inherits}
        return sorted(name for name in targets if name not in inherited)
    chosen: dict[str, None] = {}

    def expand(name: str, seen: frozenset[str]) -> None:
        if name in targets:
            chosen[name] = None
        elif name in groups and name not in seen:
            for member in groups[name]:
                expand(member, seen | {name})

    for group in groups:
        expand(group, frozenset())
    return sorted(chosen)


def _bake_image(target: BakeTarget, directory: str) -> ProjectImage:
    context = _join(directory, target.context or ".")
    dockerfile = target.dockerfile or DEFAULT_DOCKERFILE
    args = tuple(sorted((k, v) for k, v in target.args or () if v is not None))
    image = ProjectImage(
        name=f"{target.file}:{target.name}",
        source=ImageSource.BAKE,
        file=target.file,
        line=target.line,
        context=context,
        dockerfile=_dockerfile_path(context, dockerfile),
        target=target.target,
        platforms=target.platforms or (),
        build_args=args,
    )
    not_literal = [
        attribute
        for attribute in target.not_literal
        if attribute.partition(".")[0] in BAKE_BUILD_ATTRIBUTES
    ]
    invalid = None
    if not_literal:
        invalid = f"{', '.join(not_literal)}: not literal; repro does not evaluate expressions"
    elif target.dockerfile_inline is not None:
        invalid = "dockerfile-inline: repro verifies committed Dockerfiles only"
    elif target.contexts:
        names = ", ".join(name for name, _ in target.contexts)
        invalid = f"contexts ({names}) are not supported by repro verify yet"
    elif "://" in context:
        invalid = f"a remote build context ({target.context}) is not a checkout of this commit"
    return replace(image, invalid=invalid)


def _one_per_build(images: Sequence[ProjectImage]) -> tuple[ProjectImage, ...]:
    """One image per distinct build, under its first name, the others in ``also``."""
    by_key: dict[tuple[object, ...], ProjectImage] = {}
    kept: list[ProjectImage] = []
    for image in sorted(images, key=lambda i: i.name):
        if image.invalid is not None:
            kept.append(image)
            continue
        first = by_key.get(image.build_key)
        if first is None:
            by_key[image.build_key] = image
        else:
            by_key[image.build_key] = replace(first, also=(*first.also, image.name))
    kept.extend(by_key.values())
    return tuple(sorted(kept, key=lambda i: i.name))


def select_images(images: Sequence[ProjectImage], wanted: Sequence[str]) -> list[ProjectImage]:
    """The images ``--image`` names: a full name, another name of the same build, or a
    service or target name that only one image has."""
    chosen: dict[str, ProjectImage] = {}
    for name in wanted:
        matches = _matching(images, name, lambda i: (i.name, *i.also))
        if not matches:
            matches = _matching(images, name, lambda i: i.short_names)
        if not matches:
            known = ", ".join(image.name for image in images) or "none"
            raise InputError(
                f"the project builds no image named {name!r}",
                hint=f"The images are: {known}.",
            )
        if len(matches) > 1:
            raise InputError(
                f"{name!r} names {len(matches)} images: {', '.join(i.name for i in matches)}",
                hint="Give the full name (FILE:SERVICE or FILE:TARGET).",
            )
        chosen.setdefault(matches[0].name, matches[0])
    return sorted(chosen.values(), key=lambda i: i.name)


def _matching(
    images: Sequence[ProjectImage], name: str, names: Callable[[ProjectImage], tuple[str, ...]]
) -> list[ProjectImage]:
    return [image for image in images if name in names(image)]
