"""A silent consumer's ticket is closed after the feedback timeout, not left open forever,
and not before the rule's feedback_timeout (rules.py): one meaning in the simulator and the
checker."""

from __future__ import annotations

from simlive.scenario import parse_scenario
from simlive.sim.replications import simulate

SLOW_FEEDBACK = """\
name: silent
seed: 7
duration: 1h
audience:
  arrivals: [{at: 0m, rate: 30/min}]
products:
  skus: [{sku: MUG, price: 20, stock: 500, limit: 2}]
  schedule: [{sku: MUG, from: 0m, to: 1h, propensity: 0.01/min}]
aftersales:
  agents: [{from: 0h, to: 31d, agents: 2}]
  returns: {fraction: 0.5, delay: {dist: fixed, value: 1d}}
  feedback_delay: {dist: fixed, value: 20d}
"""


def _closure(text: str) -> dict:
    result = simulate(parse_scenario(text), 100, until_decided=True)
    rule = next(v for v in result.verdicts if v.rule_id == "aftersales.tracked-to-closure")
    return {"status": rule.status.value, "evidence": rule.evidence, **rule.measured}


def test_feedback_timeout_closes_silent_tickets() -> None:
    closed = _closure(SLOW_FEEDBACK)  # default timeout 7d: closed as "no feedback"
    assert closed["status"] == "pass" and closed["open_overdue"] == 0
    assert closed["closed_too_early"] == 0
    assert "as 'no feedback' after 7d" in closed["evidence"]


def test_closing_a_silent_consumer_before_the_rules_timeout_breaks_the_rule() -> None:
    early = _closure(SLOW_FEEDBACK + "  feedback_timeout: 2d\n")
    assert early["status"] == "fail"
    assert early["closed_too_early"] > 0 and early["open_overdue"] == 0
    assert "closed without feedback before the consumer had 7d" in early["evidence"]
    # a merchant whose rule allows 2 days is within it
    relaxed = _closure(SLOW_FEEDBACK + "  feedback_timeout: 2d\ncompliance:\n"
                       "  aftersales.tracked-to-closure: {feedback_timeout: 2d}\n")
    assert relaxed["status"] == "pass" and relaxed["closed_too_early"] == 0


def test_without_a_timeout_silent_tickets_stay_open_past_the_deadline() -> None:
    waiting = _closure(SLOW_FEEDBACK + "  feedback_timeout: null\n")
    assert waiting["status"] == "fail"
    assert waiting["open_overdue"] > 0
