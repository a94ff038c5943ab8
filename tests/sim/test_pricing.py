"""pricing.claims-hold in the model: a discount's reference against the lowest price of the
window before it, a 'lowest price' claim against every channel within the protection
period, and the buyers owed the difference."""

from __future__ import annotations

import pytest

from simlive.errors import InputFileError
from simlive.judge.rulebook import judged
from simlive.rules import rule_params
from simlive.scenario import parse_scenario
from simlive.scenario.scope import unmodelled
from simlive.sim.engine import run_replication

SHOP = """\
name: pricing
seed: 3
duration: 1h
audience:
  arrivals: [{{at: 0m, rate: 60/min}}]
products:
  skus: [{{sku: A, price: 429, stock: 50000, limit: 1}}, {{sku: B, price: 20, stock: 10}}]
  schedule: [{{sku: A, from: 0m, to: 1h, propensity: 0.02/min}}]
  flash_sales: [{{sku: A, at: 30m, duration: 10m, price: 399}}]
aftersales:
  agents: [{{from: 0h, to: 31d, agents: 3}}]
{pricing}"""


def _run(pricing: str, seed: int = 0):
    s = parse_scenario(SHOP.format(pricing=pricing))
    return s, run_replication(s, seed)


def test_a_reference_at_the_weeks_lowest_holds_and_one_above_breaks_by_the_gap() -> None:
    block = """pricing:
  skus:
    - sku: A
      list_price: 599
      timeline: [{{at: -20d, price: 499}}, {{at: -5d, price: 459, until: -4d}}]
      claims: [{{kind: discount, reference_price: {ref}}}]
"""
    _, ok = _run(block.format(ref=459))
    assert ok.measures.pricing.broken == 0 and ok.measures.pricing.claims == 1
    _, bad = _run(block.format(ref=599))
    assert bad.measures.pricing.broken == 1
    assert bad.measures.pricing.examples == (
        "A: discount from 599, 140 above the lowest price of the 7d before (459)",)
    assert bad.kpis["pricing.claims_broken"] == 1.0


def test_with_no_sale_in_the_window_the_last_price_before_is_the_reference() -> None:
    block = """pricing:
  skus:
    - sku: A
      timeline: [{at: -30d, price: 499, until: -10d}]
      claims: [{kind: discount, reference_price: 499, at: -1d},
               {kind: discount, reference_price: 100, at: -40d}]
"""
    _, r = _run(block)
    m = r.measures.pricing
    assert (m.claims, m.broken) == (2, 1)
    assert m.examples == ("A: discount from 100 with no earlier sale behind it",)


def test_a_later_coupon_price_undercuts_every_order_and_owes_the_difference() -> None:
    block = """pricing:
  skus:
    - sku: A
      timeline: [{at: 3d, price: 257, channel: coupons}]
      claims: [{kind: lowest-price}]
  protection: {ask: 100%, honoured: 100%}
"""
    s, r = _run(block)
    m = r.measures.pricing
    paid = int(r.kpis["orders.paid"] or 0)
    assert paid > 100 and m.orders_undercut == paid
    # limit 1: one unit an order; the flash sale's buyers paid 399, the rest 429
    assert 142 * paid <= m.owed <= 172 * paid
    assert (m.broken, m.requests, m.refused) == (1, paid, 0)
    f = judged("pricing.claims-hold", [m], rule_params(s.rule_overrides())[
        "pricing.claims-hold"])
    assert f.broken == [True]
    assert f.evidence.startswith(f"1 of 1 price claim broken; {paid:,} paid orders undercut "
                                 "within 15d")
    assert "the after-sales desk does not see these requests" in f.evidence


def test_a_cut_after_the_protection_period_breaks_nothing_and_refusals_count() -> None:
    # claimed after the flash sale (which undercuts a claim made before it, at 399)
    block = """pricing:
  skus:
    - sku: A
      timeline: [{{at: {at}, price: 257, channel: coupons}}]
      claims: [{{kind: lowest-price, at: 40m}}]
  protection: {{ask: 50%, honoured: 0%}}
"""
    _, late = _run(block.format(at="16d"))
    assert (late.measures.pricing.broken, late.measures.pricing.orders_undercut) == (0, 0)
    _, early = _run(block.format(at="2d"))
    m = early.measures.pricing
    assert m.refused == m.requests > 0 and m.failures == 1 + m.refused


def test_same_seed_same_record_and_no_claims_is_not_judged() -> None:
    block = """pricing:
  skus:
    - sku: A
      timeline: [{at: 3d, price: 257, channel: coupons}]
      claims: [{kind: lowest-price}]
  protection: {ask: 30%, honoured: 50%}
"""
    _, a = _run(block, 4)
    _, b = _run(block, 4)
    assert a.measures.pricing == b.measures.pricing
    s, r = _run("pricing:\n  skus: [{sku: A, timeline: [{at: -1d, price: 400}]}]\n")
    assert "pricing.claims-hold" in unmodelled(s)
    assert "add the host's price claims" in unmodelled(s)["pricing.claims-hold"]
    assert "pricing.claims-hold" in unmodelled(parse_scenario(SHOP.format(pricing="")))


@pytest.mark.parametrize(("block", "message"), [
    ("pricing:\n  skus: [{sku: Z, claims: [{kind: lowest-price}]}]\n",
     "expected a SKU listed under products; found 'Z'"),
    ("pricing:\n  skus: [{sku: A, timeline: [{at: 2d, until: -1d, price: 9}]}]\n",
     "expected until after at (2d)"),
    ("pricing:\n  skus: [{sku: A, timeline: [{at: -400d, price: 9}]}]\n",
     "expected a time within 1y of the broadcast's start"),
    ("pricing:\n  skus: [{sku: A, claims: [{kind: discount}]}]\n",
     "expected a discount claim's reference_price, or the SKU's list_price"),
])
def test_bad_pricing_values_say_where_and_what(block: str, message: str) -> None:
    with pytest.raises(InputFileError) as err:
        parse_scenario(SHOP.format(pricing=block))
    assert message in str(err.value)
