"""Where tickets come from, and the desk KPIs computed from them."""

from __future__ import annotations

import numpy as np

from simlive.scenario import parse_scenario
from simlive.sim.engine import run_replication
from simlive.sim.tickets import CONSULTATION, make_tickets

CHATS = """\
name: chats
seed: 3
duration: {duration}
audience: {{arrivals: [{{at: 0s, rate: 0}}]}}
products: {{skus: [{{sku: A, price: 1, stock: 1}}]}}
aftersales:
  consultations: {{rate: {rate}}}
  agents: [{{from: 0s, to: 2d, agents: {agents}}}]
  handling:
    consultation: {handling}
  patience: null
  horizon: 1h
simulation: {{step: {step}}}
"""


def chats(duration="1h", rate="1/s", agents=1, handling="{dist: exponential, mean: 1s}",
          step=1):
    return parse_scenario(CHATS.format(duration=duration, rate=rate, agents=agents,
                                       handling=handling, step=step))


def test_consultations_arrive_during_the_broadcast_in_order():
    s = chats(duration="10m", rate="2/s")
    bins = 600
    t = make_tickets(s, np.zeros(bins), [], 1.0, np.random.default_rng(0))
    assert np.all(t.kind == CONSULTATION) and np.all(t.sku == -1)
    assert np.all(np.diff(t.arrival) >= 0)
    assert 0 <= t.arrival.min() and t.arrival.max() <= 600
    assert abs(len(t) - 1200) < 5 * np.sqrt(1200)


def test_no_atom_of_chats_at_the_end_of_a_partial_last_step():
    s = chats(duration="90s", rate="1/s", step=60)
    t = make_tickets(s, np.zeros(2), [], 60.0, np.random.default_rng(1))
    assert np.unique(t.arrival).size == t.arrival.size
    assert not np.any(t.arrival == 90.0)


def test_utilization_is_a_fraction():
    s = chats(duration="10m", rate="2/min", handling="{dist: fixed, value: 1h}")
    s = s.model_copy(update={"aftersales": s.aftersales.model_copy(update={
        "agents": [a.model_copy(update={"end": 600.0}) for a in s.aftersales.agents]})})
    r = run_replication(s, 0)
    assert 0.0 <= r.kpis["aftersales.agent_utilization"] <= 1.0


def test_every_chat_answered_with_enough_agents():
    r = run_replication(chats(duration="30m", rate="1/min", agents=3), 0)
    assert r.kpis["aftersales.wait.p_delayed"] < 0.05
    assert r.measures.desk.lost == 0 and r.measures.desk.first_reply_late == 0
    assert r.measures.desk.unanswered_overdue == 0


def test_tickets_follow_paid_orders():
    s = parse_scenario("""\
name: returns
seed: 9
duration: 30m
audience: {arrivals: [{at: 0s, rate: 100/min}]}
products:
  skus: [{sku: A, price: 10, stock: 100000}]
  schedule: [{sku: A, from: 0m, to: 30m, propensity: 0.05/min}]
orders: {pay_probability: 1.0}
aftersales:
  returns: {fraction: 1.0}
  replacements: {fraction: 0}
  refunds: {fraction: 0}
  complaints: {fraction: 0}
  agents: [{from: 0s, to: 31d, agents: 3}]
""")
    r = run_replication(s, 0)
    paid = r.measures.receipts.paid_orders
    assert paid > 100
    assert r.measures.desk.returns == paid  # every paid order returned, none lost on the way
    assert r.measures.desk.tickets == paid  # and no chats
