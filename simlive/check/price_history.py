"""``pricing.claims-hold`` on a shop: the prices buyers were shown against what it charged.

Each ``read_price`` reading shows a price and a reference ('was') price. A reference above
the lowest unit price the shop charged for the SKU in the rule's ``window`` before the
reading is a broken claim: the shop showed a discount from a price the goods did not sell
at. What it charged is each paid order's total over its units (the final state's
``amount_cents`` and ``quantity``), counted from its payment's acknowledgement (a payment
not yet acknowledged when the reading was sent may not have been visible to it). A
reading with no payment in its window has nothing to compare with and is not judged.

Each acknowledged order is compared with the price shown last before it was first sent
(its idempotency key's first attempt): charged above it is broken too, unless the price
was set (``set_price``, a flash sale's) between that reading and the order. The history
shows no price-protection request, so the load judges the claims only.
"""

from __future__ import annotations

from typing import Any

from simlive.check.history import OK, Op, of
from simlive.check.state import FinalState
from simlive.judge.measures import PricingMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import RULES, Status, Verdict, format_duration
from simlive.text import money, plural

RULE = "pricing.claims-hold"
CENT = 0.005


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _units(state: FinalState) -> dict[Any, float]:
    """Order id -> the unit price charged (currency), from the books."""
    out = {}
    for o in state.orders or ():
        amount, qty = _number(o.get("amount_cents")), _number(o.get("quantity"))
        if amount is not None and qty:
            out[o.get("id")] = amount / qty / 100.0
    return out


def _orders(ops: list[Op]) -> dict[Any, tuple[str, float, float]]:
    """Order id -> (SKU, when its key was first sent, when it was acknowledged)."""
    first: dict[Any, float] = {}
    for op in of(ops, "order"):
        key = op.args.get("key")
        if key is not None:
            first[key] = min(first.get(key, op.start), op.start)
    out: dict[Any, tuple[str, float, float]] = {}
    for op in of(ops, "order"):
        oid = op.value.get("order_id") if op.type == OK and isinstance(op.value, dict) else None
        if oid is not None and oid not in out:
            out[oid] = (str(op.args.get("sku")), first.get(op.args.get("key"), op.start), op.end)
    return out


def claims_hold(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    window = p["window"]
    readings = [op for op in of(ops, "read_price") if op.type == OK
                and isinstance(op.value, dict) and _number(op.value.get("price")) is not None
                and _number(op.value.get("reference_price")) is not None]
    if not readings:
        return Verdict(RULE, Status.UNKNOWN, None, RULES[RULE].limits(p),
                       "no price was read during the load test")
    units = _units(state)
    orders = _orders(ops)
    sales: dict[str, list[tuple[float, float]]] = {}  # SKU -> (payment acknowledged, unit)
    for op in of(ops, "pay"):
        oid = op.value.get("order_id") if op.type == OK and isinstance(op.value, dict) else None
        if oid in orders and oid in units:
            sales.setdefault(orders[oid][0], []).append((op.end, units[oid]))
    changes: dict[str, list[tuple[float, float]]] = {}
    for op in of(ops, "set_price"):
        if op.type != "fail":
            changes.setdefault(str(op.args.get("sku")), []).append((op.start, op.end))
    judged = broken = overcharged = 0
    worst: dict[str, tuple[float, str]] = {}
    for r in readings:
        sku = str(r.args.get("sku"))
        paid = [u for t, u in sales.get(sku, ()) if r.start - window <= t < r.start]
        if not paid:
            continue
        judged += 1
        ref, low = float(r.value["reference_price"]), min(paid)
        if ref > low + CENT:
            broken += 1
            if ref - low > worst.get(sku, (0.0, ""))[0]:
                worst[sku] = (ref - low, f"{sku}: discount from {money(ref)}, "
                                         f"{money(ref - low)} above the lowest price of the "
                                         f"{format_duration(window)} before ({money(low)})")
    by_sku: dict[str, list[Op]] = {}
    for r in sorted(readings, key=lambda r: r.end):
        by_sku.setdefault(str(r.args.get("sku")), []).append(r)
    for oid, (sku, sent, done) in orders.items():
        before = [r for r in by_sku.get(sku, ()) if r.end < sent]
        if oid not in units or not before:
            continue
        shown = before[-1]
        if any(a <= done and b >= shown.start for a, b in changes.get(sku, ())):
            continue  # the price was set between the reading and the order
        judged += 1
        price = float(shown.value["price"])
        if units[oid] > price + CENT:
            overcharged += 1
            gap = units[oid] - price
            if gap > worst.get(f"{sku} order", (0.0, ""))[0]:
                worst[f"{sku} order"] = (gap, f"{sku}: order {oid} charged "
                                         f"{money(units[oid])} a unit after {money(price)} "
                                         "was shown")
    if not judged:
        return Verdict(RULE, Status.UNKNOWN, None, RULES[RULE].limits(p),
                       f"{len(readings)} price reading(s), none after a paid order of its "
                       "SKU and no order after a reading: nothing to compare")
    examples = tuple(text for _, text in sorted(worst.values(), reverse=True))[:5]
    details = (f"{plural(len(readings), 'price reading')}, each reference compared with the "
               f"lowest unit price paid in the {format_duration(window)} before it where "
               f"there was one; {plural(len(orders), 'acknowledged order')}, each compared "
               "with the price shown just before it; the history shows no price-protection "
               "request",)
    return verdict(RULE, PricingMeasures(judged, broken + overcharged, examples,
                                         overcharged=overcharged, details=details), p)
