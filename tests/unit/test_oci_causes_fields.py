"""Every field of every file-level cause rule: a rule claims the fields it explains and
leaves every other field of the same file to the rules after it."""

from __future__ import annotations

import dataclasses

import pytest

from repro.oci.causes import EMPTY_CONTEXT, CauseContext, classify, rule_by_id
from repro.oci.jsontypes import JsonValue
from repro.oci.model import (
    UNCLASSIFIED_FIX,
    UNCLASSIFIED_ID,
    UNCLASSIFIED_TITLE,
    ContentEvidence,
    Difference,
)

PLATFORM = "linux/amd64"
# Every field a file entry's difference can carry (repro.oci.layerstream.header_fields,
# plus the content hash and the entry order).
HEADER_FIELDS = ("type", "uid", "gid", "uname", "gname", "linkname", "devmajor", "devminor")
TIME_FIELDS = ("mtime", "pax:mtime", "pax:atime", "pax:ctime")
OTHER_PAX = ("pax:SCHILY.fflags", "xattr:security.capability")


def _diff(
    path: str,
    field: str,
    value_a: JsonValue = "a",
    value_b: JsonValue = "b",
    *,
    instruction: str = "COPY . /app",
    evidence: ContentEvidence | None = None,
    layer: int = 1,
) -> Difference:
    return Difference(
        PLATFORM, "file", layer, instruction, path, field, "changed", value_a, value_b,
        evidence=evidence,
    )  # fmt: skip


def _evidence(
    ranges: tuple[tuple[int, int], ...], *, size_b: int = 64, **kw: object
) -> ContentEvidence:
    values: dict[str, object] = {
        "size_a": 64,
        "size_b": size_b,
        "first_offset": ranges[0][0] if ranges else None,
        "first_range": None,
        "ranges": ranges,
        "more_ranges": False,
        "differs_after_sample": False,
        "sample_bytes": 4096,
        "window_offset": 0,
        "window_a": b"",
        "window_b": b"",
        "reordered_lines": False,
    }
    values.update(kw)
    return ContentEvidence(**values)  # type: ignore[arg-type]


def _cause(diff: Difference, context: CauseContext = EMPTY_CONTEXT) -> str:
    return classify(diff, context).cause_id


PYC = "/app/__pycache__/main.cpython-311.pyc"


@pytest.mark.parametrize("field", TIME_FIELDS)
def test_a_pyc_time_difference_is_rewrite_timestamp_not_pyc(field: str) -> None:
    assert _cause(_diff(PYC, field, 1, 2)) == "rewrite-timestamp"


@pytest.mark.parametrize("field", ("size", *HEADER_FIELDS, *OTHER_PAX))
def test_a_pyc_header_field_difference_is_not_a_pyc_timestamp(field: str) -> None:
    assert _cause(_diff(PYC, field)) == "unclassified"


def test_a_pyc_mode_and_order_go_to_their_own_rules() -> None:
    assert _cause(_diff(PYC, "mode", "0644", "0664")) == "checkout-umask"
    assert _cause(_diff(PYC, "order")) == "entry-order"


@pytest.mark.parametrize(
    ("ranges", "cause"),
    [
        (((4, 8),), "pyc-timestamp"),  # flags
        (((8, 12),), "pyc-timestamp"),  # source mtime
        (((12, 16),), "pyc-timestamp"),  # source size
        (((4, 16),), "pyc-timestamp"),  # the whole header after the magic
        (((3, 8),), "unclassified"),  # the magic's last byte
        (((8, 17),), "unclassified"),  # one byte of code
        (((16, 17),), "unclassified"),
        (((8, 12), (20, 21)), "unclassified"),
    ],
)
def test_a_pyc_content_is_a_timestamp_only_within_bytes_4_to_16(
    ranges: tuple[tuple[int, int], ...], cause: str
) -> None:
    assert _cause(_diff(PYC, "content", evidence=_evidence(ranges))) == cause


