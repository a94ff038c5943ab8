"""Rules decided from the history alone (a shop whose real stock cannot be read)."""

from __future__ import annotations

from simlive.check.checker import check
from simlive.check.state import FinalState
from simlive.rules import Status
from testing.synthetic import Builder


def run(shown: list[int], pay: bool = True) -> dict[str, object]:
    """Declare 5 units, buy 4 one after another (each read back before the next), then
    read the displayed stock once per figure in ``shown`` long after the last purchase."""
    b = Builder()
    b.op("setup", "create_product", {"sku": "HOT", "stock": 5}, "ok", {"product_id": "HOT"})
    for i in range(4):
        b.op("u", "read_stock", {"sku": "HOT"}, "ok", {"HOT": 5 - i})
        b.op("u", "order", {"sku": "HOT", "quantity": 1, "key": f"k{i}", "buyer": i}, "ok",
             {"order_id": i + 1})
        if pay:
            b.op("u", "pay", {"order_id": i + 1, "sku": "HOT", "quantity": 1}, "ok",
                 {"order_id": i + 1, "state": "paid"})
    b.op("u", "order", {"sku": "HOT", "quantity": 1, "key": "kx", "buyer": 9}, "info",
         {"error": "timeout"})  # may or may not have taken the fifth unit
    b.t += 10.0
    for figure in shown:
        b.op("v", "read_stock", {"sku": "HOT"}, "ok", {"HOT": figure})
    verdicts = check(b.events, FinalState.from_history_only(), None,
                     unsupported=["true_stock", "pay"] if not pay else ["true_stock"])
    return {v.rule_id: v for v in verdicts}


def test_figures_the_history_allows_pass() -> None:
    v = run([1, 0])["stock.display-matches"]  # 1 left, or 0 if the timed-out order took it
    assert v.status is Status.PASS, v
    assert v.measured == {"readings_checked": 6, "mismatches": 0}


def test_phantom_stock_and_false_scarcity_fail() -> None:
    v = run([3])["stock.display-matches"]  # 4 bought long ago: at most 1 can be left
    assert v.status is Status.FAIL, v
    assert v.evidence.endswith("worst HOT off by 2 unit(s), phantom stock")
    v = run([1, 0, 0])["stock.display-matches"]
    assert v.status is Status.PASS
    b = run([2], pay=False)["stock.display-matches"]  # the order is the purchase
    assert b.status is Status.FAIL and "phantom stock" in b.evidence


def test_history_only_no_oversell_counts_acknowledged_purchases() -> None:
    v = run([1])["stock.no-oversell"]
    assert v.status is Status.PASS and v.measured["oversold_units"] == 0
    assert "4 acknowledged unit(s) within the declared stock (the history)" in v.evidence


def test_records_read_back_decide_reviews_and_lost_tickets() -> None:
    b = Builder()
    b.op("r", "review", {"sku": "HOT", "rating": 1, "text": "bad"}, "ok", {"review_id": 1})
    b.op("c", "open_ticket", {"kind": "consultation", "message": "m1"}, "ok",
         {"ticket_id": 7})
    b.op("r", "read_review", {"review_id": 1}, "ok", {"text": "bad"})
    b.op("c", "read_ticket", {"ticket_id": 7}, "ok", {"message": "m1", "state": "open"})
    state = FinalState.from_history_only()
    v = {x.rule_id: x for x in check(b.events, state)}
    assert v["reviews.not-deleted"].status is Status.PASS
    assert v["aftersales.tracked-to-closure"].status is Status.UNKNOWN  # closure unseen
    b.op("r", "read_review", {"review_id": 1}, "fail", {"status": 404})
    b.op("c", "read_ticket", {"ticket_id": 7}, "ok", {"message": "someone else's"})
    v = {x.rule_id: x for x in check(b.events, state)}
    assert v["reviews.not-deleted"].status is Status.FAIL
    assert v["aftersales.tracked-to-closure"].status is Status.FAIL  # its id was reused
    assert "another ticket under the id" in v["aftersales.tracked-to-closure"].evidence
