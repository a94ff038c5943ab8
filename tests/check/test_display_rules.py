"""display.complete on a shop: each linked product's page read once before the load."""

from __future__ import annotations

from typing import Any

import pytest

from simlive.check.checker import check
from simlive.check.display_rules import display_complete, page_lacks
from simlive.check.history import FAIL, INFO, OK, Op
from simlive.check.state import FinalState
from simlive.rules import Status, rule_params

P = rule_params(None)["display.complete"]
FULL = {"price_cents": 990, "seller": "Store 1", "returnable": True, "reason": None}


def read(sku: str, page: Any, kind: str = OK, **args: Any) -> Op:
    return Op("setup", "read_product", {"sku": sku, "price": 9.9, "price_cents": 990,
                                        "returnable": True, **args}, kind, page, 1.0, 1.1)


@pytest.mark.parametrize(("page", "args", "lacks"), [
    (FULL, {}, []),
    ({"price": 9.9, "seller": "S", "returnable": True}, {}, []),
    ({**FULL, "price_cents": 1990}, {}, ["price 19.9 (declared 9.9)"]),
    ({**FULL, "seller": " "}, {}, ["seller"]),
    ({"price_cents": 990}, {}, ["seller", "returnability"]),
    ({**FULL, "returnable": False}, {"returnable": False}, ["the reason it cannot be returned"]),
    ({**FULL, "returnable": False, "reason": "fresh-perishable"}, {"returnable": False}, []),
    ({**FULL, "returnable": True}, {"returnable": False},
     ["returnability (shown returnable)"]),
    ({**FULL, "returnable": "yes"}, {}, ["returnability"]),
    (None, {}, ["price", "seller", "returnability"]),
])
def test_what_a_page_lacks(page: Any, args: dict, lacks: list[str]) -> None:
    base = {"price": 9.9, "price_cents": 990, "returnable": True}
    assert page_lacks({**base, **args}, page) == lacks


def test_complete_pages_pass_and_say_presentation_was_not_seen() -> None:
    v = display_complete([read("A", FULL), read("B", FULL)], FinalState(), P)
    assert v.status is Status.PASS
    assert v.evidence == (
        "each of 2 linked products' pages shows its price, its seller and whether it can be "
        "returned without reason; presentation time cannot be seen on a shop: judged on the "
        "pages' fields only; 2 linked product pages read by a buyer before the load")


def test_pages_without_seller_and_flag_fail_naming_them() -> None:
    bare = {"price_cents": 990, "seller": None, "returnable": None}
    v = display_complete([read("A", bare), read("B", FULL), read("C", None, FAIL)],
                         FinalState(), P)
    assert v.status is Status.FAIL
    assert v.measured == {"incomplete": 2, "lacking": 2}
    assert v.evidence.startswith(
        "2 of 3 linked products incomplete: 2 shown on a page lacking a field (A without "
        "seller or returnability, C without the page (read refused)); at most 0 allowed; "
        "presentation time cannot be seen on a shop")


def test_only_unknown_reads_are_unknown_and_an_unsupported_read_too() -> None:
    v = display_complete([read("A", None, INFO)], FinalState(), P)
    assert v.status is Status.UNKNOWN and "no page read had a definite answer" in v.evidence
    vs = {v.rule_id: v for v in check([], FinalState(), unsupported=["read_product"])}
    assert vs["display.complete"].status is Status.UNKNOWN
    assert "read_product" in vs["display.complete"].evidence
