"""Placing an order: the flash sale's hot path.

- a reservation is a conditional decrement (``UPDATE products SET remaining = remaining - :q
  WHERE id = :id AND remaining >= :q``, or the same on one of its stock buckets): the
  database serialises buyers of one row and the stock can never go below zero;
- the idempotency key is backed by a unique index on ``(buyer_id, idempotency_key)``: of two
  concurrent requests with one key, the loser's whole transaction (its stock decrement
  included) rolls back and it answers with the winner's order;
- orders are written by the group commit (``Database.run_write``); the orders of one SKU in
  a batch are placed with one decrement of their total and one insert (:func:`merge_orders`).

The ``oversell`` fault replaces the decrement with read-then-write code separated by
``fault_gap`` so that concurrent requests really interleave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from simlive.service import buckets, rawsql
from simlive.service import sql_tables as t
from simlive.service.bodies import OrderCreate
from simlive.service.core import Caller, Service
from simlive.service.db import LANE
from simlive.service.faults import Fault
from simlive.service.problems import ApiError, conflict, not_found
from simlive.service.stock import ACTIVE, OrderRow, find_order, request_hash


class _Replay(Exception):
    """The key was used before: leave the transaction (rolling it back) with that order."""

    def __init__(self, row: RowMapping) -> None:
        super().__init__(row["id"])
        self.row = row


async def place_order(svc: Service, caller: Caller, key: str,
                      body: OrderCreate) -> tuple[OrderRow, bool]:
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
        try:
            return await svc.db.run_write(OrderWork(svc, caller, key, digest, body)), True
        except buckets.Busy:
            return await run_in_threadpool(_place_waiting, svc, caller, key, digest,
                                           body), True
    except _Replay as replay:
        return _replayed(replay.row, digest, key), False
    except IntegrityError:
        existing = await run_in_threadpool(_read_by_key, svc, caller.id, key)
        if existing is None:
            raise
        return _replayed(existing, digest, key), False


def _place_waiting(svc: Service, caller: Caller, key: str, digest: str,
                   body: OrderCreate) -> dict[str, Any]:
    """An order whose units are in buckets other transactions hold, in a transaction of its
    own that may wait for them (see :func:`simlive.service.buckets.take`)."""
    def place(conn: Connection) -> dict[str, Any]:
        conn.info[MAY_WAIT] = True
        try:
            return _place(svc, conn, caller, key, digest, body)
        finally:
            conn.info.pop(MAY_WAIT, None)

    return svc.db.transact(place)


def _read_by_key(svc: Service, buyer_id: int, key: str) -> RowMapping | None:
    with svc.db.read() as conn:
        return _by_key(conn, buyer_id, key)


# The hot path's statements: SQLAlchemy Core, compiled once per dialect and run on the
# driver's cursor (see rawsql: SQLAlchemy's per-execution cost was 8x the statements' own).
_o, _p = t.orders, t.products
MAY_WAIT = "simlive_may_wait"  # conn.info key: this transaction may wait for held buckets
_ORDER_VALUES = ("buyer_id", "product_id", "sku", "quantity", "amount_cents", "state",
                 "broadcast_id", "idempotency_key", "request_hash", "created_at", "expires_at",
                 "paid_at", "closed_at", "delivered_at", "retain_until")
HOT = {
    "reserve": update(_p).where(_p.c.id == bindparam("b_product"),
                                _p.c.remaining >= bindparam("b_qty"))
    .values(remaining=_p.c.remaining - bindparam("b_qty")),
    "held": select(func.coalesce(func.sum(_o.c.quantity), 0)).where(
        _o.c.buyer_id == bindparam("b_buyer"), _o.c.product_id == bindparam("b_product"),
        or_(*(_o.c.state == state for state in ACTIVE))),
    "insert": insert(_o).values({c: bindparam(c, type_=_o.c[c].type) for c in _ORDER_VALUES})
    .returning(_o.c.id),
    "broadcast": select(t.broadcasts.c.id).where(t.broadcasts.c.id == bindparam("b_id")),
    "presented": select(t.broadcast_products.c.product_id)
    .join(_p, _p.c.id == t.broadcast_products.c.product_id)
    .where(t.broadcast_products.c.broadcast_id == bindparam("b_id"),
           _p.c.sku == bindparam("b_sku")),
    "price": select(func.coalesce(_p.c.sale_price_cents, _p.c.price_cents))
    .where(_p.c.id == bindparam("b_product")),
    "facts": select(_p.c.id, _p.c.max_per_buyer, _p.c.stock_buckets)
    .where(_p.c.sku == bindparam("b_sku")),
    "by_key": select(_o.c.id).where(_o.c.buyer_id == bindparam("b_buyer"),
                                    _o.c.idempotency_key == bindparam("b_key")),
}


class _Sql:
    """The hot statements of this connection's dialect and a cursor in its transaction."""

    def __init__(self, svc: Service, conn: Connection) -> None:
        self.conn = conn
        self.statements = svc.db.statements(HOT)
        self.cur = rawsql.cursor(conn)

    def first(self, name: str, **values: Any) -> Any:
        return rawsql.first(self.cur, self.statements[name], values)


