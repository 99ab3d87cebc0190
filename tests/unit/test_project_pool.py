"""The pool: A and B on two different builders, room per node, longest image first."""

from __future__ import annotations

from repro.build.model import BuilderStatus
from repro.project_verify.pool import Estimate, Pool, order


def up(name: str, nodes: int = 1) -> BuilderStatus:
    return BuilderStatus(name, known=True, up=True, driver="docker", nodes=nodes)


def down(name: str) -> BuilderStatus:
    return BuilderStatus(name, known=True, up=False, detail="connection refused")


def test_a_and_b_go_to_two_different_builders_and_alternate() -> None:
    pool = Pool([up("default"), up("repro-b")], builds_per_node=2)
    assert pool.capacity == 4
    first, second = pool.reserve(), pool.reserve()
    assert first is not None and second is not None
    assert len(set(first)) == 2 and len(set(second)) == 2
    assert first[0] != second[0]  # A alternates between the builders
    # Both builders are full: the next image waits for one to finish.
    assert pool.reserve() is None
    pool.release(first)
    assert pool.reserve() is not None
    assert pool.builds() == {"default": 3, "repro-b": 3}


def test_a_builder_with_more_nodes_takes_more_work() -> None:
    pool = Pool([up("small"), up("k8s", nodes=3)], builds_per_node=1)
    assert pool.capacity == 4
    taken = [pool.reserve() for _ in range(2)]
    assert set(taken[0] or ()) == {"k8s", "small"}
    # small is full; k8s still has room, but B needs a second builder.
    assert taken[1] is None


def test_one_builder_left_builds_a_then_b_in_one_slot() -> None:
    pool = Pool([up("default"), down("dead")], builds_per_node=2)
    assert pool.up == ("default",) and pool.down == {"dead": "connection refused"}
    assert pool.reserve() == ("default",)
    assert pool.reserve() == ("default",)
    assert pool.reserve() is None
    assert pool.builds()["default"] == 4


def test_a_builder_that_goes_down_gets_nothing_more() -> None:
    pool = Pool([up("a"), up("b"), up("c")], builds_per_node=1)
    taken = pool.reserve()
    assert taken == ("a", "b")
    pool.mark_down("a", "gone")
    pool.release(taken)
    assert pool.went_down == {"a": "gone"}
    assert pool.reserve() == ("b", "c")
    pool.mark_down("b", "gone")
    pool.mark_down("c", "gone")
    assert pool.exhausted and pool.reserve() is None


def test_longest_first_never_timed_by_context_size_then_by_last_duration() -> None:
    estimates = {
        "quick": Estimate(3.0, 10**9),
        "slow": Estimate(90.0, 10),
        "new-small": Estimate(None, 100),
        "new-big": Estimate(None, 10**6),
    }
    assert order(list(estimates), estimates.__getitem__) == [
        "new-big",
        "new-small",
        "slow",
        "quick",
    ]
