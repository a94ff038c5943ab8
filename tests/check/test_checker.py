"""The checker on hand-made histories: a clean run passes, each break fails its own rule."""

from __future__ import annotations

import dataclasses
import random

import pytest

from simlive.check.checker import check as check_all
from simlive.check.history import pair
from simlive.rules import RULE_IDS, Status
from testing.synthetic import NOT_MODELLED, Builder, clean_run


def check(events, state, params=None, unsupported=()):
    """The checker as a load of the synthetic run's scenario calls it: the duties that run
    does not exercise are not judged (and only those)."""
    verdicts = check_all(events, state, params, unsupported, NOT_MODELLED)
    assert {v.rule_id for v in verdicts if v.status is Status.NOT_JUDGED} == set(NOT_MODELLED)
    return [v for v in verdicts if v.rule_id not in NOT_MODELLED]


def _run(seed: int = 1):
    return clean_run(random.Random(seed))


def _statuses(verdicts):
    return {v.rule_id: v.status for v in verdicts}


def _only_fails(verdicts, rule_id):
    st = _statuses(verdicts)
    assert st[rule_id] is Status.FAIL, [v.to_dict() for v in verdicts if v.rule_id == rule_id]
    others = {r: s for r, s in st.items() if r != rule_id and s is not Status.PASS}
    assert others == {}, others


def test_clean_run_passes_every_rule() -> None:
    events, state = _run()
    verdicts = check(events, state)
    assert [v.rule_id for v in verdicts] == [r for r in RULE_IDS if r not in NOT_MODELLED]
    bad = {v.rule_id: v.evidence for v in verdicts if v.status is not Status.PASS}
    assert bad == {}


@pytest.mark.parametrize("seed", range(5))
def test_info_orders_that_did_and_did_not_happen_are_both_allowed(seed: int) -> None:
    events, state = clean_run(random.Random(seed), orders=80, stock=40)
    ops = pair(events)
    infos = [op for op in ops if op.f == "order" and op.type == "info"]
    assert infos  # the generator made some of both kinds
    assert all(v.status is Status.PASS for v in check(events, state))


def test_unfinished_invoke_is_info_not_a_crash() -> None:
    events, state = _run()
    events.append({"type": "invoke", "process": "dead", "op": 1, "time": events[-1]["time"],
                   "f": "order", "args": {"sku": "HOT", "quantity": 1, "key": "x", "buyer": 1}})
    assert pair(events)[-1].type == "info"
    assert all(v.status is Status.PASS for v in check(events, state))


def test_oversell_fails_only_no_oversell() -> None:
    events, state = _run()
    led = dict(state.ledger[0])
    led["sold"] += 3  # three units sold that never left stock (lost updates)
    _only_fails(check(events, dataclasses.replace(state, ledger=[led])), "stock.no-oversell")


def test_double_restock_fails_only_ledger() -> None:
    events, state = _run()
    led = dict(state.ledger[0])
    led["returned"] += 2
    led["remaining"] += 2
    _only_fails(check(events, dataclasses.replace(state, ledger=[led])),
                "stock.ledger-balances")


def test_acknowledged_order_missing_from_books_fails_ledger() -> None:
    events, state = _run()
    orders = state.orders[1:]
    v = check(events, dataclasses.replace(state, orders=orders))
    assert _statuses(v)["stock.ledger-balances"] is Status.FAIL


def test_retry_with_one_key_making_two_orders_fails_no_oversell() -> None:
    events, state = _run()
    b = Builder()
    b.t = events[-1]["time"]
    b.n = 10_000
    args = {"sku": "HOT", "quantity": 1, "key": "dup", "buyer": 5}
    b.op("u5", "order", args, "ok", {"order_id": 1})
    b.op("u5", "order", args, "ok", {"order_id": 2})
    v = check(events + b.events, state)
    assert _statuses(v)["stock.no-oversell"] is Status.FAIL
    assert "idempotency" in next(x for x in v if x.rule_id == "stock.no-oversell").evidence


def test_stale_display_fails_only_display() -> None:
    events, state = _run()
    reads = [e for e in events if e.get("f") == "read_stock" and e["type"] == "ok"]
    for e in reads[5:15]:
        e["value"] = {"HOT": e["value"]["HOT"] + 7}
    _only_fails(check(events, state, {"stock.display-matches": {"max_lag": 0.001}}),
                "stock.display-matches")


