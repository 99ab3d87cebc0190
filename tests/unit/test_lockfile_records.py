"""repro.lock as bytes: the whole serialised file, every field read back, the [files]
record read without tomllib when laid out as repro writes it, and each refusal with its
file:line (exit 2)."""

from __future__ import annotations

from typing import Any

import pytest

import repro.lockfile
from repro.errors import ExitCode, LockfileError
from repro.lockfile import FileRecord, LockedImage, Lockfile, dump_lockfile, parse_lockfile

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
INDEX = "application/vnd.oci.image.index.v1+json"

LOCK = Lockfile(
    images={
        "r.io/b:1": LockedImage(
            "r.io/b:1",
            "r.io/b",
            "1",
            D1,
            INDEX,
            "2026-01-02T00:00:00Z",
            {"linux/arm64": D2, "linux/amd64": D1},
            "mirror.example:5000",
        ),
        f"r.io/a@{D2}": LockedImage(
            f"r.io/a@{D2}", "r.io/a", None, D2, "m", "2026-01-01T00:00:00Z"
        ),
    },
    extra={"release": [{"version": "1.0"}], "zeta": {"k": "v"}},
    files={
        "svc/my app.Dockerfile": FileRecord(
            "svc/my app.Dockerfile", "dockerfile", "a" * 64, ("1:6:from:r.io/b:1", "2:1:syntax:x")
        ),
        "100%.Dockerfile": FileRecord("100%.Dockerfile", "dockerfile", "b" * 64, ()),
        "compose.yaml": FileRecord(
            "compose.yaml", "compose", "c" * 64, (f"3:12:service:r.io/a@{D2}",)
        ),
    },
)

# Worked out by hand: images by key, a tag only when there is one, served_by only when a
# mirror answered, platforms sorted; other commands' tables as they were; then [files],
# one block per kind (sorted), one line per file (sorted by path, % and space escaped).
TEXT = f"""\
# repro.lock: image references resolved by `repro lock`. Do not edit by hand;
# run `repro lock --update` to move a pin, `repro lock --check` in CI.

schema_version = 2
release = [
    {{ version = "1.0" }},
]

[[image]]
reference = "r.io/a@{D2}"
name = "r.io/a"
digest = "{D2}"
media_type = "m"
resolved_at = "2026-01-01T00:00:00Z"

[[image]]
reference = "r.io/b:1"
name = "r.io/b"
tag = "1"
digest = "{D1}"
media_type = "{INDEX}"
served_by = "mirror.example:5000"
resolved_at = "2026-01-02T00:00:00Z"

[image.platforms]
"linux/amd64" = "{D1}"
"linux/arm64" = "{D2}"

[zeta]
k = "v"

[files]
# Every file `repro lock` read: sha256 of its bytes, path, then line:column:kind:reference
# of each image in it. `repro lock --check` skips parsing a file whose bytes still match.
compose = '''
{"c" * 64} compose.yaml 3:12:service:r.io/a@{D2}
'''
dockerfile = '''
{"b" * 64} 100%25.Dockerfile
{"a" * 64} svc/my%20app.Dockerfile 1:6:from:r.io/b:1 2:1:syntax:x
'''
"""