def test_a_pyc_content_with_another_size_or_more_is_not_a_timestamp() -> None:
    assert _cause(_diff(PYC, "content", evidence=_evidence(((8, 12),), size_b=65))) == (
        "unclassified"
    )
    more = _evidence(((8, 12),), more_ranges=True)
    assert _cause(_diff(PYC, "content", evidence=more)) == "unclassified"
    after = _evidence(((8, 12),), differs_after_sample=True)
    assert _cause(_diff(PYC, "content", evidence=after)) == "unclassified"


def test_a_pyc_content_without_evidence_is_a_timestamp() -> None:
    assert _cause(_diff(PYC, "content")) == "pyc-timestamp"
    assert _cause(_diff("/app/main.py", "content")) == "unclassified"
    assert _cause(_diff("/app/main.pyc.txt", "content")) == "unclassified"


@pytest.mark.parametrize("path", ["/doc/changelog.gz", "/app/a.whl", "/app/a.zip", "/a.jar"])
@pytest.mark.parametrize("field", ("uid", "gid", "type", "linkname", *OTHER_PAX))
def test_an_archive_header_field_is_not_archive_timestamps(path: str, field: str) -> None:
    assert _cause(_diff(path, field)) == "unclassified"


@pytest.mark.parametrize("path", ["/doc/changelog.gz", "/app/a.whl", "/app/a.tgz"])
@pytest.mark.parametrize("field", TIME_FIELDS)
def test_an_archive_time_is_rewrite_timestamp(path: str, field: str) -> None:
    assert _cause(_diff(path, field, 1, 2)) == "rewrite-timestamp"


@pytest.mark.parametrize(
    ("path", "field", "evidence", "cause"),
    [
        ("/a.tar.gz", "size", None, "archive-timestamps"),  # a compressed tar: any change
        ("/a.tgz", "content", _evidence(((100, 200),), size_b=90), "archive-timestamps"),
        ("/a.gz", "size", None, "unclassified"),  # gzip times never change its size
        ("/a.whl", "size", None, "unclassified"),
        ("/a.gz", "content", None, "archive-timestamps"),
        ("/a.gz", "content", _evidence(((4, 8),)), "archive-timestamps"),  # gzip MTIME
        ("/a.gz", "content", _evidence(((4, 9),)), "unclassified"),
        ("/a.gz", "content", _evidence(((3, 8),)), "unclassified"),
        ("/a.gz", "content", _evidence(((4, 8),), size_b=63), "unclassified"),
        ("/a.zip", "content", _evidence(((30, 34),)), "archive-timestamps"),
        ("/a.zip", "content", _evidence(((30, 34),), size_b=65), "unclassified"),
        ("/a.txt", "content", None, "unclassified"),
        ("/a.gzip", "content", None, "unclassified"),
    ],
)
def test_archive_content_rules(
    path: str, field: str, evidence: ContentEvidence | None, cause: str
) -> None:
    assert _cause(_diff(path, field, evidence=evidence)) == cause


@pytest.mark.parametrize(
    ("a", "b", "cause"),
    [
        ("0644", "0664", "checkout-umask"),  # group write
        ("0644", "0646", "checkout-umask"),  # other write
        ("0755", "0777", "checkout-umask"),  # both
        ("0644", "0644", "unclassified"),  # no change in the bits (another field differs)
        ("0644", "0654", "unclassified"),  # group execute
        ("0644", "0744", "unclassified"),  # user execute
        ("0644", "0645", "unclassified"),  # other execute
        ("04755", "0775", "unclassified"),  # setuid lost
        ("0644", "rw-", "unclassified"),  # not octal
    ],
)
def test_umask_rule_claims_only_group_and_other_write(a: str, b: str, cause: str) -> None:
    assert _cause(_diff("/app/x", "mode", a, b)) == cause


@pytest.mark.parametrize("field", ("content", "size", "uid", "mtime"))
def test_umask_rule_reads_only_the_mode_field(field: str) -> None:
    assert _cause(_diff("/app/x", field, "0644", "0664")) != "checkout-umask"


EPOCH = 1_700_000_000


