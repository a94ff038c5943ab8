"""desk_fast takes runs of tickets at once; it must give exactly what desk_heap gives.

desk_heap is the plain recursion, one ticket at a time (itself checked against the SimPy
desk in test_desk.py). The comparison is exact: the same floats for every reply, the same
abandonments, the same busy seconds to the last bit. The cases are larger than the SimPy
ones (hundreds of agents, thousands of tickets) so that runs meet shift changes, agents who
take a second ticket within a run, patience running out and the horizon.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlive.sim.desk import HEAP_SLOTS, desk_fast, desk_heap, desk_recursion
from simlive.sim.duty import Roster

INF = math.inf


def assert_identical(arrival, handling, patience, shifts, horizon):
    roster = Roster(shifts, horizon)
    args = (np.asarray(arrival, float), np.asarray(handling, float),
            np.asarray(patience, float), roster)
    fast, heap = desk_fast(*args), desk_heap(*args)
    assert fast.start.tobytes() == heap.start.tobytes()
    assert fast.abandoned.tolist() == heap.abandoned.tolist()
    assert fast.busy_seconds == heap.busy_seconds
    assert fast.on_duty_seconds == heap.on_duty_seconds


def random_desk(rng: np.random.Generator, tickets: int, agents: int, load: float,
                shifts: int, chat: float) -> tuple:
    """Poisson tickets at ``load`` times what ``agents`` can handle, on a roster of
    ``shifts`` back-to-back shifts of 0 to ``agents`` agents, with a gap now and then."""
    mean_h = 60.0
    rate = load * agents / mean_h
    arrival = np.cumsum(rng.exponential(1 / rate, tickets))
    horizon = float(arrival[-1]) * 1.1 + 0.123456789
    kind = rng.random(tickets) < chat
    handling = np.where(kind, rng.lognormal(np.log(mean_h) - 0.2, 0.6, tickets),
                        rng.exponential(mean_h, tickets))
    patience = np.where(kind, rng.exponential(3 * mean_h, tickets), INF)
    cuts = np.sort(rng.uniform(0, horizon, shifts - 1)).round(0)
    edges = [0.0, *cuts.tolist(), horizon + 100]
    roster = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        if rng.random() < 0.9:
            roster.append((lo, hi, int(rng.integers(0, agents + 1))))
    roster.append((edges[0], edges[1], agents))
    return arrival, handling, patience, roster, horizon


@pytest.mark.parametrize("load", [0.3, 0.8, 0.97, 1.3])
@pytest.mark.parametrize("agents", [1, 7, 200])
def test_runs_match_the_recursion(load: float, agents: int) -> None:
    rng = np.random.default_rng([agents, int(load * 100)])
    for shifts in (1, 4, 12):
        assert_identical(*random_desk(rng, 6000, agents, load, shifts, chat=0.5))


def test_a_day_of_shifts_like_a_broadcast() -> None:
    """A busy chat floor that mostly goes home at a shift change, then a long tail."""
    rng = np.random.default_rng(11)
    n = 40_000
    arrival = np.sort(np.concatenate([rng.uniform(0, 3600, n // 2),
                                      rng.uniform(3600, 20 * 3600, n // 2)]))
    handling = rng.exponential(120, n)
    patience = np.where(arrival < 3600, rng.exponential(300, n), INF)
    shifts = [(0.0, 3600.0, 600), (3600.0, 36000.0, 150), (36000.0, 80000.0, 20)]
    assert_identical(arrival, handling, patience, shifts, 20 * 3600 + 0.5)


def test_ties_in_keys_and_arrivals() -> None:
    """Whole-second arrivals and handling: agents are freed at the very instant others come
    back, tickets arrive together; equal keys are ordered by slot, as in the heap."""
    rng = np.random.default_rng(5)
    n = 5000
    arrival = np.sort(rng.integers(0, 2000, n)).astype(float)
    handling = rng.integers(1, 60, n).astype(float)
    patience = np.where(rng.random(n) < 0.3, rng.integers(0, 30, n), INF).astype(float)
    shifts = [(0.0, 500.0, 90), (500.0, 1000.0, 40), (1200.0, 3000.0, 120)]
    assert_identical(arrival, handling, patience, shifts, 2500.0)


def test_zero_handling_and_agents_retiring_early() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    arrival = np.sort(rng.uniform(0, 1000, n))
    handling = np.where(rng.random(n) < 0.05, 0.0, rng.exponential(20, n))
    shifts = [(0.0, 300.0, 80), (300.0, 600.0, 10)]
    assert_identical(arrival, handling, np.full(n, INF), shifts, 1000.5)


def test_no_agents_and_no_tickets() -> None:
    assert_identical([1.0, 2.0], [1.0, 1.0], [5.0, INF], [(0.0, 10.0, 0)], 30.0)
    assert_identical([], [], [], [(0.0, 10.0, 3)], 30.0)


@st.composite
def small_desks(draw):
    horizon = draw(st.integers(20, 300)) + 0.5
    n = draw(st.integers(0, 300))
    gaps = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.7]), min_size=n,
                         max_size=n))
    arrival = [t for t in np.cumsum(gaps) if t < horizon] if gaps else []
    m = len(arrival)
    handling = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5, 7.0, 20.0]), min_size=m,
                             max_size=m))
    patience = draw(st.lists(st.sampled_from([INF, 0.0, 1.0, 4.0]), min_size=m, max_size=m))
    cuts = sorted(set(draw(st.lists(st.integers(0, int(horizon) + 20), min_size=2,
                                    max_size=6))))
    shifts = [(float(lo), float(hi), draw(st.integers(0, 12)))
              for lo, hi in zip(cuts, cuts[1:], strict=False)]
    return arrival, handling, patience, shifts, horizon


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_desks())
def test_runs_match_the_recursion_on_coarse_grids(case) -> None:
    """Coarse grids make every kind of tie: equal arrivals, agents freed together, a
    customer's patience running out as an agent frees up, replies at a shift's last instant."""
    assert_identical(*case)


def test_one_free_agent_among_many_busy() -> None:
    """Every ticket of a run goes to the same agent, one after another: a chain longer than
    the run's rounds, so only the prefix the last two rounds agree on is taken each time."""
    busy = 99
    arrival = np.concatenate([np.zeros(busy), 1.0 + np.arange(3000) * 0.5])
    handling = np.concatenate([np.full(busy, 1e5), np.full(3000, 0.25)])
    assert_identical(arrival, handling, np.full(arrival.size, INF), [(0.0, 1e6, 100)], 2e5)


