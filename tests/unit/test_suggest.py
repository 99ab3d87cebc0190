"""Fixes made from what was seen, and the exact Dockerfile change repro.verify.suggest makes."""

from __future__ import annotations

from repro.dockerfile import parse_dockerfile
from repro.oci.causes import classify
from repro.oci.groups import group_differences
from repro.oci.model import (
    Comparison,
    Difference,
    FixScope,
    LayerInventory,
    PlatformComparison,
)
from repro.verify.suggest import suggest_fixes

BASE = "FROM localhost:5000/library/python:3.11-slim"


def _diff(
    layer: int,
    instruction: str,
    path: str,
    field: str = "content",
    a: str = "sha256:a",
    b: str = "sha256:b",
) -> Difference:
    diff = Difference("linux/amd64", "file", layer, instruction, path, field, "changed", a, b)
    return classify(diff)


def _comparison(
    *diffs: Difference,
    inventory: tuple[LayerInventory, ...] = (),
    instructions: tuple[str | None, ...] = (),
) -> Comparison:
    platform = PlatformComparison("linux/amd64", "sha256:a", "sha256:b", diffs, instructions)
    groups = group_differences(diffs, inventory)
    return Comparison("i", "j", "a", "b", (platform,), diffs, groups=groups)


def _suggest(dockerfile: str, comparison: Comparison) -> str:
    change = suggest_fixes(parse_dockerfile(dockerfile.encode(), "Dockerfile"), comparison)
    assert not change.unresolved, change.unresolved
    return change.updated.decode()


APT_RUN = "RUN apt-get update \\\n && apt-get install -y --no-install-recommends jq"
APT_HISTORY = "RUN apt-get update  && apt-get install -y --no-install-recommends jq"


def test_apt_fix_removes_every_apt_file_the_layer_holds_by_glob() -> None:
    groups = _comparison(
        _diff(1, APT_HISTORY, "/var/log/dpkg.log"),
        _diff(1, APT_HISTORY, "/var/cache/apt/pkgcache.bin"),
        _diff(1, APT_HISTORY, "/var/log/apt/history.log"),
        inventory=(
            LayerInventory(
                "linux/amd64",
                1,
                "package-manager-state",
                (
                    "/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                    "/var/log/apt/term.log",
                ),
            ),
        ),
    )
    [group] = groups.groups
    assert group.fix.paths == (
        "/var/cache/apt/*.bin",
        "/var/lib/apt/lists/*",
        "/var/log/apt/*",
        "/var/log/dpkg.log",
    )
    updated = _suggest(f"{BASE}\n{APT_RUN}\n", groups)
    assert updated == (
        f"{BASE}\n{APT_RUN} \\\n"
        " && rm -rf /var/cache/apt/*.bin /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log\n"
    )


def test_pyc_fix_declares_the_epoch_in_the_stage_that_compiles() -> None:
    run = "RUN python3 -m compileall -q /app"
    updated = _suggest(
        f"{BASE}\nCOPY app /app\n{run}\n",
        _comparison(_diff(2, run, "/app/__pycache__/a.cpython-311.pyc")),
    )
    assert updated == f"{BASE}\nARG SOURCE_DATE_EPOCH\nCOPY app /app\n{run}\n"


def test_a_fix_for_copied_files_goes_to_the_stage_they_come_from() -> None:
    dockerfile = (
        f'{BASE} AS build\nRUN cd "$(mktemp -d)" && go build -o /out/hello .\n\n'
        "FROM localhost:5000/library/busybox:1.35\n"
        "COPY --from=build /out/hello /usr/local/bin/hello\n"
    )
    diff = _diff(1, "COPY /out/hello /usr/local/bin/hello", "/usr/local/bin/hello")
    evidence_free = classify(diff)
    assert evidence_free.cause_id == "unclassified"  # no evidence: nothing to say it is a path
    build_path = Difference(**{**diff.__dict__, "cause_id": "embedded-build-path"})
    updated = _suggest(dockerfile, _comparison(build_path))
    assert "go build -trimpath -buildvcs=false -o /out/hello ." in updated
    assert updated.count("-trimpath") == 1