class TomlSpy:
    """Records the text repro.lockfile hands to the TOML parser."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        real = repro.lockfile.load_toml

        def load_toml(text: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            self.texts.append(text)
            return real(text, *args, **kwargs)

        monkeypatch.setattr(repro.lockfile, "load_toml", load_toml)


def test_the_whole_file_is_written_as_worked_out() -> None:
    assert dump_lockfile(LOCK) == TEXT


def test_every_field_reads_back_and_the_files_record_skips_the_toml_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = TomlSpy(monkeypatch)
    lock = parse_lockfile(TEXT)
    assert lock == LOCK
    assert lock.files["svc/my app.Dockerfile"].sites[1] == repro.lockfile.SiteRecord(
        2, 1, "syntax", "x"
    )
    # the [files] section is repro's own to read: tomllib would scan it char by char
    assert spy.texts == [TEXT[: TEXT.index("[files]")]]


def test_an_empty_lockfile_is_the_header_and_the_schema_only() -> None:
    assert dump_lockfile(Lockfile()) == TEXT[: TEXT.index("release")]
    assert parse_lockfile(dump_lockfile(Lockfile())) == Lockfile()


HEAD = TEXT[: TEXT.index("[files]")]
A_LINE = f"{'a' * 64} Dockerfile 1:6:from:r.io/b:1"
B_LINE = f"{'b' * 64} b.Dockerfile"
A_RECORD = FileRecord("Dockerfile", "dockerfile", "a" * 64, ("1:6:from:r.io/b:1",))
B_RECORD = FileRecord("b.Dockerfile", "dockerfile", "b" * 64, ())


@pytest.mark.parametrize(
    ("section", "records"),
    [
        (f"[files]\ndockerfile = '''\n{A_LINE}\n{B_LINE}\n'''\n", [A_RECORD, B_RECORD]),
        (f"[files]\ndockerfile='''\n{A_LINE}\n'''", [A_RECORD]),  # no spaces, no newline
        (f"[files]\n\n  # a note\n\ndockerfile = '''\n{A_LINE}\n'''   \n\n", [A_RECORD]),
        (
            f"[files]\nmy-kind = '''\n{B_LINE}\n'''\ndockerfile = '''\n{A_LINE}\n'''\n",
            [A_RECORD, FileRecord("b.Dockerfile", "my-kind", "b" * 64, ())],
        ),
        (f"[files]\ndockerfile = '''\n\n{A_LINE}\n\n'''\n", [A_RECORD]),  # blank lines
        ("[files]\n", []),
    ],
)
def test_the_files_record_laid_out_as_repro_writes_it_is_read_without_tomllib(
    monkeypatch: pytest.MonkeyPatch, section: str, records: list[FileRecord]
) -> None:
    spy = TomlSpy(monkeypatch)
    lock = parse_lockfile(HEAD + section)
    assert lock.files == {record.path: record for record in records}
    assert spy.texts == [HEAD]
    assert lock.images == LOCK.images and lock.extra == LOCK.extra


@pytest.mark.parametrize(
    ("section", "records", "extra"),
    [
        (f'[files]\ndockerfile = "{A_LINE}\\n"\n', [A_RECORD], {}),  # a basic string
        (f"[files]\ndockerfile = '''\n{A_LINE}'''\n", [A_RECORD], {}),  # closed on the line
        (f"[files]\ndockerfile = '''\n{A_LINE}\n''' # note\n", [A_RECORD], {}),
        (f"[files]\ndockerfile = '''\n{A_LINE}\n'''\n[other]\nx = 1\n", [A_RECORD], {"x": 1}),
    ],
)
def test_the_files_record_laid_out_otherwise_is_read_by_tomllib_the_same(
    monkeypatch: pytest.MonkeyPatch,
    section: str,
    records: list[FileRecord],
    extra: dict[str, int],
) -> None:
    spy = TomlSpy(monkeypatch)
    lock = parse_lockfile(HEAD + section)
    assert lock.files == {record.path: record for record in records}
    assert spy.texts == [HEAD + section]
    assert dict(lock.extra) == {**LOCK.extra, **({"other": extra} if extra else {})}


HEAD_LINES = HEAD.count("\n")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            f"[files]\ndockerfile = '''\n{A_LINE}\n'''\ndockerfile = '''\n{B_LINE}\n'''\n",
            f"repro.lock: not valid TOML: Cannot overwrite a value (at line {HEAD_LINES + 7}, "
            "column 4)",
        ),
        (
            "[files]\ndockerfile = '''",
            "repro.lock: not valid TOML: Expected \"'''\" (at end of document)",
        ),
        ("[files]\na.b = '''\nx\n'''\n", "repro.lock: files.a must be a '''block''' of lines"),
        (
            "[files]\ndockerfile = 3\n",
            "repro.lock: files.dockerfile must be a '''block''' of lines",
        ),
    ],
)
def test_a_files_section_tomllib_refuses_is_a_lockfile_error(section: str, message: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(HEAD + section, "repro.lock")
    assert caught.value.message == message
    assert caught.value.exit_code is ExitCode.INPUT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD.replace("schema_version = 2\n", "schema_version = 2\nfiles = 3\n"),
            "repro.lock:5: `files` must be a table",
        ),
        (HEAD + "[[files]]\nx = 1\n", f"repro.lock:{HEAD_LINES + 1}: `files` must be a table"),
        (
            "schema_version = 2\n\n[zeta]\nimage = 1\n\n[image]\nreference = 'r.io/a:1'\n",
            "repro.lock:6: `image` must be [[image]]",
        ),
        ("schema_version = 2\n# pins\nimage = 1\n", "repro.lock:3: `image` must be [[image]]"),
    ],
)
def test_images_or_files_of_the_wrong_type_are_refused_at_their_line(
    text: str, message: str
) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert caught.value.message == message
