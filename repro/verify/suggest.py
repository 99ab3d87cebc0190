"""The exact Dockerfile change for a comparison's fixes: replacement lines and a diff.

Pure: a parsed Dockerfile (repro.dockerfile) and the groups of a Comparison (repro.oci)
in, the changed bytes out. Each group whose fix has edits is mapped to the instruction
that made its layer, by the instruction text BuildKit recorded in the image history
(RUN and COPY without their flags), within the target stage and the stages it is built
FROM. A RUN edit on a ``COPY --from=stage`` layer goes to the RUN of that stage which
the edit's pattern finds (the compiler call, the archiver), and ``ARG`` goes into the
stage of the instruction it serves. What cannot be placed stays unresolved, with why.

The pure part of the verify use case: it imports both pure cores (which never import
each other) and nothing else of repro; `repro verify --suggest` is to print its result.
"""

from __future__ import annotations

import difflib
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from repro.dockerfile import Dockerfile, Instruction, Span, rewrite
from repro.oci.fixes import REMOVE_COMMAND, shell_words
from repro.oci.groups import group_differences
from repro.oci.model import Comparison, DifferenceGroup, Edit, EditKind, FixScope

_RUN_EDITS = frozenset(
    {EditKind.APPEND_TO_RUN, EditKind.INSERT_BEFORE_IN_RUN, EditKind.REPLACE_IN_RUN}
)
_PATTERN_EDITS = frozenset({EditKind.INSERT_BEFORE_IN_RUN, EditKind.REPLACE_IN_RUN})
_LAYER_COMMANDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
GroupKey = tuple[str, int | None, str | None, str]  # DifferenceGroup.key


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # FROM ... AS name
    base: str  # the FROM argument
    start: int  # index of its FROM in dockerfile.instructions
    end: int  # one past its last instruction


@dataclass(frozen=True)
class Suggestion:
    """One instruction's change: its text as written and the suggested replacement."""

    line: int
    end_line: int
    original: str
    replacement: str
    causes: tuple[str, ...]
    groups: tuple[GroupKey, ...] = ()  # the groups of differences it fixes


@dataclass(frozen=True)
class Unresolved:
    cause_id: str
    layer: int | None
    instruction: str | None
    reason: str
    group: GroupKey | None = None


@dataclass(frozen=True)
class SuggestedChange:
    path: str
    original: bytes
    updated: bytes
    suggestions: tuple[Suggestion, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()

    @property
    def changed(self) -> bool:
        return self.updated != self.original

    def unified_diff(self) -> str:
        before = self.original.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        after = self.updated.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, f"a/{self.path}", f"b/{self.path}"))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def stages(dockerfile: Dockerfile) -> list[Stage]:
    found: list[Stage] = []
    instructions = dockerfile.instructions
    starts = [i for i, ins in enumerate(instructions) if ins.command == "FROM"]
    for number, start in enumerate(starts):
        words = instructions[start].arguments.text.split()
        name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
        end = starts[number + 1] if number + 1 < len(starts) else len(instructions)
        found.append(Stage(number, name, words[0] if words else "", start, end))
    return found


def _stage_named(all_stages: Sequence[Stage], reference: str) -> Stage | None:
    for stage in all_stages:
        if stage.name is not None and stage.name.lower() == reference.lower():
            return stage
    if reference.isdigit() and int(reference) < len(all_stages):
        return all_stages[int(reference)]
    return None


def stage_chain(all_stages: Sequence[Stage], target: str | None) -> list[Stage]:
    """The target stage (default: the last) and the stages it is built FROM, base first."""
    if not all_stages:
        return []
    stage = _stage_named(all_stages, target) if target else all_stages[-1]
    chain: list[Stage] = []
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        parent = _stage_named(all_stages[: stage.index], stage.base)
        stage = parent
    return chain


def history_text(instruction: Instruction) -> str:
    """The instruction as BuildKit's image history records it: no flags, one line."""
    return normalise(f"{instruction.command} {instruction.arguments.text}")