def test_gzip_clock_and_umask_edits() -> None:
    gz_run = "RUN gzip -k -9 /srv/tides.csv"
    clock_run = "RUN date -u '+%FT%T' > /etc/built-at"
    copy = "COPY tides.csv /srv/tides.csv"
    groups = _comparison(
        _diff(1, copy, "/srv/tides.csv", "mode", a="0644", b="0664"),
        _diff(2, gz_run, "/srv/tides.csv.gz"),
        _diff(3, clock_run, "/etc/built-at"),
    )
    updated = _suggest(f"{BASE}\n{copy}\n{gz_run}\n{clock_run}\n", groups)
    assert updated == (
        f"{BASE}\nARG SOURCE_DATE_EPOCH\nCOPY --chmod=0644 tides.csv /srv/tides.csv\n"
        "RUN gzip -n -k -9 /srv/tides.csv\n"
        "RUN date -d \"@${SOURCE_DATE_EPOCH}\" -u '+%FT%T' > /etc/built-at\n"
    )


def test_words_inside_paths_and_longer_words_are_not_commands() -> None:
    run = "RUN apt-get update && cp /srv/date.txt /srv/x.gzip && echo date"
    groups = _comparison(_diff(1, run, "/srv/x.gz"), _diff(1, run, "/etc/built-at"))
    change = suggest_fixes(parse_dockerfile(f"{BASE}\n{run}\n".encode(), "D"), groups)
    assert "apt-get update" in change.updated.decode()
    assert "/srv/date.txt" in change.updated.decode()
    assert "echo date -d" in change.updated.decode()  # the one `date` run as a command


def _tree_modes(instruction: str, layer: int = 2) -> Comparison:
    return _comparison(
        _diff(layer, instruction, "/srv/app/run.sh", "mode", a="0755", b="0775"),
        _diff(layer, instruction, "/srv/app/conf.ini", "mode", a="0644", b="0664"),
        _diff(layer, instruction, "/srv/app/static", "mode", a="0755", b="0775"),
    )


def test_mixed_modes_in_one_copy_go_through_a_stage_that_normalises_them() -> None:
    dockerfile = f"{BASE} AS app\nWORKDIR /srv\nCOPY --chown=1000 --link app ./app\n"
    groups = _tree_modes("COPY app ./app")
    [group] = groups.groups
    assert group.fix.scope is FixScope.DOCKERFILE
    change = suggest_fixes(parse_dockerfile(dockerfile.encode(), "D"), groups)
    assert not change.unresolved
    assert change.updated.decode() == (
        f"{BASE} AS repro-modes\n"
        "COPY app /repro-modes/srv/app\n"
        "RUN chmod -R u=rwX,go=rX /repro-modes\n\n"
        f"{BASE} AS app\nWORKDIR /srv\n"
        "COPY --from=repro-modes --chown=1000 --link /repro-modes/srv/app ./app\n"
    )
    # Both lines it changes serve the one group: the report shows each once, under it.
    assert [s.line for s in change.suggestions] == [1, 3]
    assert all(s.groups == (group.key,) for s in change.suggestions)


def test_a_mode_stage_and_the_epoch_arg_share_the_stage_line() -> None:
    copy, run = "COPY app /srv/app", "RUN python3 -m compileall -q /srv/app"
    groups = _comparison(
        *_tree_modes(copy, layer=1).differences,
        _diff(2, run, "/srv/app/__pycache__/a.cpython-311.pyc"),
    )
    change = suggest_fixes(parse_dockerfile(f"{BASE}\n{copy}\n{run}\n".encode(), "D"), groups)
    [from_line, copy_line] = change.suggestions
    assert from_line.line == 1 and from_line.replacement.endswith(f"{BASE}\nARG SOURCE_DATE_EPOCH")
    assert from_line.replacement.startswith(f"{BASE} AS repro-modes\nCOPY app /repro-modes/srv/app")
    assert set(from_line.causes) == {"checkout-umask", "pyc-timestamp"}
    assert copy_line.replacement == "COPY --from=repro-modes /repro-modes/srv/app /srv/app"


def test_a_copy_no_mode_stage_can_serve_is_unresolved_with_why() -> None:
    copy = "COPY app /srv/app"  # as the image history records it: no flags
    cases = [
        ("FROM scratch\nCOPY app /srv/app\n", copy, "FROM scratch"),
        (f"{BASE}\nCOPY app srv/app\n", "COPY app srv/app", "unknown WORKDIR"),
        (f"{BASE} AS app\nCOPY app /srv/app\nFROM app\nCOPY --from=0 /x /x\n", copy, "by number"),
        (f"{BASE}\nCOPY --chmod=644 app /srv/app\n", copy, "already sets --chmod"),
    ]
    for dockerfile, recorded, reason in cases:
        layers: tuple[str | None, ...] = (None, recorded)
        if "--from=0" in dockerfile:
            layers = (None, recorded, "COPY /x /x")
        comparison = _comparison(*_tree_modes(recorded, layer=1).differences, instructions=layers)
        change = suggest_fixes(parse_dockerfile(dockerfile.encode(), "D"), comparison)
        assert not change.changed, dockerfile
        [unresolved] = change.unresolved
        assert reason in unresolved.reason, (dockerfile, unresolved.reason)


