"""Escalations to the platform: which requests escalate, the platform's first-come,
first-served desk with a daily capacity, and the verdict at the horizon."""

from __future__ import annotations

import numpy as np
import pytest

from simlive.rules import DAY
from simlive.scenario import parse_scenario
from simlive.scenario.aftersales import Escalation
from simlive.scenario.scope import unmodelled
from simlive.sim.engine import run_replication
from simlive.sim.platform_desk import RequestTimes, escalation_times, taken_up

RULE = "aftersales.escalations-answered"
SHOP = """\
name: disputes
seed: 11
duration: 1h
audience:
  arrivals: [{at: 0m, rate: 30/min}]
products:
  skus: [{sku: MUG, price: 20, stock: 500, limit: 2}]
  schedule: [{sku: MUG, from: 0m, to: 1h, propensity: 0.01/min}]
aftersales:
  agents: [{from: 0h, to: 31d, agents: 1}]
  returns: {fraction: 0.5, delay: {dist: fixed, value: 1d}}
  resolve_delay: {dist: fixed, value: 5d}
  complaints: {fraction: 0.2}
  horizon: 20d
"""


def _taken_up_by_hand(at: list[float], per_day: int, horizon_end: float) -> list[float]:
    """One escalation at a time, each day's places filled in order."""
    days = int(np.ceil(horizon_end / DAY))
    used = [0] * days
    out = []
    last_day = 0
    for t in at:
        d = max(int(t // DAY), last_day)
        while d < days and used[d] >= per_day:
            d += 1
        if d >= days:
            out.append(np.inf)
            continue
        used[d] += 1
        last_day = d
        out.append(max(t, d * DAY))
    return out


@pytest.mark.parametrize("per_day", [1, 2, 5])
def test_the_platform_takes_escalations_up_in_order_within_its_daily_capacity(
        per_day: int) -> None:
    rng = np.random.default_rng(3)
    at = np.sort(rng.uniform(0, 6 * DAY, 25))
    got = taken_up(at, per_day, 10 * DAY)
    assert got.tolist() == _taken_up_by_hand(at.tolist(), per_day, 10 * DAY)


def test_unresolved_requests_escalate_after_the_wait_and_refusals_at_once() -> None:
    esc = Escalation(after="3d", unresolved=1.0, refused=1.0)
    req = RequestTimes(arrival=np.array([0.0, 0.0, DAY, 2 * DAY]),
                       resolved=np.array([DAY, np.inf, 0.5 * DAY + DAY, 2.5 * DAY]),
                       refused=np.array([False, False, True, False]))
    at = escalation_times(esc, req, 30 * DAY, np.random.default_rng(0))
    # resolved in a day: no; never resolved: at 3d; refused: at the refusal (1.5d)
    assert at.tolist() == [1.5 * DAY, 3 * DAY]
    none = escalation_times(Escalation(unresolved=0.0, refused=0.0), req, 30 * DAY,
                            np.random.default_rng(0))
    assert none.size == 0


def _verdict(text: str) -> tuple[str, dict, str]:
    from simlive.sim.replications import simulate

    result = simulate(parse_scenario(text), 3)
    v = next(v for v in result.verdicts if v.rule_id == RULE)
    return v.status.value, v.measured, v.evidence


def test_without_the_block_the_rule_is_not_judged() -> None:
    sc = parse_scenario(SHOP)
    assert "aftersales.escalation" in unmodelled(sc)[RULE]
    assert run_replication(sc, 0).measures.escalations is None


def test_a_platform_desk_with_room_decides_every_escalation_in_time() -> None:
    status, measured, evidence = _verdict(
        SHOP + "  escalation: {after: 3d, unresolved: 0.5, decisions_per_day: 1000,"
               " decision_time: {dist: fixed, value: 1d}}\n")
    assert measured["escalated"] > 0 and measured["unanswered"] == 0
    assert " decided, each within 5d (the slowest took 1d)" in evidence


def test_a_platform_deciding_two_a_day_leaves_escalations_undecided() -> None:
    status, measured, evidence = _verdict(
        SHOP + "  escalation: {after: 3d, unresolved: 1.0, decisions_per_day: 2}\n")
    assert status in ("fail", "undecided") and measured["unanswered"] > 0
    assert "escalations to the platform had no decision within 5d" in evidence
    assert "the rule allows 0" in evidence


def test_escalations_are_the_same_for_the_same_seed() -> None:
    sc = parse_scenario(SHOP + "  escalation: {decisions_per_day: 3}\n")
    a, b = run_replication(sc, 1), run_replication(sc, 1)
    assert a.measures.escalations == b.measures.escalations
    assert a.kpis["escalations.dispute_rate"] == b.kpis["escalations.dispute_rate"]
    assert a.measures.escalations is not None and a.measures.escalations.escalated > 0
    # the store's side draws what it drew without the block
    plain = run_replication(parse_scenario(SHOP), 1)
    assert plain.measures.desk == a.measures.desk


def test_bad_values_are_refused_with_their_bounds() -> None:
    with pytest.raises(Exception, match="decisions_per_day"):
        parse_scenario(SHOP + "  escalation: {decisions_per_day: 0}\n")
    with pytest.raises(Exception, match="unresolved"):
        parse_scenario(SHOP + "  escalation: {unresolved: 1.5}\n")
