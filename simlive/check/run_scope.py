"""The part of a shop's final state that one run is judged on.

A load test runs against a live shop that holds other runs' records and, in production,
real customers'. A rule about tickets or broadcasts must judge this run's, never an old
run's open ticket (a false fail) nor real records that hide this run's (a false pass). The
run's records are the ones its history names: products it created (by SKU), orders,
tickets, reviews and broadcasts the shop acknowledged, and records tied to those (a receipt
of this run's order, a ticket about it). An acknowledged record missing from the state stays
missing: scoping only drops records the run has no claim on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simlive.check.history import OK, Op, of
from simlive.check.state import FinalState


def _acked(ops: list[Op], f: str, key: str) -> set[Any]:
    return {op.value.get(key) for op in of(ops, f) if op.type == OK and op.value} - {None}


def this_run(state: FinalState, ops: list[Op]) -> FinalState:
    """``state`` keeping only this run's records; unchanged when the history created no
    product (not a simlive run: nothing says what is the run's)."""
    skus = {op.args.get("sku") for op in of(ops, "create_product") if op.type == OK}
    if not skus:
        return state
    orders = _acked(ops, "order", "order_id")
    tickets = _acked(ops, "open_ticket", "ticket_id")
    reviews = _acked(ops, "review", "review_id")
    broadcasts = {op.args.get("broadcast_id") for op in ops if op.args.get("broadcast_id")
                  is not None}

    def keep(rows: list[dict[str, Any]] | None, test: Any) -> list[dict[str, Any]] | None:
        return None if rows is None else [r for r in rows if test(r)]

    run_orders = keep(state.orders, lambda o: o.get("sku") in skus if o.get("sku") is not None
                      else o.get("id") in orders)
    order_ids = orders | {o.get("id") for o in run_orders or ()}
    return replace(
        state,
        ledger=keep(state.ledger, lambda r: r.get("sku") in skus),
        orders=run_orders,
        receipts=keep(state.receipts, lambda r: r.get("order_id") in order_ids),
        tickets=keep(state.tickets, lambda t: t.get("id") in tickets
                     or (t.get("order_id") is not None and t.get("order_id") in order_ids)),
        reviews=keep(state.reviews, lambda r: r.get("id") in reviews
                     or r.get("sku") in skus),
        broadcasts=keep(state.broadcasts, lambda b: b.get("id") in broadcasts),
    )
