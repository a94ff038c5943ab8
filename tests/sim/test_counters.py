"""display.counters-true in the model: the shown figures by hand, then whole broadcasts."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from simlive.errors import InputFileError
from simlive.judge.certainty import certainties
from simlive.judge.rulebook import broken_by_rule
from simlive.rules import rule_params
from simlive.scenario.counters import Counter, Counters
from simlive.scenario.loader import parse_scenario
from simlive.scenario.scope import unmodelled
from simlive.sim.engine import run_replication
from simlive.sim.shown_counters import counter_measures, shown


def test_a_counter_shows_its_formula_over_the_truth_at_its_last_update():
    truth = np.array([0, 10, 20, 30, 40, 50])
    assert shown(Counter(), truth, 0.0, 1.0).tolist() == [0, 10, 20, 30, 40, 50]
    assert shown(Counter(factor=3, offset=100), truth, 1.0, 1.0).tolist() == [
        100, 130, 160, 190, 220, 250]
    # updated every 2 s from the truth at that moment
    assert shown(Counter(), truth, 2.0, 1.0).tolist() == [0, 0, 20, 20, 40, 40]


def test_viewers_shown_stale_while_they_leave_are_over_beyond_the_lag():
    """Viewers 100, 80, 60, 40, 20, 0 shown every 3 s: steps 0-2 show 100, steps 3-5 show
    40. With a 1 s lag a figure may be as high as the truth a second before: step 1 (100
    against the 100 of step 0) passes, step 2 (100 against at most 80) does not; step 4
    (40 against 40) passes, step 5 (40 against at most 20) does not."""
    viewers = np.array([100.0, 80, 60, 40, 20, 0])
    sold = np.arange(6)
    c = Counters(refresh=3.0)
    record, kpis = counter_measures(c, sold, viewers, 1.0, 1.0, 0.0)
    assert record.readings == 12
    assert record.overstated == 2  # step 2 (100 > 80) and step 5 (40 > 20)
    assert record.worst_counter == "viewers" and record.worst_at == 5.0
    assert record.worst_fraction == 1.0 and (record.worst_shown, record.worst_truth) == (40, 20)
    assert record.overstated_s == 2.0
    assert kpis["counters.viewers_shown_peak"] == 100.0
    # a tolerance of 100 % lets both through; the sold count only grows: never over
    assert counter_measures(c, sold, viewers, 1.0, 1.0, 1.0)[0].overstated == 0


def test_a_base_shown_while_nothing_is_sold_is_over_without_measure():
    record, _ = counter_measures(Counters(sold=Counter(offset=50)), np.zeros(4, np.int64),
                                 np.full(4, 10.0), 1.0, 5.0, 0.5)
    assert record.overstated == 4 and record.worst_counter == "sold"
    assert record.worst_fraction == np.inf and record.worst_at == 0.0


def _scenario(counters: dict | None) -> str:
    data = {
        "name": "counters", "seed": 5, "duration": "10m",
        "audience": {"arrivals": [{"at": "0m", "rate": "30/s"}, {"at": "5m", "rate": "30/s"},
                                  {"at": "10m", "rate": "0/s"}],
                     "dwell": {"dist": "exponential", "mean": "1m"}},
        "products": {"skus": [{"sku": "A", "price": 10, "stock": 10**6}],
                     "schedule": [{"sku": "A", "from": "0m", "to": "10m",
                                   "propensity": "0.05/min"}]},
        "aftersales": {"consultations": {"rate": 0}, "returns": {"fraction": 0},
                       "agents": [{"from": "0h", "to": "2d", "agents": 5}], "horizon": "1d"},
    }
    if counters is not None:
        data["counters"] = counters
    return yaml.safe_dump(data)


def _run(counters: dict | None):
    s = parse_scenario(_scenario(counters), "c.yaml")
    m = run_replication(s, 0)
    return s, m, broken_by_rule(m.measures, rule_params(s.rule_overrides()))


def test_without_a_counters_block_the_rule_is_not_judged():
    s, m, broken = _run(None)
    assert "display.counters-true" in unmodelled(s)
    assert m.measures.counters is None and "display.counters-true" not in broken
    assert not any(k.startswith("counters.") for k in m.kpis)


def test_honest_counters_pass_and_the_model_says_so_outright():
    s, m, broken = _run({"refresh": "1s"})
    assert "display.counters-true" not in unmodelled(s)
    assert certainties(s, rule_params())["display.counters-true"] is False
    assert broken["display.counters-true"] is False
    rec = m.measures.counters
    assert rec.readings == 2 * 600 and rec.overstated == 0
    assert m.kpis["counters.sold_shown_end"] == m.kpis["orders.placed"]  # none refused


@pytest.mark.parametrize(("counters", "which"), [
    ({"sold": {"factor": 3}}, "sold"),
    ({"viewers": {"factor": 1, "offset": 500}}, "viewers"),
    ({"refresh": "2m"}, "viewers"),  # stale while the audience leaves (after 5m)
])
def test_inflated_or_stale_counters_break_the_rule(counters, which):
    s, m, broken = _run(counters)
    assert broken["display.counters-true"] is True
    assert m.measures.counters.worst_counter == which
    assert certainties(s, rule_params()).get("display.counters-true") is None


def test_the_same_seed_shows_the_same_figures():
    a, b = _run({"sold": {"factor": 2}})[1], _run({"sold": {"factor": 2}})[1]
    assert a.measures.counters == b.measures.counters
    assert {k: v for k, v in a.kpis.items() if k.startswith("counters.")} == {
        k: v for k, v in b.kpis.items() if k.startswith("counters.")}


def test_a_factor_beyond_reason_is_refused_with_its_line():
    text = _scenario({"viewers": {"factor": 5000}, "refresh": "2d"})
    with pytest.raises(InputFileError) as info:
        parse_scenario(text, "c.yaml")
    got = {p.path: (p.expected, p.found) for p in info.value.problems}
    assert got["counters.viewers.factor"] == ("at most 1,000 (a multiplier of the true figure)",
                                              "5,000")
    assert got["counters.refresh"][1] == "2d"