@pytest.mark.parametrize(
    ("a", "b", "cause"),
    [
        (EPOCH, EPOCH - 1, "time-older-than-epoch"),
        (EPOCH - 100, EPOCH, "time-older-than-epoch"),
        (EPOCH, EPOCH + 1, "rewrite-timestamp"),  # newer than the epoch: not clamped at all
        (EPOCH - 2, EPOCH - 1, "rewrite-timestamp"),  # neither side is the epoch
        (EPOCH + 1, EPOCH - 1, "rewrite-timestamp"),
        ("1700000000", EPOCH - 1, "rewrite-timestamp"),  # not integers
    ],
)
def test_stale_time_rule_needs_the_epoch_on_one_side_and_older_on_the_other(
    a: JsonValue, b: JsonValue, cause: str
) -> None:
    context = CauseContext(epochs={PLATFORM: EPOCH})
    assert _cause(_diff("/app/x", "mtime", a, b), context) == cause


def test_stale_time_rule_needs_the_epoch_of_that_platform_and_the_mtime_field() -> None:
    other = CauseContext(epochs={"linux/arm64": EPOCH})
    assert _cause(_diff("/app/x", "mtime", EPOCH, EPOCH - 1), other) == "rewrite-timestamp"
    context = CauseContext(epochs={PLATFORM: EPOCH})
    assert _cause(_diff("/app/x", "pax:mtime", EPOCH, EPOCH - 1), context) == "rewrite-timestamp"


@pytest.mark.parametrize(
    ("instruction", "field", "cause"),
    [
        ("RUN date > /x", "content", "clock-in-content"),
        ("RUN date > /x", "size", "clock-in-content"),
        ("RUN date > /x", "mtime", "rewrite-timestamp"),
        ("RUN date > /x", "uid", "unclassified"),
        ("COPY date /x", "content", "unclassified"),  # a RUN only
        ("RUN update > /x", "content", "unclassified"),  # `date` as a word
        ("RUN datetime.now", "content", "clock-in-content"),
        ("RUN uuidgen > /x", "content", "random-content"),
        ("RUN uuidgen > /x", "mode", "unclassified"),
        ("RUN openssl  rand -hex 8 > /x", "content", "random-content"),
        ("RUN hostname > /x", "content", "build-host"),
        ("RUN echo $HOSTNAME > /x", "size", "build-host"),
        ("RUN uname -an > /x", "content", "build-host"),
        ("RUN uname -a > /x", "content", "unclassified"),
        ("RUN cat /etc/hostname > /x", "content", "build-host"),
        ("RUN hostnamectl > /x", "content", "unclassified"),
    ],
)
def test_run_rules_claim_content_and_size_of_a_matching_run(
    instruction: str, field: str, cause: str
) -> None:
    assert _cause(_diff("/x", field, instruction=instruction)) == cause


def test_run_rules_need_an_instruction() -> None:
    diff = Difference(PLATFORM, "file", 1, None, "/x", "content", "changed", "a", "b")
    assert _cause(diff) == "unclassified"


@pytest.mark.parametrize(
    ("temp_a", "temp_b", "cause"),
    [
        (("/tmp/tmp.abc",), ("/tmp/tmp.xyz",), "embedded-build-path"),
        (("/tmp/tmp.abc",), ("/tmp/tmp.abc",), "unclassified"),  # the same on both sides
        (("/tmp/tmp.abc",), (), "unclassified"),  # one side only
        ((), ("/tmp/tmp.abc",), "unclassified"),
    ],
)
def test_embedded_build_path_needs_a_different_temp_path_on_each_side(
    temp_a: tuple[str, ...], temp_b: tuple[str, ...], cause: str
) -> None:
    evidence = _evidence(((20, 30),), temp_paths_a=temp_a, temp_paths_b=temp_b)
    assert _cause(_diff("/app/bin", "content", evidence=evidence)) == cause
    assert _cause(_diff("/app/bin", "size", evidence=evidence)) == "unclassified"


