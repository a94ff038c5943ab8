"""Stock, orders and payment: the code that keeps ``stock.*`` and ``evidence.receipt``.

The invariants live in single SQL statements, not in Python:

- a reservation is ``UPDATE products SET remaining = remaining - :q WHERE sku = :sku AND
  remaining >= :q``: the database serialises buyers of one SKU on its row and the stock can
  never go below zero;
- an order leaves ``reserved`` exactly once, by a conditional transition (``UPDATE orders ...
  WHERE state = 'reserved'``): payment (``AND expires_at > now``) and expiry (``AND expires_at
  <= now``) cannot both win, and only the expiry that wins returns the units;
- the idempotency key is looked up in the same write transaction and backed by a unique index
  on ``(buyer_id, idempotency_key)``: of two concurrent requests with one key, the loser's
  whole transaction (its stock decrement included) rolls back and it answers with the
  winner's order.

The ``oversell`` and ``double-restock`` faults replace the first two with read-then-write code
separated by ``fault_gap`` so that concurrent requests really interleave.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from simlive.service import tables as t
from simlive.service.core import Caller, Service
from simlive.service.faults import Fault
from simlive.service.problems import ApiError, conflict, not_found
from simlive.service.schemas import LedgerOut, OrderCreate

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


def find_order(conn: Connection, order_id: int) -> RowMapping | None:
    return conn.execute(order_select().where(t.orders.c.id == order_id)).mappings().first()


# --- placing -----------------------------------------------------------------------------
class _Replay(Exception):
    """The key was used before: leave the transaction (rolling it back) with that order."""

    def __init__(self, row: RowMapping) -> None:
        super().__init__(row["id"])
        self.row = row


async def place_order(svc: Service, caller: Caller, key: str,
                      body: OrderCreate) -> tuple[Mapping[str, Any], bool]:
    """Reserve stock and create an order; ``(order, created)``. A repeated key with the same
    body returns the first order (``created`` false); with another body, 409.

    One write transaction does it all (key lookup, reservation, limit, insert): the hot path
    of a flash sale. Two requests racing with one key on PostgreSQL both get past the lookup;
    the unique index stops the second, whose stock decrement rolls back with it.
    """
    digest = request_hash(body)
    try:
        if svc.settings.has(Fault.OVERSELL):
            return await run_in_threadpool(_place_racy, svc, caller, key, digest, body), True
        return await svc.db.run_write(
            lambda conn: _place(svc, conn, caller, key, digest, body)), True
    except _Replay as replay:
        return _replayed(replay.row, digest, key), False
    except IntegrityError:
        existing = await run_in_threadpool(_read_by_key, svc, caller.id, key)
        if existing is None:
            raise
        return _replayed(existing, digest, key), False


def _read_by_key(svc: Service, buyer_id: int, key: str) -> RowMapping | None:
    with svc.db.read() as conn:
        return _by_key(conn, buyer_id, key)


# The hot path's statements are built once: building a SQLAlchemy statement per request
# costs more than SQLite takes to run it.
_o, _p = t.orders, t.products
_BY_KEY = select(_o.c.id).where(_o.c.buyer_id == bindparam("b_buyer"),
                                _o.c.idempotency_key == bindparam("b_key"))
_RESERVE = (update(_p).where(_p.c.sku == bindparam("b_sku"),
                             _p.c.remaining >= bindparam("b_qty"))
            .values(remaining=_p.c.remaining - bindparam("b_qty"))
            .returning(_p.c.id, _p.c.price_cents, _p.c.max_per_buyer))
_HELD = select(func.coalesce(func.sum(_o.c.quantity), 0)).where(
    _o.c.buyer_id == bindparam("b_buyer"), _o.c.product_id == bindparam("b_product"),
    _o.c.state.in_(ACTIVE))
_INSERT_ORDER = insert(_o).returning(_o.c.id)
_BROADCAST = select(t.broadcasts.c.id).where(t.broadcasts.c.id == bindparam("b_id"))
_PRESENTED = (select(t.broadcast_products.c.product_id)
              .join(_p, _p.c.id == t.broadcast_products.c.product_id)
              .where(t.broadcast_products.c.broadcast_id == bindparam("b_id"),
                     _p.c.sku == bindparam("b_sku")))
_PRODUCT = select(_p.c.id).where(_p.c.sku == bindparam("b_sku"))


def _by_key(conn: Connection, buyer_id: int, key: str) -> RowMapping | None:
    order_id = conn.execute(_BY_KEY, {"b_buyer": buyer_id, "b_key": key}).scalar()
    return None if order_id is None else find_order(conn, order_id)


def _check_key(conn: Connection, buyer_id: int, key: str) -> None:
    existing = _by_key(conn, buyer_id, key)
    if existing is not None:
        raise _Replay(existing)


def _replayed(row: RowMapping, digest: str, key: str) -> RowMapping:
    if row["request_hash"] != digest:
        raise conflict("idempotency_mismatch",
                       f"Idempotency-Key {key!r} was already used for a different request "
                       f"(order {row['id']}); use a new key for a new order")
    return row


def _check_broadcast(conn: Connection, broadcast_id: int | None, sku: str) -> None:
    """An order may cite a broadcast only if the broadcast presents its SKU (its merchant
    linked it: a broadcast cannot be credited with another merchant's sales)."""
    if broadcast_id is None:
        return
    if conn.execute(_BROADCAST, {"b_id": broadcast_id}).first() is None:
        raise not_found("broadcast", broadcast_id)
    if conn.execute(_PRESENTED, {"b_id": broadcast_id, "b_sku": sku}).first() is None:
        raise conflict("not_presented", f"broadcast {broadcast_id} does not present {sku!r}")


def _check_limit(conn: Connection, buyer_id: int, product_id: int, limit: int | None,
                 quantity: int) -> None:
    if limit is None:
        return
    held = conn.execute(_HELD, {"b_buyer": buyer_id, "b_product": product_id}).scalar_one()
    if held + quantity > limit:
        raise conflict("buyer_limit", f"buyer already holds {held} of at most {limit} units; "
                                      f"{quantity} more is over the limit")


def _insert_order(svc: Service, conn: Connection, caller: Caller, key: str, digest: str,
                  body: OrderCreate, product_id: int, price: int) -> dict[str, Any]:
    """Insert the order; the row as stored (built here: no second read on the hot path)."""
    now = svc.now()
    row: dict[str, Any] = dict(
        buyer_id=caller.id, product_id=product_id, sku=body.sku, quantity=body.quantity,
        amount_cents=price * body.quantity, state="reserved", broadcast_id=body.broadcast_id,
        created_at=now, expires_at=now + timedelta(seconds=svc.settings.payment_timeout),
        paid_at=None, closed_at=None, delivered_at=None, retain_until=svc.retain_until(now))
    row["id"] = conn.execute(_INSERT_ORDER, {"idempotency_key": key, "request_hash": digest,
                                             **row}).scalar_one()
    return row


def _sold_out(conn: Connection, sku: str, quantity: int) -> ApiError:
    if conn.execute(_PRODUCT, {"b_sku": sku}).first() is None:
        return not_found("product", sku)
    return conflict("sold_out", f"product {sku!r} has fewer than {quantity} units left")


def _place(svc: Service, conn: Connection, caller: Caller, key: str, digest: str,
           body: OrderCreate) -> dict[str, Any]:
    """The whole reservation, inside the caller's write transaction.

    The idempotency key is looked up only when the order cannot be placed (a retry of a
    placed order must get that order, not "sold out"); on success the unique index stands
    guard, which saves a query on the hot path.
    """
    try:
        _check_broadcast(conn, body.broadcast_id, body.sku)
        prod = conn.execute(_RESERVE, {"b_sku": body.sku, "b_qty": body.quantity}).first()
        if prod is None:
            raise _sold_out(conn, body.sku, body.quantity)
        _check_limit(conn, caller.id, prod.id, prod.max_per_buyer, body.quantity)
    except ApiError:
        _check_key(conn, caller.id, key)
        raise
    return _insert_order(svc, conn, caller, key, digest, body, prod.id, prod.price_cents)


def _place_racy(svc: Service, caller: Caller, key: str, digest: str,
                body: OrderCreate) -> dict[str, Any]:
    """``oversell`` fault: read the stock, pause, write back ``read - quantity``."""
    p = t.products
    with svc.db.read() as conn:
        _check_key(conn, caller.id, key)
        prod = conn.execute(select(p.c.id, p.c.remaining, p.c.price_cents, p.c.max_per_buyer)
                            .where(p.c.sku == body.sku)).first()
        if prod is None or prod.remaining < body.quantity:
            raise _sold_out(conn, body.sku, body.quantity)
    time.sleep(svc.settings.fault_gap)
    with svc.db.write() as conn:
        _check_key(conn, caller.id, key)
        _check_broadcast(conn, body.broadcast_id, body.sku)
        conn.execute(update(p).where(p.c.id == prod.id)
                     .values(remaining=prod.remaining - body.quantity))
        _check_limit(conn, caller.id, prod.id, prod.max_per_buyer, body.quantity)
        return _insert_order(svc, conn, caller, key, digest, body, prod.id, prod.price_cents)


# --- leaving "reserved" ------------------------------------------------------------------
def _return_units(conn: Connection, product_id: int, quantity: int) -> None:
    p = t.products
    conn.execute(update(p).where(p.c.id == product_id).values(
        remaining=p.c.remaining + quantity, returned=p.c.returned + quantity))


def expire_order(svc: Service, order_id: int, now: datetime,
                 rendezvous: threading.Barrier | None = None) -> bool:
    """Expire one overdue reserved order and return its units, exactly once."""
    if svc.settings.has(Fault.DOUBLE_RESTOCK):
        return _expire_racy(svc, order_id, now, rendezvous)
    o = t.orders
    with svc.db.write() as conn:
        row = conn.execute(
            update(o).where(o.c.id == order_id, o.c.state == "reserved", o.c.expires_at <= now)
            .values(state="expired", closed_at=now).returning(o.c.product_id, o.c.quantity)
        ).first()
        if row is None:
            return False
        _return_units(conn, row.product_id, row.quantity)
    return True


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
        conn.execute(update(o).where(o.c.id == order_id).values(state="expired", closed_at=now))
        _return_units(conn, row.product_id, row.quantity)
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
    with svc.db.write() as conn:
        won = conn.execute(
            update(o).where(o.c.id == row["id"], o.c.state == "reserved", o.c.expires_at > now)
            .values(state="cancelled", closed_at=now).returning(o.c.product_id, o.c.quantity)
        ).first()
        if won is not None:
            _return_units(conn, won.product_id, won.quantity)
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
                   p.c.remaining, p.c.returned).order_by(p.c.id)
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
            and r.remaining >= 0,
            oversold=max(0, sold + reserved - supply)))
    return out