@dataclass(frozen=True)
class Facts:
    """What never changes about a product once listed: read once per process, so that an
    order of a bucketed SKU never touches the product's row (that row would be the hot lock
    again)."""

    id: int
    max_per_buyer: int | None
    buckets: int


def _facts(svc: Service, sql: _Sql, sku: str) -> Facts:
    hit = svc.products.get(sku)
    if hit is None:
        row = sql.first("facts", b_sku=sku)
        if row is None:
            raise not_found("product", sku)
        hit = svc.products[sku] = Facts(row[0], row[1], row[2] or 1)
    return hit


def _price(sql: _Sql, facts: Facts) -> int:
    """The unit price in force, read in the order's transaction: a flash sale's price may
    change at any moment (``Facts`` holds only what never changes)."""
    return int(sql.first("price", b_product=facts.id)[0])


def _by_key(conn: Connection, buyer_id: int, key: str) -> RowMapping | None:
    order_id = conn.execute(HOT["by_key"], {"b_buyer": buyer_id, "b_key": key}).scalar()
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


def _check_broadcast(sql: _Sql, broadcast_id: int | None, sku: str) -> None:
    """An order may cite a broadcast only if the broadcast presents its SKU (its merchant
    linked it: a broadcast cannot be credited with another merchant's sales)."""
    if broadcast_id is None:
        return
    if sql.first("broadcast", b_id=broadcast_id) is None:
        raise not_found("broadcast", broadcast_id)
    if sql.first("presented", b_id=broadcast_id, b_sku=sku) is None:
        raise conflict("not_presented", f"broadcast {broadcast_id} does not present {sku!r}")


def _check_limit(sql: _Sql, buyer_id: int, product_id: int, limit: int | None,
                 quantity: int) -> None:
    if limit is None:
        return
    held = sql.first("held", b_buyer=buyer_id, b_product=product_id)[0]
    if held + quantity > limit:
        raise conflict("buyer_limit", f"buyer already holds {held} of at most {limit} units; "
                                      f"{quantity} more is over the limit")


def _order_row(svc: Service, caller: Caller, body: OrderCreate, product_id: int, price: int,
               now: datetime) -> dict[str, Any]:
    """The order as it is stored (built here: no second read on the hot path)."""
    return dict(
        buyer_id=caller.id, product_id=product_id, sku=body.sku, quantity=body.quantity,
        amount_cents=price * body.quantity, state="reserved", broadcast_id=body.broadcast_id,
        created_at=now, expires_at=now + timedelta(seconds=svc.settings.payment_timeout),
        paid_at=None, closed_at=None, delivered_at=None, retain_until=svc.retain_until(now))


def _insert_order(svc: Service, sql: _Sql, caller: Caller, key: str, digest: str,
                  body: OrderCreate, product_id: int, price: int) -> dict[str, Any]:
    row = _order_row(svc, caller, body, product_id, price, svc.now())
    row["id"] = sql.first("insert", idempotency_key=key, request_hash=digest, **row)[0]
    return row


def _sold_out(sku: str, quantity: int) -> ApiError:
    return conflict("sold_out", f"product {sku!r} has fewer than {quantity} units left")


