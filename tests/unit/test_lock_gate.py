"""The CI gate: the hermetic check, unpinnable bases, bad input, bots' pins, the [files]
record of repro.lock, --online/--outdated, and writing every file as one transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from repro import fsutil
from repro.config import load_config
from repro.errors import InputError, LockfileError
from repro.fsutil import recover_transaction, staged_path, write_transaction
from repro.lock.check import check_files
from repro.lock.model import Action, Mode
from repro.lock.scan import scan_dockerfile
from repro.lock.service import JOURNAL_NAME, LockRequest, run_check, run_lock, run_outdated
from repro.lockfile import parse_lockfile
from repro.registry.model import ManifestKey
from tests.unit.test_lock_core import D1, D2, D3, NOW, FakeResolver, write

CHECK = LockRequest(mode=Mode.CHECK)


class FakeTags:
    """What tags serve now; counts the questions."""

    def __init__(self, served: Mapping[str, str]) -> None:
        self.served = dict(served)
        self.asked: list[ManifestKey] = []

    def served_digests(self, keys: Sequence[ManifestKey]) -> dict[ManifestKey, str]:
        self.asked.extend(keys)
        return {key: self.served[str(key)] for key in keys}


# -- unpinnable bases and files that are not Dockerfiles ---------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"ARG BASE\nFROM ${BASE}\n", "ARG BASE has no default"),
        (b"FROM $UNDEFINED AS build\nFROM r.io/a:1\n", "$UNDEFINED is not defined"),
        (b"FROM r.io/a:1\nARG LATE=r.io/b:1\nFROM ${LATE}\n", "$LATE is not defined"),
    ],
)
def test_a_from_without_a_literal_value_is_unpinnable_and_fails_the_check(
    text: bytes, why: str
) -> None:
    result = check_files([scan_dockerfile("Dockerfile", text)], None)
    unpinnable = [ref for ref in result.references if ref.action is Action.UNPINNABLE]
    assert len(unpinnable) == 1
    assert why in unpinnable[0].message and "allow-unpinnable" in unpinnable[0].fix
    assert unpinnable[0] in result.offenders


def test_allow_unpinnable_accepts_the_text_as_written_or_a_file_glob() -> None:
    source = scan_dockerfile("ci/base.Dockerfile", b"ARG BASE\nFROM ${BASE}\n")
    for allow in (["${BASE}"], ["ci/*.Dockerfile"]):
        result = check_files([source], None, allow)
        assert [ref.action for ref in result.references] == [Action.ALLOWED]
        assert result.offenders == ()
    assert check_files([source], None, ["${OTHER}"]).offenders != ()


def test_unpinnable_in_a_lock_run_is_a_warning_and_never_written(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "Dockerfile", b"ARG BASE\nFROM ${BASE}\nFROM r.io/a:1\n")
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    assert [ref.action for ref in outcome.references] == [Action.UNPINNABLE, Action.PINNED]
    assert any("ARG BASE has no default" in warning for warning in outcome.warnings)
    assert dockerfile.read_bytes() == f"ARG BASE\nFROM ${{BASE}}\nFROM r.io/a:1@{D2}\n".encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "it is empty"),
        (b"\n# only a comment\n\n", "it is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00garbage", "binary data"),
        (b"hello world\nthis is a README\n", "no FROM instruction"),
        (
            b"<<<<<<< HEAD\nFROM r.io/a:1\n=======\nFROM r.io/a:2\n>>>>>>> bump\n",
            "Dockerfile:1: a merge left conflict markers",
        ),
    ],
)
def test_a_file_that_is_not_a_dockerfile_is_an_input_error(
    tmp_path: Path, data: bytes, message: str
) -> None:
    write(tmp_path / "Dockerfile", data)
    with pytest.raises(InputError, match="Dockerfile") as caught:
        run_check(CHECK, cwd=tmp_path)
    assert message in caught.value.message


# -- repro.lock: bad input names the line, nothing is written --------------------------------

GOOD = f"""schema_version = 1

