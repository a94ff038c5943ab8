"""``display.complete`` on a shop: each linked product's page as a buyer reads it.

Setup reads every linked product's page once (``read_product``, before the load), its
declared price and returnability in the arguments. A page must show the declared price, a
seller, and whether the goods can be returned without reason, with the reason where they
cannot (and a flag that agrees with the scenario where it declares one). The time a host
presents a product on air cannot be seen on a shop: the record's ``short`` is None and
the evidence says the pages alone were judged.
"""

from __future__ import annotations

from typing import Any

from simlive.check.history import FAIL, OK, Op, of
from simlive.judge.measures import PresentationMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import RULES, Status, Verdict

RULE = "display.complete"
EXAMPLES = 5


def _cents(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(round(float(value) * 100))
    except ValueError:
        return None


def page_lacks(args: dict[str, Any], value: Any) -> list[str]:
    """What one page read (``ok``) fails to show, in words; empty when complete."""
    page = value if isinstance(value, dict) else {}
    lacks: list[str] = []
    declared = args.get("price_cents")
    if declared is None:
        declared = _cents(args.get("price"))
    cents = page.get("price_cents")
    shown = _cents(page.get("price")) if cents is None else (
        None if (c := _cents(cents)) is None else int(round(c / 100)))
    if shown is None:
        lacks.append("price")
    elif declared is not None and shown != declared:
        lacks.append(f"price {shown / 100:g} (declared {declared / 100:g})")
    seller = page.get("seller")
    if not isinstance(seller, str) or not seller.strip():
        lacks.append("seller")
    flag = page.get("returnable")
    if not isinstance(flag, bool):
        lacks.append("returnability")
    else:
        want = args.get("returnable")
        if isinstance(want, bool) and flag != want:
            lacks.append("returnability (shown returnable)" if flag else
                         "returnability (shown not returnable)")
        elif not flag and not (isinstance(page.get("reason"), str)
                               and page["reason"].strip()):
            lacks.append("the reason it cannot be returned")
    return lacks


def display_complete(ops: list[Op], state: Any, p: dict[str, float]) -> Verdict:
    """Judge every linked product's page by the last definite read of it."""
    reads = of(ops, "read_product")
    last: dict[str, Op] = {}
    for op in reads:
        sku = op.args.get("sku")
        if sku is not None and op.type in (OK, FAIL):
            last[str(sku)] = op
    unread = sorted({str(o.args.get("sku")) for o in reads} - set(last))
    if not last:
        why = ("no linked product's page was read" if not reads else
               f"no page read had a definite answer ({len(reads)} unknown)")
        return Verdict(RULE, Status.UNKNOWN, None, RULES[RULE].limits(p), why)
    pages: list[str] = []
    lacking = 0
    for sku, op in sorted(last.items()):
        lacks = ["the page (read refused)"] if op.type == FAIL else page_lacks(
            op.args, op.value)
        if lacks:
            lacking += 1
            if len(pages) < EXAMPLES:
                pages.append(f"{sku} without {' or '.join(lacks)}")
    details = [f"{len(last)} linked product pages read by a buyer before the load"]
    if unread:
        details.append(f"{len(unread)} page(s) with no definite read left out: "
                       f"{', '.join(unread[:EXAMPLES])}")
    return verdict(RULE, PresentationMeasures(
        linked=len(last), incomplete=lacking, short=None, shortest_sku=None,
        shortest_s=None, lacking=lacking, lacking_pages=tuple(pages),
        min_presentation=p["min_presentation"], details=tuple(details)), p)