def _reserve(svc: Service, sql: _Sql, facts: Facts, quantity: int) -> bool:
    """Take the units in this transaction: from the product's row, or from its buckets (the
    writer's lane decides which bucket it tries first)."""
    if facts.buckets > 1:
        own = svc.bucket_salt + sql.conn.info.get(LANE, 0)
        return buckets.take(sql.cur, svc.db.statements(buckets.HOT), facts.id, facts.buckets,
                            own, quantity, may_wait=sql.conn.info.get(MAY_WAIT, False))
    return rawsql.count(sql.cur, sql.statements["reserve"],
                        {"b_product": facts.id, "b_qty": quantity}) == 1


def _place(svc: Service, conn: Connection, caller: Caller, key: str, digest: str,
           body: OrderCreate) -> dict[str, Any]:
    """The whole reservation, inside the caller's write transaction.

    The idempotency key is looked up only when the order cannot be placed (a retry of a
    placed order must get that order, not "sold out"); on success the unique index stands
    guard, which saves a query on the hot path.
    """
    sql = _Sql(svc, conn)
    try:
        _check_broadcast(sql, body.broadcast_id, body.sku)
        facts = _facts(svc, sql, body.sku)
        if not _reserve(svc, sql, facts, body.quantity):
            raise _sold_out(body.sku, body.quantity)
        _check_limit(sql, caller.id, facts.id, facts.max_per_buyer, body.quantity)
    except ApiError:
        _check_key(conn, caller.id, key)
        raise
    return _insert_order(svc, sql, caller, key, digest, body, facts.id, _price(sql, facts))


def _place_racy(svc: Service, caller: Caller, key: str, digest: str,
                body: OrderCreate) -> dict[str, Any]:
    """``oversell`` fault: read the stock, pause, write back ``read - quantity`` (the SKU's
    row, or one of its buckets)."""
    with svc.db.read() as conn:
        _check_key(conn, caller.id, key)
        facts = _facts(svc, _Sql(svc, conn), body.sku)
        if facts.buckets > 1:
            row: Any = t.stock_buckets
            where = [row.c.product_id == facts.id,
                     row.c.bucket == svc.bucket_salt % facts.buckets]
        else:
            row = t.products
            where = [row.c.id == facts.id]
        seen = conn.execute(select(row.c.remaining).where(*where)).scalar_one()
        if seen < body.quantity:
            raise _sold_out(body.sku, body.quantity)
    time.sleep(svc.settings.fault_gap)
    with svc.db.write() as conn:
        _check_key(conn, caller.id, key)
        sql = _Sql(svc, conn)
        _check_broadcast(sql, body.broadcast_id, body.sku)
        conn.execute(update(row).where(*where).values(remaining=seen - body.quantity))
        _check_limit(sql, caller.id, facts.id, facts.max_per_buyer, body.quantity)
        return _insert_order(svc, sql, caller, key, digest, body, facts.id, _price(sql, facts))


# --- orders of one batch placed together -------------------------------------------------
class OrderWork:
    """One order for the group commit: run alone (``__call__``, in a savepoint of its own),
    or with the batch's other orders (``merger``)."""

    __slots__ = ("svc", "caller", "key", "digest", "body")
    merger: Callable[[Connection, list[OrderWork]], dict[int, Any]]

    def __init__(self, svc: Service, caller: Caller, key: str, digest: str,
                 body: OrderCreate) -> None:
        self.svc, self.caller, self.key, self.digest, self.body = svc, caller, key, digest, body

    def __call__(self, conn: Connection) -> dict[str, Any]:
        return _place(self.svc, conn, self.caller, self.key, self.digest, self.body)


