"""pricing.claims-hold from a history: orders charged above the price shown before them,
a price set in between, and what cannot be judged."""

from __future__ import annotations

from simlive.check.history import OK, Op
from simlive.check.price_history import claims_hold
from simlive.check.state import FinalState
from simlive.rules import Status, rule_params

P = rule_params()["pricing.claims-hold"]


def _shown(at: float, price: float, reference: float) -> Op:
    return Op("b", "read_price", {"sku": "A"}, OK,
              {"price": price, "reference_price": reference}, at, at + 0.1)


def _order(at: float, oid: int) -> Op:
    return Op("b", "order", {"sku": "A", "quantity": 1, "key": f"k{oid}"}, OK,
              {"order_id": oid}, at, at + 0.1)


def _state(*charged: int) -> FinalState:
    return FinalState(orders=[{"id": i + 1, "sku": "A", "quantity": 1, "amount_cents": c,
                               "state": "reserved"} for i, c in enumerate(charged)])


def test_an_order_charged_above_the_price_shown_just_before_breaks_the_rule() -> None:
    v = claims_hold([_shown(10.0, 9.9, 9.9), _order(11.0, 1)], _state(19900), P)
    assert v.status is Status.FAIL
    assert "1 of 1 price claim broken, 1 order charged above the price shown" in v.evidence
    assert "A: order 1 charged 199 a unit after 9.9 was shown" in v.evidence


def test_a_price_set_between_the_reading_and_the_order_is_not_held_against_it() -> None:
    moved = Op("setup", "set_price", {"sku": "A", "sale_price": 199.0}, OK, {}, 10.5, 10.6)
    v = claims_hold([_shown(10.0, 9.9, 9.9), moved, _order(11.0, 1)], _state(19900), P)
    assert v.status is Status.UNKNOWN
    assert "nothing to compare" in v.evidence


def test_no_price_read_is_unknown() -> None:
    v = claims_hold([_order(11.0, 1)], _state(19900), P)
    assert (v.status, v.evidence) == (Status.UNKNOWN, "no price was read during the load test")
