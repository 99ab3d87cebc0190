"""Project rules: the repository root, repro.lock, image arguments, the epoch policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import InputError
from repro.project import (
    EpochPolicy,
    ImageArgument,
    check_epoch_build_arg,
    find_lockfile,
    image_argument,
    nearest_lockfile,
    parse_epoch,
    release_lockfile,
    repository_root,
    require_repository_root,
)


def test_the_repository_root_is_the_nearest_directory_with_dot_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app" / "src").mkdir(parents=True)
    (repo / "app" / "Dockerfile").write_text("FROM scratch\n")
    assert repository_root(repo / "app" / "src") == repo.resolve()
    assert repository_root(repo / "app" / "Dockerfile") == repo.resolve()
    worktree = tmp_path / "worktree"  # a linked worktree or submodule has a .git file
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: /elsewhere\n")
    assert repository_root(worktree) == worktree.resolve()
    assert repository_root(tmp_path) is None
    with pytest.raises(InputError, match="not inside a git repository") as raised:
        require_repository_root(tmp_path)
    assert raised.value.hint is not None and "--epoch N" in raised.value.hint


def test_repro_lock_is_found_up_to_the_repository_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    context = root / "services" / "api"
    context.mkdir(parents=True)
    (tmp_path / "repro.lock").write_text("")  # above the repository: not its lockfile
    assert nearest_lockfile(context, stop=root) is None
    assert release_lockfile(context, root) == root / "repro.lock"
    (root / "repro.lock").write_text("")
    assert nearest_lockfile(context, stop=root) == root / "repro.lock"
    (context / "repro.lock").write_text("")
    assert release_lockfile(context, root) == context / "repro.lock"
    assert find_lockfile(context) == (context / "repro.lock").resolve()
    with pytest.raises(InputError, match=r"no repro\.lock"):
        find_lockfile(Path("/"))


def test_an_existing_path_wins_over_a_registry_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert image_argument("localhost:5000/team/app:1.4.0") is ImageArgument.REGISTRY
    assert image_argument("registry.example/app@sha256:" + "a" * 64) is ImageArgument.REGISTRY
    assert image_argument("busybox:1.35") is ImageArgument.PATH  # no host: a path
    assert image_argument("out/image.tar") is ImageArgument.PATH
    monkeypatch.chdir(tmp_path)
    (tmp_path / "localhost:5000" / "team").mkdir(parents=True)
    (tmp_path / "localhost:5000" / "team" / "app").mkdir()
    assert image_argument("localhost:5000/team/app") is ImageArgument.PATH


def test_one_epoch_parser_for_every_command() -> None:
    assert parse_epoch("git") == EpochPolicy() and EpochPolicy().from_commit
    assert parse_epoch("1700000000") == EpochPolicy(1700000000)
    assert str(parse_epoch("0")) == "0" and str(parse_epoch("git")) == "git"
    for bad in ("yesterday", "-1", "1.5", ""):
        with pytest.raises(InputError, match="--epoch must be a number of seconds or 'git'"):
            parse_epoch(bad)


def test_a_build_arg_may_not_contradict_the_epoch() -> None:
    check_epoch_build_arg({}, 5)
    check_epoch_build_arg({"SOURCE_DATE_EPOCH": "5", "OTHER": "x"}, 5)
    with pytest.raises(InputError, match=r"SOURCE_DATE_EPOCH=6 disagrees .* \(5\)") as raised:
        check_epoch_build_arg({"SOURCE_DATE_EPOCH": "6"}, 5)
    assert raised.value.exit_code == 2
    assert raised.value.hint is not None and "--epoch" in raised.value.hint
