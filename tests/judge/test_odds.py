"""From k of n broken to a verdict: intervals, the sequential state, the hint, the stats."""

from __future__ import annotations

import random

import pytest

from simlive.judge.odds import Confidence, SequentialState, by_interval
from simlive.judge.sequential import Sprt
from simlive.judge.stats import summarise_metric
from simlive.rules import RULE_IDS, Status


@pytest.mark.parametrize(("k", "n", "status"), [
    (0, 1, Status.UNDECIDED),  # one clean broadcast proves nothing at 5 %
    (0, 58, Status.UNDECIDED),  # the 95 % upper bound is still 6.1 %
    (0, 72, Status.PASS),  # 1 - 0.025 ** (1/72) = 5.0 %
    (1, 1, Status.UNDECIDED),
    (3, 3, Status.FAIL),  # lower bound 29 %
    (10, 100, Status.UNDECIDED),  # 10 % seen, yet the lower bound is 4.9 %
    (15, 100, Status.FAIL),
    (5, 100, Status.UNDECIDED),
])
def test_the_interval_decides_only_when_it_lies_on_one_side(k, n, status):
    assert by_interval(k, n, 0.05) is status


def test_more_needed_tracks_walds_boundaries():
    test = Sprt(0.05, 0.025)
    # clean replications: the pass boundary ln(1/19) at -0.0527 a step, 56 in all
    assert test.more_needed(0, 1) == 55
    assert test.decide(0, 55) is None and test.decide(0, 56) == "pass"
    # broken every time: the fail boundary ln 19 at ln 3 a step, 3 in all
    assert test.more_needed(1, 1) == 2 and test.decide(3, 3) == "fail"
    # right at the risk the walk has no drift either way... nearly: no useful estimate
    assert test.more_needed(1, 1 / 0.0493) is None or test.more_needed(1, 20) > 100


def test_sequential_state_stops_each_rule_where_walds_test_does():
    conf = Confidence()
    state = SequentialState(conf, {rid: None for rid in RULE_IDS})
    rng = random.Random(5)
    stream = []
    while not state.done():
        broken = {rid: rng.random() < (0.5 if rid == "stock.no-oversell" else 0.0)
                  for rid in RULE_IDS}
        stream.append(broken)
        state.add(broken)
    for rid in RULE_IDS:
        n, decision = state.stopped[rid]
        k = sum(b[rid] for b in stream[:n])
        assert conf.sprt(rid).decide(k, n) == decision
        assert all(conf.sprt(rid).decide(sum(b[rid] for b in stream[:m]), m) is None
                   for m in range(1, n))  # not decided any earlier
    assert state.stopped["stock.no-oversell"][1] == "fail"
    assert state.stopped["replay.available"] == (56, "pass")


def test_a_rule_the_model_decides_does_not_hold_up_the_run():
    certain = {rid: None for rid in RULE_IDS} | {"replay.retained": False}
    state = SequentialState(Confidence(), certain)
    for _ in range(56):
        state.add({rid: False for rid in RULE_IDS})
    assert state.done()
    # but a replication that contradicts the model puts the rule back under the test
    state = SequentialState(Confidence(), {rid: False for rid in RULE_IDS})
    state.add({rid: rid == "replay.retained" for rid in RULE_IDS})
    assert not state.done() and "replay.retained" in state.contradicted


def test_per_rule_risk_and_command_line_risk():
    conf = Confidence(risk=0.05, per_rule={"replay.available": 0.01})
    assert conf.risk_of("replay.available") == 0.01 and conf.risk_of("stock.no-oversell") == 0.05
    assert conf.sprt("replay.available").p0 == pytest.approx(0.005)
    assert conf.sprt("replay.available").p1 == pytest.approx(0.015)


def test_intervals_of_non_negative_figures_stay_non_negative():
    mean, ci = summarise_metric([0.0, 0.0, 0.0, 30.0])
    assert mean == 7.5 and ci is not None and ci[0] == 0.0 and ci[1] > 30
    mean, ci = summarise_metric([-5.0, 5.0, 1.0])  # a figure that can be negative keeps it
    assert ci is not None and ci[0] < 0
