"""The fix each group of differences gets (repro.oci.fixes.fix_for_group): its scope, its
text, its edits and the paths it covers, worked out per cause from what was seen."""

from __future__ import annotations

import re

import pytest

from repro.oci.causes import classify, rule_by_id
from repro.oci.fixes import (
    DATE_FROM_EPOCH,
    GCC_PREFIX_MAP,
    GO_TRIMPATH,
    GZIP_N,
    STAGE_EPOCH,
    TAR_FIXED,
    TOUCH_INPUTS,
    ZIP_ARCHIVERS,
    command_pattern,
    fix_for_group,
    removal_paths,
    shell_words,
)
from repro.oci.jsontypes import JsonValue
from repro.oci.model import UNCLASSIFIED_FIX, Difference, Edit, EditKind, Fix, FixScope

RUN = "RUN apt-get update && apt-get install -y jq"
COPY = "COPY . /app"


def _diff(path: str, field: str = "content", a: JsonValue = "a", b: JsonValue = "b") -> Difference:
    return Difference("linux/amd64", "file", 1, RUN, path, field, "changed", a, b)


def _mode(path: str, a: str, b: str) -> Difference:
    return _diff(path, "mode", a, b)


def _manual(cause_id: str, edits: tuple[Edit, ...] = (), paths: tuple[str, ...] = ()) -> Fix:
    return Fix(cause_id, FixScope.MANUAL, rule_by_id(cause_id).fix, edits, paths)


# Volatile files: deleted at the end of the RUN that made them, by the family's glob.


def test_volatile_files_are_deleted_at_the_end_of_their_run_by_glob_with_the_rest_present() -> None:
    differences = [
        _diff("/var/log/dpkg.log"),
        _diff("/var/log/apt/history.log"),
        _diff("/var/log/apt/history.log", "size", 1, 2),  # one path, two fields
    ]
    present = ["/var/log/apt/term.log", "/var/lib/apt/lists/deb_InRelease"]
    fix = fix_for_group("package-manager-state", RUN, differences, present)
    command = "rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log"
    assert fix == Fix(
        "package-manager-state",
        FixScope.DOCKERFILE,
        f"delete them at the end of this RUN: `&& {command}`",
        (Edit(EditKind.APPEND_TO_RUN, command),),
        ("/var/lib/apt/lists/*", "/var/log/apt/*", "/var/log/dpkg.log"),
    )


def test_volatile_files_a_copy_brought_are_a_manual_fix_naming_the_paths() -> None:
    differences = [_diff("/etc/machine-id"), _diff("/var/lib/dbus/machine-id")]
    for instruction in (COPY, None, "ADD x /"):
        fix = fix_for_group("machine-id", instruction, differences)
        assert fix == _manual("machine-id", paths=("/etc/machine-id", "/var/lib/dbus/machine-id"))


def test_a_volatile_path_a_shell_would_split_is_quoted_in_the_command() -> None:
    fix = fix_for_group("pip-cache", RUN, [_diff("/home/my user/.cache/pip/wheel")])
    assert fix.edits == (Edit(EditKind.APPEND_TO_RUN, "rm -rf '/home/my user/.cache/pip/wheel'"),)
    assert fix.paths == ("/home/my user/.cache/pip/wheel",)


def test_removal_paths_keep_only_the_causes_own_family_each_once_and_sorted() -> None:
    paths = ["/tmp/b", "/etc/machine-id", "/tmp/a", "/app/main.py", "/var/tmp/c"]
    assert removal_paths("temp-files", paths) == ("/tmp/*", "/var/tmp/*")
    assert removal_paths("machine-id", paths) == ("/etc/machine-id",)
    assert removal_paths("ssh-host-keys", paths) == ()


def test_shell_words_keep_globs_and_quote_the_rest() -> None:
    assert shell_words(["/var/log/apt/*", "/a b", "/x$y", "/ok.v1+2@3%4,5:6=7-8"]) == (
        "/var/log/apt/* '/a b' '/x$y' /ok.v1+2@3%4,5:6=7-8"
    )
    assert shell_words([]) == ""


def test_present_files_join_only_a_volatile_causes_paths() -> None:
    # An archive group's fix is made from its own paths: a present file does not count.
    fix = fix_for_group("archive-timestamps", RUN, [_diff("/doc/a.gz")], ["/doc/notes.txt"])
    assert fix.scope == FixScope.DOCKERFILE
    fix = fix_for_group("temp-files", RUN, [], ["/tmp/build-1"])
    assert fix.paths == ("/tmp/*",)