@dataclass
class _Plan:
    dockerfile: Dockerfile
    all_stages: list[Stage]
    edits: dict[int, list[tuple[Edit, GroupKey]]] = field(default_factory=dict)  # instruction
    # stage index -> ARG name -> the groups that want it
    args: dict[int, dict[str, set[GroupKey]]] = field(default_factory=dict)
    # stage index -> the COPYs of it to send through a mode stage: (instruction, group, mode)
    mode_copies: dict[int, list[tuple[int, GroupKey, str]]] = field(default_factory=dict)
    # ARG instruction -> NAME -> (NAME=default, the groups that want it)
    arg_defaults: dict[int, dict[str, tuple[str, set[GroupKey]]]] = field(default_factory=dict)
    unresolved: list[Unresolved] = field(default_factory=list)

    def stage_of(self, index: int) -> Stage:
        return next(s for s in self.all_stages if s.start <= index < s.end)

    def instruction(self, index: int) -> Instruction:
        return self.dockerfile.instructions[index]


def _layer_candidates(plan: _Plan, chain: Sequence[Stage]) -> list[int]:
    return [
        index
        for stage in chain
        for index in range(stage.start + 1, stage.end)
        if plan.instruction(index).command in _LAYER_COMMANDS
    ]


def _match_layers(
    plan: _Plan,
    chain: Sequence[Stage],
    groups: Sequence[DifferenceGroup],
    layer_texts: Mapping[str, Sequence[str | None]],
) -> dict[tuple[str, int], int]:
    """(platform, layer) -> the instruction that made it.

    With the image's instruction per layer, both lists are aligned from the top (the
    last layer is the last layer-making instruction; base layers match none). Without
    it, by text alone: the k-th layer of one text is the k-th instruction with it.
    """
    candidates = _layer_candidates(plan, chain)
    texts = {index: history_text(plan.instruction(index)) for index in candidates}
    matched: dict[tuple[str, int], int] = {}
    for platform, layers in layer_texts.items():
        position = len(candidates) - 1
        for layer in range(len(layers) - 1, -1, -1):
            text = normalise(layers[layer] or "")
            for index in range(position, -1, -1):
                if _same(texts[candidates[index]], text):
                    matched[(platform, layer)] = candidates[index]
                    position = index - 1
                    break
    layers_by_text: dict[tuple[str, str], set[int]] = {}
    for group in groups:
        if group.layer is not None and group.instruction:
            if (group.platform, group.layer) in matched:
                continue
            key = (group.platform, normalise(group.instruction))
            layers_by_text.setdefault(key, set()).add(group.layer)
    for (platform, text), layer_set in layers_by_text.items():
        same = [i for i in candidates if _same(texts[i], text)]
        for rank, layer in enumerate(sorted(layer_set)):
            if same:
                matched[(platform, layer)] = same[min(rank, len(same) - 1)]
    return matched


def _same(written: str, recorded: str) -> bool:
    """The instruction as written (flags dropped) is the one history recorded."""
    if not written or not recorded:
        return False
    return written == recorded or written.startswith(recorded) or recorded.startswith(written)


def _from_stage(plan: _Plan, index: int) -> Stage | None:
    """The stage a ``COPY/ADD --from=`` reads, when it names one of this file's stages."""
    for flag in plan.instruction(index).flags_named("from"):
        if flag.value is not None:
            return _stage_named(plan.all_stages[: plan.stage_of(index).index], flag.value)
    return None


def _run_with(plan: _Plan, stage: Stage, edits: Sequence[Edit]) -> int | None:
    """The last RUN of ``stage`` (or the stages it is built FROM) an edit's pattern finds."""
    for member in reversed(stage_chain(plan.all_stages[: stage.index + 1], stage.name or None)):
        for index in range(member.end - 1, member.start, -1):
            instruction = plan.instruction(index)
            if instruction.command != "RUN":
                continue
            text = instruction.arguments.text
            if any(edit.pattern and re.search(edit.pattern, text) for edit in edits):
                return index
    return None