def merge_orders(conn: Connection, works: list[OrderWork]) -> dict[int, dict[str, Any]]:
    """Place the batch's orders of each SKU with one decrement and one insert; which ones
    were placed (by position), with their rows. The rest run alone, one after another.

    Orders answered in one commit may be applied in any order, so n orders of one SKU are
    one order of their total: the stock row (or bucket) is taken once, not n times in a row.
    That is where a hot SKU's time went (per order: a savepoint, a decrement and an insert
    holding the hot row's lock). An order is merged only when nothing about it can refuse it
    alone: its product's facts are known, the broadcast it cites (if any) presents the SKU,
    and its buyer stays within the per-buyer limit counting the group's earlier orders. A
    group whose total the stock cannot cover, or whose insert meets a used idempotency key,
    is rolled back and its orders run alone, in order: then each gets exactly the answer it
    would have got by itself.
    """
    svc = works[0].svc
    sql = _Sql(svc, conn)
    groups: dict[str, list[int]] = {}
    for i, work in enumerate(works):
        if work.body.sku in svc.products:
            groups.setdefault(work.body.sku, []).append(i)
    cites: dict[tuple[int, str], bool] = {}
    placed: dict[int, dict[str, Any]] = {}
    for sku, members in groups.items():
        members = [i for i in members if _cites_ok(sql, works[i].body, cites)]
        members = _within_limits(conn, svc.products[sku], works, members)
        if len(members) < 2:
            continue
        facts = svc.products[sku]
        sql.cur.execute("SAVEPOINT merged")
        try:
            if not _reserve(svc, sql, facts, sum(works[i].body.quantity for i in members)):
                raise _sold_out(sku, 0)
            rows = _insert_many(svc, sql, [works[i] for i in members], facts)
        except (ApiError, IntegrityError, buckets.Busy):
            sql.cur.execute("ROLLBACK TO SAVEPOINT merged")
        else:
            placed.update(zip(members, rows, strict=True))
        if svc.db.is_sqlite:
            sql.cur.execute("RELEASE SAVEPOINT merged")
    return placed


OrderWork.merger = staticmethod(merge_orders)


def _within_limits(conn: Connection, facts: Facts, works: list[OrderWork],
                   members: list[int]) -> list[int]:
    """The members whose buyer stays within the product's per-buyer limit, counting what
    each already holds (one query for all the group's buyers) and the group's earlier
    orders; the others run alone (and are refused there)."""
    if facts.max_per_buyer is None:
        return members
    buyers = sorted({works[i].caller.id for i in members})
    held: dict[int, int] = dict(conn.execute(
        select(_o.c.buyer_id, func.sum(_o.c.quantity))
        .where(_o.c.product_id == facts.id, _o.c.buyer_id.in_(buyers), _o.c.state.in_(ACTIVE))
        .group_by(_o.c.buyer_id)).all())
    kept = []
    for i in members:
        buyer, quantity = works[i].caller.id, works[i].body.quantity
        if held.get(buyer, 0) + quantity <= facts.max_per_buyer:
            held[buyer] = held.get(buyer, 0) + quantity
            kept.append(i)
    return kept


def _cites_ok(sql: _Sql, body: OrderCreate, seen: dict[tuple[int, str], bool]) -> bool:
    if body.broadcast_id is None:
        return True
    pair = (body.broadcast_id, body.sku)
    if pair not in seen:
        seen[pair] = sql.first("presented", b_id=body.broadcast_id, b_sku=body.sku) is not None
    return seen[pair]


class _Inserts(dict[str, Any]):
    """``insert_<n>``: one INSERT of n orders, built when first asked for."""

    def __missing__(self, name: str) -> Any:
        n = int(name.removeprefix("insert_"))
        stmt = insert(_o).values([{c: bindparam(f"{c}_{j}", type_=_o.c[c].type)
                                   for c in _ORDER_VALUES} for j in range(n)]) \
            .returning(_o.c.id, _o.c.idempotency_key)
        self[name] = stmt
        return stmt


MANY = _Inserts()


def _insert_many(svc: Service, sql: _Sql, works: list[OrderWork],
                 facts: Facts) -> list[dict[str, Any]]:
    """Insert the orders in one round trip: one multi-row INSERT on SQLite; on PostgreSQL
    the one-row INSERT, prepared once, sent for every row in a pipeline (a 64-row INSERT's
    text is too long for psycopg to cache: it parsed it again on every batch)."""
    now = svc.now()
    rows, params = [], []
    price = _price(sql, facts)
    for work in works:
        row = _order_row(svc, work.caller, work.body, facts.id, price, now)
        rows.append(row)
        params.append({**row, "idempotency_key": work.key, "request_hash": work.digest})
    if svc.db.is_sqlite:
        statement = svc.db.statements(MANY)[f"insert_{len(works)}"]
        values = {f"{c}_{j}": p[c] for j, p in enumerate(params) for c in _ORDER_VALUES}
        rawsql.execute(sql.cur, statement, values)
        ids = {key: order_id for order_id, key in sql.cur.fetchall()}
        for row, work in zip(rows, works, strict=True):
            row["id"] = ids[work.key]
    else:
        for row, order_id in zip(rows, rawsql.insert_each(sql.cur, sql.statements["insert"],
                                                          params), strict=True):
            row["id"] = order_id
    return rows