# Bytecode, archives, build paths, clocks, output order, build arguments.


@pytest.mark.parametrize("instruction", [RUN, COPY, "ADD app.tar /app"])
def test_pyc_files_a_run_or_copy_made_get_the_epoch_in_their_stage(instruction: str) -> None:
    fix = fix_for_group("pyc-timestamp", instruction, [_diff("/app/a.pyc")])
    assert fix == Fix(
        "pyc-timestamp",
        FixScope.DOCKERFILE,
        "declare `ARG SOURCE_DATE_EPOCH` in the stage that compiles them: pyc files then "
        "record the source's hash, not its time",
        (STAGE_EPOCH,),
    )


@pytest.mark.parametrize("instruction", [None, "", "WORKDIR /app", "ENV RUN=1"])
def test_pyc_files_no_run_or_copy_made_are_a_manual_fix(instruction: str | None) -> None:
    fix = fix_for_group("pyc-timestamp", instruction, [_diff("/app/a.pyc")])
    assert fix == _manual("pyc-timestamp")


GZIP_NOTE = "`gzip -n` (no name, no time in the header)"
TAR_NOTE = (
    "tar's members in name order at SOURCE_DATE_EPOCH "
    '(`TAR_OPTIONS="--sort=name --mtime=@${SOURCE_DATE_EPOCH}"`, with `ARG SOURCE_DATE_EPOCH`)'
)
ZIP_NOTE = (
    f"`ARG SOURCE_DATE_EPOCH` and the inputs' times set to it before zipping (`{TOUCH_INPUTS}`)"
)
TOUCH = tuple(Edit(EditKind.INSERT_BEFORE_IN_RUN, TOUCH_INPUTS, p) for p in ZIP_ARCHIVERS)


@pytest.mark.parametrize(
    ("paths", "notes", "edits"),
    [
        (["/doc/a.gz"], [GZIP_NOTE], (GZIP_N,)),
        (["/dist/a.tar.gz"], [GZIP_NOTE, TAR_NOTE], (GZIP_N, STAGE_EPOCH, TAR_FIXED)),
        (["/dist/a.tgz"], [GZIP_NOTE, TAR_NOTE], (GZIP_N, STAGE_EPOCH, TAR_FIXED)),
        (["/dist/a.whl", "/dist/b.jar"], [ZIP_NOTE], (STAGE_EPOCH, *TOUCH)),
        (
            ["/doc/a.gz", "/dist/a.tgz", "/dist/a.zip"],
            [GZIP_NOTE, TAR_NOTE, ZIP_NOTE],
            (GZIP_N, STAGE_EPOCH, TAR_FIXED, STAGE_EPOCH, *TOUCH),
        ),
    ],
)
def test_archives_are_created_with_fixed_times_by_kind(
    paths: list[str], notes: list[str], edits: tuple[Edit, ...]
) -> None:
    fix = fix_for_group("archive-timestamps", RUN, [_diff(p) for p in paths])
    assert fix == Fix(
        "archive-timestamps",
        FixScope.DOCKERFILE,
        "create them with " + " and ".join(notes),
        edits,
    )


def test_an_archive_group_with_a_file_no_edit_covers_is_manual_with_the_edits_known() -> None:
    fix = fix_for_group("archive-timestamps", RUN, [_diff("/doc/a.gz"), _diff("/doc/a.bz2")])
    assert fix == _manual("archive-timestamps", (GZIP_N,))
    fix = fix_for_group("archive-timestamps", RUN, [_diff("/doc/a.7z")])
    assert fix == _manual("archive-timestamps")


def test_a_zip_is_not_taken_for_a_gzip() -> None:
    fix = fix_for_group("archive-timestamps", RUN, [_diff("/dist/a.zip")])
    assert GZIP_N not in fix.edits
    assert fix.text == f"create them with {ZIP_NOTE}"


def test_an_embedded_build_path_is_stripped_where_go_and_gcc_record_it() -> None:
    fix = fix_for_group("embedded-build-path", RUN, [_diff("/app/server")])
    assert fix == Fix(
        "embedded-build-path",
        FixScope.DOCKERFILE,
        "strip the build directory where the compiler records it: "
        "`go build -trimpath -buildvcs=false`, `gcc -ffile-prefix-map=$PWD=.`",
        (GO_TRIMPATH, GCC_PREFIX_MAP),
    )