def test_unordered_output_needs_reordered_lines_in_the_content() -> None:
    reordered = _evidence(((0, 10),), reordered_lines=True)
    assert _cause(_diff("/app/list", "content", evidence=reordered)) == "unordered-output"
    assert _cause(_diff("/app/list", "size", evidence=reordered)) == "unclassified"
    plain = _evidence(((0, 10),))
    assert _cause(_diff("/app/list", "content", evidence=plain)) == "unclassified"


@pytest.mark.parametrize(
    ("path", "field", "cause"),
    [
        ("/etc/ssh/ssh_host_rsa_key", "content", "ssh-host-keys"),
        ("/etc/ssh/ssh_host_rsa_key", "mtime", "ssh-host-keys"),  # every field of the file
        ("/etc/ssh/sshd_config", "content", "unclassified"),
        ("/etc/machine-id", "size", "machine-id"),
        ("/etc/machine-id.old", "content", "unclassified"),
        ("/var/lib/dbus/machine-id", "content", "machine-id"),
        ("/root/.cache/pip/http/a", "content", "pip-cache"),
        ("/home/app/.cache/pip/wheels/b", "mode", "pip-cache"),
        ("/root/.cache/pipx/a", "content", "unclassified"),
        ("/root/.npm/_cacache/index", "content", "npm-cache"),
        ("/root/.npm/_logs/debug.log", "content", "npm-cache"),
        ("/root/.npm/_update-notifier-last-checked", "mtime", "npm-cache"),
        ("/root/.cache/yarn/v6/x", "content", "npm-cache"),
        ("/usr/local/share/.cache/yarn/x", "content", "npm-cache"),
        ("/tmp/build.log", "content", "temp-files"),
        ("/var/tmp/x", "uid", "temp-files"),
        ("/tmpfiles/x", "content", "unclassified"),
        ("/var/cache/apt/pkgcache.bin", "content", "package-manager-state"),
        ("/var/cache/apt/archives/a.deb", "content", "package-manager-state"),
        ("/var/lib/apt/lists/x_Packages", "content", "package-manager-state"),
        ("/var/log/alternatives.log", "content", "package-manager-state"),
    ],
)
def test_volatile_families_claim_every_field_of_their_files(
    path: str, field: str, cause: str
) -> None:
    assert _cause(_diff(path, field, "0644", "0755")) == cause


def test_a_volatile_family_rule_claims_only_file_differences() -> None:
    layer = Difference(PLATFORM, "layer", 1, None, "/etc/machine-id", "digest", "changed", 1, 2)
    assert _cause(layer) == "unclassified"


def test_base_not_pinned_claims_every_field_of_a_base_layer_and_nothing_else() -> None:
    context = CauseContext(base_layers=frozenset({(PLATFORM, 0)}))
    for field in ("content", "mtime", "uid", "mode", "order"):
        assert _cause(_diff("/x", field, layer=0), context) == "base-not-pinned"
        assert _cause(_diff("/x", field, layer=1), context) != "base-not-pinned"
    other = Difference("linux/arm64", "file", 0, None, "/x", "uid", "changed", 0, 1)
    assert _cause(other, context) == "unclassified"
    layer = Difference(PLATFORM, "layer", 0, None, "layers[0]", "digest", "changed", 1, 2)
    assert _cause(layer, context) == "base-not-pinned"


def _config(path: str, a: JsonValue, b: JsonValue, *, layer: int | None = 1) -> Difference:
    field = path.rsplit(".", 1)[-1]
    return Difference(PLATFORM, "config", layer, None, path, field, "changed", a, b)


TZ_UTC = "RUN |1 TZ=UTC /bin/sh -c date > /etc/built # buildkit"
TZ_PARIS = "RUN |1 TZ=Europe/Paris /bin/sh -c date > /etc/built # buildkit"


