"""fulfilment.on-time in the model: shipping and delivery against their deadlines."""

from __future__ import annotations

import json

from simlive.judge.measures import FulfilmentMeasures
from simlive.rules import Status, Verdict
from simlive.scenario.loader import parse_scenario
from simlive.sim.engine import run_replication
from simlive.sim.replications import simulate
from tests.sim.test_fulfilment import _scenario

ROOMY = {"capacity": 10**6, "transit": {"dist": "fixed", "value": "1d"}}


def _judged(text: str, reps: int = 1) -> tuple[Verdict, FulfilmentMeasures | None]:
    res = simulate(parse_scenario(text, "s"), reps)
    v = next(v for v in res.verdicts if v.rule_id == "fulfilment.on-time")
    return v, res.replications[0].measures.fulfilment


def test_a_roomy_warehouse_ships_and_delivers_every_order_on_time() -> None:
    """Paid 20:00-22:00, cut-off 16:00: shipped 18-20 h later, delivered a day after that,
    well within 48 h and the 3-day promise."""
    r = run_replication(parse_scenario(_scenario(ROOMY), "s"), 0)
    m = r.measures.fulfilment
    assert m is not None and m.judged == r.kpis["orders.paid"] > 0
    assert (m.late, m.shipped_late, m.delivered_late, m.pending) == (0, 0, 0, 0)
    assert r.kpis["orders.on_time_fraction"] == 1.0


def test_shipping_after_the_cut_off_is_late_against_a_shorter_ship_within() -> None:
    """ship_within 12h: every order, paid 18-20 h before the next cut-off, ships late but
    arrives by the promise; the worst is about 8 h past its deadline."""
    data = _scenario(ROOMY) + "compliance:\n  fulfilment.on-time: {ship_within: 12h}\n"
    v, m = _judged(data, reps=2)
    assert m is not None and m.shipped_late == m.late == m.judged > 0
    assert m.delivered_late == 0
    assert m.worst_late is not None and 7 * 3600 < m.worst_late <= 8 * 3600
    assert v.status is Status.FAIL
    n = v.measured["late"]
    assert v.evidence == (
        f"{n:,} of {n:,} paid orders late ({n:,} not shipped within 12h of payment, 0 not "
        f"delivered by the promise) in 2 of 2 replications: on time 0 % (limit 100 %), "
        f"worst 8.0h past its deadline")


def test_a_backlog_makes_orders_late_and_the_rule_fail() -> None:
    v, _ = _judged(_scenario({"capacity": 1000, "transit": {"dist": "fixed", "value": "1d"}}),
                   reps=2)
    assert v.status is Status.FAIL
    assert v.measured["late"] > 0 and v.measured["on_time_fraction"] < 0.5
    assert "not delivered by the promise" in v.evidence and "(limit 100 %)" in v.evidence


def test_orders_within_their_deadlines_at_the_horizon_are_pending() -> None:
    """A horizon of one day: nothing is delivered (transit 1d after a next-day cut-off),
    nothing is past the 3-day promise: every order pending, none judged."""
    data = _scenario(ROOMY).replace("horizon: 60d", "horizon: 1d")
    m = run_replication(parse_scenario(data, "s"), 0).measures.fulfilment
    assert m is not None and m.judged == 0 and m.pending > 0


def test_without_a_fulfilment_block_the_rule_is_not_judged() -> None:
    v, m = _judged(_scenario(None))
    assert m is None
    assert v.status is Status.NOT_JUDGED and "fulfilment" in v.evidence


def test_the_same_seed_gives_the_same_record() -> None:
    sc = parse_scenario(_scenario({"capacity": 1500}), "s")
    a, b = run_replication(sc, 1), run_replication(sc, 1)
    assert a.measures.fulfilment == b.measures.fulfilment
    assert json.dumps(a.kpis, sort_keys=True) == json.dumps(b.kpis, sort_keys=True)
