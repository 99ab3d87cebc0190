"""The small pieces of repro.lock: the BuildKit source policy it gives, the clock it
records, release order, what fits in the [files] record, and reading it from disk."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from repro.errors import LockfileError
from repro.lock.policy import source_policy, source_policy_json
from repro.lockfile import (
    LockedImage,
    Lockfile,
    dump_lockfile,
    read_lockfile,
    read_lockfile_text,
    recordable,
    utc_now,
    version_key,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def entry(key: str, tag: str | None, digest: str) -> LockedImage:
    name = key.partition("@")[0].removesuffix(f":{tag}")
    return LockedImage(key, name, tag, digest, "m", "2026-01-01T00:00:00Z")


POLICY_LOCK = Lockfile(
    images={
        "r.io/b:2": entry("r.io/b:2", "2", D2),
        f"r.io/a@{D1}": entry(f"r.io/a@{D1}", None, D1),  # digest-only: immutable already
        f"r.io/c@{D3}": entry(f"r.io/c@{D3}", "latest", D3),  # pinned :latest, keyed by digest
        "r.io/d:1": entry("r.io/d:1", "1", D1),
    }
)


def test_the_source_policy_converts_each_tagged_pin_and_only_those() -> None:
    def rule(tagged: str, digest: str) -> dict[str, object]:
        return {
            "action": "CONVERT",
            "selector": {"identifier": f"docker-image://{tagged}"},
            "updates": {"identifier": f"docker-image://{tagged}@{digest}"},
        }

    assert source_policy(POLICY_LOCK) == {"rules": [rule("r.io/b:2", D2), rule("r.io/d:1", D1)]}
    assert source_policy(Lockfile()) == {"rules": []}


def test_the_source_policy_json_is_the_policy_stably_encoded() -> None:
    import json

    from repro.jsonout import dumps_stable

    text = source_policy_json(POLICY_LOCK)
    assert text == dumps_stable(source_policy(POLICY_LOCK))
    assert json.loads(text) == source_policy(POLICY_LOCK)


@pytest.fixture
def tokyo() -> Iterator[None]:
    """A local zone nine hours from UTC, so local time cannot pass for UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_utc_now_is_rfc3339_utc_whatever_the_local_zone(tokyo: None) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    recorded = utc_now()
    after = datetime.now(UTC)
    assert len(recorded) == 20 and recorded.endswith("Z")
    parsed = datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= parsed <= after
    assert after - parsed < timedelta(seconds=2)


def test_release_versions_order_numbers_as_numbers_and_before_words() -> None:
    versions = ["1.0.a", "1.10.0", "1.0.10", "1.0.9", "1.0.b", "1.0"]
    assert sorted(versions, key=version_key) == [
        "1.0",
        "1.0.9",
        "1.0.10",
        "1.0.a",
        "1.0.b",
        "1.10.0",
    ]
    assert version_key("v1.2-rc.3+b4") == (
        (1, "v"),
        (0, 1),
        (0, 2),
        (1, "rc"),
        (0, 3),
        (1, "b"),
        (0, 4),
    )


@pytest.mark.parametrize(
    ("path", "references", "fits"),
    [
        ("svc/a b.Dockerfile", ["r.io/a:1", f"r.io/b@{D1}"], True),
        ("a\nb", ["r.io/a:1"], False),
        ("a\rb", ["r.io/a:1"], False),
        ("Dockerfile", ["r.io/a:1", ""], False),
        ("Dockerfile", ["r.io/a:1", "r.io/a :1"], False),
        ("Dockerfile", ["r.io/a:1\t"], False),
        ("Dockerfile", ["r.io/'''a"], False),
        ("Dockerfile", ["r.io/''a"], True),
        ("Dockerfile", [], True),
    ],
)
def test_what_fits_on_one_line_of_the_files_record(
    path: str, references: list[str], fits: bool
) -> None:
    assert recordable(path, references) is fits


def test_reading_repro_lock_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "repro.lock"
    assert (read_lockfile_text(path), read_lockfile(path)) == (None, None)
    path.write_bytes(b" \n\t\n")
    assert (read_lockfile_text(path), read_lockfile(path)) == (None, None)
    text = dump_lockfile(POLICY_LOCK)
    path.write_text(text)
    assert read_lockfile_text(path) == text
    assert read_lockfile(path) == POLICY_LOCK
    path.write_bytes(b"schema_version = 2\n\xff\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile_text(path)
    assert caught.value.message == f"{path}: not UTF-8 text (invalid start byte at byte 19)"
    path.write_text("schema_version = 2\nimage = 1\n")
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    assert caught.value.message == f"{path}:2: `image` must be [[image]]"