@pytest.mark.parametrize(
    ("a", "b", "cause"),
    [
        (TZ_UTC, TZ_PARIS, "build-arg"),
        (TZ_UTC, "RUN |2 TZ=UTC LANG=C /bin/sh -c date > /etc/built # buildkit", "build-arg"),
        (TZ_UTC, TZ_UTC.replace("/etc/built", "/etc/made"), "unclassified"),  # same arguments
        (TZ_PARIS, TZ_UTC.replace("/etc/built", "/etc/made"), "unclassified"),  # another RUN
        (TZ_UTC, "RUN /bin/sh -c date > /etc/built # buildkit", "unclassified"),  # B: none
        ("RUN /bin/sh -c date > /etc/built # buildkit", TZ_PARIS, "unclassified"),  # A: none
        (TZ_UTC, None, "unclassified"),  # the entry is gone on one side
        (None, TZ_PARIS, "unclassified"),
        (TZ_UTC, 3, "unclassified"),
    ],
)
def test_build_arg_rule_needs_the_same_run_with_other_arguments_in_its_history(
    a: JsonValue, b: JsonValue, cause: str
) -> None:
    assert _cause(_config("history[2].created_by", a, b)) == cause


def test_build_arg_rule_reads_only_a_history_entrys_created_by_in_the_config() -> None:
    for path in ("history[2].comment", "history[2].created_byx", "xhistory[2].created_by"):
        assert _cause(_config(path, TZ_UTC, TZ_PARIS)) == "unclassified"
    manifest = Difference(
        PLATFORM, "manifest", 1, None, "history[2].created_by", "created_by", "changed",
        TZ_UTC, TZ_PARIS,
    )  # fmt: skip
    assert _cause(manifest) == "unclassified"


def test_build_arg_rule_claims_every_file_of_a_run_whose_arguments_varied() -> None:
    context = CauseContext(arg_layers=frozenset({(PLATFORM, 1)}))
    for field in ("content", "mtime", "uid", "order"):
        assert _cause(_diff("/etc/built", field, layer=1), context) == "build-arg"
        assert _cause(_diff("/etc/built", field, layer=2), context) != "build-arg"
    other = Difference("linux/arm64", "file", 1, None, "/etc/built", "uid", "changed", 0, 1)
    assert _cause(other, context) == "unclassified"
    # A config difference of that layer is judged by its own text, not by the layer.
    assert _cause(_config("history[1].comment", "a", "b"), context) == "unclassified"


def test_a_base_layers_config_difference_is_not_base_not_pinned_unless_it_names_the_base() -> None:
    context = CauseContext(base_layers=frozenset({(PLATFORM, 0)}))
    assert _cause(_config("history[0].comment", "a", "b", layer=0), context) == "unclassified"
    label = 'config.Labels["org.opencontainers.image.base.name"]'
    assert _cause(_config(label, "a", "b", layer=None), context) == "base-not-pinned"


def test_stale_time_rule_reads_a_file_entrys_mtime_not_a_json_key_named_mtime() -> None:
    context = CauseContext(epochs={PLATFORM: EPOCH})
    assert _cause(_config("mtime", EPOCH, EPOCH - 1, layer=None), context) == "unclassified"


@pytest.mark.parametrize(
    "diff",
    [
        Difference("", "index", None, None, "manifests", "platform", "added", None, "sha256:d"),
        Difference("", "index", None, None, "", "digest", "changed", "sha256:a", "sha256:b"),
        Difference(PLATFORM, "manifest", None, None, "x", "attestations", "changed", 1, 2),
    ],
)
def test_attestation_rule_claims_only_the_indexs_attestation_list(diff: Difference) -> None:
    assert _cause(diff) == "unclassified"


def test_classify_gives_the_rules_id_title_and_fix_or_the_unclassified_ones() -> None:
    diff = _diff(PYC, "content")
    assert classify(diff) == dataclasses.replace(
        diff, cause_id="pyc-timestamp", cause_title=rule_by_id("pyc-timestamp").title,
        fix=rule_by_id("pyc-timestamp").fix,
    )  # fmt: skip
    earlier = dataclasses.replace(diff, cause_id="x", cause_title="y", fix="z")
    assert classify(earlier, rules=()) == dataclasses.replace(
        diff, cause_id=UNCLASSIFIED_ID, cause_title=UNCLASSIFIED_TITLE, fix=UNCLASSIFIED_FIX
    )


def test_an_unknown_rule_id_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="no-such-rule"):
        rule_by_id("no-such-rule")
