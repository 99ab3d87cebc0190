"""What `repro verify` varies between A and B, chosen on the command line or in the
project's configuration, and what each variation does to the two builds (with fakes)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from repro.build.model import BuildRequest
from repro.config import load_config
from repro.dockerfile import parse_dockerfile
from repro.errors import InputError
from repro.verify.model import VerificationRecord
from repro.verify.service import VerifyOptions, verify
from repro.verify.variations import Variations, Vary, choose_variations, environment_args
from tests.unit.fakes import FakeBuilder, FakeClock, FakeSourceControl, git_project

ALL = frozenset(Vary)


def test_every_variation_is_on_by_default_and_each_can_be_dropped() -> None:
    assert choose_variations(None, []).enabled == ALL
    assert choose_variations(None, ["umask"]).enabled == ALL - {Vary.UMASK}
    assert choose_variations(["tz,locale"], []).enabled == {Vary.TZ, Vary.LOCALE}
    assert choose_variations(["all"], ["clock", "path"]).enabled == ALL - {Vary.CLOCK, Vary.PATH}
    assert choose_variations(None, ["all"]).enabled == frozenset()


def test_the_project_sets_the_default_and_the_command_line_has_the_last_word() -> None:
    def chosen(vary: list[str] | None, no_vary: list[str]) -> frozenset[Vary]:
        return choose_variations(
            vary, no_vary, config_vary=["umask", "tz", "clock"], config_no_vary=["tz"]
        ).enabled

    assert chosen(None, []) == {Vary.UMASK, Vary.CLOCK}
    assert chosen(None, ["clock"]) == {Vary.UMASK}
    # --vary replaces the project's list, its no-vary included.
    assert chosen(["tz"], []) == {Vary.TZ}
    only_dropped = choose_variations(None, [], config_no_vary=["umask"])
    assert only_dropped.enabled == ALL - {Vary.UMASK}


def test_unknown_and_contradictory_names_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown variation `umsk`") as caught:
        choose_variations(None, ["umsk"])
    assert caught.value.hint is not None and "did you mean `umask`" in caught.value.hint
    with pytest.raises(InputError, match="both name tz"):
        choose_variations(["tz,umask"], ["tz"])
    with pytest.raises(InputError, match=r"repro.toml: verify.vary: unknown variation `cpu`"):
        choose_variations(None, [], config_vary=["cpu"], config_source="repro.toml")


def test_the_configuration_reads_verify_vary_and_no_vary(tmp_path: Path) -> None:
    (tmp_path / "repro.toml").write_text('[verify]\nno-vary = ["umask"]\n')
    config = load_config(tmp_path)
    assert config.verify_vary is None and config.verify_no_vary == ("umask",)
    (tmp_path / "repro.toml").write_text('[verify]\nvary = "umask"\n')
    with pytest.raises(InputError, match=r"`verify\.vary` must be a list of strings"):
        load_config(tmp_path)


def test_only_tz_and_locale_args_without_a_default_take_the_builders_value() -> None:
    dockerfile = parse_dockerfile(
        b"ARG LANG=C.UTF-8\nFROM scratch\nARG TZ LC_ALL=C\nARG LANG\nARG VERSION\n"
        b"FROM scratch\nARG LC_TIME\n"
    )
    # LANG inherits the global default, LC_ALL has its own, VERSION is no environment.
    assert environment_args(dockerfile) == {"TZ", "LC_TIME"}


@dataclass
class WatchingBuilder:
    """FakeBuilder that notes when each build ran and what its checkout looked like."""

    clock: FakeClock
    build_seconds: float = 3.0
    inner: FakeBuilder = field(default_factory=FakeBuilder)
    events: list[tuple[str, str, float]] = field(default_factory=list)
    mtimes: dict[str, int] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    wait_for_b: threading.Event | None = None

    def build(self, request: BuildRequest, on_log: Callable[[str], None] | None = None) -> Path:
        name = request.dest.name[0].upper()
        self.events.append((name, "start", self.clock.now()))
        hello = request.context / "hello.txt"
        self.mtimes[name] = hello.stat().st_mtime_ns
        self.modes[name] = hello.stat().st_mode & 0o777
        if name == "B" and self.wait_for_b is not None:
            self.wait_for_b.set()
        if name == "A" and self.wait_for_b is not None:
            # Concurrent builds: B starts while A is still building.
            assert self.wait_for_b.wait(timeout=10), "B did not start while A was building"
        path = self.inner.build(request, on_log)
        self.clock.time += self.build_seconds
        self.events.append((name, "end", self.clock.now()))
        return path


def _verify(
    tmp_path: Path,
    variations: Variations,
    *,
    builders: tuple[str, ...] = ("first", "second"),
    dockerfile: str = "FROM scratch\nCOPY . /app\n",
    concurrent: bool = False,
) -> tuple[WatchingBuilder, FakeSourceControl, VerificationRecord]:
    project = git_project(tmp_path / "p", dockerfile)
    clock = FakeClock()
    builder = WatchingBuilder(clock, wait_for_b=threading.Event() if concurrent else None)
    git = FakeSourceControl()
    result = verify(
        VerifyOptions(context=project, builders=builders, variations=variations),
        builder=builder,
        source_control=git,
        clock=clock,
    )
    record = result.record()
    assert VerificationRecord.from_json(record.to_json(), "verify.json") == record
    return builder, git, record


def test_by_default_b_differs_in_everything_and_is_built_after_a(tmp_path: Path) -> None:
    builder, git, record = _verify(tmp_path, Variations())
    assert [(umask, env["TZ"], env["LC_ALL"]) for _, umask, env in git.clones] == [
        (0o022, "UTC", "C.UTF-8"),
        (0o002, "Pacific/Kiritimati", "POSIX"),
    ]
    a, b = builder.inner.requests
    assert a.context.parent.name == "A-src" or a.context.name == "A-src"
    assert "elsewhere" in b.context.parts and a.builder == "first" and b.builder == "second"
    (_, _, a_end), (_, _, b_start) = builder.events[1], builder.events[2]
    assert [e[:2] for e in builder.events] == [
        ("A", "start"),
        ("A", "end"),
        ("B", "start"),
        ("B", "end"),
    ]
    # B starts in a later two-second interval than A ended: no time agrees by chance.
    assert b_start // 2 > a_end // 2
    assert [v.name for v in record.variations] == [str(v) for v in Vary]
    assert record.not_varied == ()
    reaches = {v.name: v.reaches_build for v in record.variations}
    assert reaches["tz"] is reaches["locale"] is reaches["path"] is False  # no ARG to take them
    assert reaches["umask"] and reaches["clock"] and reaches["builder"]
    assert record.to_json()["variations"][0] == {
        "name": "umask",
        "a": "umask 022",
        "b": "umask 002",
        "reaches_build": True,
    }


def test_with_nothing_varied_b_is_a_twin_of_a_checked_out_where_a_was(tmp_path: Path) -> None:
    builder, git, record = _verify(tmp_path, Variations(frozenset()))
    assert [(umask, env["TZ"]) for _, umask, env in git.clones] == [(0o022, "UTC")] * 2
    a, b = builder.inner.requests
    assert a.context == b.context  # checked out again where A was, once A was built
    assert builder.mtimes["A"] == builder.mtimes["B"]  # with A's file times
    assert builder.modes["A"] == builder.modes["B"]
    assert a.builder == b.builder == "first"
    assert record.variations == ()
    instead = {n.name: n.instead for n in record.not_varied}
    assert instead["builder"] == "both on first"
    assert instead["time"] == "B's files carry A's times"


def test_without_the_clock_variation_a_and_b_build_at_once(tmp_path: Path) -> None:
    builder, _, record = _verify(tmp_path, Variations(ALL - {Vary.CLOCK}), concurrent=True)
    assert [e[:2] for e in builder.events][:2] == [("A", "start"), ("B", "start")]
    assert [n.name for n in record.not_varied] == ["clock"]


def test_one_builder_cannot_vary_the_builder_and_says_how_to(tmp_path: Path) -> None:
    _, _, record = _verify(tmp_path, Variations(), builders=())
    [left_out] = record.not_varied
    assert left_out.name == "builder" and "give --builder twice" in left_out.instead


def test_a_tz_arg_without_a_default_is_given_to_b_only(tmp_path: Path) -> None:
    dockerfile = "FROM scratch\nARG TZ\nARG LANG=C.UTF-8\nCOPY . /app\n"
    builder, _, record = _verify(tmp_path, Variations(), dockerfile=dockerfile)
    a, b = builder.inner.requests
    assert "TZ" not in a.build_args and b.build_args["TZ"] == "<+14>-14"
    assert "LANG" not in b.build_args  # the Dockerfile's own default stands
    [tz] = [v for v in record.variations if v.name == "tz"]
    assert tz.reaches_build and "--build-arg TZ=<+14>-14" in tz.b
    assert record.build_args == {}  # the record's build args are the user's

    builder, _, _ = _verify(tmp_path / "off", Variations(ALL - {Vary.TZ}), dockerfile=dockerfile)
    assert "TZ" not in builder.inner.requests[1].build_args