def _place(plan: _Plan, group: DifferenceGroup, index: int) -> None:
    edits = group.fix.edits
    instruction = plan.instruction(index)
    run_edits = [edit for edit in edits if edit.kind in _RUN_EDITS]
    wants_arg = any(edit.kind is EditKind.ADD_STAGE_ARG for edit in edits)
    target = index
    arg_stages = [plan.stage_of(index)]
    if instruction.command != "RUN" and (run_edits or wants_arg):
        source = _from_stage(plan, index)
        if source is None and run_edits:
            plan.unresolved.append(
                _unresolved(group, f"a RUN edit for {instruction.command} line {instruction.line}")
            )
            return
        if source is not None and run_edits:
            source_run = None
            if not any(edit.kind is EditKind.APPEND_TO_RUN for edit in run_edits):
                source_run = _run_with(
                    plan, source, [e for e in run_edits if e.kind in _PATTERN_EDITS]
                )
            if source_run is None:
                plan.unresolved.append(
                    _unresolved(
                        group, f"no RUN of stage {source.name or source.index} to change for it"
                    )
                )
                return
            target, arg_stages = source_run, [plan.stage_of(source_run)]
        elif source is not None:
            # The files were made in that stage (or one it is built FROM): declare it there.
            arg_stages = stage_chain(plan.all_stages[: source.index + 1], source.name or None)
    default_edits = [e for e in edits if e.kind is EditKind.SET_ARG_DEFAULT]
    if default_edits and not _place_arg_defaults(plan, group, target, default_edits):
        plan.unresolved.append(
            _unresolved(
                group,
                f"the stage of line {plan.instruction(target).line} declares none of "
                "these ARGs without a default",
            )
        )
        return
    target_text = plan.instruction(target).arguments.text
    pattern_edits = [e for e in edits if e.kind in _PATTERN_EDITS]
    found = [e for e in pattern_edits if re.search(e.pattern, target_text)]
    if pattern_edits and not found:
        # Alternatives for tools this RUN does not run: nothing here to change, not even
        # the ARG those edits would need.
        plan.unresolved.append(
            _unresolved(group, f"line {plan.instruction(target).line} runs none of the tools")
        )
        return
    for edit in edits:
        if edit.kind is EditKind.ADD_STAGE_ARG:
            for stage in arg_stages:
                plan.args.setdefault(stage.index, {}).setdefault(edit.text, set()).add(group.key)
        elif edit.kind in _PATTERN_EDITS and edit not in found:
            continue  # an alternative for another tool
        elif edit.kind is EditKind.SET_ARG_DEFAULT:
            continue  # placed above, on the ARG that declares it
        elif edit.kind is EditKind.COPY_VIA_MODE_STAGE:
            problem = _mode_stage_problem(plan, target)
            if problem is not None:
                plan.unresolved.append(_unresolved(group, problem))
                return
            copies = plan.mode_copies.setdefault(plan.stage_of(target).index, [])
            copies.append((target, group.key, edit.text))
        elif edit.kind is EditKind.SET_COPY_FLAG and plan.instruction(target).command not in (
            "COPY",
            "ADD",
        ):
            plan.unresolved.append(
                _unresolved(group, f"line {plan.instruction(target).line} is no COPY")
            )
            return
        else:
            plan.edits.setdefault(target, []).append((edit, group.key))


def _undefaulted_arg(plan: _Plan, index: int, name: str) -> int | None:
    """The ARG of ``index``'s stage, before it, that declares ``name`` without a default."""
    stage = plan.stage_of(index)
    for position in range(index - 1, stage.start, -1):
        instruction = plan.instruction(position)
        if instruction.command != "ARG":
            continue
        for word in instruction.arguments.text.split():
            declared, equals, _ = word.partition("=")
            if declared == name:
                return None if equals else position
    return None


def _place_arg_defaults(
    plan: _Plan, group: DifferenceGroup, index: int, edits: Sequence[Edit]
) -> bool:
    placed = False
    for edit in edits:
        name = edit.text.partition("=")[0]
        declaration = _undefaulted_arg(plan, index, name)
        if declaration is None:
            continue
        wanted = plan.arg_defaults.setdefault(declaration, {})
        wanted.setdefault(name, (edit.text, set()))[1].add(group.key)
        placed = True
    return placed


def _with_defaults(plan: _Plan, index: int, defaults: Mapping[str, str]) -> str:
    instruction = plan.instruction(index)
    data = plan.dockerfile.data
    split = max(instruction.arguments.span().start, instruction.span.start)
    head = data[instruction.span.start : split].decode("utf-8", "surrogateescape")
    text = data[split : instruction.span.end].decode("utf-8", "surrogateescape")
    for name, declaration in defaults.items():
        text = re.sub(rf"(?<!\S){re.escape(name)}(?!\S)", declaration, text, count=1)
    return head + text


def _unresolved(group: DifferenceGroup, reason: str) -> Unresolved:
    return Unresolved(group.cause_id, group.layer, group.instruction, reason, group.key)


def _declares(plan: _Plan, stage: Stage, name: str) -> bool:
    for index in range(stage.start + 1, stage.end):
        instruction = plan.instruction(index)
        if instruction.command == "ARG":
            declared = instruction.arguments.text.split("=", 1)[0].strip()
            if declared == name:
                return True
    return False