[[image]]
reference = "r.io/a:1"
name = "r.io/a"
tag = "1"
digest = "{D2}"
media_type = "application/vnd.oci.image.manifest.v1+json"
resolved_at = "{NOW}"
"""


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            GOOD.replace('tag = "1"\n', '<<<<<<< HEAD\ntag = "1"\n=======\ntag = "2"\n>>>>>>> x\n'),
            "repro.lock:6",
            "conflict markers",
        ),
        (GOOD + GOOD.split("\n", 2)[2], "repro.lock:10", "listed twice"),
        (GOOD.replace(D2, "latest"), "repro.lock:7", "is not a digest"),
        (GOOD.replace(D2, "sha256:1234"), "repro.lock:7", "is not a digest"),
    ],
)
def test_a_broken_lockfile_exits_2_naming_the_line_and_nothing_is_written(
    tmp_path: Path, text: str, where: str, what: str
) -> None:
    dockerfile = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    (tmp_path / "repro.lock").write_text(text)
    for run in (
        lambda: run_check(CHECK, cwd=tmp_path),
        lambda: run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2})),
    ):
        with pytest.raises(LockfileError) as caught:
            run()
        assert caught.value.message.startswith(str(tmp_path / where)), caught.value.message
        assert what in caught.value.message
    assert dockerfile.read_bytes() == b"FROM r.io/a:1\n"
    assert (tmp_path / "repro.lock").read_text() == text


def test_schema_1_is_read_and_written_back_as_schema_2_keeping_releases(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", f"FROM r.io/a:1@{D2}\n".encode())
    release = '\n[[release]]\nversion = "1.0"\ncommit = "abc"\n'
    (tmp_path / "repro.lock").write_text(GOOD + release)
    assert run_check(CHECK, cwd=tmp_path).offenders == ()  # read, never rewritten
    assert (tmp_path / "repro.lock").read_text() == GOOD + release
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    lock = parse_lockfile((tmp_path / "repro.lock").read_text())
    assert "schema_version = 2" in (tmp_path / "repro.lock").read_text()
    assert lock.extra == {"release": [{"version": "1.0", "commit": "abc"}]}
    assert lock.images["r.io/a:1"].digest == D2
    assert [s.reference for s in lock.files["Dockerfile"].sites] == [f"r.io/a:1@{D2}"]


# -- the [files] record: unchanged files are not parsed again -------------------------------


def test_the_check_reuses_the_record_of_unchanged_files_only(tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "Dockerfile", b"FROM r.io/a:1\nRUN true\n")
    write(tmp_path / "b" / "Dockerfile", b"FROM r.io/b:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2, "r.io/b:1": D3}))
    first = run_check(CHECK, cwd=tmp_path)
    assert (first.reused, first.offenders) == (2, ())
    a.write_bytes(a.read_bytes().replace(b"RUN true", b"RUN false"))  # an edit: parse again
    second = run_check(CHECK, cwd=tmp_path)
    assert (second.reused, second.offenders) == (1, ())
    a.write_bytes(b"FROM r.io/a:1\n")  # unpinned now: found, whatever the record says
    third = run_check(CHECK, cwd=tmp_path)
    assert [(ref.file, ref.action) for ref in third.offenders] == [
        ("a/Dockerfile", Action.UNPINNED)
    ]
    assert run_check(LockRequest(mode=Mode.CHECK, reparse=True), cwd=tmp_path).reused == 0


def test_a_hand_edited_record_is_not_trusted(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    lock_path = tmp_path / "repro.lock"
    text = lock_path.read_text()
    # the record claims a pinned file whose bytes it does not describe
    dockerfile.write_bytes(b"FROM r.io/evil:1\n")
    assert run_check(CHECK, cwd=tmp_path).offenders[0].action is Action.UNPINNED
    # a record whose reference does not parse: the file is parsed instead
    dockerfile.write_bytes(f"FROM r.io/a:1@{D2}\n".encode())
    lock_path.write_text(text.replace(f"from:r.io/a:1@{D2}", "from:NOT/A/REF"))
    outcome = run_check(CHECK, cwd=tmp_path)
    assert (outcome.reused, outcome.offenders) == (0, ())


def test_the_files_record_reads_the_same_however_it_is_laid_out(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    text = (tmp_path / "repro.lock").read_text()
    written = parse_lockfile(text)
    sha, path, site = next(iter(written.files.values())).encode().split(" ")
    # the same record as a basic string, the way a person (or a TOML tool) may write it
    by_hand = text[: text.index("[files]")] + f'[files]\ndockerfile = "{sha} {path} {site}\\n"\n'
    assert parse_lockfile(by_hand).files == written.files
    broken = text.replace(sha, "not-a-hash")
    with pytest.raises(LockfileError, match=r"repro\.lock:\d+: a files\.dockerfile line must be"):
        parse_lockfile(broken)
    lines = text.splitlines()
    (number,) = [n for n, line in enumerate(lines, 1) if line.startswith(sha)]
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(broken)
    assert caught.value.message.startswith(f"repro.lock:{number}:")


def test_what_the_parser_read_leniently_is_said_by_lock_and_by_every_check(
    tmp_path: Path,
) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\nCOPY --user=me foo /tmp/\n")
    said = "Dockerfile:2:6: unknown flag --user on COPY: kept as written, not interpreted"
    locked = run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    assert said in locked.warnings
    # no record of that file: every check parses it again, and says it again
    assert "Dockerfile" not in parse_lockfile((tmp_path / "repro.lock").read_text()).files
    for _ in range(2):
        checked = run_check(CHECK, cwd=tmp_path)
        assert (checked.offenders, checked.warnings, checked.reused) == ((), (said,), 0)


def test_a_recorded_file_that_is_gone_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    gone = write(tmp_path / "old.Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    gone.unlink()
    outcome = run_check(CHECK, cwd=tmp_path)
    assert outcome.offenders == ()
    assert outcome.warnings == ("old.Dockerfile: recorded in repro.lock but no longer found",)


# -- bots welcome ---------------------------------------------------------------------------


def test_a_bot_bump_fails_the_check_with_the_fix_then_repro_lock_records_it(
    tmp_path: Path,
) -> None:
    dockerfile = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    # the tag moves to an index (D1) and a bot rewrites the pin, as Renovate does
    dockerfile.write_bytes(f"FROM r.io/a:1@{D1}\n".encode())
    (mismatch,) = run_check(CHECK, cwd=tmp_path).offenders
    assert mismatch.action is Action.LOCK_MISMATCH
    assert mismatch.fix.startswith("run `repro lock`")
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D1}))
    (ref,) = outcome.references
    assert (ref.action, ref.old_digest, ref.new_digest) == (Action.RECORDED, D1, D1)
    assert outcome.written == ("repro.lock",)
    entry = parse_lockfile((tmp_path / "repro.lock").read_text()).images["r.io/a:1"]
    assert entry.digest == D1
    assert dict(entry.platforms) == {"linux/amd64": D2, "linux/arm64": D3}
    assert dockerfile.read_bytes() == f"FROM r.io/a:1@{D1}\n".encode()
    assert run_check(CHECK, cwd=tmp_path).offenders == ()


def test_a_digest_pinned_by_hand_is_recorded_with_its_own_children(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    dockerfile.write_bytes(f"FROM r.io/a:1@{D1}\n".encode())  # an older index, by hand
    resolver = FakeResolver({"r.io/a:1": D3})  # the tag serves something else today
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    (ref,) = outcome.references
    assert ref.action is Action.DRIFTED and "repro.lock now records this pin" in ref.message
    assert ManifestKey("r.io", "a", D1) in resolver.calls  # its bytes were read
    entry = parse_lockfile((tmp_path / "repro.lock").read_text()).images["r.io/a:1"]
    assert entry.digest == D1 and dict(entry.platforms) == {"linux/amd64": D2, "linux/arm64": D3}
    assert run_check(CHECK, cwd=tmp_path).offenders == ()


# -- the registry view: --online warnings and --outdated ----------------------------------------


def _locked(tmp_path: Path) -> None:
    write(tmp_path / "a.Dockerfile", b"FROM r.io/a:1\nFROM r.io/b:1\n")
    write(tmp_path / "b.Dockerfile", b"FROM r.io/a:1\nFROM r.io/c@" + D3.encode() + b"\n")
    run_lock(
        LockRequest(),
        cwd=tmp_path,
        resolver=FakeResolver({"r.io/a:1": D2, "r.io/b:1": D2}),
        now=lambda: "2026-01-01T00:00:00Z",
    )


def test_online_check_reports_moved_tags_as_warnings_never_failures(tmp_path: Path) -> None:
    _locked(tmp_path)
    tags = FakeTags({"r.io/a:1": D3, "r.io/b:1": D2})
    outcome = run_check(CHECK, cwd=tmp_path, tags=tags)
    assert outcome.offenders == ()
    assert sorted((ref.file, ref.line) for ref in outcome.result.moved) == [
        ("a.Dockerfile", 1),
        ("b.Dockerfile", 1),
    ]
    assert any("now serves" in warning for warning in outcome.warnings)
    assert sorted(map(str, tags.asked)) == ["r.io/a:1", "r.io/b:1"]  # once per tag


def test_outdated_lists_each_moved_pin_once_with_its_age(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    _locked(tmp_path)
    tags = FakeTags({"r.io/a:1": D3, "r.io/b:1": D2})
    outcome = run_outdated(
        LockRequest(), cwd=tmp_path, tags=tags, now=lambda: datetime(2026, 3, 2, tzinfo=UTC)
    )
    assert len(tags.asked) == 2 and outcome.tags_asked == 2 and outcome.pins == 3
    (pin,) = outcome.outdated
    assert (pin.tag, pin.old_digest, pin.new_digest) == ("r.io/a:1", D2, D3)
    assert pin.sites == ("a.Dockerfile:1", "b.Dockerfile:1")
    assert (pin.locked_at, pin.age_days) == ("2026-01-01T00:00:00Z", 60)


# -- configuration --------------------------------------------------------------------------------


def test_an_unknown_config_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "repro.toml").write_text('[mirorrs]\n"docker.io" = "http://localhost:5000"\n')
    with pytest.raises(InputError, match="unknown key `mirorrs`") as caught:
        load_config(tmp_path)
    assert caught.value.hint is not None and "did you mean `mirrors`?" in caught.value.hint
    (tmp_path / "repro.toml").write_text('[signoff]\nsize-budjet = "1MB"\n')
    with pytest.raises(InputError, match=r"signoff\.size-budjet") as caught:
        load_config(tmp_path)
    assert caught.value.hint is not None and "signoff.size-budget" in caught.value.hint
    (tmp_path / "repro.toml").write_text("[verify]\nvarry = []\n")
    with pytest.raises(InputError, match=r"verify\.varry") as caught:
        load_config(tmp_path)
    assert caught.value.hint is not None and "did you mean `verify.vary`?" in caught.value.hint
    (tmp_path / "repro.toml").write_text('allow-unpinnable = ["${BASE}"]\n')
    assert load_config(tmp_path).allow_unpinnable == ("${BASE}",)


# -- one transaction ------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for kill -9 here (the integration tests kill a real process)."""


