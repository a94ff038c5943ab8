"""Thresholds per operation and phase, judged on the history."""

from __future__ import annotations

import pytest

from simlive.check.history import Op, Ops
from simlive.check.op_thresholds import judge_operations
from simlive.errors import InputFileError
from simlive.scenario import parse_scenario
from simlive.scenario.load import OperationThreshold as Limit


def ops() -> Ops:
    """Orders every second for 10 s from t=100: 10 ms each, 500 ms inside the flash sale
    (seconds 4-6); one in three pays fails (the unexpected ones), sold-out refusals too."""
    out = [Op("setup", "create_product", {}, "ok", {}, 99.0, 99.1)]
    for i in range(10):
        t = 100.0 + i
        slow = 4 <= i < 6
        out.append(Op("u", "order", {}, "ok", {}, t, t + (0.5 if slow else 0.01)))
        out.append(Op("u", "pay", {}, "fail", {"expected": i % 3 != 0}, t + 0.6, t + 0.61))
    out.append(Op("u", "order", {}, "info", {}, 110.0, float("inf")))
    return Ops(out)


def test_latency_failures_and_rate_per_phase() -> None:
    limits = [Limit(operation="order", percentile=99, max_ms=100, phase="flash-sale"),
              Limit(operation="order", percentile=99, max_ms=100, phase="outside-flash-sale"),
              Limit(operation="order", percentile=50, max_ms=100),
              Limit(operation="pay", max_failure_ratio=0.25),
              Limit(operation="order", min_rate=1.0),
              Limit(operation="review", min_rate=0.1)]
    got = judge_operations(ops(), limits, windows=[(4.0, 6.0)], run_time=11.0)
    assert [(r.name, r.passed) for r in got] == [
        ("order p99 < 100 ms during flash-sale", False),
        ("order p99 < 100 ms during outside-flash-sale", True),
        ("order p50 < 100 ms", True),
        ("pay failure ratio <= 0.25", False),
        ("order rate >= 1/s", True),
        ("review rate >= 0.1/s", False)]  # no evidence is not a pass
    assert got[0].measured == pytest.approx(500.0)
    assert got[3].measured == pytest.approx(4 / 10)  # i = 0, 3, 6, 9 unexpected
    assert got[4].measured == pytest.approx(11 / 11.0)


def test_a_threshold_needs_exactly_one_limit(tiny_text: str) -> None:
    text = tiny_text + ("load:\n  thresholds:\n    operations:\n"
                        "      - {operation: order, max_ms: 300, min_rate: 2}\n"
                        "      - {operation: ordr, max_ms: 300}\n")
    with pytest.raises(InputFileError) as err:
        parse_scenario(text, "s.yaml")
    assert str(err.value).splitlines() == [
        "s.yaml:20: load.thresholds.operations[0]: expected exactly one of max_ms, "
        "max_failure_ratio, min_rate; found {'operation': 'order', 'max_ms': 300, "
        "'min_rate': 2}",
        "s.yaml:21: load.thresholds.operations[1].operation: expected one of create_users, "
        "login, start_session, create_product, set_stock, create_broadcast, add_product, "
        "start_broadcast, read_product, "  # display.complete's page reads
        "restock, set_price, watch, browse, read_stock, true_stock, read_price, order, pay, "
        "cancel, deliver, ship, read_receipt, open_ticket, list_tickets, reply, start_ticket, "
        "goods_received, refund_paid, resolve, close_ticket, review, delete_review, "
        "list_reviews, read_review, read_ticket, "
        "escalate, list_escalations, decide_escalation, read_counters, "
        "end_broadcast, read_replay, settle or "
        "teardown; found 'ordr'"]


def test_operations_the_load_interrupted_as_it_stopped_are_not_failures() -> None:
    """Locust stopping a user mid-request records it interrupted (outcome unknown to the
    checker): no failure for a threshold, as none for the load report's plot."""
    base = [Op("u", "pay", {}, "ok", {}, 100.0 + i, 100.1 + i) for i in range(4)]
    cut = Op("u", "pay", {}, "info", {"error": "interrupted: the load stopped",
                                      "interrupted": True}, 104.0, 104.2)
    (r,) = judge_operations(Ops([*base, cut]), [Limit(operation="pay", max_failure_ratio=0)],
                            windows=[], run_time=5.0)
    assert r.passed and r.measured == 0
    lost = Op("u", "pay", {}, "info", {"error": "no answer"}, 104.0, 104.2)
    (r,) = judge_operations(Ops([*base, lost]), [Limit(operation="pay", max_failure_ratio=0)],
                            windows=[], run_time=5.0)
    assert not r.passed and r.measured == pytest.approx(1 / 5)