def _append(text: str, command: str, escape: str) -> str:
    body = text.rstrip()
    body = body[:-1].rstrip() if body.endswith(";") else body
    lines = body.split("\n")
    if len(lines) == 1:
        return f"{body} && {command}"
    indent = re.match(r"[ \t]*", lines[-1])
    lead = indent.group() if indent else ""
    return f"{body} {escape}\n{lead}&& {command}"


def _set_flag(text: str, keyword: str, flag: str) -> str:
    name = flag.split("=", 1)[0]
    existing = re.compile(rf"{re.escape(name)}=\S+")
    if existing.search(text):
        return existing.sub(flag, text, count=1)
    return text[: len(keyword)] + f" {flag}" + text[len(keyword) :]


def _merge_removals(edits: Sequence[Edit]) -> list[Edit]:
    """Several causes' `&& rm -rf ...` on one RUN as one command, each path once."""
    prefix = REMOVE_COMMAND + " "
    removals = [e for e in edits if e.kind is EditKind.APPEND_TO_RUN and e.text.startswith(prefix)]
    if len(removals) < 2:
        return list(edits)
    paths = sorted({p for e in removals for p in shlex.split(e.text.removeprefix(prefix))})
    merged = Edit(EditKind.APPEND_TO_RUN, prefix + shell_words(paths))
    kept = [e for e in edits if e not in removals]
    return [*kept, merged]


def _edited(plan: _Plan, index: int, edits: Sequence[Edit]) -> str:
    instruction = plan.instruction(index)
    data = plan.dockerfile.data
    # Patterns look at the command only: never at the keyword or the flags before it.
    split = max(instruction.arguments.span().start, instruction.span.start)
    head = data[instruction.span.start : split].decode("utf-8", "surrogateescape")
    text = data[split : instruction.span.end].decode("utf-8", "surrogateescape")
    unique = list(dict.fromkeys(edits))
    order = {
        EditKind.REPLACE_IN_RUN: 0,
        EditKind.INSERT_BEFORE_IN_RUN: 1,
        EditKind.SET_COPY_FLAG: 2,
        EditKind.APPEND_TO_RUN: 3,
    }
    for edit in sorted(_merge_removals(unique), key=lambda e: order.get(e.kind, 9)):
        if edit.kind is EditKind.REPLACE_IN_RUN:
            # Literal replacement text: `$PWD` and backslashes are no group references.
            text = re.sub(edit.pattern, edit.text.replace("\\", "\\\\"), text)
        elif edit.kind is EditKind.INSERT_BEFORE_IN_RUN:
            match = re.search(edit.pattern, text)
            if match is not None:
                text = text[: match.start()] + f"{edit.text} && " + text[match.start() :]
        elif edit.kind is EditKind.SET_COPY_FLAG:
            head = _set_flag(head, instruction.keyword, edit.text)
        elif edit.kind is EditKind.APPEND_TO_RUN:
            text = _append(text, edit.text, plan.dockerfile.escape)
    return head + text


MODE_STAGE = "repro-modes"
MODE_ROOT = "/repro-modes"
_NUMERIC_STAGE = re.compile(r"\bfrom=(\d+)\b", re.IGNORECASE)


def _copy_words(instruction: Instruction) -> list[str] | None:
    """A COPY's sources and destination, when plainly written (no JSON, heredoc or $)."""
    text = instruction.arguments.text.strip()
    if instruction.heredocs or text.startswith("[") or any(c in text for c in "$\"'"):
        return None
    words = text.split()
    return words if len(words) >= 2 else None


def _workdir_before(plan: _Plan, index: int) -> str | None:
    """The absolute WORKDIR in force at ``index``, as far as this Dockerfile says."""
    stage = plan.stage_of(index)
    chain = stage_chain(plan.all_stages[: stage.index + 1], stage.name or None)
    workdir: str | None = None
    for member in chain:
        end = index if member is stage else member.end
        for position in range(member.start + 1, end):
            instruction = plan.instruction(position)
            if instruction.command != "WORKDIR":
                continue
            value = instruction.arguments.text.strip()
            if "$" in value:
                return None
            if value.startswith("/"):
                workdir = value
            elif workdir is not None:
                workdir = posixpath.join(workdir, value)
    return workdir


