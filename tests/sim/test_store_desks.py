"""Desks of their own (``aftersales.desks``) against Erlang C per store.

The textbook configuration, split by store: a fixed audience (every viewer arrives in the
first minute and stays), each store one SKU on sale the whole broadcast at a constant
propensity, every paid order one complaint a fixed time later, so each store's tickets are
a Poisson stream of rate viewers x propensity; exponential handling, no abandonment, c
agents per store desk for the whole horizon. Each desk is then an M/M/c queue of its own,
and the whole desk's figures are the ticket-weighted mean of the stores'. The formulas are
those of ``test_queue_formulas`` (first principles, not simlive's planner).
"""

from __future__ import annotations

import math

import pytest
from queueing import erlang_c

from simlive.scenario import parse_scenario
from simlive.sim.replications import simulate

VIEWERS = 60_000  # 1,000 a second over the first minute, none leaving
STORES = [  # store, tickets per minute, agents on its desk
    ("S-A", 2.4, 3),  # rho 0.8
    ("S-B", 1.6, 2),  # rho 0.8
    ("S-C", 0.5, 1),  # rho 0.5
]

SCENARIO = """\
name: store-split-queue
seed: {seed}
duration: {duration}
audience:
  arrivals: [{{at: 0s, rate: 1000/s}}, {{at: 60s, rate: 0}}]
  interpolation: step
  dwell: {{dist: fixed, value: 400d}}
products:
  skus:
{skus}
  schedule:
{schedule}
orders:
  units: {{1: 1.0}}
  pay_probability: 1
  pay_delay: {{dist: fixed, value: 0s}}
  delivery: {{dist: fixed, value: 1s}}
aftersales:
  returns: {{fraction: 0}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 1, delay: {{dist: fixed, value: 1s}}}}
  agents: [{{from: 0s, to: 400d, agents: 1}}]
  handling:
    complaint: {{dist: exponential, mean: 1m}}
  patience: null
  horizon: 2d
  desks:
{desks}
simulation: {{step: 60, desk_engine: fast}}
"""


def scenario(duration: str, seed: int, each: bool):
    skus = "\n".join(f"    - {{sku: {s}-1, price: 1, stock: 1000000000, store: {s}}}"
                     for s, _, _ in STORES)
    schedule = "\n".join(
        f"    - {{sku: {s}-1, from: 0s, to: {duration}, propensity: {rate / VIEWERS}/min}}"
        for s, rate, _ in STORES)
    if each:  # one entry split by store: the same agents at every store
        desks = ("    - {name: store, stores: [" + ", ".join(s for s, _, _ in STORES)
                 + "], each: store, agents: [{from: 0s, to: 400d, agents: 2}]}")
    else:
        desks = "\n".join(f"    - {{name: desk-{s}, stores: [{s}], agents: "
                          f"[{{from: 0s, to: 400d, agents: {c}}}]}}" for s, _, c in STORES)
    return parse_scenario(SCENARIO.format(seed=seed, duration=duration, skus=skus,
                                          schedule=schedule, desks=desks))


def inside(kpi: dict, truth: float, width: float = 0.06) -> None:
    """The truth in the 95 % CI (widened by 25 % for the empty start), the CI tight enough
    to tell a wrong model from a right one."""
    lo, hi = kpi["ci95"]
    half = (hi - lo) / 2
    assert half < width * truth, (kpi, truth)
    assert lo - 0.25 * half <= truth <= hi + 0.25 * half, (kpi, truth)


@pytest.mark.slow
def test_each_store_desk_is_its_own_erlang_c_queue():
    result = simulate(scenario("14d", 31, each=False), 10, jobs=2)
    desks = result.to_dict()["desks"]
    assert [d["name"] for d in desks] == ["pooled", *(f"desk-{s}" for s, _, _ in STORES)]
    assert desks[0]["kpis"]["aftersales.tickets"]["mean"] == 0  # no chats, every SKU a store's
    theory = []
    for d, (_, rate, agents) in zip(desks[1:], STORES, strict=True):
        t = erlang_c(rate, 1.0, agents)  # per minute
        k = d["kpis"]
        # the desk took its store's tickets: rate x 14 days, within 2 %
        assert k["aftersales.tickets"]["mean"] == pytest.approx(rate * 14 * 1440, rel=0.02)
        inside(k["aftersales.wait.p_delayed"], t["p_delayed"])
        inside(k["aftersales.wait.mean_s"], t["wait"] * 60, width=0.1)
        # busy over the agents' time on duty: 14 days of tickets in 16 days on the desk
        assert k["aftersales.agent_utilization"]["mean"] == pytest.approx(
            rate / agents * 14 / 16, rel=0.03)
        theory.append((rate, t))
    # the whole desk is the ticket-weighted mean of the stores'
    total = sum(rate for rate, _ in theory)
    whole = result.kpis
    inside(whole["aftersales.wait.p_delayed"],
           sum(rate * t["p_delayed"] for rate, t in theory) / total)
    inside(whole["aftersales.wait.mean_s"],
           sum(rate * t["wait"] * 60 for rate, t in theory) / total, width=0.1)


def test_split_by_store_needs_more_agents_than_one_pool():
    """``each: store`` gives every store 2 agents (6 in all): the stores at rho 1.2 and 0.8
    of 2 wait far longer than one pool of 6 would (Erlang C of the summed rate), which is why
    a top host's stores need more agents than the pooled estimate."""
    result = simulate(scenario("7d", 5, each=True), 4, jobs=2)
    desks = {d["name"]: d for d in result.to_dict()["desks"]}
    assert set(desks) == {"pooled", *(f"store/{s}" for s, _, _ in STORES)}
    assert all(d["agents"][0]["agents"] == 2 for n, d in desks.items() if n != "pooled")
    pooled_six = erlang_c(sum(r for _, r, _ in STORES), 1.0, 6)
    busy = desks["store/S-B"]["kpis"]["aftersales.wait.mean_s"]["mean"]
    assert busy == pytest.approx(erlang_c(1.6, 1.0, 2)["wait"] * 60, rel=0.15)
    assert busy > 5 * pooled_six["wait"] * 60
    # S-A's 2.4 a minute on 2 agents cannot be served: its queue grows all week
    overloaded = desks["store/S-A"]
    assert overloaded["kpis"]["aftersales.wait.mean_s"]["mean"] > 3600
    assert overloaded["kpis"]["aftersales.agent_utilization"]["mean"] > 0.9
    assert math.isfinite(desks["store/S-C"]["kpis"]["aftersales.wait.mean_s"]["mean"])
