"""Stock, orders and payment: the code that keeps ``stock.*`` and ``evidence.receipt``.

The invariants live in single SQL statements, not in Python (placing an order, the hot
path, is :mod:`simlive.service.placing`):

- an order leaves ``reserved`` exactly once, by a conditional transition (``UPDATE orders ...
  WHERE state = 'reserved'``): payment (``AND expires_at > now``) and expiry (``AND expires_at
  <= now``) cannot both win, and only the expiry that wins returns the units;
- the ledger is read in one snapshot.

The ``double-restock`` fault replaces the expiry with read-then-write code separated by
``fault_gap`` so that concurrent requests really interleave.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from simlive.service import buckets
from simlive.service import sql_tables as t
from simlive.service.bodies import LedgerOut, OrderCreate
from simlive.service.core import Service
from simlive.service.faults import Fault
from simlive.service.problems import conflict, not_found
from simlive.service.promises import stamp_deadlines

ACTIVE = ("reserved", "paid")
RELEASED = ("expired", "cancelled")

ORDER_COLUMNS = [c for c in t.orders.c if c.name not in ("idempotency_key", "request_hash")]


def request_hash(body: OrderCreate) -> str:
    """What an idempotency key is bound to: the request's meaning, not its bytes."""
    canon = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def order_select() -> Any:
    return select(*ORDER_COLUMNS, t.orders.c.request_hash,
                  t.products.c.merchant_id).join(t.products,
                                                 t.products.c.id == t.orders.c.product_id)


OrderRow = Mapping[str, Any] | RowMapping
"""An order as read (SQLAlchemy's RowMapping) or as built in place (a dict)."""


def find_order(conn: Connection, order_id: int) -> RowMapping | None:
    return conn.execute(order_select().where(t.orders.c.id == order_id)).mappings().first()


# --- leaving "reserved" ------------------------------------------------------------------
def _return_units(conn: Connection, product_id: int, quantity: int, order_id: int) -> None:
    """The units of a released order back into stock: the product's row, or (bucketed) the
    bucket the order's id picks, which spreads returns over the buckets."""
    p = t.products
    k = conn.execute(update(p).where(p.c.id == product_id)
                     .values(returned=p.c.returned + quantity)
                     .returning(p.c.stock_buckets)).scalar_one()
    if k is not None and k > 1:
        buckets.put_back(conn, product_id, k, order_id, quantity)
    else:
        conn.execute(update(p).where(p.c.id == product_id)
                     .values(remaining=p.c.remaining + quantity))


def expire_order(svc: Service, order_id: int, now: datetime,
                 rendezvous: threading.Barrier | None = None) -> bool:
    """Expire one overdue reserved order and return its units, exactly once."""
    if svc.settings.has(Fault.DOUBLE_RESTOCK):
        return _expire_racy(svc, order_id, now, rendezvous)
    o = t.orders

    def expire(conn: Connection) -> bool:
        row = conn.execute(
            update(o).where(o.c.id == order_id, o.c.state == "reserved", o.c.expires_at <= now)
            .values(state="expired", closed_at=now,
                    retain_until=svc.retain_from(o.c.retain_until, now))
            .returning(o.c.product_id, o.c.quantity)
        ).first()
        if row is None:
            return False
        _return_units(conn, row.product_id, row.quantity, order_id)
        return True

    return svc.db.transact(expire)


def _expire_racy(svc: Service, order_id: int, now: datetime,
                 rendezvous: threading.Barrier | None = None) -> bool:
    """``double-restock`` fault: check the state, pause, then expire without re-checking.
    With ``rendezvous``, the sweeper's two expirers both have read before either writes
    (a pause alone loses the race when a loaded machine starts the second one late)."""
    o = t.orders
    with svc.db.read() as conn:
        row = conn.execute(select(o.c.state, o.c.expires_at, o.c.product_id, o.c.quantity)
                           .where(o.c.id == order_id)).first()
    if rendezvous is not None:
        try:
            rendezvous.wait(timeout=max(1.0, 20 * svc.settings.fault_gap))
        except threading.BrokenBarrierError:
            pass
    if row is None or row.state != "reserved" or row.expires_at > now:
        return False
    time.sleep(svc.settings.fault_gap)
    with svc.db.write() as conn:
        conn.execute(update(o).where(o.c.id == order_id).values(
            state="expired", closed_at=now, retain_until=svc.retain_from(o.c.retain_until, now)))
        _return_units(conn, row.product_id, row.quantity, order_id)
    return True


def expire_due(svc: Service, limit: int = 1000) -> int:
    """Expire every overdue reserved order (the sweeper, and reads that need fresh state)."""
    now = svc.now()
    o = t.orders
    with svc.db.read() as conn:
        due = conn.execute(select(o.c.id).where(o.c.state == "reserved", o.c.expires_at <= now)
                           .order_by(o.c.expires_at).limit(limit)).scalars().all()
    if due and svc.settings.has(Fault.DOUBLE_RESTOCK):
        # the fault's sweeper also "retries" each expiry from a second thread, the way a
        # timed-out job runner would: two expirers race on every order, so the unguarded
        # expiry below returns the units twice whenever anything expires, not just when a
        # reader happens to collide with the sweeper
        from concurrent.futures import ThreadPoolExecutor

        gates = {i: threading.Barrier(2) for i in due}
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(lambda _: sum(expire_order(svc, i, now, gates[i])
                                               for i in due), range(2)))
        return max(done)
    return sum(expire_order(svc, order_id, now) for order_id in due)