def _absolute_destination(plan: _Plan, index: int, dest: str) -> str | None:
    if dest.startswith("/"):
        return dest
    workdir = _workdir_before(plan, index)
    if workdir is None:
        return None
    joined = posixpath.normpath(posixpath.join(workdir, dest))
    # `.` and `dir/` name a directory, into which COPY puts what it copies.
    if dest.endswith("/") or dest in (".", "./"):
        joined = joined.rstrip("/") + "/"
    return joined


def _mode_stage_problem(plan: _Plan, index: int) -> str | None:
    """Why the COPY at ``index`` cannot go through a mode stage, or None."""
    instruction = plan.instruction(index)
    line = instruction.line
    if instruction.command not in ("COPY", "ADD"):
        return f"line {line} is no COPY"
    if instruction.flags_named("from"):
        return f"line {line} copies from another stage or image: normalise the modes there"
    if instruction.flags_named("chmod"):
        return f"line {line} already sets --chmod"
    words = _copy_words(instruction)
    if words is None:
        return f"line {line} is not a plain COPY of sources to a destination"
    if _absolute_destination(plan, index, words[-1]) is None:
        return f"line {line} copies to a relative destination under an unknown WORKDIR"
    stage = plan.stage_of(index)
    if stage.base.lower() == "scratch":
        return f"the stage of line {line} is FROM scratch: it has no chmod to run"
    for other in plan.dockerfile.instructions:
        for match in _NUMERIC_STAGE.finditer(other.span.slice(plan.dockerfile.data).decode()):
            if int(match.group(1)) >= stage.index:
                return (
                    f"line {other.line} names a stage by number ({match.group(0)}), which "
                    "a new stage would renumber"
                )
    return None


def _mode_stage_name(plan: _Plan) -> str:
    taken = {stage.name.lower() for stage in plan.all_stages if stage.name}
    name, number = MODE_STAGE, 1
    while name in taken:
        number += 1
        name = f"{MODE_STAGE}-{number}"
    return name


def _flag_text(plan: _Plan, instruction: Instruction, names: frozenset[str]) -> list[str]:
    data = plan.dockerfile.data
    return [
        flag.span.slice(data).decode("utf-8", "surrogateescape")
        for flag in instruction.flags
        if flag.name in names
    ]


_SOURCE_FLAGS = frozenset({"exclude", "parents", "keep-git-dir", "checksum"})
_DESTINATION_FLAGS = frozenset({"chown", "link"})


def _mode_stage(
    plan: _Plan, stage: Stage, copies: Sequence[tuple[int, GroupKey, str]], name: str
) -> tuple[str, dict[int, str]]:
    """The stage to insert before ``stage`` and each COPY's replacement."""
    from_instruction = plan.instruction(stage.start)
    from_flags = " ".join(
        f.span.slice(plan.dockerfile.data).decode("utf-8", "surrogateescape")
        for f in from_instruction.flags
    )
    lines = [" ".join(part for part in ("FROM", from_flags, stage.base, "AS", name) if part)]
    replacements: dict[int, str] = {}
    modes: list[str] = []
    for index, _key, mode in copies:
        instruction = plan.instruction(index)
        words = _copy_words(instruction)
        assert words is not None  # checked by _mode_stage_problem
        destination = _absolute_destination(plan, index, words[-1])
        assert destination is not None
        staged = MODE_ROOT + destination
        source_flags = _flag_text(plan, instruction, _SOURCE_FLAGS)
        lines.append(" ".join([instruction.keyword, *source_flags, *words[:-1], staged]))
        destination_flags = _flag_text(plan, instruction, _DESTINATION_FLAGS)
        keyword = "COPY" if instruction.keyword.isupper() else "copy"
        replacements[index] = " ".join(
            [keyword, f"--from={name}", *destination_flags, staged, words[-1]]
        )
        if mode not in modes:
            modes.append(mode)
    lines.extend(f"RUN chmod -R {mode} {MODE_ROOT}" for mode in modes)
    return "\n".join(lines) + "\n\n", replacements


def _key_order(key: GroupKey) -> tuple[str, int, str, str]:
    platform, layer, instruction, cause = key
    return (platform, -1 if layer is None else layer, instruction or "", cause)


