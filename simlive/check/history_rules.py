"""Rules decided from the history alone, for shops whose real stock cannot be read.

``stock.display-matches`` without a real-stock reading: setup declared each product's stock,
and the history says which orders could have taken units and when. At any moment the real
stock lies between two bounds: at most the declared stock less the units of orders already
acknowledged as bought (those never come back during a test), at least the declared stock
less every order that may have taken effect (acknowledged or of unknown outcome; a refusal
took nothing). A displayed figure must equal the real stock at some moment between ``max_lag``
before the read and its answer, so it must lie between the lower bound at the answer and the
upper bound ``max_lag`` before the read. Outside that, the figure was false: phantom stock
above, false scarcity below.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate
from typing import Any

from simlive.check.history import FAIL, OK, Op, of
from simlive.check.state import FinalState
from simlive.check.stock_rules import declared_stock, restocked
from simlive.judge.measures import DisplayMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import Status, Verdict, format_duration


def _cumulative(points: list[tuple[float, int]]) -> tuple[list[float], list[int]]:
    points.sort()
    return [t for t, _ in points], [0, *accumulate(u for _, u in points)]


def _order_bounds(ops: list[Op]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per SKU: units of orders that may have taken stock, by start time; units surely
    taken (bought), by the time the order was acknowledged."""
    pays = of(ops, "pay")
    paid = {op.value.get("order_id") for op in pays if op.type == OK and op.value}
    maybe: dict[str, list[tuple[float, int]]] = defaultdict(list)
    sure: dict[str, list[tuple[float, int]]] = defaultdict(list)
    seen: set[Any] = set()
    for op in of(ops, "order"):
        sku: Any = op.args.get("sku")  # as recorded: any JSON value, None if left out
        units = int(op.args.get("quantity", 1))
        if op.type == FAIL:
            continue
        maybe[sku].append((op.start, units))
        oid = (op.value or {}).get("order_id") if op.type == OK else None
        if op.type == OK and oid not in seen and (not pays or oid in paid):
            if oid is not None:
                seen.add(oid)
            sure[sku].append((op.end, units))
    return ({s: _cumulative(v) for s, v in maybe.items()},
            {s: _cumulative(v) for s, v in sure.items()})


