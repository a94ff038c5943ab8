"""Utilization per interval: the agents' time handling within each interval over their
time on duty in it, so a reader sees the desk's peak hour, not a month's average."""

from __future__ import annotations

import json

import numpy as np

from simlive.sim.service_levels import busy_per_interval, duty_per_interval


def test_busy_time_is_split_at_the_interval_edges() -> None:
    # handlings 10..70 (spans the edge at 60), 100..110, and 130..250 (past the last edge)
    starts = np.asarray([100.0, 10.0, 130.0])
    ends = np.asarray([110.0, 70.0, 250.0])
    edges = np.asarray([0.0, 60.0, 120.0, 180.0])
    assert busy_per_interval(starts, ends, edges).tolist() == [50.0, 20.0, 50.0]


def test_duty_counts_slots_on_shift_within_each_interval() -> None:
    slots = [(0.0, 90.0, 2), (90.0, 150.0, 1)]  # two on until 90, then one until 150
    edges = np.asarray([0.0, 60.0, 120.0, 180.0])
    assert duty_per_interval(slots, edges).tolist() == [120.0, 90.0, 30.0]


def test_the_run_reports_it_and_it_agrees_with_the_whole_desks(invoke, tiny_text, write
                                                               ) -> None:
    path = write("t.yaml", tiny_text)
    result = invoke("run", str(path), "-r", "3", "--json", "-", "-q")
    assert result.exit_code in (0, 4), result.stderr
    data = json.loads(result.stdout)
    per = data["service_level_by_interval"]
    util = per["utilization"]
    assert len(util) == len(per["offered"]) and any(u for u in util if u)
    assert all(u is None or 0.0 <= u <= 1.0 for u in util), util
    # the busiest interval is at least as busy as the whole horizon on average
    whole = data["kpis"]["aftersales.agent_utilization"]["mean"]
    assert max(u for u in util if u is not None) >= whole


def test_duty_by_interpolation_is_the_sum_over_slots() -> None:
    """The interpolation against its definition (each slot's overlap with each interval),
    on 300 slots with gaps, edges past the last one."""
    rng = np.random.default_rng(1)
    t, slots = 0.0, []
    for _ in range(300):
        t += rng.uniform(0, 500)
        d = rng.uniform(1, 3000)
        slots.append((t, t + d, int(rng.integers(1, 9))))
        t += d
    edges = np.arange(0, t + 7200, 900.0)
    on = np.zeros(edges.size)
    for lo, hi, n in slots:
        on += n * np.clip(edges - lo, 0, hi - lo)
    assert np.allclose(np.diff(on), duty_per_interval(slots, edges))
    assert duty_per_interval([], edges).tolist() == [0.0] * (edges.size - 1)
