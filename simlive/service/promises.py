"""The store's delivery promise on each order (``fulfilment.on-time``).

A broadcast may state the store's promise: ship within ``ship_within_s`` of payment,
deliver within ``promise_s``. Paying an order of that broadcast stamps both deadlines on the
order (``ship_by``, ``promised_at``) in the payment's transaction, so a later change of the
broadcast never moves a promise already made, and the final state shows each order's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from simlive.service import sql_tables as t


def stamp_deadlines(conn: Connection, order_id: int, broadcast_id: int,
                    paid_at: datetime) -> None:
    """Set the order's ``ship_by`` and ``promised_at`` from its broadcast's promise, if the
    broadcast states one (nothing is written otherwise)."""
    b = t.broadcasts
    stated = conn.execute(select(b.c.ship_within_s, b.c.promise_s).where(
        b.c.id == broadcast_id)).first()
    if stated is None or (stated.ship_within_s is None and stated.promise_s is None):
        return
    values = {}
    if stated.ship_within_s is not None:
        values["ship_by"] = paid_at + timedelta(seconds=stated.ship_within_s)
    if stated.promise_s is not None:
        values["promised_at"] = paid_at + timedelta(seconds=stated.promise_s)
    conn.execute(update(t.orders).where(t.orders.c.id == order_id).values(**values))