def _restock_bounds(ops: list[Op]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per SKU: units a restock may have added, by its start; units surely added, by its
    acknowledgement."""
    maybe: dict[str, list[tuple[float, int]]] = defaultdict(list)
    sure: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for op in of(ops, "restock"):
        if op.type == FAIL:
            continue
        units = int(op.args.get("quantity", 0))
        sku: Any = op.args.get("sku")  # as recorded: any JSON value, None if left out
        maybe[sku].append((op.start, units))
        if op.type == OK:
            sure[sku].append((op.end, units))
    return ({s: _cumulative(v) for s, v in maybe.items()},
            {s: _cumulative(v) for s, v in sure.items()})


def _taken(cum: tuple[list[float], list[int]] | None, t: float) -> int:
    if cum is None:
        return 0
    times, sums = cum
    return sums[bisect_right(times, t)]


def display_from_history(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    lag = float(p["max_lag"])
    limit = {"max_lag_s": lag, "max_mismatches": p["max_mismatches"]}
    declared = declared_stock(ops)
    if not declared:
        return Verdict("stock.display-matches", Status.UNKNOWN, None, limit,
                       "the real stock cannot be read and no stock was declared at setup")
    maybe, sure = _order_bounds(ops)
    added_maybe, added_sure = _restock_bounds(ops)
    all_added = restocked(ops)
    checked = mismatches = 0
    worst: tuple[int, str, str] | None = None
    for op in of(ops, "read_stock"):
        if op.type != OK or not op.value:
            continue
        for sku, shown in op.value.items():
            if sku not in declared:
                continue
            checked += 1
            # units a restock (a flash sale's) surely added before the window, or may have
            # added by its end
            base = declared[sku] - all_added.get(sku, 0)
            added_low = _taken(added_sure.get(sku), op.start - lag)
            added_high = _taken(added_maybe.get(sku), op.end)
            low = base + added_low - _taken(maybe.get(sku), op.end)
            high = base + added_high - _taken(sure.get(sku), op.start - lag)
            d = int(shown)
            if not max(0, low) <= d <= high:
                mismatches += 1
                gap = low - d if d < low else d - high
                kind = "false scarcity" if d < low else "phantom stock"
                if worst is None or gap > worst[0]:
                    worst = (gap, sku, kind)
    if checked == 0:
        return Verdict("stock.display-matches", Status.UNKNOWN,
                       {"readings_checked": 0, "mismatches": 0}, limit,
                       "no displayed stock figure of this run's products was read")
    gap, sku, kind = worst if worst is not None else (0, "", "")
    return verdict("stock.display-matches",
                   DisplayMeasures(mismatches, sku or None, readings=checked, worst_gap=gap,
                                   worst_kind=kind, bounds_only=True), p)


def _read_back(ops: list[Op], create: str, id_key: str, read: str, arg: str,
               same: str) -> tuple[set[Any], set[Any], set[Any]]:
    """(acknowledged ids, ids read back present, ids read back gone): a read that started
    after the acknowledgement and answered with a definite refusal means gone; so does an
    answer whose ``same`` field differs from what was written (a shop that lost a record
    can hand its id to the next one)."""
    acked: dict[Any, tuple[float, Any]] = {}
    for op in of(ops, create):
        if op.type == OK and op.value and op.value.get(id_key) is not None:
            acked[op.value[id_key]] = (op.end, op.args.get(same))
    present: set[Any] = set()
    gone: set[Any] = set()
    for op in of(ops, read):
        rid = op.args.get(arg)
        if rid not in acked or op.start < acked[rid][0]:
            continue
        shown = (op.value or {}).get(same) if op.type == OK else None
        if op.type == OK and (shown is None or shown == acked[rid][1]):
            present.add(rid)
        elif op.type in (OK, FAIL):
            gone.add(rid)
    return set(acked), present - gone, gone


def reviews_from_history(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    """No review listing: acknowledged reviews read back later must still be there."""
    limit = {"max_deletions": p["max_deletions"]}
    acked, present, gone = _read_back(ops, "review", "review_id", "read_review", "review_id",
                                      "text")
    deletes = sum(1 for op in of(ops, "delete_review") if op.type == OK)
    measured = {"acknowledged": len(acked), "read_back": len(present) + len(gone),
                "gone": len(gone), "deletes_accepted": deletes}
    if max(len(gone), deletes) > p["max_deletions"]:
        return Verdict("reviews.not-deleted", Status.FAIL, measured, limit,
                       f"{len(gone)} acknowledged review(s) are gone when read back (refused, or "
                       f"another review under the id), e.g. "
                       f"{sorted(gone, key=str)[:5]}"
                       f"{f'; {deletes} DELETE request(s) were accepted' if deletes else ''}")
    if not present:
        return Verdict("reviews.not-deleted", Status.UNKNOWN, measured, limit,
                       "no acknowledged review was read back after it was written")
    return Verdict("reviews.not-deleted", Status.PASS, measured, limit,
                   f"all {len(present)} acknowledged review(s) read back later were still "
                   f"there (of {len(acked)} acknowledged; no listing of reviews is read)")


def tickets_from_history(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    """No ticket listing: a lost ticket shows when read back; closure cannot be seen."""
    limit = {"max_lost": p["max_lost"], "close_within_s": p["close_within"]}
    acked, present, gone = _read_back(ops, "open_ticket", "ticket_id", "read_ticket",
                                      "ticket_id", "message")
    measured = {"acknowledged": len(acked), "read_back": len(present) + len(gone),
                "lost": len(gone)}
    if len(gone) > p["max_lost"]:
        return Verdict("aftersales.tracked-to-closure", Status.FAIL, measured, limit,
                       f"{len(gone)} acknowledged ticket(s) are lost when read back (refused, or "
                       f"another ticket under the id), e.g. "
                       f"{sorted(gone, key=str)[:5]}")
    return Verdict("aftersales.tracked-to-closure", Status.UNKNOWN, measured, limit,
                   f"none of {len(present)} ticket(s) read back was lost, but closure within "
                   f"{format_duration(p['close_within'])} cannot be seen without the shop's "
                   f"ticket listing")
