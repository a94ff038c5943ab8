"""Desk realism a staffing plan depends on: overlapping shifts, shrinkage, agents holding
several chats at once, and the service level per interval. Checked against the plain desk
they must be equivalent to, against the SimPy desk ticket by ticket, and against Erlang C
computed here from first principles."""

from __future__ import annotations

import numpy as np
import pytest
from queueing import service_level

from simlive.scenario import parse_scenario
from simlive.sim.engine import run_replication
from simlive.sim.replications import simulate
from simlive.sim.service_levels import available, desk_slots, heads_over_time, interval_counts

BASE = """\
name: staffing
seed: {seed}
duration: 6h
audience:
  arrivals: [{{at: 0s, rate: 0}}]
products:
  skus: [{{sku: ONLY, price: 1, stock: 1}}]
aftersales:
  consultations: {{rate: {rate}}}
  returns: {{fraction: 0}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 0}}
  agents: {agents}
  handling:
    consultation: {{dist: exponential, mean: 2m}}
  patience: {{dist: exponential, mean: 3m}}
  horizon: 2h
{extra}
simulation: {{step: 60, desk_engine: {engine}}}
"""


def scenario(agents: str, extra: str = "", engine: str = "fast", rate: str = "3/min",
             seed: int = 11):
    return parse_scenario(BASE.format(agents=agents, extra=extra, engine=engine, rate=rate,
                                      seed=seed))


def desk_kpis(kpis: dict) -> dict:
    return {k: v for k, v in kpis.items() if k.startswith("aftersales.")}


def test_overlapping_shifts_are_summed():
    assert heads_over_time([(0, 4, 3), (2, 6, 2), (6, 8, 2)], 7) == \
        [(0, 2, 3), (2, 4, 5), (4, 7, 2)]
    assert heads_over_time([(0, 2, 1), (3, 4, 0)], 10) == [(0, 2, 1)]
    assert available(10, 0.3) == 7  # 10 x 0.7 is 6.9999... in floating point
    assert available(9, 0.25) == 6
    assert desk_slots([(0, 4, 3), (2, 6, 2)], 10, 0.2, 2) == [(0, 2, 4), (2, 4, 8), (4, 6, 2)]


def test_an_overlapping_roster_runs_as_its_summed_schedule():
    rows = "[{from: 0h, to: 4h, agents: 6}, {from: 2h, to: 8h, agents: 4}]"
    summed = "[{from: 0h, to: 2h, agents: 6}, {from: 2h, to: 4h, agents: 10}, " \
             "{from: 4h, to: 8h, agents: 4}]"
    a = run_replication(scenario(rows), 2).kpis
    b = run_replication(scenario(summed), 2).kpis
    assert desk_kpis(a) == desk_kpis(b)
    assert a["aftersales.tickets"] > 500


def test_shrinkage_takes_agents_off_the_desk():
    a = run_replication(scenario("[{from: 0h, to: 8h, agents: 10}]",
                                 "  shrinkage: 0.3"), 4).kpis
    b = run_replication(scenario("[{from: 0h, to: 8h, agents: 7}]"), 4).kpis
    assert desk_kpis(a) == desk_kpis(b)
    c = run_replication(scenario("[{from: 0h, to: 8h, agents: 10}]"), 4).kpis
    assert c["aftersales.wait.mean_s"] < a["aftersales.wait.mean_s"]


