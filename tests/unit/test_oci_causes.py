"""Each cause rule on its own, and the first-match-wins order."""

from __future__ import annotations

import pytest

from repro.oci.causes import RULES, CauseContext, classify, rule_by_id
from repro.oci.model import Difference


def _file(path: str, field: str = "content", layer: int = 1) -> Difference:
    return Difference("linux/amd64", "file", layer, "RUN x", path, field, "changed", "a", "b")


def _run(instruction: str, path: str) -> Difference:
    return Difference("linux/amd64", "file", 1, instruction, path, "content", "changed", "a", "b")


def _mode(a: str, b: str) -> Difference:
    return Difference("linux/amd64", "file", 1, "COPY . /app", "/app/x", "mode", "changed", a, b)


def _json(area: str, path: str) -> Difference:
    return Difference("linux/amd64", area, None, None, path, path, "changed", "a", "b")


@pytest.mark.parametrize(
    ("diff", "cause"),
    [
        (_file("/app/x.txt", "mtime"), "rewrite-timestamp"),
        (_file("/app/x.txt", "pax:mtime"), "rewrite-timestamp"),
        (_file("/usr/lib/python3/__pycache__/a.cpython-311.pyc"), "pyc-timestamp"),
        (_file("/var/log/dpkg.log"), "package-manager-state"),
        (_file("/var/log/apt/history.log"), "package-manager-state"),
        (_file("/var/log/apt/term.log", "mtime"), "package-manager-state"),
        (_file("/var/cache/ldconfig/aux-cache"), "package-manager-state"),
        (_file("/etc/machine-id"), "machine-id"),
        (_file("/var/cache/debconf/config.dat-old"), "package-manager-state"),
        (_file("/var/lib/dpkg/status-old"), "package-manager-state"),
        (_file("/usr/share/doc/x/changelog.gz"), "archive-timestamps"),
        (_file("/app/dist/a-1.0-py3-none-any.whl"), "archive-timestamps"),
        (_file("/app/lib/a.jar"), "archive-timestamps"),
        (_file("/app", "order"), "entry-order"),
        (_run("RUN date > /built-at", "/built-at"), "clock-in-content"),
        (_run("RUN python3 -c 'import time; print(time.time())' > /t", "/t"), "clock-in-content"),
        (_run("RUN head -c 16 /dev/urandom | od -x > /token", "/token"), "random-content"),
        (_run("RUN cat /proc/sys/kernel/random/uuid > /id", "/id"), "random-content"),
        (_run("RUN echo updated > /app/x.txt", "/app/x.txt"), "unclassified"),
        (_run("COPY date.txt /date.txt", "/date.txt"), "unclassified"),
        (_mode("0644", "0664"), "checkout-umask"),
        (_mode("0755", "0775"), "checkout-umask"),
        (_mode("0644", "0755"), "unclassified"),
        (_file("/app/x.txt"), "unclassified"),
        (_file("/app/x.txt", "uid"), "unclassified"),
        (_json("config", "created"), "source-date-epoch"),
        (_json("config", "history[3].created"), "source-date-epoch"),
        (_json("manifest", 'annotations["org.opencontainers.image.created"]'), "source-date-epoch"),
        (_json("config", "history[3].created_by"), "unclassified"),
        (_json("config", "rootfs.diff_ids[2]"), "follows-from-layers"),
        (_json("manifest", "config.digest"), "follows-from-layers"),
        (
            _json("config", 'config.Labels["org.opencontainers.image.base.digest"]'),
            "base-not-pinned",
        ),
        (
            Difference("", "index", None, None, "attestations", "attestations", "added", [], ["d"]),
            "attestation-manifests",
        ),
        (
            Difference("p", "layer", 0, None, "layers[0]", "compression", "changed", {}, {}),
            "compression-only",
        ),
    ],
)
def test_rule_matches(diff: Difference, cause: str) -> None:
    classified = classify(diff)
    assert classified.cause_id == cause
    assert classified.fix


def test_base_layers_come_from_the_context() -> None:
    diff = _file("/var/log/dpkg.log", layer=0)
    context = CauseContext(base_layers=frozenset({("linux/amd64", 0)}))
    assert classify(diff, context).cause_id == "base-not-pinned"
    assert classify(diff).cause_id == "package-manager-state"


def test_rules_are_small_objects_with_unique_ids() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.title and rule.fix
        assert rule_by_id(rule.id) is rule
    assert rule_by_id("pyc-timestamp").matches(_file("/a.pyc"))
    assert not rule_by_id("pyc-timestamp").matches(_file("/a.py"))


def _mtime(a: int, b: int) -> Difference:
    return Difference("linux/amd64", "file", 1, "WORKDIR /app", "/app", "mtime", "changed", a, b)


def test_a_time_older_than_the_epoch_is_named_when_the_epoch_is_known() -> None:
    context = CauseContext(epochs={"linux/amd64": 1700000000})
    assert classify(_mtime(1690000000, 1700000000), context).cause_id == "time-older-than-epoch"
    assert classify(_mtime(1700000000, 1690000000), context).cause_id == "time-older-than-epoch"
    # Both newer than the epoch, or epoch unknown: rewrite-timestamp was not applied.
    assert classify(_mtime(1700000005, 1700000009), context).cause_id == "rewrite-timestamp"
    assert classify(_mtime(1690000000, 1700000000)).cause_id == "rewrite-timestamp"