def test_a_run_that_prints_the_date_prints_the_epoch_instead() -> None:
    fix = fix_for_group("clock-in-content", "RUN date > /built-at", [_diff("/built-at")])
    assert fix == Fix(
        "clock-in-content",
        FixScope.DOCKERFILE,
        'print SOURCE_DATE_EPOCH instead of the clock: `date -d "@${SOURCE_DATE_EPOCH}"`, '
        "with `ARG SOURCE_DATE_EPOCH` in the stage",
        (DATE_FROM_EPOCH, STAGE_EPOCH),
    )


@pytest.mark.parametrize(
    "instruction",
    [None, "RUN python -c 'import time; print(time.time())' > /t", "RUN date -d @0 > /t"],
)
def test_a_clock_no_date_command_reads_is_a_manual_fix(instruction: str | None) -> None:
    assert fix_for_group("clock-in-content", instruction, [_diff("/t")]) == _manual(
        "clock-in-content"
    )


def test_unordered_output_is_sorted_in_place_file_by_file() -> None:
    differences = [_diff("/app/list.txt"), _diff("/app/my list"), _diff("/app/list.txt", "size")]
    fix = fix_for_group("unordered-output", RUN, differences)
    first = "LC_ALL=C sort -o /app/list.txt /app/list.txt"
    second = "LC_ALL=C sort -o '/app/my list' '/app/my list'"
    assert fix == Fix(
        "unordered-output",
        FixScope.DOCKERFILE,
        f"sort the lines where they are written: `{first}`; `{second}`",
        (Edit(EditKind.APPEND_TO_RUN, first), Edit(EditKind.APPEND_TO_RUN, second)),
        ("/app/list.txt", "/app/my list"),
    )


def test_a_build_argument_gets_a_default_for_each_time_zone_and_locale_variable() -> None:
    fix = fix_for_group("build-arg", "RUN |1 TZ=Europe/Paris date", [_diff("/etc/tz")])
    assert fix == Fix(
        "build-arg",
        FixScope.DOCKERFILE,
        "give the ARG a default, so that no builder's value reaches the build "
        "(`ARG TZ=UTC`, `ARG LANG=C.UTF-8`)",
        tuple(
            Edit(EditKind.SET_ARG_DEFAULT, text)
            for text in (
                "TZ=UTC",
                "LANG=C.UTF-8",
                "LANGUAGE=",
                "LC_ALL=C.UTF-8",
                "LC_COLLATE=C.UTF-8",
                "LC_CTYPE=C.UTF-8",
                "LC_MESSAGES=C.UTF-8",
                "LC_MONETARY=C.UTF-8",
                "LC_NUMERIC=C.UTF-8",
                "LC_TIME=C.UTF-8",
            )
        ),
    )


# File modes.


def test_modes_of_a_run_follow_from_the_copy_that_brought_the_files() -> None:
    fix = fix_for_group("checkout-umask", RUN, [_mode("/app/x", "0644", "0664")])
    assert fix == Fix(
        "checkout-umask",
        FixScope.FOLLOWS,
        "these modes come from files COPYed from the build context: the COPY's fix fixes them",
    )


def test_one_mode_for_every_copied_file_is_a_copy_chmod_of_the_bits_both_sides_share() -> None:
    differences = [
        _mode("/app/a", "0664", "0644"),
        _mode("/app/b", "0646", "0644"),
        _mode("/app/c", "rw-", "0644"),  # not octal: says nothing of the mode
    ]
    fix = fix_for_group("checkout-umask", COPY, differences)
    assert fix == Fix(
        "checkout-umask",
        FixScope.DOCKERFILE,
        "give the copied files one mode whatever the checkout's umask: `COPY --chmod=0644`",
        (Edit(EditKind.SET_COPY_FLAG, "--chmod=0644"),),
    )


def test_a_mode_is_written_with_four_octal_digits() -> None:
    fix = fix_for_group("checkout-umask", None, [_mode("/app/a", "0060", "0040")])
    assert fix.edits == (Edit(EditKind.SET_COPY_FLAG, "--chmod=0040"),)


