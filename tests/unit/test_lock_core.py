"""The pure lock core: discovery, planning pins, the check verdict, diffs, source policy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from repro.errors import InputError, RegistryError
from repro.lock.check import check_files
from repro.lock.discover import discover, is_dockerfile_name, is_excluded
from repro.lock.model import Action, Mode, ScannedFile
from repro.lock.plan import plan, required_keys, unified_diff
from repro.lock.policy import source_policy
from repro.lock.scan import scan_dockerfile as load_source
from repro.lock.service import LockRequest, run_check, run_lock, split_arguments
from repro.lockfile import Lockfile, parse_lockfile
from repro.registry.model import ManifestKey, Resolution

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
NOW = "2026-01-01T00:00:00Z"


class FakeResolver:
    """Serves tag -> digest from a dict; counts calls; can fail like a down registry."""

    def __init__(self, tags: Mapping[str, str], fail: str | None = None) -> None:
        self.tags = dict(tags)
        self.fail = fail
        self.calls: list[ManifestKey] = []

    def resolve_all(
        self,
        keys: Iterable[ManifestKey],
        known_platforms: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[ManifestKey, Resolution]:
        result = {}
        for key in keys:
            self.calls.append(key)
            if self.fail is not None and key.registry == self.fail:
                raise RegistryError(f"registry {key.registry} is unreachable: ConnectionError")
            digest = key.reference if key.is_digest else self.tags[str(key)]
            is_index = digest == D1
            result[key] = Resolution(
                key=key,
                digest=digest,
                media_type=INDEX if is_index else MANIFEST,
                platforms={"linux/amd64": D2, "linux/arm64": D3} if is_index else None,
                endpoint=key.registry,
            )
        return result


def resolve(
    sources: list[ScannedFile],
    mode: Mode = Mode.LOCK,
    lock: Lockfile | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[ManifestKey, Resolution]:
    resolver = FakeResolver(tags or {})
    resolutions: dict[ManifestKey, Resolution] = {}
    for _ in range(3):
        wanted = required_keys(sources, mode, lock, resolutions)
        if not wanted:
            break
        resolutions.update(resolver.resolve_all(wanted))
    return resolutions


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dev", True),
        ("api.Dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("Dockerfile.", False),
        ("dockerfile", False),
        ("README.md", False),
    ],
)
def test_dockerfile_names(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected


def test_discovery_skips_git_excludes_and_outside_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for rel in ("Dockerfile", "svc/api.Dockerfile", ".git/Dockerfile", "vendor/x/Dockerfile"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("FROM a\n")
    outside = tmp_path / "elsewhere.Dockerfile"
    outside.write_text("FROM a\n")
    (root / "linked.Dockerfile").symlink_to(outside)
    (root / "Dockerfile.same").symlink_to(root / "Dockerfile")
    found = discover([], root, ["vendor"])
    assert [f.display for f in found.files] == ["Dockerfile", "svc/api.Dockerfile"]
    assert any("linked.Dockerfile" in message and "outside" in message for message in found.skipped)


def test_excludes_are_dockerignore_like() -> None:
    assert is_excluded("vendor/a/Dockerfile", ["vendor"])
    assert is_excluded("a/b/test.Dockerfile", ["**/test.Dockerfile"])
    assert is_excluded("Dockerfile.dev", ["Dockerfile.*"])
    assert not is_excluded("Dockerfile", ["Dockerfile.*"])


def test_split_arguments_with_update() -> None:
    existing = {"svc"}
    paths, refs = split_arguments(
        ["svc", "busybox:1.35"], update=True, exists=existing.__contains__
    )
    assert [str(p) for p in paths] == ["svc"]
    assert refs == ("busybox:1.35",)
    paths, refs = split_arguments(["nope"], update=False, exists=existing.__contains__)
    assert refs == () and [str(p) for p in paths] == ["nope"]


DOCKERFILE = (
    b"\xef\xbb\xbf# syntax=localhost:5000/library/busybox:1.35\r\n"
    b"ARG BASE=localhost:5000/library/busybox:1.35\r\n"
    b"FROM --platform=linux/amd64 ${BASE} AS build\r\n"
    b"COPY --from=localhost:5000/library/python:3.11-slim --link /a /b\r\n"
    b"RUN --mount=type=bind,from=localhost:5000/library/busybox:latest,target=/x \\\r\n"
    b"    # a comment inside a continuation\r\n"
    b"    --mount=from=build,target=/y true   \r\n"
    b"FROM scratch\r\n"
    b"COPY --from=build /a /a\r\n"
)
TAGS = {
    "localhost:5000/library/busybox:1.35": D1,
    "localhost:5000/library/busybox:latest": D1,
    "localhost:5000/library/python:3.11-slim": D2,
}


def test_plan_pins_every_kind_and_keeps_every_other_byte() -> None:
    source = load_source("Dockerfile", DOCKERFILE)
    resolutions = resolve([source], tags=TAGS)
    assert len(resolutions) == 3  # each unique reference once
    result = plan([source], mode=Mode.LOCK, lock=None, resolutions=resolutions, now=NOW)
    assert [r.action for r in result.references] == [Action.PINNED] * 4
    (change,) = result.changes
    expected = (
        DOCKERFILE.replace(b"busybox:1.35\r\n", b"busybox:1.35@" + D1.encode() + b"\r\n")
        .replace(b"python:3.11-slim ", b"python:3.11-slim@" + D2.encode() + b" ")
        .replace(b"busybox:latest,", b"busybox:latest@" + D1.encode() + b",")
    )
    assert change.new == expected
    assert result.lockfile is not None
    entry = result.lockfile.images["localhost:5000/library/busybox:1.35"]
    assert entry.digest == D1 and entry.media_type == INDEX
    assert dict(entry.platforms) == {"linux/amd64": D2, "linux/arm64": D3}
    assert entry.resolved_at == NOW


def test_second_run_changes_nothing_and_check_passes() -> None:
    first_source = load_source("Dockerfile", DOCKERFILE)
    first = plan(
        [first_source],
        mode=Mode.LOCK,
        lock=None,
        resolutions=resolve([first_source], tags=TAGS),
        now=NOW,
    )
    assert first.lockfile is not None
    pinned = load_source("Dockerfile", first.changes[0].new)
    again = plan(
        [pinned],
        mode=Mode.LOCK,
        lock=first.lockfile,
        resolutions=resolve([pinned], lock=first.lockfile, tags=TAGS),
        now="2030-01-01T00:00:00Z",
    )
    assert again.changes == ()
    assert again.lockfile == first.lockfile
    assert {r.action for r in again.references} == {Action.KEPT}
    assert check_files([pinned], first.lockfile).offenders == ()


def test_check_verdicts() -> None:
    lock = parse_lockfile(
        "schema_version = 1\n[[image]]\nreference = 'r.io/a:1'\nname = 'r.io/a'\ntag = '1'\n"
        f"digest = '{D1}'\nmedia_type = '{MANIFEST}'\nresolved_at = '{NOW}'\n"
        "[[image]]\nreference = 'r.io/b:1'\nname = 'r.io/b'\ntag = '1'\n"
        f"digest = '{D2}'\nmedia_type = '{MANIFEST}'\nresolved_at = '{NOW}'\n"
    )
    data = (
        b"FROM r.io/u:1\n"
        + f"FROM r.io/a:1@{D2}\n".encode()
        + f"FROM r.io/b:1@{D2}\n".encode()
        + f"FROM r.io/c:1@{D3}\n".encode()
        + f"FROM r.io/a:1@{D1}\n".encode()
    )
    source = load_source("Dockerfile", data)
    result = check_files([source], lock)
    verdicts = [(r.line, r.action) for r in result.references]
    assert verdicts == [
        (1, Action.UNPINNED),
        (2, Action.LOCK_MISMATCH),
        (3, Action.OK),  # a moved tag is not the commit's fault: the check never asks
        (4, Action.NOT_LOCKED),
        (5, Action.OK),
    ]
    mismatch = result.references[1]
    assert mismatch.fix.startswith("run `repro lock` to record the new pin")


def test_drift_is_reported_not_replaced_unless_update() -> None:
    data = f"FROM r.io/a:1@{D2}\n".encode()
    source = load_source("Dockerfile", data)
    tags = {"r.io/a:1": D3}
    kept = plan(
        [source], mode=Mode.LOCK, lock=None, resolutions=resolve([source], tags=tags), now=NOW
    )
    assert kept.references[0].action is Action.DRIFTED
    assert kept.changes == ()
    assert any("now serves" in w for w in kept.warnings)
    updated = plan(
        [source], mode=Mode.UPDATE, lock=None, resolutions=resolve([source], tags=tags), now=NOW
    )
    ref = updated.references[0]
    assert (ref.action, ref.old_digest, ref.new_digest) == (Action.UPDATED, D2, D3)
    assert updated.changes[0].new == f"FROM r.io/a:1@{D3}\n".encode()


def test_implicit_latest_warns_and_second_run_is_stable() -> None:
    source = load_source("Dockerfile", b"FROM r.io/a\n")
    tags = {"r.io/a:latest": D2}
    first = plan(
        [source], mode=Mode.LOCK, lock=None, resolutions=resolve([source], tags=tags), now=NOW
    )
    assert any("pinning what :latest serves" in w for w in first.warnings)
    assert first.changes[0].new == f"FROM r.io/a@{D2}\n".encode()
    assert first.lockfile is not None
    entry = first.lockfile.images[f"r.io/a@{D2}"]
    assert entry.tag == "latest"
    pinned = load_source("Dockerfile", first.changes[0].new)
    resolutions = resolve([pinned], lock=first.lockfile, tags=tags)
    assert resolutions == {}  # digest-only and already locked: no request at all
    again = plan([pinned], mode=Mode.LOCK, lock=first.lockfile, resolutions=resolutions, now="x")
    assert again.lockfile == first.lockfile


def test_arg_composed_reference_is_not_rewritten() -> None:
    source = load_source("Dockerfile", b"ARG REG=r.io\nFROM ${REG}/a:1\n")
    result = plan(
        [source],
        mode=Mode.LOCK,
        lock=None,
        resolutions=resolve([source], tags={"r.io/a:1": D2}),
        now=NOW,
    )
    assert result.references[0].action is Action.UNPINNABLE
    assert result.changes == ()
    assert result.lockfile is not None and "r.io/a:1" in result.lockfile.images


def test_platform_filter_restricts_recorded_children() -> None:
    source = load_source("Dockerfile", b"FROM r.io/a:1\n")
    resolutions = resolve([source], tags={"r.io/a:1": D1})
    result = plan(
        [source],
        mode=Mode.LOCK,
        lock=None,
        resolutions=resolutions,
        now=NOW,
        platforms=["linux/arm64"],
    )
    assert result.lockfile is not None
    assert dict(result.lockfile.images["r.io/a:1"].platforms) == {"linux/arm64": D3}
    with pytest.raises(InputError, match="s390x"):
        plan(
            [source],
            mode=Mode.LOCK,
            lock=None,
            resolutions=resolutions,
            now=NOW,
            platforms=["linux/s390x"],
        )


def test_bad_reference_reports_file_line_column() -> None:
    with pytest.raises(InputError, match=r"^Dockerfile:2:6: invalid image reference"):
        load_source("Dockerfile", b"FROM a\nFROM UPPER/Case\n")


def test_unified_diff_and_source_policy() -> None:
    diff = unified_diff("Dockerfile", b"FROM a\r\n", b"FROM a@x\r\n")
    assert diff.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")
    assert "-FROM a\r\n+FROM a@x\r\n" in diff
    source = load_source("Dockerfile", b"FROM r.io/a:1\n")
    result = plan(
        [source],
        mode=Mode.LOCK,
        lock=None,
        resolutions=resolve([source], tags={"r.io/a:1": D2}),
        now=NOW,
    )
    assert result.lockfile is not None
    policy = source_policy(result.lockfile)
    assert policy == {
        "rules": [
            {
                "action": "CONVERT",
                "selector": {"identifier": "docker-image://r.io/a:1"},
                "updates": {"identifier": f"docker-image://r.io/a:1@{D2}"},
            }
        ]
    }
    json.dumps(policy)


# -- the whole flow, with files on disk and a fake registry --------------------------------


def write(path: Path, data: bytes, mode: int = 0o640) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_run_lock_writes_all_then_nothing_more(tmp_path: Path) -> None:
    a = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    b = write(tmp_path / "svc" / "Containerfile", b"FROM r.io/b:2\n")
    resolver = FakeResolver({"r.io/a:1": D2, "r.io/b:2": D3})
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=resolver, now=lambda: NOW)
    assert outcome.written == ("Dockerfile", "svc/Containerfile", "repro.lock")
    assert a.read_bytes() == f"FROM r.io/a:1@{D2}\n".encode()
    assert a.stat().st_mode & 0o777 == 0o640
    lock_bytes = (tmp_path / "repro.lock").read_bytes()
    again = run_lock(LockRequest(), cwd=tmp_path, resolver=resolver, now=lambda: "later")
    assert again.written == ()
    assert (tmp_path / "repro.lock").read_bytes() == lock_bytes
    assert b.read_bytes() == f"FROM r.io/b:2@{D3}\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "repro.lock", "svc"]


def test_run_lock_is_all_or_nothing(tmp_path: Path) -> None:
    a = write(tmp_path / "a.Dockerfile", b"FROM r.io/a:1\n")
    write(tmp_path / "b.Dockerfile", b"FROM down.example:5000/b:2\n")
    resolver = FakeResolver({"r.io/a:1": D2}, fail="down.example:5000")
    with pytest.raises(RegistryError, match=r"down\.example:5000"):
        run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    assert a.read_bytes() == b"FROM r.io/a:1\n"
    assert not (tmp_path / "repro.lock").exists()


def test_run_lock_bad_dockerfile_writes_nothing(tmp_path: Path) -> None:
    a = write(tmp_path / "a.Dockerfile", b"FROM r.io/a:1\n")
    write(tmp_path / "b.Dockerfile", b"FROM r.io/a:1\nCOPY --link=maybe a b\n")
    resolver = FakeResolver({"r.io/a:1": D2})
    with pytest.raises(InputError, match=r"b.Dockerfile:2:\d+"):
        run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    assert resolver.calls == []
    assert a.read_bytes() == b"FROM r.io/a:1\n"


def test_run_lock_dry_run_and_check(tmp_path: Path) -> None:
    a = write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    resolver = FakeResolver({"r.io/a:1": D2})
    dry = run_lock(LockRequest(dry_run=True), cwd=tmp_path, resolver=resolver)
    assert f"+FROM r.io/a:1@{D2}" in dry.diff and "+++ b/repro.lock" in dry.diff
    assert a.read_bytes() == b"FROM r.io/a:1\n" and not (tmp_path / "repro.lock").exists()
    check = run_check(LockRequest(mode=Mode.CHECK), cwd=tmp_path)
    assert [(o.file, o.line, o.action) for o in check.offenders] == [
        ("Dockerfile", 1, Action.UNPINNED)
    ]
    run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    assert run_check(LockRequest(mode=Mode.CHECK), cwd=tmp_path).offenders == ()


def test_run_lock_keeps_release_tables_and_writes_source_policy(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\n")
    (tmp_path / "repro.lock").write_text('schema_version = 1\n\n[[release]]\nversion = "1.0"\n')
    resolver = FakeResolver({"r.io/a:1": D2})
    run_lock(LockRequest(source_policy=Path("policy.json")), cwd=tmp_path, resolver=resolver)
    lock = parse_lockfile((tmp_path / "repro.lock").read_text())
    assert lock.extra == {"release": [{"version": "1.0"}]}
    assert json.loads((tmp_path / "policy.json").read_text())["rules"][0]["action"] == "CONVERT"


def test_symlink_inside_project_is_written_at_its_target(tmp_path: Path) -> None:
    real = write(tmp_path / "docker" / "Dockerfile", b"FROM r.io/a:1\n")
    (tmp_path / "Dockerfile").symlink_to(real)
    run_lock(LockRequest(), cwd=tmp_path, resolver=FakeResolver({"r.io/a:1": D2}))
    assert (tmp_path / "Dockerfile").is_symlink()
    assert real.read_bytes() == f"FROM r.io/a:1@{D2}\n".encode()


def test_run_lock_pins_a_file_buildkit_accepts_and_warns_with_file_and_line(
    tmp_path: Path,
) -> None:
    write(tmp_path / "Dockerfile", b"FROM r.io/a:1\nCOPY --user=me foo /tmp/\nRUN make \\\n")
    resolver = FakeResolver({"r.io/a:1": D2})
    outcome = run_lock(LockRequest(), cwd=tmp_path, resolver=resolver)
    assert (tmp_path / "Dockerfile").read_bytes().startswith(f"FROM r.io/a:1@{D2}\n".encode())
    assert outcome.plan.warnings[:2] == (
        "Dockerfile:2:6: unknown flag --user on COPY: kept as written, not interpreted",
        "Dockerfile:3:10: line continuation at end of file (the instruction ends there)",
    )