def test_display_within_lag_passes_and_stale_beyond_it_fails() -> None:
    """A figure one sample old is fine within the lag; one 10 s old is not."""
    from simlive.check.stock_rules import display_matches

    p = {"max_lag": 1.0, "max_mismatches": 0}
    b = Builder()
    b.op("m", "true_stock", {}, "ok", {"S": 10})
    b.op("m", "true_stock", {}, "ok", {"S": 9})
    b.op("v", "read_stock", {}, "ok", {"S": 10}, dt=0.001)
    b.op("m", "true_stock", {}, "ok", {"S": 9})
    assert display_matches(pair(b.events), None, p).status is Status.PASS  # type: ignore[arg-type]
    b.op("m", "true_stock", {}, "ok", {"S": 5}, dt=5)
    b.op("m", "true_stock", {}, "ok", {"S": 5}, dt=5)
    b.op("v", "read_stock", {}, "ok", {"S": 10}, dt=0.001)
    b.op("m", "true_stock", {}, "ok", {"S": 5})
    assert display_matches(pair(b.events), None, p).status is Status.FAIL  # type: ignore[arg-type]


def test_unbracketed_reading_is_not_judged() -> None:
    from simlive.check.stock_rules import display_matches

    b = Builder()
    b.op("v", "read_stock", {}, "ok", {"S": 99})
    b.op("m", "true_stock", {}, "ok", {"S": 5})
    v = display_matches(pair(b.events), None, {"max_lag": 1.0, "max_mismatches": 0})  # type: ignore[arg-type]
    assert v.status is Status.UNKNOWN


def test_lost_ticket_fails_only_closure() -> None:
    events, state = _run()
    _only_fails(check(events, dataclasses.replace(state, tickets=state.tickets[1:])),
                "aftersales.tracked-to-closure")


def test_deleted_review_fails_only_reviews() -> None:
    events, state = _run()
    _only_fails(check(events, dataclasses.replace(state, reviews=state.reviews[1:])),
                "reviews.not-deleted")


def _rated(events: list, rating: int) -> list:
    """The history with the first review posted at ``rating`` stars."""
    first = next(i for i, e in enumerate(events) if e["f"] == "review" and e["type"] == "invoke")
    events = list(events)
    events[first] = dict(events[first], args=dict(events[first]["args"], rating=rating))
    return events


@pytest.mark.parametrize(("rating", "reason", "status"), [
    (1, "off-topic", Status.FAIL),  # a bad review hidden for a reason the law does not allow
    (1, None, Status.FAIL),
    (2, "spam", Status.PASS),
    (1, "personal-data", Status.PASS),
    (5, "off-topic", Status.PASS),  # hiding a good review suppresses no complaint
])
def test_hidden_bad_review_needs_an_allowed_reason(rating, reason, status) -> None:
    events, state = _run()
    events = _rated(events, rating)
    reviews = [dict(state.reviews[0], hidden=True, rating=rating, hidden_reason=reason),
               *state.reviews[1:]]
    v = {v.rule_id: v for v in check(events, dataclasses.replace(state, reviews=reviews))}
    rule = v["reviews.not-deleted"]
    assert rule.status is status, rule.evidence
    if status is Status.FAIL:
        assert "1 hidden without an allowed reason" in rule.evidence
        assert rule.measured["suppressed"] == 1


def test_hidden_bad_review_whose_reason_is_not_read_is_unknown() -> None:
    events, state = _run()
    events = _rated(events, 1)
    reviews = [dict(state.reviews[0], hidden=True, rating=1), *state.reviews[1:]]
    rule = next(v for v in check(events, dataclasses.replace(state, reviews=reviews))
                if v.rule_id == "reviews.not-deleted")
    assert rule.status is Status.UNKNOWN and "hidden_reason" in rule.evidence


@pytest.mark.parametrize(("silent_for", "status"), [(7 * 86400.0, Status.PASS),
                                                    (3600.0, Status.FAIL),
                                                    (None, Status.FAIL)])
def test_closed_without_feedback_only_after_the_rules_timeout(silent_for, status) -> None:
    """rules.py's meaning, as in the simulator: a silent consumer's ticket may be closed as
    'no feedback' once feedback_timeout (7d) has passed since it was resolved."""
    events, state = _run()
    t = dict(state.tickets[0], feedback=None)
    if silent_for is not None:
        t["resolved_at"] = t["closed_at"] - silent_for
    tickets = [t, *state.tickets[1:]]
    rule = next(v for v in check(events, dataclasses.replace(state, tickets=tickets))
                if v.rule_id == "aftersales.tracked-to-closure")
    assert rule.status is status, rule.evidence
    if status is Status.FAIL:
        assert "1 closed without feedback before the consumer had 7d" in rule.evidence


def test_missing_replay_fails_only_replay() -> None:
    events, state = _run()
    b = [dict(state.broadcasts[0], replay=None)]
    _only_fails(check(events, dataclasses.replace(state, broadcasts=b)), "replay.available")


