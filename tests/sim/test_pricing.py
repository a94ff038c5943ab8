"""pricing.claims-hold in the model: a discount's reference against the lowest price of the
window before it, a 'lowest price' claim against every channel within the protection
period, and the buyers owed the difference."""

from __future__ import annotations

import numpy as np
import pytest

from simlive.errors import InputFileError
from simlive.judge.rulebook import judged
from simlive.rules import rule_params
from simlive.scenario import parse_scenario
from simlive.scenario.scope import unmodelled
from simlive.sim.contacts import DAY
from simlive.sim.engine import _front, run_replication
from simlive.sim.streams import Streams
from simlive.sim.tickets import PRICE_PROTECTION

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
    assert "does not see" not in f.evidence


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


PROFILED = SHOP.replace("  agents: [{{from: 0h, to: 31d, agents: 3}}]\n",
                        "  agents: [{{from: 0h, to: 31d, agents: 3}}]\n"
                        "  daily_profile: {{hourly: [1, 1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 6, 6, "
                        "6, 6, 5, 5, 5, 6, 7, 7, 5, 3]}}\n")
# claimed after the flash sale (30m to 40m): only the coupons undercut the orders
COUPON = """pricing:
  skus:
    - sku: A
      timeline: [{at: 3d, price: 257, channel: coupons, until: 5d}]
      claims: [{kind: lowest-price, at: 40m}]
  protection: {ask: 50%, honoured: 60%}
"""


def _tickets(text: str, seed: int = 0):
    s = parse_scenario(text)
    return s, _front(s, False, None, Streams(s.seed, seed),
                     rule_params(s.rule_overrides())).tickets


@pytest.mark.parametrize("shop", [SHOP, PROFILED])
def test_price_protection_tickets_join_and_leave_the_other_tickets_as_they_were(shop) -> None:
    _, plain = _tickets(shop.format(pricing=""))
    _, priced = _tickets(shop.format(pricing=COUPON))
    assert plain.declined is None and not (plain.kind == PRICE_PROTECTION).any()
    asks = priced.kind == PRICE_PROTECTION
    assert asks.sum() > 50 and priced.declined is not None
    assert not priced.declined[~asks].any()
    for a in ("arrival", "kind", "sku", "after_delivery"):
        assert np.array_equal(getattr(priced, a)[~asks], getattr(plain, a)), a
    assert np.all(np.diff(priced.arrival) >= 0) and np.all(priced.sku[asks] == 0)
    # asked once the coupon price appears (3d), within 15d of a payment in the first hour
    assert priced.arrival[asks].min() >= 3 * DAY
    assert priced.arrival[asks].max() <= 15 * DAY + 3600
    # 1 - honoured of them refused, drawn per request
    assert 0.25 < priced.declined[asks].mean() < 0.55


def test_the_desk_answers_the_requests_and_refuses_the_unhonoured_share() -> None:
    s, r = _run(COUPON)
    _, plain = _run("")
    m = r.measures.pricing
    tickets = r.kpis["aftersales.tickets"]
    assert m.requests > 50 and tickets == plain.kpis["aftersales.tickets"] + m.requests
    assert r.kpis["pricing.requests"] == m.requests
    assert 0.25 * m.requests < m.refused < 0.55 * m.requests
    assert r.measures.desk.tickets == tickets and r.measures.desk.open == 0
    assert s.aftersales.handling["price-protection"].mean_value == 180.0
    f = judged("pricing.claims-hold", [m], rule_params(s.rule_overrides())[
        "pricing.claims-hold"])
    assert f"; {m.requests:,} asked for the difference, {m.refused:,} refused (limit" \
        in f.evidence


def test_requests_past_the_protection_period_are_not_made() -> None:
    # the coupon price appears on day 14: a day's delay takes most buyers past day 15
    late = COUPON.replace("at: 3d, price: 257, channel: coupons, until: 5d",
                          "at: 14d, price: 257, channel: coupons, until: 20d")
    _, r = _run(late)
    _, early = _run(COUPON)
    m = r.measures.pricing
    assert m.orders_undercut == early.measures.pricing.orders_undercut
    assert 0 < m.requests < 0.8 * early.measures.pricing.requests