def _crash_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    def pause(name: str) -> None:
        if name == point:
            raise Crash(name)

    monkeypatch.setattr(fsutil, "_pause_point", pause)


POINTS_ROLLED_BACK = ["journal", "staged-1", "staged-3"]
POINTS_COMPLETED = ["commit", "renamed-1", "renamed-2"]


@pytest.mark.parametrize("point", POINTS_ROLLED_BACK + POINTS_COMPLETED)
def test_an_interrupted_transaction_is_completed_or_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    files = [write(tmp_path / name, b"old " + name.encode()) for name in ("a", "b", "c")]
    journal = tmp_path / JOURNAL_NAME
    _crash_at(monkeypatch, point)
    with pytest.raises(Crash):
        write_transaction([(path, b"new " + path.name.encode()) for path in files], journal)
    assert journal.exists()
    outcome = recover_transaction(journal)
    expected = "old" if point in POINTS_ROLLED_BACK else "new"
    assert outcome == ("rolled back" if expected == "old" else "completed")
    assert [path.read_bytes() for path in files] == [
        f"{expected} {path.name}".encode() for path in files
    ]
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]  # no journal, nothing staged
    assert recover_transaction(journal) is None


def test_a_transaction_keeps_modes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    script = write(tmp_path / "Dockerfile", b"old", mode=0o640)
    write_transaction([(script, b"new"), (tmp_path / "repro.lock", b"lock")], tmp_path / "j")
    assert script.read_bytes() == b"new" and script.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile", "repro.lock"]
    assert not staged_path(script).exists()


def test_the_next_lock_run_completes_an_interrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.Dockerfile", b"FROM r.io/a:1\n")
    write(tmp_path / "b.Dockerfile", b"FROM r.io/b:1\n")
    resolver = FakeResolver({"r.io/a:1": D2, "r.io/b:1": D3})
    _crash_at(monkeypatch, "renamed-1")
    with pytest.raises(Crash):
        run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    with pytest.raises(InputError, match="interrupted"):
        run_check(CHECK, cwd=tmp_path)  # read-only: it says so, it does not guess
    monkeypatch.setattr(fsutil, "_pause_point", lambda name: None)
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    assert outcome.recovered == "completed"
    assert outcome.written == ()  # the interrupted run had written everything needed
    assert run_check(CHECK, cwd=tmp_path).offenders == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.Dockerfile",
        "b.Dockerfile",
        "repro.lock",
    ]


def test_json_journal_names_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write(tmp_path / "a", b"old")
    _crash_at(monkeypatch, "staged-1")
    with pytest.raises(Crash):
        write_transaction([(target, b"new")], tmp_path / "j")
    document = json.loads((tmp_path / "j").read_text())
    assert document == {"state": "staging", "files": [str(target)]}
    assert staged_path(target).read_bytes() == b"new"