def test_missing_receipt_fails_only_receipt() -> None:
    events, state = _run()
    _only_fails(check(events, dataclasses.replace(state, receipts=state.receipts[1:])),
                "evidence.receipt")


def test_refused_return_in_window_fails_seven_day() -> None:
    events, state = _run()
    for e in events:
        if e.get("f") == "open_ticket" and e["type"] == "ok" and e["value"]["ticket_id"] == 6:
            e["type"], e["value"] = "fail", {"code": "return_window_closed"}
    v = _statuses(check(events, state))
    assert v["returns.seven-day"] is Status.FAIL


def test_crashing_rule_is_unknown_never_pass() -> None:
    events, state = _run()
    broken = dataclasses.replace(state, ledger=[{"sku": "HOT"}])  # fields missing
    v = _statuses(check(events, broken))
    assert v["stock.no-oversell"] is Status.UNKNOWN
    assert v["stock.ledger-balances"] is Status.UNKNOWN


def test_corrupt_history_is_unknown_for_every_rule() -> None:
    _, state = _run()
    bad = [{"type": "ok", "process": "p", "op": 1, "time": 0.0, "f": "order"}]
    assert {v.status for v in check(bad, state)} == {Status.UNKNOWN}


def test_empty_run_is_unknown_not_pass() -> None:
    from simlive.check.state import FinalState

    v = check([], FinalState())
    assert Status.PASS not in {x.status for x in v if x.rule_id != "stock.ledger-balances"}


def test_oversell_evidence_names_each_figure_and_where_it_came_from() -> None:
    """It once read 'HOT-1 by 10 (17 sold of 10 in stock)': the 'by' from the ledger, the
    bracket from the orders."""
    events, state = _run()
    led = dict(state.ledger[0])
    led["sold"] += 3
    (v,) = [x for x in check(events, dataclasses.replace(state, ledger=[led]))
            if x.rule_id == "stock.no-oversell"]
    supply = int(led["initial"]) + int(led.get("restocked") or 0)
    assert (f"{led['sku']} by 3 unit(s) (the ledger: {led['sold']} sold + {led['reserved']} "
            f"reserved of {supply} supplied") in v.evidence, v.evidence
    assert "the history:" in v.evidence and "acknowledged sold" in v.evidence


def test_a_ledger_without_reserved_counts_it_zero() -> None:
    """A target's ledger may leave a column out (target init and the README say it counts
    0): it was a KeyError and both stock rules unknown."""
    events, state = _run()
    rows = []
    for r in state.ledger:
        row = {k: v for k, v in r.items() if k != "reserved"}
        row["sold"] = int(r["sold"]) + int(r["reserved"])  # the shop counts them as sold
        rows.append(row)
    verdicts = _statuses(check(events, dataclasses.replace(state, ledger=rows)))
    assert verdicts["stock.no-oversell"] is Status.PASS
    assert verdicts["stock.ledger-balances"] is Status.PASS


def test_retention_is_judged_from_the_orders_when_receipts_are_not_read() -> None:
    """check.needs lists broadcasts and orders for replay.retained: a target that maps no
    receipt listing still gets a verdict, from the orders' promise."""
    events, state = _run()
    rule = next(v for v in check(events, dataclasses.replace(state, receipts=None))
                if v.rule_id == "replay.retained")
    assert rule.status is Status.PASS, rule.evidence
    short = [dict(o, retain_until=o["created_at"]) for o in state.orders]
    rule = next(v for v in check(events, dataclasses.replace(state, receipts=None,
                                                             orders=short))
                if v.rule_id == "replay.retained")
    assert rule.status is Status.FAIL, rule.evidence


def test_a_rule_that_cannot_be_judged_states_its_limits_in_units() -> None:
    """Unknown verdicts give each time limit as seconds keyed ``_s`` (a table shows 7d, 8h):
    the seven-day rule's calendar window and time zone once showed as 6.048e+05 and
    2.88e+04 on a shop without tickets."""
    from simlive.check.needs import NEEDS
    from simlive.report.tables import compact
    from simlive.rules import RULES

    events, state = _run()
    every_op = {op for need in NEEDS.values() for op in need.ops}
    unknown = [v for v in check(events, state, unsupported=every_op)
               if v.status is Status.UNKNOWN]
    assert len(unknown) >= 8, [v.rule_id for v in unknown]
    for v in unknown:
        for p in RULES[v.rule_id].params:
            assert (f"{p.name}_s" if p.seconds else p.name) in v.limit, (v.rule_id, v.limit)
    returns = next(v for v in check(events, state, unsupported=every_op)
                   if v.rule_id == "returns.seven-day")
    assert compact(returns.limit) == "window=7d, utc_offset=8h"
