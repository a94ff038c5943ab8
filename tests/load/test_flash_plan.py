"""The flash sale's plan and report, without Locust: buyers and units, shares, the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from simlive.load.flash import (
    FlashSaleReport,
    max_overlap,
    plan_flash_sales,
    shares,
    summarize,
    with_contention,
)
from simlive.rules import Status, Verdict
from simlive.scenario import load_scenario
from simlive.shops.provision import scaled_products

FLASH = Path(__file__).parents[2] / "scenarios" / "flash-sale.yaml"


def plans(users: int | None = None, buyers: int | None = None, max_stock: int = 40):
    sc = load_scenario(FLASH)
    changes = {"max_stock": max_stock}
    if users is not None:
        changes["peak_users"] = users
    if buyers is not None:
        changes["flash_sale_buyers"] = buyers
    sc = sc.model_copy(update={"load": sc.load.model_copy(update=changes)})
    products = scaled_products(sc, sc.load.max_stock, "r1")
    return products, plan_flash_sales(sc, products)


def test_the_sale_brings_its_units_and_the_sku_keeps_its_stock_before_it() -> None:
    products, (sale,) = plans(users=300)
    hot = products["HOT-1.r1"]
    # 500 before the sale and 2,000 in it, both capped at 40 like every stock
    assert hot["stock"] == 40 and hot["flash_units"] == {"0": 40}
    assert sale.units == 40 and sale.stock == 40 and sale.sku == "HOT-1.r1"
    # opens at 10 m of a 30 m broadcast compressed into 60 s
    assert sale.opens == pytest.approx(20.0)
    assert sale.buyers == 300 and "users at the opening" in sale.why


def test_few_users_still_fight_over_the_last_unit() -> None:
    _, (sale,) = plans(users=16)
    # the sale's 40 and the SKU's own 40 may all be on sale at the opening
    assert sale.buyers == 160 and "twice the 80 unit(s) that may be on sale" in sale.why


def test_buyers_from_the_scenario_win() -> None:
    _, (sale,) = plans(users=300, buyers=1234)
    assert sale.buyers == 1234 and sale.why == "load.flash_sale_buyers"


def test_shares_split_every_buyer_once() -> None:
    got = shares(1001, ["b", "a", "c"])
    assert got == {"b": (0, 334), "a": (334, 334), "c": (668, 333)}
    assert sum(n for _, n in got.values()) == 1001


def test_max_overlap_closes_before_it_opens_at_the_same_instant() -> None:
    assert max_overlap([(0, 1), (1, 2), (2, 3)]) == 1
    assert max_overlap([(0, 5), (1, 2), (1.5, 3), (4, 6)]) == 3
    assert max_overlap([]) == 0


def plan_record(**kw) -> dict:
    return {"index": 0, "sku": "HOT-1.r1", "units": 40, "buyers": 300, "why": "users",
            "release_at": 100.0, "units_added": "40 unit(s) by restock", **kw}


def test_the_report_measures_spread_and_overlap_from_every_process() -> None:
    a = {"rows": [[100.001, 100.3, "ok"], [100.002, 100.4, "ok"],
                  [100.050, 100.2, "refused as expected (sold out, limit)"]],
         "not_prepared": 1, "before_commit": {"fail": 1}, "late": 0, "errors": ["x"]}
    b = {"rows": [[100.003, None, "unknown (no answer, 5xx)"]], "not_prepared": 0,
         "late": 0, "errors": []}
    rep = summarize(plan_record(units=2), [a, b], spread_limit=0.1)
    assert rep.released == 4 and rep.not_prepared == 1 and rep.processes == 2
    assert rep.max_in_flight == 4  # an unanswered request stays in flight
    assert rep.spread_ms["max"] == pytest.approx(50.0)
    assert rep.outcomes["ok"] == 2 and rep.outcomes["fail before the commit"] == 1
    assert rep.contended
    # one buyer of the 300 planned never made it: said
    assert any("4 of 300 planned buyers released" in w for w in rep.warnings)


def test_a_slow_release_and_an_uncontended_sale_are_warned() -> None:
    rows = [[100.0 + i * 0.01, 100.0 + i * 0.01 + 0.001, "ok"] for i in range(50)]
    rep = summarize(plan_record(units=40, buyers=50), [{"rows": rows}], spread_limit=0.1)
    text = " ".join(rep.warnings)
    assert "over 485 ms (p99; limit 100 ms)" in text
    assert "at most 1 checkout(s) in flight at once for up to 40 unit(s)" in text
    assert not rep.contended


def no_oversell(status: Status) -> Verdict:
    return Verdict("stock.no-oversell", status, {}, {}, "2 SKU(s): within stock")


def test_a_pass_without_contention_is_not_earned() -> None:
    calm = FlashSaleReport(0, "HOT-1.r1", 40, 50, "why", released=50, max_in_flight=3)
    (v,) = with_contention([no_oversell(Status.PASS)], [calm])
    assert v.status is Status.UNKNOWN and v.evidence.startswith("not earned")
    busy = FlashSaleReport(0, "HOT-1.r1", 40, 300, "why", 40, released=300, max_in_flight=290,
                           spread_ms={"p50": 2, "p99": 6, "max": 9},
                           outcomes={"ok": 70, "refused as expected (sold out, limit)": 230})
    (v,) = with_contention([no_oversell(Status.PASS)], [busy])
    assert v.status is Status.PASS
    assert v.evidence.endswith("300 buyer(s) released together on 40 unit(s) (+ up to 40 "
                               "of its own), commit requests sent within 6 ms (p99) of the "
                               "release, 290 in flight at once, 70 sold and 230 refused as "
                               "sold out")
    # 60 in flight for up to 80 units (40 + 40 of its own): no sure fight, not earned
    mild = FlashSaleReport(0, "HOT-1.r1", 40, 300, "why", 40, released=300, max_in_flight=60)
    (v,) = with_contention([no_oversell(Status.PASS)], [mild])
    assert v.status is Status.UNKNOWN
    (v,) = with_contention([no_oversell(Status.FAIL)], [calm])
    assert v.status is Status.FAIL  # a failure found is a failure whatever the load


def test_a_pass_where_the_shop_never_reached_its_last_unit_is_not_earned() -> None:
    # 150 checkouts in flight on 80 units, but the shop answered 9 and sold no last unit
    # (Medusa under its own lock time-outs): the overlap happened, the fight did not
    drowned = FlashSaleReport(0, "HOT-1.r1", 40, 150, "why", 40, released=150,
                              max_in_flight=150, outcomes={"ok": 9, "unknown (no answer, "
                                                           "5xx)": 141})
    assert not drowned.reached_last_unit and not drowned.contended
    (v,) = with_contention([no_oversell(Status.PASS)], [drowned])
    assert v.status is Status.UNKNOWN and "9 sold and 0 refused as sold out" in v.evidence
    assert any("never reached its last unit" in w for w in drowned.warnings)
    # every unit sold without a refusal: the last unit was reached
    sold = FlashSaleReport(0, "HOT-1.r1", 40, 150, "why", 40, released=150,
                           max_in_flight=150, outcomes={"ok": 80, "unknown (no answer, "
                                                        "5xx)": 70})
    assert sold.contended


def test_buyers_late_together_are_told_apart_from_a_spread_release() -> None:
    rows = [[108.0 + i * 0.0001, 108.5, "ok"] for i in range(50)]
    rep = summarize(plan_record(units=10, buyers=50), [{"rows": rows, "fired_at": 108.0}],
                    spread_limit=0.1)
    text = " ".join(rep.warnings)
    assert rep.spread_ms["p99"] == pytest.approx(8004.9, abs=1)
    assert rep.together_ms < 10
    assert "went together" in text and "late, not gentler" in text
    assert "gentler sale than planned" not in text
