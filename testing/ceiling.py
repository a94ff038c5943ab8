"""What one stock row can do on this database: the bare driver loop the service is held to.

N threads, each with its own ``sqlite3`` or ``psycopg`` connection and no framework, place
orders of one SKU as fast as they can, one transaction an order: the conditional decrement,
the order's insert and a durable commit — the very statements the service runs (compiled
from :mod:`simlive.service.placing` and :mod:`simlive.service.buckets`), on the service's own
schema. On one row every transaction holds the row's lock from its decrement to its commit,
so orders commit one after another: that rate is the row's ceiling. With ``buckets`` each
thread decrements its own bucket (thread i takes bucket i mod k).

Bounded in time and in count; the stock is checked afterwards (units taken = orders made).
For benchmarks/bench_service.py and the tests (tests/service/test_hot_sku.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from simlive.service import buckets as bk
from simlive.service import sql_tables as t
from simlive.service.db import SQLITE_PRAGMAS, Database
from simlive.service.placing import HOT
from simlive.service.rawsql import Statements

SKU = "CEILING-HOT"
STOCK = 10**9


@dataclass(frozen=True)
class LoopResult:
    connections: int
    buckets: int
    orders: int
    seconds: float
    oversold: int  # units taken beyond the orders made (must be 0)

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


def bare_loop(url: str, connections: int, seconds: float, buckets: int = 1,
              max_orders: int = 2_000_000) -> LoopResult:
    """Run the loop on a fresh product in the database at ``url`` (the service's schema is
    created if missing). SQLite runs with the service's pragmas (WAL, ``synchronous=FULL``,
    ``BEGIN IMMEDIATE``); PostgreSQL with the server's own ``fsync``/``synchronous_commit``."""
    db = Database(url)
    try:
        db.create_schema()
        product_id, buyers = _prepare(db, connections, buckets)
        sql = Statements(db.engine.dialect, {**HOT, **bk.HOT})
        connect = _connector(db)
    finally:
        db.dispose()
    budget = [max_orders]
    counts = [0] * connections
    lock = threading.Lock()
    ready = threading.Barrier(connections + 1, timeout=60)  # the clock starts when all are
    clock: list[float] = []

    def worker(i: int) -> None:
        conn = connect()
        cur = conn.cursor()
        ready.wait()
        deadline = clock[0] + seconds
        now = datetime.now(UTC)
        order = {"buyer_id": buyers[i], "product_id": product_id, "sku": SKU, "quantity": 1,
                 "amount_cents": 100, "state": "reserved", "broadcast_id": None,
                 "request_hash": "0" * 64, "created_at": now,
                 "expires_at": now + timedelta(hours=1), "paid_at": None, "closed_at": None,
                 "delivered_at": None, "retain_until": now + timedelta(days=365)}
        take = sql["take_own"] if buckets > 1 else sql["reserve"]
        take_args = {"b_product": product_id, "b_qty": 1, "b_bucket": i % buckets}
        n = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                if isinstance(conn, sqlite3.Connection):
                    cur.execute("BEGIN IMMEDIATE")
                cur.execute(take.sql, take.params(take_args))
                if cur.rowcount != 1:
                    conn.rollback()
                    break
                cur.execute(sql["insert"].sql, sql["insert"].params(
                    {**order, "idempotency_key": f"ceiling-{i}-{n}"}))
                cur.fetchone()
                conn.commit()
                n += 1
        finally:
            counts[i] = n
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for thread in threads:
        thread.start()
    clock.append(time.monotonic())
    ready.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - clock[0]
    return LoopResult(connections, buckets, sum(counts), elapsed,
                      _oversold(url, product_id, sum(counts)))


def _prepare(db: Database, connections: int, buckets: int) -> tuple[int, list[int]]:
    """A fresh product (its SKU suffixed if the database has run a loop before) and one
    buyer per connection."""
    u, p = t.users, t.products
    now = datetime.now(UTC)
    with db.write() as conn:
        tag = conn.execute(select(p.c.id).order_by(p.c.id.desc()).limit(1)).scalar() or 0
        merchant = conn.execute(insert(u).values(
            name="ceiling-merchant", role="merchant", token_hash=f"ceiling-m-{tag}",
            created_at=now).returning(u.c.id)).scalar_one()
        product_id = conn.execute(insert(p).values(
            sku=f"{SKU}-{tag}", merchant_id=merchant, name="ceiling", price_cents=100,
            initial_stock=STOCK, restocked=0, remaining=STOCK if buckets == 1 else 0,
            returned=0, stock_buckets=buckets, created_at=now).returning(p.c.id)).scalar_one()
        if buckets > 1:
            bk.create(conn, product_id, STOCK, buckets)
        buyers = [conn.execute(insert(u).values(
            name=f"ceiling-{i}", role="buyer", token_hash=f"ceiling-{tag}-{i}",
            created_at=now).returning(u.c.id)).scalar_one() for i in range(connections)]
    return product_id, buyers


def _connector(db: Database) -> Any:
    if db.is_sqlite:
        path = db.url.database

        def sqlite_connection() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(f"PRAGMA {pragma}")
            return conn

        return sqlite_connection
    import psycopg

    conninfo = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return lambda: psycopg.connect(conninfo)


def _oversold(url: str, product_id: int, orders: int) -> int:
    """Units taken from the stock beyond the orders made."""
    db = Database(url)
    try:
        with db.read() as conn:
            left = conn.execute(select(bk.sellable()).where(t.products.c.id == product_id)
                                ).scalar_one()
            made = conn.execute(select(t.orders.c.id).where(
                t.orders.c.product_id == product_id)).all()
    finally:
        db.dispose()
    assert len(made) == orders, f"{len(made)} orders stored, {orders} counted"
    return STOCK - left - orders
