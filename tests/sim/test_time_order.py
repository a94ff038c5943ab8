"""Tickets are put in order of arrival by _time_order: exactly np.argsort's stable order."""

from __future__ import annotations

import numpy as np
import pytest

from simlive.sim.tickets import _time_order


@pytest.mark.parametrize("seed", range(40))
def test_same_order_as_a_stable_argsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 1000, 70_000, 200_000]))
    # rounded to few digits: many equal times, which must keep their order
    t = np.round(rng.random(n) * rng.choice([1, 1e3, 2.6e6]), int(rng.integers(0, 10)))
    if seed % 4 == 1:
        t[rng.random(n) < 0.2] = 0.0
    if seed % 4 == 2:
        t = -t
    assert _time_order(t).tolist() == np.argsort(t, kind="stable").tolist()


def test_all_equal_and_infinite_times() -> None:
    t = np.full(100_000, 7.5)
    assert _time_order(t).tolist() == list(range(t.size))
    t[::3] = np.inf
    assert _time_order(t).tolist() == np.argsort(t, kind="stable").tolist()