def test_agents_idle_before_a_gap_in_their_shifts() -> None:
    """An agent idle since before a gap is idle, after it, only since coming back."""
    rng = np.random.default_rng(3)
    arrival = np.sort(np.concatenate([rng.uniform(0, 10, 40), rng.uniform(30, 60, 400)]))
    handling = rng.exponential(2.0, arrival.size)
    shifts = [(0.0, 10.0, 30), (10.0, 25.0, 5), (25.0, 100.0, 30)]
    assert_identical(arrival, handling, np.full(arrival.size, INF), shifts, 100.5)


def test_a_staggered_roster_with_breaks() -> None:
    """A roster plan's desk: overlapping shifts starting every half hour, each with a break,
    so agents leave and come back at hundreds of instants, many at once; desk_fast fixes
    every agent that left at one instant in one pass (``_Desk.refresh``) and must still
    give the recursion's replies to the bit."""
    rng = np.random.default_rng(21)
    shifts = []
    for start in np.arange(0.0, 12 * 3600.0, 1800.0):
        heads = int(rng.integers(5, 60))
        brk = start + float(rng.choice([2, 2.5, 3])) * 3600
        shifts += [(float(start), brk, heads), (brk + 1800.0, float(start) + 4.5 * 3600, heads)]
    n = 60_000
    rate = np.where(np.arange(n) < n // 3, 3.0, 1.0)  # a busy first third, then quieter
    arrival = np.cumsum(rng.exponential(1 / rate))
    handling = rng.exponential(150, n)
    patience = np.where(rng.random(n) < 0.6, rng.exponential(240, n), INF)
    assert_identical(arrival, handling, patience, shifts, float(arrival[-1]) + 0.5)
    # the roster sums the overlapping shifts
    r = Roster(shifts, 1e9)
    at = 3 * 3600.0 + 900.0
    assert r.slots >= max(n for _, _, n in shifts)
    on = sum(n for s, e, n in shifts if s <= at < e)
    assert [r.next_on(i, at) == at for i in range(r.slots)].count(True) == on


@pytest.mark.parametrize("agents", [HEAP_SLOTS, HEAP_SLOTS + 1, 400])
def test_the_form_chosen_by_shape_gives_the_recursions_bits(agents: int) -> None:
    """``desk_recursion`` takes the heap up to HEAP_SLOTS slots and runs above: either way
    the very bits of both forms."""
    rng = np.random.default_rng(agents)
    arrival, handling, patience, shifts, horizon = random_desk(rng, 5000, agents, 0.95, 4,
                                                               chat=0.5)
    roster = Roster(shifts, horizon)
    args = (np.asarray(arrival, float), np.asarray(handling, float),
            np.asarray(patience, float), roster)
    got = desk_recursion(*args)
    for other in (desk_heap(*args), desk_fast(*args)):
        assert got.start.tobytes() == other.start.tobytes()
        assert got.abandoned.tolist() == other.abandoned.tolist()
        assert got.busy_seconds == other.busy_seconds
