"""The hot SKU's path: merged orders, stock buckets, write lanes, the order lane.

Real services (SQLite and PostgreSQL, one row and buckets, one writer lane and four) sell a
SKU out under real concurrent buyers; batches of chosen members check that a merged batch
gives each order the answer it would have got alone; the order lane answers byte for byte as
FastAPI does; the bare-loop ceiling keeps its stock; and the load harness with the checker
passes every stock rule against a service whose SKUs are bucketed.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from simlive.service import sql_tables as t
from simlive.service.app import create_app
from simlive.service.bodies import OrderCreate
from simlive.service.core import Caller, Service
from simlive.service.db import GroupCommit
from simlive.service.placing import OrderWork
from simlive.service.problems import ApiError
from simlive.service.process import ServiceProcess, http_client
from simlive.service.settings import Settings, TokenSpec
from simlive.service.stock import ledger
from testing.ceiling import bare_loop
from testing.postgres import TempPostgres
from testing.shop import Shop

HOT = Path(__file__).with_name("hot.yaml")
_batch_dbs = itertools.count(1)

# (service fixture, the product's stock_buckets): one row and buckets on both databases,
# and on PostgreSQL a service with 4 writer lanes both ways
CASES = {"sqlite-row": ("sqlite_service", None), "sqlite-buckets": ("sqlite_service", 4),
         "pg-row": ("pg_service", None), "pg-lanes-buckets": ("pg_lanes_service", None),
         "pg-lanes-row": ("pg_lanes_service", 1)}


@pytest.fixture(params=list(CASES))
def hot(request: pytest.FixtureRequest,
        shop_of: Callable[[ServiceProcess], Shop]) -> tuple[Shop, int | None]:
    name, buckets = CASES[request.param]
    return shop_of(request.getfixturevalue(name)), buckets


def test_concurrent_buyers_take_exactly_the_stock(hot: tuple[Shop, int | None]) -> None:
    """30 buyers, 1-3 units an order, a quarter cancelled (units back into stock), until
    sold out; then one buyer takes what is left one unit at a time: every unit sold once,
    none stranded in a bucket."""
    shop, buckets = hot
    stock = 150
    sku = shop.product(stock=stock, stock_buckets=buckets)
    barrier = threading.Barrier(30)

    def buyer(i: int) -> Counter[str]:
        rng = random.Random(i)
        seen: Counter[str] = Counter()
        with http_client(shop.svc.base_url, tokens[i], timeout=60) as c:
            barrier.wait(timeout=30)
            for _ in range(40):  # bounded
                r = shop.order(sku, rng.randint(1, 3), c)
                if r.status_code == 409:
                    assert r.json()["code"] == "sold_out", r.text
                    seen["sold_out"] += 1
                    break
                assert r.status_code == 201, r.text
                order = r.json()["id"]
                if rng.random() < 0.25:
                    assert c.post(f"/orders/{order}/cancel").status_code == 200
                    seen["cancelled"] += 1
                else:
                    assert c.post(f"/orders/{order}/pay").status_code == 200
                seen["placed"] += 1
        return seen

    tokens = shop.mint("buyer", 30)
    with ThreadPoolExecutor(30) as pool:
        seen = sum(pool.map(buyer, range(30)), Counter())
    assert seen["placed"] >= 40 and seen["cancelled"] > 0, seen
    last = shop.mint("buyer")[0]
    with http_client(shop.svc.base_url, last, timeout=60) as c:
        for _ in range(stock + 1):
            r = shop.order(sku, 1, c)
            if r.status_code == 409:
                break
            assert r.status_code == 201, r.text
            assert c.post(f"/orders/{r.json()['id']}/pay").status_code == 200
    book = shop.ledger(sku)
    assert book == {**book, "remaining": 0, "oversold": 0, "balanced": True,
                    "sold": stock, "reserved": 0}, book
    assert shop.buyer.get(f"/products/{sku}").json()["displayed_stock"] == 0
    paid = [o for o in shop.all("/admin/orders") if o["sku"] == sku and o["state"] == "paid"]
    assert sum(o["quantity"] for o in paid) == stock


@pytest.mark.parametrize("db", ["sqlite_service", "pg_service"])
def test_an_order_takes_units_from_several_buckets(
        db: str, request: pytest.FixtureRequest,
        shop_of: Callable[[ServiceProcess], Shop]) -> None:
    shop = shop_of(request.getfixturevalue(db))
    sku = shop.product(stock=4, stock_buckets=4)  # one unit in each bucket
    three = shop.order(sku, 3)
    assert three.status_code == 201, three.text  # no bucket has 3: taken from three
    assert shop.order(sku, 2).json()["code"] == "sold_out"  # 1 left in all
    assert shop.order(sku, 1).status_code == 201
    assert shop.ledger(sku)["remaining"] == 0
    assert shop.buyer.post(f"/orders/{three.json()['id']}/cancel").status_code == 200
    assert shop.buyer.get(f"/products/{sku}").json()["displayed_stock"] == 3
    assert shop.order(sku, 3).status_code == 201  # the three came back into one bucket
    shop.merchant.post(f"/products/{sku}/restock", json={"quantity": 6})
    assert shop.order(sku, 5).status_code == 201  # 6 over 4 buckets: 2, 2, 1, 1
    book = shop.ledger(sku)
    assert book == {**book, "remaining": 1, "restocked": 6, "balanced": True, "oversold": 0}


def test_retries_of_one_key_make_one_order_through_merging(
        hot: tuple[Shop, int | None]) -> None:
    shop, buckets = hot
    sku = shop.product(stock=50, stock_buckets=buckets)
    barrier = threading.Barrier(24)
    token = shop.mint("buyer")[0]

    def retry(_: int) -> httpx.Response:
        with http_client(shop.svc.base_url, token, timeout=60) as c:
            barrier.wait(timeout=30)
            return shop.order(sku, 2, c, key="one-key")

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(retry, range(24)))
    assert sorted({r.status_code for r in answers}) in ([200, 201], [201])
    assert [r.status_code for r in answers].count(201) == 1
    assert len({r.json()["id"] for r in answers}) == 1
    assert shop.ledger(sku)["remaining"] == 48


# --- batches of chosen members ----------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def batch_service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'batch.db'}"
    else:
        pg: TempPostgres = request.getfixturevalue("postgres")
        url = pg.create_database(f"batch_{next(_batch_dbs)}")
    svc = Service(Settings(db_url=url, payment_timeout=60))
    svc.db.create_schema()
    yield svc
    svc.db.dispose()


def _setup(svc: Service, stock: int, buckets: int = 1, buyers: int = 6,
           limit: int | None = None) -> tuple[list[Caller], int, int]:
    """Buyers, a product 'HOT' of ``stock`` over ``buckets``, and two broadcasts: one
    presenting it, one not; ``(callers, presenting, other)``."""
    from simlive.service import buckets as bk

    now = datetime.now(UTC)
    with svc.db.write() as conn:
        users = [conn.execute(insert(t.users).values(
            name=f"u{i}", role="buyer" if i else "merchant", token_hash=f"h{i}",
            created_at=now).returning(t.users.c.id)).scalar_one() for i in range(buyers + 1)]
        product = conn.execute(insert(t.products).values(
            sku="HOT", merchant_id=users[0], name="hot", price_cents=100, initial_stock=stock,
            restocked=0, remaining=stock if buckets == 1 else 0, returned=0,
            max_per_buyer=limit, stock_buckets=buckets, created_at=now)
            .returning(t.products.c.id)).scalar_one()
        if buckets > 1:
            bk.create(conn, product, stock, buckets)
        casts = [conn.execute(insert(t.broadcasts).values(
            merchant_id=users[0], title=f"b{i}", state="live", created_at=now,
            retain_until=now).returning(t.broadcasts.c.id)).scalar_one() for i in range(2)]
        conn.execute(insert(t.broadcast_products).values(
            broadcast_id=casts[0], product_id=product, linked_at=now))
    return [Caller(u, f"u{u}", "buyer") for u in users[1:]], casts[0], casts[1]


def _run(svc: Service, orders: list[tuple[Caller, str, int, int | None]]
         ) -> list[tuple[Any, BaseException | None]]:
    """One batch of ``(buyer, key, quantity, broadcast)``; the product's facts are cached
    first (a first order of a SKU runs alone: it reads them)."""
    committer = GroupCommit(svc.db)
    try:
        warm = committer.run_batch([OrderWork(svc, orders[0][0], "warm-up", "0" * 64,
                                              OrderCreate(sku="HOT", quantity=1))])
        assert warm[0][1] is None, warm
        return committer.run_batch([
            OrderWork(svc, buyer, key, "0" * 64,
                      OrderCreate(sku="HOT", quantity=q, broadcast_id=cast))
            for buyer, key, q, cast in orders])
    finally:
        committer.stop()


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_merged_batch_gives_each_order_its_own_answer(batch_service: Service,
                                                        buckets: int) -> None:
    """More than the stock asked for: the group is rolled back and its orders run alone, in
    order; an order citing a broadcast without the SKU is refused alone."""
    svc = batch_service
    b, presenting, other = _setup(svc, stock=8, buckets=buckets)
    outcomes = _run(svc, [(b[0], "a", 2, presenting), (b[1], "b", 2, None),
                          (b[2], "c", 1, other), (b[3], "d", 2, presenting),
                          (b[4], "e", 3, None)])  # 7 left after the warm-up: 2+2+2 fit
    assert [r["quantity"] if e is None else e.code for r, e in outcomes  # type: ignore[union-attr]
            ] == [2, 2, "not_presented", 2, "sold_out"]
    assert all(isinstance(e, ApiError) for _, e in outcomes if e is not None)
    book = ledger(svc, "HOT")[0]
    assert (book.remaining, book.reserved, book.balanced, book.oversold) == (1, 7, True, 0)


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_key_twice_in_a_batch_makes_one_order(batch_service: Service,
                                                buckets: int) -> None:
    svc = batch_service
    b, _, _ = _setup(svc, stock=100, buckets=buckets)
    outcomes = _run(svc, [(b[0], "a", 1, None), (b[1], "d", 1, None), (b[1], "d", 1, None)])
    assert [e is None for _, e in outcomes] == [True, True, False]
    assert type(outcomes[2][1]).__name__ == "IntegrityError"  # place_order: a replay
    book = ledger(svc, "HOT")[0]
    assert (book.remaining, book.reserved, book.balanced) == (97, 3, True)


def test_a_merged_batch_keeps_the_per_buyer_limit(batch_service: Service) -> None:
    """Limit 2: a buyer's third unit in one batch is refused, the others merged."""
    svc = batch_service
    b, _, _ = _setup(svc, stock=100, limit=2)
    # the warm-up order is b[0]'s: with "e" it holds its 2
    outcomes = _run(svc, [(b[0], "e", 1, None), (b[1], "a", 1, None), (b[1], "b", 1, None),
                          (b[1], "c", 1, None), (b[2], "d", 2, None)])
    assert [r["quantity"] if e is None else e.code for r, e in outcomes  # type: ignore[union-attr]
            ] == [1, 1, 1, "buyer_limit", 2]
    assert len({r["created_at"] for r, e in outcomes if e is None}) == 1  # merged
    book = ledger(svc, "HOT")[0]
    assert (book.remaining, book.reserved, book.balanced) == (94, 6, True)