@pytest.mark.parametrize("extra", [
    "  shrinkage: 0.25\n  chat_concurrency: 2",
    "  chat_concurrency: 3\n  concurrency_stretch: 2.2",
])
def test_both_desk_engines_agree_with_overlap_shrinkage_and_concurrency(extra):
    rows = "[{from: 0h, to: 3h, agents: 3}, {from: 1h, to: 5h, agents: 2}, " \
           "{from: 4h, to: 8h, agents: 4}]"
    fast = run_replication(scenario(rows, extra, "fast", rate="4/min"), 1)
    simpy = run_replication(scenario(rows, extra, "simpy", rate="4/min"), 1)
    assert fast.measures.desk.engine == "fast" and simpy.measures.desk.engine == "simpy"
    for name, value in desk_kpis(fast.kpis).items():
        assert simpy.kpis[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    assert fast.intervals.offered.tolist() == simpy.intervals.offered.tolist()
    for t, counts in fast.intervals.answered.items():
        assert counts.tolist() == simpy.intervals.answered[t].tolist()


TEXTBOOK = """\
name: concurrency
seed: 5
duration: 10d
audience:
  arrivals: [{at: 0s, rate: 0}]
products:
  skus: [{sku: ONLY, price: 1, stock: 1}]
aftersales:
  consultations: {rate: 3/min}
  returns: {fraction: 0}
  replacements: {fraction: 0}
  refunds: {fraction: 0}
  complaints: {fraction: 0}
  agents: [{from: 0s, to: 400d, agents: 3}]
  handling:
    consultation: {dist: exponential, mean: 1m}
  patience: null
  chat_concurrency: 2
  concurrency_stretch: 1.5
  service_level: {within: [20s, 1m]}
  horizon: 1d
simulation: {step: 60, desk_engine: fast}
"""


def test_concurrency_is_more_slots_with_stretched_handling_against_erlang_c():
    """3 agents holding 2 chats each, every chat 1.5 x as long: an M/M/6 queue with a mean
    service of 1.5 minutes. Its service levels (and mean wait) are Erlang C's."""
    result = simulate(parse_scenario(TEXTBOOK), 4)
    lam, s, c = 3 / 60, 90.0, 6
    for t, name in ((20.0, "aftersales.service_level(20s)"),
                    (60.0, "aftersales.service_level(1m)")):
        truth = service_level(lam, s, c, t)
        kpi = result.kpis[name]
        lo, hi = kpi["ci95"]
        slack = 0.25 * (hi - lo) / 2 + 0.002
        assert lo - slack <= truth <= hi + slack, (name, truth, kpi)
    # utilisation is per slot: 4.5 Erlangs on 6 slots for 10 of the 11 days on duty
    assert result.kpis["aftersales.agent_utilization"]["mean"] == pytest.approx(
        lam * s / c * 10 / 11, rel=0.03)


def test_interval_counts_count_abandoned_as_not_answered():
    arrival = np.array([10.0, 20.0, 70.0, 80.0, 130.0])
    start = np.array([15.0, 50.0, 75.0, np.inf, 131.0])
    served = np.array([True, True, False, False, True])  # the third left before its reply
    counts = interval_counts(arrival, start, served, np.array([1.0, 2, 3, 4, 5]), [20.0],
                             60.0, 150.0)
    assert counts.work.tolist() == [3.0, 7.0, 5.0]
    assert counts.offered.tolist() == [2, 2, 1]
    assert counts.answered[20.0].tolist() == [1, 0, 1]
    assert counts.overall(20.0) == pytest.approx(2 / 5)
    assert counts.service_level(20.0).tolist() == [0.5, 0.0, 1.0]


def test_per_interval_service_level_sums_to_the_overall_kpi():
    r = run_replication(scenario("[{from: 0h, to: 8h, agents: 6}]",
                                 "  service_level: {within: [30s], interval: 15m}"), 0)
    counts = r.intervals
    assert counts.length == 900.0
    assert counts.offered.size == 32  # 8 h of 15 minutes
    assert counts.offered.sum() == r.kpis["aftersales.tickets"]
    assert r.kpis["aftersales.service_level(30s)"] == pytest.approx(
        counts.answered[30.0].sum() / counts.offered.sum())


@pytest.mark.parametrize(("extra", "message"), [
    ("  shrinkage: 0.95", "aftersales.shrinkage: expected at most 0.9"),
    ("  chat_concurrency: 2\n  concurrency_stretch: 3",
     "expected concurrency_stretch at most chat_concurrency (2)"),
    ("  service_level: {interval: 10s}", "aftersales.service_level.interval: expected at "
                                         "least 1m"),
])
def test_desk_settings_out_of_range_are_refused(extra, message):
    from simlive.scenario.loader import InputFileError

    with pytest.raises(InputFileError) as info:
        scenario("[{from: 0h, to: 8h, agents: 6}]", extra)
    assert message in str(info.value)


def test_desk_settings_reach_the_worker_processes():
    """Replications on two worker processes give what one process gives: shrinkage,
    concurrency, overlapping shifts and the service level intervals travel with the
    scenario to each worker (a worker that dropped them would staff differently)."""
    s = scenario("[{from: 0h, to: 3h, agents: 4}, {from: 2h, to: 8h, agents: 3}]",
                 "  shrinkage: 0.25\n  chat_concurrency: 2\n"
                 "  service_level: {within: [15s], interval: 20m}", rate="5/min")
    one = simulate(s, 2, 1)
    two = simulate(s, 2, 2)
    plain = simulate(scenario("[{from: 0h, to: 3h, agents: 4}, {from: 2h, to: 8h, agents: 3}]",
                              rate="5/min"), 2, 1)
    assert one.kpis == two.kpis
    assert one.kpis != plain.kpis  # the settings change the desk
    for a, b in zip(one.replications, two.replications, strict=True):
        assert a.intervals.length == b.intervals.length == 1200.0
        assert a.intervals.answered[15.0].tolist() == b.intervals.answered[15.0].tolist()
