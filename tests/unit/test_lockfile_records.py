"""repro.lock as bytes: the whole serialised file, every field read back, the [files]
record read without tomllib when laid out as repro writes it, and each refusal with its
file:line (exit 2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import repro.lockfile
from repro import records
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
        real = records.load_toml

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
        ("[files]\ndockerfile = '''\n'''\n", []),  # an empty block
        (f"[files]\ndockerfile = '''\n{A_LINE}\n'''\n# the end, no newline", [A_RECORD]),
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
        (
            f"[files]\nnote = \"{B_LINE}\"\ndockerfile = '''\n{A_LINE}\n'''\n",
            [A_RECORD, replace(B_RECORD, kind="note")],
            {},
        ),
        (f"[files]\n--- = '''\n{B_LINE}\n'''\n", [replace(B_RECORD, kind="---")], {}),  # no word
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
            f"[files]\ndockerfile = '''\n{A_LINE}\n'''x\n",
            f"repro.lock: not valid TOML: Expected newline or end of document after a statement "
            f"(at line {HEAD_LINES + 4}, column 4)",
        ),
        (
            f"[files]\ndockerfile = '''\n{A_LINE}\n'''x",  # and no newline
            f"repro.lock: not valid TOML: Expected newline or end of document after a statement "
            f"(at line {HEAD_LINES + 4}, column 4)",
        ),
        (
            f"[files]\ndockerfile = '''\n{A_LINE}\n'''\nx",
            "repro.lock: not valid TOML: Expected '=' after a key in a key/value pair "
            "(at end of document)",
        ),
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


GOOD_IMAGE = f"""\
[[image]]
reference = "r.io/a:1"
name = "r.io/a"
tag = "1"
digest = "{D1}"
media_type = "m"
served_by = "mirror.example:5000"
resolved_at = "2026-01-01T00:00:00Z"
"""
FIRST = "schema_version = 2\n\n" + GOOD_IMAGE  # its [[image]] header is line 3


def test_an_image_entry_reads_every_field() -> None:
    text = FIRST + f'\n[image.platforms]\n"linux/amd64" = "{D2}"\n'
    assert parse_lockfile(text).images == {
        "r.io/a:1": LockedImage(
            "r.io/a:1",
            "r.io/a",
            "1",
            D1,
            "m",
            "2026-01-01T00:00:00Z",
            {"linux/amd64": D2},
            "mirror.example:5000",
        )
    }
    bare = FIRST.replace('tag = "1"\n', "").replace('served_by = "mirror.example:5000"\n', "")
    (image,) = parse_lockfile(bare).images.values()
    assert (image.tag, image.served_by, image.platforms) == (None, None, {})


@pytest.mark.parametrize(
    "key", ["reference", "name", "tag", "digest", "media_type", "served_by", "resolved_at"]
)
@pytest.mark.parametrize("value", ['""', "1", None])
def test_an_image_field_missing_empty_or_not_a_string_is_refused_at_its_entry(
    key: str, value: str | None
) -> None:
    line = next(line for line in FIRST.splitlines() if line.startswith(f"{key} ="))
    if value is None and key in ("tag", "served_by"):
        return  # optional: absent is fine (read above)
    replacement = "" if value is None else f"{key} = {value}\n"
    # a second, good entry after it: the first entry's line is named, not the last one's
    text = (
        FIRST.replace(line + "\n", replacement)
        + "\n"
        + GOOD_IMAGE.replace('"r.io/a:1"', '"r.io/a:2"')
    )
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert caught.value.message == f"repro.lock:3: [[image]] `{key}` is missing or not a string"


def test_the_second_entry_is_named_at_its_own_header() -> None:
    text = FIRST + "\n" + GOOD_IMAGE.replace('media_type = "m"\n', "")
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert (
        caught.value.message == "repro.lock:12: [[image]] `media_type` is missing or not a string"
    )


def test_a_bad_pin_is_named_at_its_own_line_not_at_a_like_named_key_or_a_later_pin() -> None:
    bad = FIRST.replace(f'digest = "{D1}"', 'digest_note = "x"\ndigest = "latest"')
    later = GOOD_IMAGE.replace(f'digest = "{D1}"\n', "").replace('"r.io/a:1"', '"r.io/a:2"')
    later += f'digest = "{D2}"\n'
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(bad + "\n" + later, "repro.lock")
    assert caught.value.message == (
        "repro.lock:8: r.io/a:1: the pin 'latest' is not a digest (sha256:<64 hex>)"
    )
    assert caught.value.hint == (
        "restore repro.lock from version control, or delete the entry and run `repro lock`"
    )


@pytest.mark.parametrize(
    ("platforms", "line"),
    [
        ('platforms = "linux/amd64"\n', 3),  # no [image.platforms] header: the entry's line
        ('platforms = { "linux/amd64" = 1 }\n', 3),
        (f'\n[image.platforms]\n"linux/amd64" = "{D2}"\n"linux/arm64" = "{D2}x"\n', 12),
    ],
)
def test_platforms_that_are_not_os_arch_to_digest_are_refused(platforms: str, line: int) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(FIRST + platforms, "repro.lock")
    assert caught.value.message == (
        f"repro.lock:{line}: r.io/a:1: `platforms` must map os/arch to sha256 digests"
    )


def test_an_image_entry_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile("schema_version = 2\nimage = [1]\n", "repro.lock")
    assert caught.value.message == "repro.lock:1: an [[image]] entry must be a table"


def test_a_reference_listed_twice_is_named_at_the_second_entry() -> None:
    text = FIRST + "\n" + GOOD_IMAGE + "\n" + GOOD_IMAGE.replace('"r.io/a:1"', '"r.io/a:3"')
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert caught.value.message == "repro.lock:12: r.io/a:1 is listed twice"


CONFLICT_HINT = (
    "keep one side of each conflict (or both sides' [[image]] entries), delete the markers, "
    "then run `repro lock` to settle repro.lock against the files"
)


@pytest.mark.parametrize(
    ("text", "line", "marker"),
    [
        ("<<<<<<< HEAD\nschema_version = 2\n", 1, "<<<<<<<"),
        ("schema_version = 2\n=======\n", 2, "======="),
        ("schema_version = 2\r\n=======\r\nx = 1\r\n", 2, "======="),  # CRLF
        ("schema_version = 2\n>>>>>>>", 2, ">>>>>>>"),  # at the very end
        ("schema_version = 2\n>>>>>>> theirs\n\n<<<<<<< ours\n", 2, ">>>>>>>"),  # the first
        ("a = 1\n=======x\nb = 2\n=======\n=======\n", 4, "======="),  # not a marker, then two
        ("<<<<<<<<\nx = 1\n<<<<<<< HEAD\n", 3, "<<<<<<<"),  # eight: not a marker
        ("<<<<<<< HEAD\nx = 1\n<<<<<<< again\n", 1, "<<<<<<<"),  # at the start, and later
        ("\n=======\n", 2, "======="),  # right after a first, empty line
    ],
)
def test_a_merge_conflict_is_named_at_its_first_marker(text: str, line: int, marker: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert caught.value.message == (
        f"repro.lock:{line}: a merge left conflict markers ({marker}) in the file"
    )
    assert caught.value.hint == CONFLICT_HINT


@pytest.mark.parametrize(
    "text",
    [
        "schema_version = 2\n# <<<<<<< not at the start of a line\n",
        "schema_version = 2\nnote = '''\n=======x\n'''\n",
        "schema_version = 2\nnote = '''\n>>>>>>>X\n<<<<<<<\t\n'''\n",  # not space, CR or LF
        "schema_version = 2\nwhy_not = '======='\n",
        "# a b c\nschema_version = 2\n",  # a terminator at offset 7, and no marker at all
    ],
)
def test_marker_like_text_that_is_not_a_conflict_is_read(text: str) -> None:
    assert parse_lockfile(text) == Lockfile(extra=parse_lockfile(text).extra)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("image = []\n", "repro.lock:1: `schema_version` is missing or not an integer", None),
        (
            'schema_version = "2"\n',
            "repro.lock:1: `schema_version` is missing or not an integer",
            None,
        ),
        (
            "schema_version = true\n",
            "repro.lock:1: `schema_version` is missing or not an integer",
            None,
        ),
        (
            "schema_version = 3\n",
            "repro.lock: schema_version 3 is newer than this repro understands (2)",
            "upgrade repro",
        ),
        ("schema_version = 0\n", "repro.lock: schema_version 0 is not valid", None),
        ("schema_version = -1\n", "repro.lock: schema_version -1 is not valid", None),
        (
            "schema_version = [\n",
            "repro.lock: not valid TOML: Invalid value (at end of document)",
            "fix the file, or delete it and run `repro lock` to write a new one",
        ),
    ],
)
def test_a_schema_version_repro_cannot_read_is_refused(
    text: str, message: str, hint: str | None
) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_schema_1_and_2_read_the_same_and_schema_1_gains_no_files_record() -> None:
    body = "\n" + GOOD_IMAGE + '\n[[release]]\nversion = "1.0"\n'
    one, two = (
        parse_lockfile("schema_version = 1\n" + body),
        parse_lockfile("schema_version = 2\n" + body),
    )
    assert one == two
    assert (one.schema_version, one.files, one.extra) == (2, {}, {"release": [{"version": "1.0"}]})
    # a schema-1 file had no [files]: anything by that name there is not repro's record
    legacy = parse_lockfile("schema_version = 1\n\n[files]\nnote = 'x'\n")
    assert (legacy.files, legacy.extra) == ({}, {})


FILES_HINT = "delete the line; the next `repro lock` writes it again"
LINE_SHAPE = "`<sha256 hex> <path> <line>:<column>:<kind>:<reference>...`"
FILES_AT = HEAD.count("\n") + 1  # the line of [files]


@pytest.mark.parametrize(
    "bad",
    [
        "a" * 63 + " Dockerfile",
        "a" * 65 + " Dockerfile",
        "A" * 64 + " Dockerfile",
        "a" * 63 + "g Dockerfile",
        "a" * 64,  # no path
        "a" * 64 + " ",
        "a" * 64 + "  Dockerfile",  # two spaces: an empty path
        " " + "a" * 64 + " Dockerfile",
    ],
)
def test_a_files_line_without_a_hash_and_a_path_is_refused_at_its_line(bad: str) -> None:
    section = f"[files]\ndockerfile = '''\n{B_LINE}\n\n{bad}\n'''\n"
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(HEAD + section, "repro.lock")
    assert caught.value.message == (
        f"repro.lock:{FILES_AT + 4}: a files.dockerfile line must be {LINE_SHAPE}"
    )
    assert caught.value.hint == FILES_HINT


def test_a_file_recorded_twice_is_refused_at_the_second_line() -> None:
    section = f"[files]\n# note\ndockerfile = '''\n{A_LINE}\n{'c' * 64} Dockerfile\n'''\n"
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(HEAD + section, "repro.lock")
    assert caught.value.message == f"repro.lock:{FILES_AT + 4}: Dockerfile is recorded twice"


def test_the_line_of_a_bad_files_line_counts_from_its_own_block() -> None:
    section = (
        f"[files]\ncompose = '''\n{'c' * 64} compose.yaml\n'''\n"
        f"dockerfile = '''\n{A_LINE}\nnot-a-hash Dockerfile\n'''\n"
    )
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(HEAD + section, "repro.lock")
    assert caught.value.message == (
        f"repro.lock:{FILES_AT + 6}: a files.dockerfile line must be {LINE_SHAPE}"
    )


def test_paths_with_spaces_and_percent_signs_read_back_as_written() -> None:
    records = {
        path: FileRecord(path, "dockerfile", "d" * 64, ("1:6:from:r.io/a:1",))
        for path in ("a b/c d.Dockerfile", "100%.Dockerfile", "%20.Dockerfile", "x%25 y", "t\tab")
    }
    text = dump_lockfile(Lockfile(files=records))
    assert "%2520.Dockerfile" in text and "x%2525%20y" in text
    assert parse_lockfile(text).files == records


def test_only_the_last_files_header_starts_the_record_repro_reads_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # another command's table may hold text that looks like the header
    head = HEAD.replace('[zeta]\nk = "v"\n', '[zeta]\nk = "v"\nnote = """\n[files]\n"""\n')
    spy = TomlSpy(monkeypatch)
    lock = parse_lockfile(head + f"[files]\ndockerfile = '''\n{A_LINE}\n'''\n")
    assert lock.files == {"Dockerfile": A_RECORD}
    assert lock.extra["zeta"] == {"k": "v", "note": "[files]\n"}
    assert spy.texts == [head]


def test_a_files_line_of_a_key_written_another_way_is_named_from_the_top() -> None:
    text = 'schema_version = 2\nfiles.dockerfile = "not-a-hash Dockerfile"\n'
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    # no `dockerfile =` line to count from: the line count starts at the top
    assert caught.value.message == f"repro.lock:2: a files.dockerfile line must be {LINE_SHAPE}"


def test_a_files_line_is_counted_from_a_leading_empty_line_too() -> None:
    section = "[files]\ndockerfile = '''\nbad\n'''\n"
    with pytest.raises(LockfileError) as caught:
        parse_lockfile("\n" + HEAD + section, "repro.lock")
    assert caught.value.message == (
        f"repro.lock:{FILES_AT + 3}: a files.dockerfile line must be {LINE_SHAPE}"
    )