def test_orders_of_one_sku_are_merged(batch_service: Service) -> None:
    """The batch's orders are placed by one insert (one timestamp); alone, each takes its
    own."""
    svc = batch_service
    buyers, _, _ = _setup(svc, stock=100)
    merged = _run(svc, [(b, f"k{i}", 1, None) for i, b in enumerate(buyers)])
    assert all(e is None for _, e in merged)
    assert len({r["created_at"] for r, _ in merged}) == 1
    with svc.db.read() as conn:
        ids = conn.execute(select(t.orders.c.id).where(t.orders.c.sku == "HOT")).all()
    assert len(ids) == len(buyers) + 1  # and the warm-up


# --- the order lane ---------------------------------------------------------------------
def test_the_lane_answers_as_fastapi_does(sqlite_service: ServiceProcess,
                                          shop_of: Callable[[ServiceProcess], Shop]) -> None:
    """A lowercase ``bearer`` is FastAPI's to take (the lane takes only ``Bearer``): the same
    requests through both give the same bytes."""
    shop = shop_of(sqlite_service)
    sku = shop.product(stock=2)
    token = shop.mint("buyer")[0]
    shop.order(sku, 1, shop.client(token))  # the token is now cached: the lane takes it
    lane = shop.client(token)
    plain = httpx.Client(base_url=sqlite_service.base_url,
                         headers={"Authorization": f"bearer {token}"})
    try:
        body = {"sku": sku, "quantity": 1}
        made = lane.post("/orders", json=body, headers={"Idempotency-Key": "lane-1"})
        assert made.status_code == 201
        assert made.content == lane.get(f"/orders/{made.json()['id']}").content
        again = [c.post("/orders", json=body, headers={"Idempotency-Key": "lane-1"})
                 for c in (lane, plain)]
        assert [r.status_code for r in again] == [200, 200]
        assert again[0].content == again[1].content == made.content
        assert again[0].headers["idempotent-replayed"] == again[1].headers[
            "idempotent-replayed"] == "true"
        sold_out = [c.post("/orders", json={"sku": sku, "quantity": 5},
                           headers={"Idempotency-Key": f"big-{i}"})
                    for i, c in enumerate((lane, plain))]
        assert [r.status_code for r in sold_out] == [409, 409]
        assert sold_out[0].content == sold_out[1].content
        assert {k: v for k, v in sold_out[0].headers.items() if k != "date"} == {
            k: v for k, v in sold_out[1].headers.items() if k != "date"}
    finally:
        plain.close()


