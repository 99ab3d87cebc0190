"""The mutation score's arithmetic (bench/mutation.py): a sample's interval and its draw."""

from __future__ import annotations

from bench.mutation import draw_sample, wilson_interval


def test_the_wilson_interval_of_a_sample_is_worked_out() -> None:
    # 90 of 100: p = 0.9, z = 1.96 -> (0.8256, 0.9448), the textbook Wilson interval.
    assert wilson_interval(90, 100) == (82.6, 94.5)
    # All killed: the interval still admits survivors in the rest of the scope.
    assert wilson_interval(50, 50) == (92.9, 100.0)
    assert wilson_interval(0, 0) == (0.0, 100.0)


def test_a_draw_is_uniform_without_replacement_and_repeatable() -> None:
    names = [f"m{i}" for i in range(1000)]
    first = draw_sample(names, 100, seed=16)
    assert first == draw_sample(reversed(names), 100, seed=16)  # order of the input aside
    assert len(set(first)) == 100 and first == sorted(first)
    assert draw_sample(names, 100, seed=17) != first
    assert draw_sample(names[:5], 100, seed=16) == names[:5]
