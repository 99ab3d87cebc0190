"""repro.lock: stable TOML, schema version, unknown tables kept, malformed -> LockfileError."""

from __future__ import annotations

import pytest

from repro.dockerfile import parse_image_ref
from repro.errors import ExitCode, LockfileError
from repro.lockfile import LockedImage, Lockfile, dump_lockfile, lock_key, parse_lockfile

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def image(reference: str, digest: str = D1, **platforms: str) -> LockedImage:
    name, _, tag = reference.rpartition(":")
    return LockedImage(
        reference=reference,
        name=name,
        tag=tag,
        digest=digest,
        media_type="application/vnd.oci.image.index.v1+json",
        resolved_at="2026-01-01T00:00:00Z",
        platforms={k.replace("_", "/"): v for k, v in platforms.items()},
    )


def test_round_trip_is_byte_stable_and_sorted() -> None:
    lock = Lockfile(
        images={
            "localhost:5000/z:1": image("localhost:5000/z:1"),
            "localhost:5000/a:1": image("localhost:5000/a:1", D2, linux_arm64=D1, linux_amd64=D2),
        }
    )
    text = dump_lockfile(lock)
    assert text.index("localhost:5000/a:1") < text.index("localhost:5000/z:1")
    assert text.index('"linux/amd64"') < text.index('"linux/arm64"')
    again = parse_lockfile(text)
    assert again.images == lock.images
    assert dump_lockfile(again) == text
    assert "schema_version = 2" in text


def test_unknown_top_level_tables_are_written_back() -> None:
    text = (
        "schema_version = 1\n\n"
        '[[release]]\nversion = "1.0"\ndigest = "' + D1 + '"\n\n'
        '[[image]]\nreference = "r/a:1"\nname = "r/a"\ntag = "1"\n'
        f'digest = "{D2}"\nmedia_type = "m"\nresolved_at = "t"\n'
    )
    lock = parse_lockfile(text)
    assert lock.extra == {"release": [{"version": "1.0", "digest": D1}]}
    dumped = dump_lockfile(lock)
    assert parse_lockfile(dumped).extra == lock.extra
    assert "[[release]]" in dumped


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("schema_version = 1\n[[image]\n", "line 2"),
        ('schema_version = "one"\n', "repro.lock:1"),
        ("schema_version = 1\n\n\n[[image]]\nreference = 'r/a:1'\n", "repro.lock:4"),
        (
            "schema_version = 1\n[[image]]\nreference = 'r'\nname = 'r'\n"
            "digest = 'sha256:12'\nmedia_type = 'm'\nresolved_at = 't'\n",
            "repro.lock:5",  # the line of the pin itself
        ),
    ],
)
def test_malformed_lockfile_is_an_input_error_with_the_line(text: str, where: str) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(text, "repro.lock")
    assert where in caught.value.message
    assert caught.value.exit_code is ExitCode.INPUT


def test_newer_schema_is_refused() -> None:
    with pytest.raises(LockfileError, match="newer"):
        parse_lockfile("schema_version = 99\n")


def test_lock_keys() -> None:
    assert lock_key(parse_image_ref("busybox:1.35")) == "docker.io/library/busybox:1.35"
    assert lock_key(parse_image_ref(f"busybox:1.35@{D1}")) == "docker.io/library/busybox:1.35"
    assert lock_key(parse_image_ref(f"busybox@{D1}")) == f"docker.io/library/busybox@{D1}"
    assert (
        lock_key(parse_image_ref("index.docker.io/busybox")) == "docker.io/library/busybox:latest"
    )