def test_the_lane_hands_fastapi_what_it_does_not_take(tmp_path: Path) -> None:
    """In process: count the requests FastAPI's stack sees."""
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'lane.db'}",
                        tokens=(TokenSpec("v-token", "buyer", "v"),
                                TokenSpec("m-token", "merchant", "m")))
    app = create_app(settings)
    reached: list[str] = []
    through = app.through_fastapi

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await through(scope, receive, send)

    assert app.lane is not None
    app.lane.app = counting

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            m = {"Authorization": "Bearer m-token"}
            v = {"Authorization": "Bearer v-token"}
            await c.post("/products", json={"sku": "L1", "name": "l", "price_cents": 1,
                                            "stock": 9}, headers=m)
            codes = []
            for headers, body in [
                    ({**v, "Idempotency-Key": "k1"}, {"sku": "L1", "quantity": 1}),  # first
                    ({**v, "Idempotency-Key": "k2"}, {"sku": "L1", "quantity": 1}),  # cached
                    ({**v, "Idempotency-Key": "k3"}, {"sku": "L1", "quantity": True}),
                    ({**v, "Idempotency-Key": "bad key"}, {"sku": "L1", "quantity": 1}),
                    ({**m, "Idempotency-Key": "k4"}, {"sku": "L1", "quantity": 1}),
                    ({**v, "Idempotency-Key": "k5"}, {"sku": "NOPE", "quantity": 1})]:
                r = await c.post("/orders", json=body, headers=headers)
                codes.append(r.status_code)
            return codes

    import asyncio

    try:
        codes = asyncio.run(scenario())
    finally:
        app.state.service.db.dispose()
    assert codes == [201, 201, 422, 422, 403, 404]
    orders = [r for r in reached if r == "POST /orders"]
    # the first (token not yet cached), the strict body, the bad key and the merchant went
    # to FastAPI; the cached buyer's order and the unknown SKU (a refusal of the service's
    # own) did not
    assert len(orders) == 4, reached