def refresh(svc: Service, row: RowMapping) -> RowMapping:
    """On-read expiry: an overdue reserved order is expired before anyone sees it."""
    if row["state"] == "reserved" and row["expires_at"] <= svc.now():
        expire_order(svc, row["id"], svc.now())
        with svc.db.read() as conn:
            fresh = find_order(conn, row["id"])
        assert fresh is not None
        return fresh
    return row


def pay_order(svc: Service, row: RowMapping) -> RowMapping:
    """reserved -> paid, with a receipt in the same transaction; paying twice is a no-op."""
    o = t.orders
    now = svc.now()
    with svc.db.write() as conn:
        won = conn.execute(
            update(o).where(o.c.id == row["id"], o.c.state == "reserved", o.c.expires_at > now)
            .values(state="paid", paid_at=now)
        ).rowcount == 1
        if won and row["broadcast_id"] is not None:
            stamp_deadlines(conn, row["id"], row["broadcast_id"], now)
        if won and not svc.settings.has(Fault.NO_RECEIPT):
            conn.execute(insert(t.receipts).values(
                order_id=row["id"], receipt_no=f"R{now:%Y%m%d}-{row['id']:010d}",
                amount_cents=row["amount_cents"], issued_at=now,
                retain_until=svc.retain_until(now)))
    fresh = refresh(svc, _reload(svc, row["id"]))
    if fresh["state"] != "paid":
        raise conflict(f"order_{fresh['state']}",
                       f"order {row['id']} is {fresh['state']}; only a reserved order within "
                       f"its payment timeout can be paid")
    return fresh


def cancel_order(svc: Service, row: RowMapping) -> RowMapping:
    """reserved -> cancelled by the buyer, returning the units exactly once."""
    o = t.orders
    now = svc.now()

    def cancel(conn: Connection) -> None:
        won = conn.execute(
            update(o).where(o.c.id == row["id"], o.c.state == "reserved", o.c.expires_at > now)
            .values(state="cancelled", closed_at=now,
                    retain_until=svc.retain_from(o.c.retain_until, now))
            .returning(o.c.product_id, o.c.quantity)
        ).first()
        if won is not None:
            _return_units(conn, won.product_id, won.quantity, row["id"])

    svc.db.transact(cancel)
    fresh = refresh(svc, _reload(svc, row["id"]))
    if fresh["state"] != "cancelled":
        raise conflict(f"order_{fresh['state']}",
                       f"order {row['id']} is {fresh['state']}; only a reserved order can be "
                       f"cancelled")
    return fresh


def _reload(svc: Service, order_id: int) -> RowMapping:
    with svc.db.read() as conn:
        row = find_order(conn, order_id)
    if row is None:
        raise not_found("order", order_id)
    return row


# --- what viewers see, and the books -----------------------------------------------------
def displayed(svc: Service, sku: str, remaining: int) -> int:
    """The stock shown to viewers: the real figure, unless ``stale-display`` caches it."""
    if svc.settings.has(Fault.STALE_DISPLAY):
        return svc.cached_display(sku, remaining)
    return remaining


def ledger(svc: Service, sku: str | None = None,
           merchant_id: int | None = None) -> list[LedgerOut]:
    """Per SKU: where every unit is, read in one snapshot so concurrent orders cannot tear
    it."""
    expire_due(svc)
    p, o = t.products, t.orders
    query = select(p.c.id, p.c.sku, p.c.merchant_id, p.c.initial_stock, p.c.restocked,
                   buckets.sellable(), buckets.lowest(), p.c.returned).order_by(p.c.id)
    totals = select(o.c.product_id, o.c.state, func.sum(o.c.quantity).label("units")) \
        .group_by(o.c.product_id, o.c.state)
    if sku is not None:
        query = query.where(p.c.sku == sku)
    if merchant_id is not None:
        query = query.where(p.c.merchant_id == merchant_id)
    with svc.db.read(snapshot=True) as conn:
        prods = conn.execute(query).all()
        units: dict[tuple[int, str], int] = {
            (r.product_id, r.state): int(r.units) for r in conn.execute(totals)}
    out = []
    for r in prods:
        sold = units.get((r.id, "paid"), 0)
        reserved = units.get((r.id, "reserved"), 0)
        released = sum(units.get((r.id, s), 0) for s in RELEASED)
        supply = r.initial_stock + r.restocked
        out.append(LedgerOut(
            sku=r.sku, merchant_id=r.merchant_id, initial=r.initial_stock,
            restocked=r.restocked, sold=sold, reserved=reserved, remaining=r.remaining,
            released=released, returned=r.returned,
            balanced=supply == sold + reserved + r.remaining and r.returned == released
            and r.remaining >= 0 and r.lowest_bucket >= 0,
            oversold=max(0, sold + reserved - supply)))
    return out
