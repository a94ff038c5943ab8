"""A presale: deposits in the broadcast, balances in a window days later, forfeits back to
stock once; the ledger holds throughout, receipts for both payments, goods after the
balance."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlive.errors import InputFileError
from simlive.scenario.loader import parse_scenario
from simlive.sim.engine import run_replication


def _scenario(stock: int, propensity: float, deposit: float, balance_p: float,
              window: tuple[float, float], delay_h: float, units: dict[int, float],
              receipt_failure: float = 0.0, seed: int = 1) -> str:
    return yaml.safe_dump({
        "name": "presale", "seed": seed, "duration": "1h",
        "audience": {"arrivals": [{"at": "0h", "rate": "10/s"}]},
        "products": {"skus": [{"sku": "P", "price": 100, "stock": stock, "limit": 3}],
                     "schedule": [{"sku": "P", "from": "0m", "to": "1h",
                                   "propensity": f"{propensity}/min"}]},
        "orders": {"pay_probability": 0.8, "payment_timeout": "10m", "units": units,
                   "receipt_failure": receipt_failure,
                   "presale": {"deposit": deposit, "balance_from": window[0],
                               "balance_to": window[1], "balance_probability": balance_p,
                               "balance_delay": {"dist": "exponential",
                                                 "mean": f"{delay_h}h"}}},
        "aftersales": {"agents": [{"from": "0h", "to": "30d", "agents": 20}]},
    })


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stock=st.integers(0, 3000), propensity=st.floats(0.001, 0.2),
       deposit=st.floats(0.01, 1.0), balance_p=st.floats(0.0, 1.0),
       opens=st.floats(3600, 5 * 86400), length=st.floats(60, 5 * 86400),
       delay_h=st.floats(0.1, 100), two=st.floats(0, 1), seed=st.integers(0, 2**31))
def test_the_ledger_holds_through_deposits_balances_and_forfeits(
        stock: int, propensity: float, deposit: float, balance_p: float, opens: float,
        length: float, delay_h: float, two: float, seed: int) -> None:
    s = parse_scenario(_scenario(stock, propensity, deposit, balance_p,
                                 (opens, opens + length), delay_h, {1: 1 - two, 2: two},
                                 seed=seed), "p.yaml")
    rep = run_replication(s, 0)
    k, m = rep.kpis, rep.measures
    assert m.stock.oversold_units == 0 and m.stock.ledger_max_error == 0
    assert m.stock.min_remaining >= 0
    assert k["orders.deposits"] == k["orders.paid"] + k["orders.forfeited"]
    assert k["orders.placed"] == k["orders.deposits"] + k["orders.expired"] + k[
        "orders.sold_out_rejections"]
    assert k["units.sold"] <= stock
    assert m.receipts.paid_orders == k["orders.paid"] + k["orders.deposits"]


def test_balances_follow_the_window_and_forfeits_come_back_once() -> None:
    s = parse_scenario(_scenario(10**6, 0.05, 0.2, 0.8, (3 * 86400, 5 * 86400), 24,
                                 {1: 1.0}), "p.yaml")
    import numpy as np

    from simlive.scenario.catalogue import build_catalogue
    from simlive.sim.orders import SkuModel
    from simlive.sim.streams import Streams

    rep = run_replication(s, 0)
    k = rep.kpis
    # 0.8 pay, and of those within 2 days of an exponential day: 0.8 * (1 - e^-2)
    assert k["orders.paid"] / k["orders.deposits"] == pytest.approx(
        0.8 * (1 - np.exp(-2)), abs=0.03)
    assert k["orders.balance_fraction"] == k["orders.paid"] / k["orders.deposits"]
    assert k["gmv"] > 0
    cat = build_catalogue(s)
    model = SkuModel(cat.skus[0], list(cat.schedule), [], [], s.orders, s.duration, 1.0,
                     2.0)
    concurrent = np.full(3600, 10.0 * 600)
    out = model.run(concurrent, Streams(1, 0).get("sku", 0))
    assert out.pay_bins.min() >= 3 * 86400 and out.pay_bins.max() <= 5 * 86400
    # all settled once the window closes: nothing reserved, every unit sold or back
    assert out.final_reserved == 0 and out.ledger_max_error == 0
    assert out.final_remaining == out.supply - out.paid_units


@pytest.mark.parametrize(("change", "message"), [
    ({"reserve_on": "payment"}, "orders.reserve_on"),
    ({"presale": {"balance_from": "30m", "balance_to": "3d"}}, "orders.presale.balance_from"),
    ({"presale": {"balance_from": "3d", "balance_to": "2d"}}, "balance_to"),
])
def test_bad_presales_are_named(change: dict, message: str) -> None:
    data = yaml.safe_load(_scenario(100, 0.01, 0.1, 0.9, (3 * 86400, 5 * 86400), 1,
                                    {1: 1.0}))
    data["orders"].update(change)
    with pytest.raises(InputFileError) as caught:
        parse_scenario(yaml.safe_dump(data), "p.yaml")
    assert message in str(caught.value)


def test_records_counted_from_creation_fall_short_by_deposit_to_delivery() -> None:
    """``replay.records_clock: creation``: a presale's records are short by the longest an
    order took from its deposit to its completion, the balance days later plus the
    delivery (mean 2 days), here 7 to 8 days. Counted from completion (the default), the
    same draws keep them three years: nothing else changes."""
    text = _scenario(500, 0.05, 0.2, 0.9, (5 * 86400, 6 * 86400), 10, {1: 1.0})
    base = parse_scenario(text, "p.yaml")
    doc = yaml.safe_load(text)
    doc["replay"] = {"records_clock": "creation"}
    early = parse_scenario(yaml.safe_dump(doc), "p.yaml")
    kept, short = run_replication(base, 0), run_replication(early, 0)
    year3 = 3 * 365 * 86400.0
    assert kept.measures.replay.records_retention == year3
    gap = short.measures.replay.records_early
    assert 7 * 86400 - 3600 <= gap <= 8 * 86400
    assert short.measures.replay.records_retention == year3 - gap
    assert kept.kpis == short.kpis and kept.measures.stock == short.measures.stock
    assert kept.measures.desk == short.measures.desk
