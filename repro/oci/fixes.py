"""Fixes made from what was seen: one Fix per group of differences (a layer and a cause).

A cause's fix names the paths observed in that layer (by the family's glob where a family
of volatile files was seen, e.g. ``/var/lib/apt/lists/*``), including the family's files
the layer holds that happened to match this time: deleting all of them in one edit
reaches identical in one round, not after one round per file that differed by chance.
Each Fix carries its mechanical edits (repro.oci.model.Edit) for the instruction that
made the layer; repro.verify.suggest turns them into the exact Dockerfile change.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Sequence

from repro.oci.causes import (
    BUILD_ARG_ID,
    MACHINE_ID_ID,
    NPM_CACHE_ID,
    PACKAGE_MANAGER_STATE_ID,
    PIP_CACHE_ID,
    SSH_HOST_KEYS_ID,
    TAR_GZ_SUFFIXES,
    TEMP_FILES_ID,
    ZIP_SUFFIXES,
    rule_by_id,
    volatile_family,
)
from repro.oci.model import UNCLASSIFIED_FIX, Difference, Edit, EditKind, Fix, FixScope

EPOCH_ARG = "SOURCE_DATE_EPOCH"
EPOCH = '"@${SOURCE_DATE_EPOCH}"'
REMOVE_COMMAND = "rm -rf"

# A command word where the shell would run it: not part of a path or a longer word.
_WORD_BEFORE = r"(?<![\w./$-])"
_WORD_AFTER = r"(?![\w.-])"


def command_pattern(word: str, unless_followed_by: str = "") -> str:
    """A regex for the command ``word`` in a RUN, unless ``unless_followed_by`` follows it."""
    guard = rf"(?!\s+(?:{unless_followed_by}))" if unless_followed_by else ""
    return _WORD_BEFORE + re.escape(word) + _WORD_AFTER + guard


GZIP_N = Edit(EditKind.REPLACE_IN_RUN, "gzip -n", command_pattern("gzip", r"-\w*n\b|--no-name\b"))
DATE_FROM_EPOCH = Edit(
    EditKind.REPLACE_IN_RUN, f"date -d {EPOCH}", command_pattern("date", r"-d\b|--date\b")
)
GO_TRIMPATH = Edit(
    EditKind.REPLACE_IN_RUN,
    "go build -trimpath -buildvcs=false",
    _WORD_BEFORE + r"go\s+build" + _WORD_AFTER + r"(?!\s+-trimpath)",
)
GCC_PREFIX_MAP = Edit(
    EditKind.REPLACE_IN_RUN,
    "gcc -ffile-prefix-map=$PWD=.",
    command_pattern("gcc", r"-ffile-prefix-map"),
)
STAGE_EPOCH = Edit(EditKind.ADD_STAGE_ARG, EPOCH_ARG)
TREE_MODES = "u=rwX,go=rX"  # what a checkout under umask 022 gives files, programs and dirs
TOUCH_INPUTS = f"find . -exec touch -h -d {EPOCH} {{}} +"
# GNU tar reads TAR_OPTIONS before its own arguments, so the fix works whatever style
# (`tar czf`, `tar -c -z -f`) the RUN uses; -z's gzip reads a pipe and stores no time.
TAR_FIXED_OPTIONS = "--sort=name --mtime=@${SOURCE_DATE_EPOCH}"
TAR_FIXED = Edit(
    EditKind.REPLACE_IN_RUN,
    f'TAR_OPTIONS="{TAR_FIXED_OPTIONS}" tar',
    # `tar` creating an archive: old-style `tar czf` or a -c/--create flag in the command
    _WORD_BEFORE
    + r"(?<!\" )tar"
    + _WORD_AFTER
    + r"(?=\s+[A-Za-z]*c[A-Za-z]*\s|[^;&|\n]*?\s(?:-[A-Za-z]*c[A-Za-z]*|--create)(?![\w-]))",
)
# Archivers that store their inputs' times (and nothing of the clock's when those are fixed).
ZIP_ARCHIVERS = (
    _WORD_BEFORE + r"python3?\s+-m\s+zipfile\b",
    command_pattern("zip"),
)


# Build arguments that carry the builder's time zone or locale, and the value a fix gives
# them as their default: what a build without them gets in most images.
ENVIRONMENT_ARG_DEFAULTS: dict[str, str] = {
    "TZ": "UTC",
    "LANG": "C.UTF-8",
    "LANGUAGE": "",
    "LC_ALL": "C.UTF-8",
    "LC_COLLATE": "C.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "LC_MESSAGES": "C.UTF-8",
    "LC_MONETARY": "C.UTF-8",
    "LC_NUMERIC": "C.UTF-8",
    "LC_TIME": "C.UTF-8",
}


def shell_words(paths: Iterable[str]) -> str:
    """Paths for a shell command line: globs stay globs, anything else is quoted."""
    return " ".join(p if _is_plain_glob(p) else shlex.quote(p) for p in paths)


def _is_plain_glob(path: str) -> bool:
    return re.fullmatch(r"[\w./*+@%,:=-]+", path) is not None


def removal_paths(cause_id: str, paths: Iterable[str]) -> tuple[str, ...]:
    """What a fix deletes for ``paths`` of one volatile family: globs where known."""
    removed: set[str] = set()
    for path in paths:
        family = volatile_family(path)
        if family is not None and family.cause_id == cause_id:
            removed.add(family.removal(path))
    return tuple(sorted(removed))


def _is_run(instruction: str | None) -> bool:
    return (instruction or "").startswith("RUN")


def _is_copy(instruction: str | None) -> bool:
    # BuildKit's history drops COPY's flags, so a `COPY --from=stage` of compiled files
    # looks like any COPY here; repro.verify.suggest follows --from to the stage.
    return (instruction or "").startswith(("COPY", "ADD"))


def _remove_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    removed = removal_paths(cause_id, paths)
    command = f"{REMOVE_COMMAND} {shell_words(removed)}"
    if not _is_run(instruction):
        return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix, paths=removed)
    return Fix(
        cause_id,
        FixScope.DOCKERFILE,
        f"delete them at the end of this RUN: `&& {command}`",
        (Edit(EditKind.APPEND_TO_RUN, command),),
        removed,
    )


def _pyc_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    if _is_run(instruction) or _is_copy(instruction):
        return Fix(
            cause_id,
            FixScope.DOCKERFILE,
            f"declare `ARG {EPOCH_ARG}` in the stage that compiles them: pyc files then "
            "record the source's hash, not its time",
            (STAGE_EPOCH,),
        )
    return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix)


def _archive_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    tars = [p for p in paths if p.endswith(TAR_GZ_SUFFIXES)]
    gz = [p for p in paths if p.endswith(".gz") and p not in tars]
    zips = [p for p in paths if p.endswith(ZIP_SUFFIXES)]
    edits: list[Edit] = []
    notes: list[str] = []
    if gz or tars:
        edits.append(GZIP_N)
        notes.append("`gzip -n` (no name, no time in the header)")
    if tars:
        edits += [STAGE_EPOCH, TAR_FIXED]
        notes.append(
            "tar's members in name order at SOURCE_DATE_EPOCH "
            f'(`TAR_OPTIONS="{TAR_FIXED_OPTIONS}"`, with `ARG {EPOCH_ARG}`)'
        )
    if zips:
        edits.append(STAGE_EPOCH)
        edits += [
            Edit(EditKind.INSERT_BEFORE_IN_RUN, TOUCH_INPUTS, pattern) for pattern in ZIP_ARCHIVERS
        ]
        notes.append(
            f"`ARG {EPOCH_ARG}` and the inputs' times set to it before zipping (`{TOUCH_INPUTS}`)"
        )
    if not edits or len(tars) + len(gz) + len(zips) < len(paths):
        return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix, tuple(edits))
    return Fix(
        cause_id, FixScope.DOCKERFILE, "create them with " + " and ".join(notes), tuple(edits)
    )


def _build_path_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    return Fix(
        cause_id,
        FixScope.DOCKERFILE,
        "strip the build directory where the compiler records it: "
        "`go build -trimpath -buildvcs=false`, `gcc -ffile-prefix-map=$PWD=.`",
        (GO_TRIMPATH, GCC_PREFIX_MAP),
    )


def _clock_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    if re.search(DATE_FROM_EPOCH.pattern, instruction or "") is None:
        return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix)
    return Fix(
        cause_id,
        FixScope.DOCKERFILE,
        f"print SOURCE_DATE_EPOCH instead of the clock: `date -d {EPOCH}`, "
        f"with `ARG {EPOCH_ARG}` in the stage",
        (DATE_FROM_EPOCH, STAGE_EPOCH),
    )


def _sorted_output_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    commands = [f"LC_ALL=C sort -o {shell_words([p])} {shell_words([p])}" for p in paths]
    return Fix(
        cause_id,
        FixScope.DOCKERFILE,
        "sort the lines where they are written: " + "; ".join(f"`{c}`" for c in commands),
        tuple(Edit(EditKind.APPEND_TO_RUN, command) for command in commands),
        tuple(paths),
    )


def _umask_fix(differences: Sequence[Difference], instruction: str | None) -> Fix:
    cause_id = "checkout-umask"
    if _is_run(instruction):
        return Fix(
            cause_id,
            FixScope.FOLLOWS,
            "these modes come from files COPYed from the build context: the COPY's fix fixes them",
        )
    modes: set[int] = set()
    for diff in differences:
        try:
            a, b = int(str(diff.value_a), 8), int(str(diff.value_b), 8)
        except ValueError:
            continue
        modes.add(a & b)
    # COPY --chmod gives directories and files the same mode: one mode for all is a fix.
    if len(modes) == 1:
        mode = f"{modes.pop():04o}"
        return Fix(
            cause_id,
            FixScope.DOCKERFILE,
            f"give the copied files one mode whatever the checkout's umask: `COPY --chmod={mode}`",
            (Edit(EditKind.SET_COPY_FLAG, f"--chmod={mode}"),),
        )
    if modes and _is_copy(instruction):
        # Files and directories (or executables) need modes of their own: the symbolic
        # `X` gives each what a umask-022 checkout gives it. BuildKit 0.13's COPY --chmod
        # takes octal modes only, so the chmod runs in a stage the COPY goes through.
        return Fix(
            cause_id,
            FixScope.DOCKERFILE,
            "normalise the modes in a stage of their own: COPY there, "
            f"`RUN chmod -R {TREE_MODES}`, and COPY --from that stage",
            (Edit(EditKind.COPY_VIA_MODE_STAGE, TREE_MODES),),
        )
    return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix)


def _build_arg_fix(cause_id: str, instruction: str | None, paths: Sequence[str]) -> Fix:
    return Fix(
        cause_id,
        FixScope.DOCKERFILE,
        "give the ARG a default, so that no builder's value reaches the build "
        "(`ARG TZ=UTC`, `ARG LANG=C.UTF-8`)",
        tuple(
            Edit(EditKind.SET_ARG_DEFAULT, f"{name}={value}")
            for name, value in ENVIRONMENT_ARG_DEFAULTS.items()
        ),
    )


PathFixer = Callable[[str, str | None, Sequence[str]], Fix]
_PATH_FIXERS: dict[str, PathFixer] = {
    SSH_HOST_KEYS_ID: _remove_fix,
    MACHINE_ID_ID: _remove_fix,
    PACKAGE_MANAGER_STATE_ID: _remove_fix,
    PIP_CACHE_ID: _remove_fix,
    NPM_CACHE_ID: _remove_fix,
    TEMP_FILES_ID: _remove_fix,
    "pyc-timestamp": _pyc_fix,
    "archive-timestamps": _archive_fix,
    "embedded-build-path": _build_path_fix,
    "clock-in-content": _clock_fix,
    "unordered-output": _sorted_output_fix,
    BUILD_ARG_ID: _build_arg_fix,
}
_VOLATILE_CAUSES = frozenset(
    {
        SSH_HOST_KEYS_ID,
        MACHINE_ID_ID,
        PACKAGE_MANAGER_STATE_ID,
        PIP_CACHE_ID,
        NPM_CACHE_ID,
        TEMP_FILES_ID,
    }
)
_BUILD_CAUSES = frozenset(
    {
        "attestation-manifests",
        "source-date-epoch",
        "compression-only",
        "rewrite-timestamp",
        "time-older-than-epoch",
    }
)


def fix_for_group(
    cause_id: str,
    instruction: str | None,
    differences: Sequence[Difference],
    present: Iterable[str] = (),
) -> Fix:
    """The fix for one group: its cause, made from the paths seen (``present``: the
    cause's volatile files the layer holds, differing or not)."""
    paths = tuple(dict.fromkeys(d.path for d in differences))
    if cause_id == "follows-from-layers":
        return Fix(cause_id, FixScope.FOLLOWS, rule_by_id(cause_id).fix)
    if cause_id == "checkout-umask":
        return _umask_fix(differences, instruction)
    fixer = _PATH_FIXERS.get(cause_id)
    if fixer is not None:
        if cause_id in _VOLATILE_CAUSES:
            paths = tuple(dict.fromkeys((*paths, *present)))
        return fixer(cause_id, instruction, paths)
    if cause_id in _BUILD_CAUSES:
        return Fix(cause_id, FixScope.BUILD, rule_by_id(cause_id).fix)
    text = differences[0].fix if differences else UNCLASSIFIED_FIX
    return Fix(cause_id, FixScope.MANUAL, text)