def test_a_mode_that_is_not_octal_is_passed_over_not_the_end_of_the_modes() -> None:
    differences = [_mode("/app/a", "rw-", "0644"), _mode("/b", "0755", "0775")]
    fix = fix_for_group("checkout-umask", COPY, differences)
    assert fix.edits == (Edit(EditKind.SET_COPY_FLAG, "--chmod=0755"),)


def test_several_modes_of_a_copy_are_normalised_in_a_stage_of_their_own() -> None:
    differences = [_mode("/app/a", "0644", "0664"), _mode("/app/bin", "0755", "0775")]
    for instruction in (COPY, "ADD . /app"):
        fix = fix_for_group("checkout-umask", instruction, differences)
        assert fix == Fix(
            "checkout-umask",
            FixScope.DOCKERFILE,
            "normalise the modes in a stage of their own: COPY there, "
            "`RUN chmod -R u=rwX,go=rX`, and COPY --from that stage",
            (Edit(EditKind.COPY_VIA_MODE_STAGE, "u=rwX,go=rX"),),
        )


def test_modes_no_edit_can_set_are_a_manual_fix() -> None:
    several = [_mode("/app/a", "0644", "0664"), _mode("/app/bin", "0755", "0775")]
    assert fix_for_group("checkout-umask", None, several) == _manual("checkout-umask")
    unreadable = [_mode("/app/a", "rw-", "rwx")]
    assert fix_for_group("checkout-umask", COPY, unreadable) == _manual("checkout-umask")


# Causes with no edit of the Dockerfile.


def test_differences_that_follow_from_the_layers_need_no_fix_of_their_own() -> None:
    fix = fix_for_group("follows-from-layers", None, [_diff("rootfs.diff_ids[1]")])
    assert fix == Fix(
        "follows-from-layers", FixScope.FOLLOWS, rule_by_id("follows-from-layers").fix
    )


@pytest.mark.parametrize(
    "cause_id",
    [
        "attestation-manifests",
        "source-date-epoch",
        "compression-only",
        "rewrite-timestamp",
        "time-older-than-epoch",
    ],
)
def test_causes_a_build_option_fixes_are_fixed_in_the_build(cause_id: str) -> None:
    fix = fix_for_group(cause_id, RUN, [_diff("/app/x", "mtime", 1, 2)], ["/tmp/x"])
    assert fix == Fix(cause_id, FixScope.BUILD, rule_by_id(cause_id).fix)


def test_a_cause_with_no_edit_keeps_its_rules_advice_as_a_manual_fix() -> None:
    random = classify(
        Difference("linux/amd64", "file", 1, "RUN uuidgen > /id", "/id", "content", "changed", 1, 2)
    )
    assert random.cause_id == "random-content"
    fix = fix_for_group("random-content", random.instruction, [random])
    assert fix == Fix("random-content", FixScope.MANUAL, rule_by_id("random-content").fix)
    assert fix_for_group("unclassified", RUN, []) == Fix(
        "unclassified", FixScope.MANUAL, UNCLASSIFIED_FIX
    )


# The command patterns the edits look for.


@pytest.mark.parametrize(
    ("run", "found"),
    [
        ("gzip out", True),
        ("tar c . | gzip > a.gz", True),
        ("gzip", True),
        ("gzip -9 out", True),
        ("gzip -n out", False),
        ("gzip -9n out", False),
        ("gzip --no-name out", False),
        ("/usr/bin/gzip out", False),  # part of a path
        ("pigzip out", False),
        ("gzip.py out", False),
        ("gzip-wrapper out", False),
        ("$gzip out", False),
    ],
)
def test_the_gzip_edit_finds_gzip_run_as_a_command_without_no_name(run: str, found: bool) -> None:
    assert (re.search(GZIP_N.pattern, run) is not None) is found
    assert (re.search(command_pattern("gzip", r"-\w*n\b|--no-name\b"), run) is not None) is found


def test_a_command_pattern_without_a_guard_finds_every_use_of_the_word() -> None:
    pattern = command_pattern("zip")
    assert re.search(pattern, "zip -r a.zip .") is not None
    assert re.search(pattern, "zip -X -r a.zip .") is not None
    assert re.search(pattern, "unzip a.zip") is None
    assert pattern == r"(?<![\w./$-])zip(?![\w.-])"
    dotted = command_pattern("a.b", "-x")
    assert dotted == r"(?<![\w./$-])a\.b(?![\w.-])(?!\s+(?:-x))"
    assert re.search(dotted, "axb") is None
