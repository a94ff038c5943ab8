"""display.complete in the model: time on air per linked product from the schedule, pages
lacking a field, goods not as described after a short presentation, and the verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simlive.errors import InputFileError
from simlive.scenario import parse_scenario
from simlive.scenario.on_air import presented_seconds
from simlive.sim.engine import run_replication
from simlive.sim.presented import misdescribed, shortfall
from simlive.sim.replications import simulate

SHOP = """\
name: presented
seed: 5
duration: 1h
audience:
  arrivals: [{{at: 0m, rate: 60/min}}]
products:
  skus:
    - {{sku: A, price: 10, stock: 5000, limit: 1}}
    - {{sku: B, price: 20, stock: 5000, limit: 1, return_exempt: fresh-perishable}}
    - {{sku: C, price: 30, stock: 5000, limit: 1}}
  schedule:
    - {{sku: A, from: 0m, to: 30m, propensity: 0.05/min}}
    - {{sku: B, from: 30m, to: {b_end}, propensity: 0.05/min}}
    - {{sku: B, from: 30.1m, to: 30.2m, propensity: 0.05/min}}
aftersales:
  agents: [{{from: 0h, to: 31d, agents: 3}}]
{more}"""


def _scenario(b_end: str = "40m", more: str = "presentation: {}"):
    return parse_scenario(SHOP.format(b_end=b_end, more=more))


def test_seconds_on_air_join_overlapping_slots_and_count_unpresented_as_zero() -> None:
    ids = ["A", "B", "C"]
    slots = [("B", 10.0, 20.0), ("A", 0.0, 5.0), ("B", 15.0, 30.0), ("B", 30.0, 31.0),
             ("A", 50.0, 70.0)]
    assert presented_seconds(ids, slots, 60.0).tolist() == [15.0, 21.0, 0.0]


def test_a_linked_product_never_presented_fails_the_rule() -> None:
    m = run_replication(_scenario(), 0).measures.presentation
    assert (m.linked, m.short, m.shortest_sku, m.shortest_s, m.incomplete) == (
        3, 1, "C", 0.0, 1)


def test_every_product_presented_long_enough_passes_by_the_model() -> None:
    s = parse_scenario(SHOP.format(b_end="40m", more="presentation: {}").replace(
        "    - {sku: B, from: 30.1m", "    - {sku: C, from: 40m, to: 41m, propensity: 0/s}\n"
        "    - {sku: B, from: 30.1m"))
    v = next(v for v in simulate(s, 2).verdicts if v.rule_id == "display.complete")
    assert (v.status.value, v.odds.decided_by if v.odds else None) == ("pass", "model")
    assert v.evidence == ("each of 3 linked products' pages shows its price, its seller "
                          "and whether it can be returned without reason; each presented "
                          "at least 30s (least: C, 1m)")


def test_pages_lacking_a_field_are_named() -> None:
    s = _scenario(more="presentation: {missing_fields: {A: [returnability, seller]}}")
    m = run_replication(s, 0).measures.presentation
    assert (m.lacking, m.lacking_pages, m.incomplete) == (
        1, ("A without seller or returnability",), 2)
    v = next(v for v in simulate(s, 2).verdicts if v.rule_id == "display.complete")
    assert v.status.value == "fail"
    assert v.evidence == ("2 of 3 linked products incomplete in 2 of 2 replications: 1 "
                          "presented under 30s (least: C, 0s); 1 shown on a page lacking "
                          "a field (A without seller or returnability); at most 0 allowed")


def test_short_presentation_makes_more_goods_not_as_described() -> None:
    pres = _scenario(more="presentation: {misdescribed: {base: 2%, short_factor: 10}}"
                     ).presentation
    lack = shortfall(np.array([60.0, 30.0, 15.0, 0.0]), 30.0)
    assert lack.tolist() == [0.0, 0.0, 0.5, 1.0]
    paid = np.full(4, 100_000)
    bad = misdescribed(pres, lack, paid, np.random.default_rng(1)) / paid
    # 2%, 2%, 2% x 5.5 = 11%, 2% x 10 = 20%
    assert np.allclose(bad, [0.02, 0.02, 0.11, 0.20], atol=0.005)


def test_same_seed_same_bytes_and_kpis() -> None:
    s = _scenario(more="presentation: {misdescribed: {base: 5%}}")
    a, b = run_replication(s, 1), run_replication(s, 1)
    assert json.dumps(a.kpis, sort_keys=True) == json.dumps(b.kpis, sort_keys=True)
    assert a.measures.presentation == b.measures.presentation
    assert a.kpis["presentation.short"] == 1.0 and a.kpis["presentation.linked"] == 3.0


def test_without_the_block_the_rule_is_not_judged_and_no_kpi_shows() -> None:
    s = parse_scenario(SHOP.format(b_end="40m", more=""))
    res = simulate(s, 1)
    v = next(v for v in res.verdicts if v.rule_id == "display.complete")
    assert v.status.value == "not judged" and "presentation" in v.evidence
    assert not any(k.startswith("presentation.") for k in res.kpis)


@pytest.mark.parametrize(("more", "words"), [
    ("presentation: {missing_fields: {Z: [seller]}}", "a SKU listed under products"),
    ("presentation: {missing_fields: {A: [colour]}}", "price"),
    ("presentation: {misdescribed: {short_factor: 0.5}}", "at least 1"),
    ("presentation: {misdescribed: {base: 2}}", "1"),
])
def test_bad_presentation_blocks_are_refused(more: str, words: str) -> None:
    with pytest.raises(InputFileError) as err:
        _scenario(more=more)
    assert "presentation" in str(err.value) and words in str(err.value)


def test_presented_seconds_is_vectorised_for_a_large_catalogue() -> None:
    ids = [f"G{i}" for i in range(20000)]
    slots = [(k, i * 2.0, i * 2.0 + 2.0) for i, k in enumerate(ids)]
    assert np.all(presented_seconds(ids, slots, 1e9) == 2.0)