def test_a_tar_gz_gets_fixed_member_order_and_times() -> None:
    run = "RUN cd /srv && gzip -k notes.txt && tar -czf /srv/notes.tar.gz notes.txt"
    groups = _comparison(_diff(1, run, "/srv/notes.tar.gz"), _diff(1, run, "/srv/notes.txt.gz"))
    updated = _suggest(f"{BASE}\n{run}\n", groups)
    assert updated == (
        f"{BASE}\nARG SOURCE_DATE_EPOCH\n"
        "RUN cd /srv && gzip -n -k notes.txt && "
        'TAR_OPTIONS="--sort=name --mtime=@${SOURCE_DATE_EPOCH}" tar -czf /srv/notes.tar.gz '
        "notes.txt\n"
    )


def test_a_build_argument_without_a_default_gets_one() -> None:
    run = 'RUN echo "$TZ" > /etc/timezone'
    created_by = 'RUN |1 TZ={} /bin/sh -c echo "$TZ" > /etc/timezone # buildkit'
    history = Difference(
        "linux/amd64",
        "config",
        1,
        run,
        "history[3].created_by",
        "created_by",
        "changed",
        created_by.format(""),
        created_by.format("<+14>-14"),
    )
    groups = _comparison(classify(history))
    [group] = groups.groups
    assert group.cause_id == "build-arg"
    assert _suggest(f"{BASE}\nARG TZ LANG=C\n{run}\n", groups) == (
        f"{BASE}\nARG TZ=UTC LANG=C\n{run}\n"
    )
    change = suggest_fixes(parse_dockerfile(f"{BASE}\nARG TZ=UTC\n{run}\n".encode(), "D"), groups)
    assert not change.changed and "declares none of these ARGs" in change.unresolved[0].reason


def test_a_layer_no_instruction_made_is_unresolved_and_says_so() -> None:
    groups = _comparison(_diff(1, "RUN date > /x", "/x"))
    change = suggest_fixes(parse_dockerfile(f"{BASE}\nRUN echo other\n".encode(), "D"), groups)
    assert not change.changed
    [unresolved] = change.unresolved
    assert unresolved.cause_id == "clock-in-content"
    assert "no instruction" in unresolved.reason


def test_two_layers_made_by_the_same_text_are_told_apart_by_the_image_history() -> None:
    run = "RUN date > /x"
    dockerfile = f"{BASE}\nWORKDIR /srv\n{run}\nRUN echo between\n{run}\n"
    history = ("FROM base", run, "RUN echo between", run)  # WORKDIR made no layer
    groups = _comparison(_diff(3, run, "/x"), instructions=history)
    updated = _suggest(dockerfile, groups)
    assert updated.splitlines()[3] == run  # layer 1: unchanged
    assert updated.splitlines()[-1] == 'RUN date -d "@${SOURCE_DATE_EPOCH}" > /x'


def test_the_unified_diff_names_the_file() -> None:
    run = "RUN cat /proc/sys/kernel/random/uuid > /id && date > /t"
    change = suggest_fixes(
        parse_dockerfile(f"{BASE}\n{run}\n".encode(), "app/Dockerfile"),
        _comparison(_diff(1, run, "/t")),
    )
    diff = change.unified_diff()
    assert diff.startswith("--- a/app/Dockerfile\n+++ b/app/Dockerfile\n")
    assert (
        '+RUN cat /proc/sys/kernel/random/uuid > /id && date -d "@${SOURCE_DATE_EPOCH}" > /t'
        in diff
    )
    [suggestion] = [s for s in change.suggestions if s.line == 2]
    assert suggestion.original == run and suggestion.causes == ("clock-in-content",)


def test_an_archiver_no_edit_knows_changes_nothing() -> None:
    dockerfile = (
        f"{BASE} AS build\nRUN cd /build && fastjar cf tide.jar -C classes .\n"
        "FROM localhost:5000/library/busybox:1.35\n"
        "COPY --from=build /build/tide.jar /opt/tide.jar\n"
    )
    change = suggest_fixes(
        parse_dockerfile(dockerfile.encode(), "D"),
        _comparison(_diff(1, "COPY /build/tide.jar /opt/tide.jar", "/opt/tide.jar")),
    )
    assert not change.changed  # not even the ARG the zip edits would need
    [unresolved] = change.unresolved
    assert unresolved.cause_id == "archive-timestamps"