def suggest_fixes(
    dockerfile: Dockerfile, comparison: Comparison, *, target: str | None = None
) -> SuggestedChange:
    """The Dockerfile with every placeable fix of ``comparison`` applied, and how.

    ``target`` is the stage that was built (``--target``); the last one by default.
    """
    plan = _Plan(dockerfile, stages(dockerfile))
    chain = stage_chain(plan.all_stages, target)
    groups = comparison.groups or group_differences(comparison.differences)
    wanted = [g for g in groups if g.fix.scope is FixScope.DOCKERFILE and g.fix.edits]
    layer_texts = {p.platform: p.instructions for p in comparison.platforms if p.instructions}
    matched = _match_layers(plan, chain, wanted, layer_texts)
    for group in wanted:
        index = matched.get((group.platform, group.layer)) if group.layer is not None else None
        if index is None:
            plan.unresolved.append(
                _unresolved(group, "no instruction of the Dockerfile made this layer")
            )
            continue
        _place(plan, group, index)
    replacements: list[tuple[Span, bytes]] = []
    suggestions: list[Suggestion] = []
    staged: dict[int, tuple[str, tuple[GroupKey, ...]]] = {}  # instruction -> new text
    before: dict[int, tuple[str, tuple[GroupKey, ...]]] = {}  # stage -> a stage before it
    for stage_index, copies in sorted(plan.mode_copies.items()):
        stage = plan.all_stages[stage_index]
        text, new_copies = _mode_stage(plan, stage, copies, _mode_stage_name(plan))
        keys = tuple(dict.fromkeys(key for _, key, _ in copies))
        before[stage_index] = (text, keys)
        for index, new in new_copies.items():
            staged[index] = (new, tuple(key for i, key, _ in copies if i == index))
    for index, (new, keys) in sorted(staged.items()):
        instruction = plan.instruction(index)
        original = instruction.span.slice(dockerfile.data).decode("utf-8", "surrogateescape")
        replacements.append((instruction.span, new.encode("utf-8", "surrogateescape")))
        causes = tuple(dict.fromkeys(key[3] for key in keys))
        suggestions.append(
            Suggestion(instruction.line, instruction.end_line, original, new, causes, keys)
        )
    for index, defaults in sorted(plan.arg_defaults.items()):
        instruction = plan.instruction(index)
        original = instruction.span.slice(dockerfile.data).decode("utf-8", "surrogateescape")
        new = _with_defaults(plan, index, {n: d for n, (d, _) in defaults.items()})
        replacements.append((instruction.span, new.encode("utf-8", "surrogateescape")))
        keys = tuple(sorted({k for _, ks in defaults.values() for k in ks}, key=_key_order))
        suggestions.append(
            Suggestion(
                instruction.line,
                instruction.end_line,
                original,
                new,
                tuple(dict.fromkeys(k[3] for k in keys)),
                keys,
            )
        )
    for index in sorted(plan.edits):
        instruction = plan.instruction(index)
        original = instruction.span.slice(dockerfile.data).decode("utf-8", "surrogateescape")
        new = _edited(plan, index, [edit for edit, _ in plan.edits[index]])
        if new != original:
            replacements.append((instruction.span, new.encode("utf-8", "surrogateescape")))
            keys = tuple(dict.fromkeys(key for _, key in plan.edits[index]))
            causes = tuple(dict.fromkeys(key[3] for key in keys))
            suggestions.append(
                Suggestion(instruction.line, instruction.end_line, original, new, causes, keys)
            )
    for stage_index in sorted(set(plan.args) | set(before)):
        stage = plan.all_stages[stage_index]
        names = plan.args.get(stage_index, {})
        missing = [n for n in sorted(names) if not _declares(plan, stage, n)]
        inserted, before_keys = before.get(stage_index, ("", ()))
        if not missing and not inserted:
            continue
        stage_keys = sorted(
            {*before_keys, *(key for name in missing for key in names[name])},
            key=_key_order,
        )
        from_instruction = plan.instruction(stage.start)
        lines = "".join(f"\nARG {name}" for name in missing)
        original = from_instruction.span.slice(dockerfile.data).decode("utf-8", "surrogateescape")
        new = inserted + original + lines
        replacements.append((from_instruction.span, new.encode("utf-8", "surrogateescape")))
        suggestions.append(
            Suggestion(
                from_instruction.line,
                from_instruction.end_line,
                original,
                new,
                tuple(sorted({key[3] for key in stage_keys})),
                tuple(stage_keys),
            )
        )
    updated = rewrite(dockerfile.data, replacements) if replacements else dockerfile.data
    return SuggestedChange(
        dockerfile.path,
        dockerfile.data,
        updated,
        tuple(sorted(suggestions, key=lambda s: s.line)),
        tuple(plan.unresolved),
    )