# --- the ceiling ------------------------------------------------------------------------
@pytest.mark.parametrize("buckets", [1, 3])
def test_the_bare_loop_keeps_its_stock(postgres: TempPostgres, tmp_path: Path,
                                       buckets: int) -> None:
    for url in (f"sqlite:///{tmp_path / 'bare.db'}",
                postgres.create_database(f"bare_{buckets}")):
        result = bare_loop(url, connections=4, seconds=0.3, buckets=buckets)
        assert result.orders > 10 and result.oversold == 0, result


# --- the checker, buckets on ----------------------------------------------------------
@pytest.mark.slow
def test_load_and_checker_pass_with_buckets_and_lanes(pg_lanes_service: ServiceProcess,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "SIMLIVE_ADMIN_TOKEN": pg_lanes_service.token("admin")}
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(HOT), "--host",
                           pg_lanes_service.base_url, "--settle", "3", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    verdicts = {v["id"]: v["status"] for v in
                json.loads((out / "verdicts.json").read_text())["verdicts"]}
    for rule in ("stock.no-oversell", "stock.ledger-balances", "stock.display-matches"):
        assert verdicts[rule] == "pass", (rule, verdicts)
    shop = Shop(pg_lanes_service)
    try:
        config = shop.admin.get("/admin/config").json()
        assert (config["stock_buckets"], config["write_lanes"]) == (4, 4)
        hot = [p for p in shop.all("/products") if p["sku"].startswith("HOT-")]
        assert hot and all(p["stock_buckets"] == 4 for p in hot)
        books = [shop.ledger(p["sku"]) for p in hot]
        assert all(b["balanced"] and b["oversold"] == 0 for b in books)
        assert sum(b["sold"] + b["reserved"] for b in books) > 0  # the load really bought
    finally:
        shop.close()
