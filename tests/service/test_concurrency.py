"""Stock under concurrency: no oversell, a balanced ledger, and one order per idempotency key.

Buyers are real threads with their own connections, released together by a barrier so that
their requests overlap at the service; every loop is bounded in count.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from simlive.service.process import ServiceProcess, http_client
from testing.shop import Shop

BUYERS = 50
STOCK = 100
PER_BUYER = 10


def _buy_until_sold_out(shop: Shop, sku: str, tokens: list[str],
                        per_buyer: int = PER_BUYER) -> list[dict[str, Any]]:
    """Each buyer orders one unit and pays, until told sold out; the paid orders."""
    barrier = threading.Barrier(len(tokens))

    def buyer(token: str) -> list[dict[str, Any]]:
        paid = []
        with http_client(shop.svc.base_url, token, timeout=60) as c:
            barrier.wait(timeout=30)
            for _ in range(per_buyer + 5):  # bounded: the per-buyer limit stops it sooner
                r = shop.order(sku, 1, c)
                if r.status_code == 409:
                    assert r.json()["code"] in ("sold_out", "buyer_limit"), r.text
                    break
                assert r.status_code == 201, r.text
                p = c.post(f"/orders/{r.json()['id']}/pay")
                assert p.status_code == 200, p.text
                paid.append(p.json())
        return paid

    with ThreadPoolExecutor(len(tokens)) as pool:
        return [o for orders in pool.map(buyer, tokens) for o in orders]


def test_fifty_buyers_sell_exactly_the_stock(shop: Shop) -> None:
    sku = shop.product(stock=STOCK, max_per_buyer=PER_BUYER)
    paid = _buy_until_sold_out(shop, sku, shop.mint("buyer", BUYERS))

    assert sum(o["quantity"] for o in paid) == STOCK
    ledger = shop.ledger(sku)
    assert ledger == {**ledger, "sold": STOCK, "reserved": 0, "remaining": 0, "oversold": 0,
                      "balanced": True}
    assert shop.anonymous.get(f"/products/{sku}").status_code == 401
    assert shop.buyer.get(f"/products/{sku}").json()["displayed_stock"] == 0
    receipts = {r["order_id"] for r in shop.all("/admin/receipts")}
    assert {o["id"] for o in paid} <= receipts


def test_oversell_fault_sells_more_than_the_stock(faulty_service: ServiceProcess,
                                                  shop_of: Callable[[ServiceProcess], Shop]
                                                  ) -> None:
    shop = shop_of(faulty_service)
    sku = shop.product(stock=STOCK, max_per_buyer=4)
    paid = _buy_until_sold_out(shop, sku, shop.mint("buyer", BUYERS), per_buyer=4)

    assert sum(o["quantity"] for o in paid) > STOCK
    ledger = shop.ledger(sku)
    assert ledger["oversold"] > 0
    assert not ledger["balanced"]


def test_per_buyer_limit_holds_under_concurrency(shop: Shop) -> None:
    sku = shop.product(stock=STOCK, max_per_buyer=3)
    barrier = threading.Barrier(20)

    def attempt(_: int) -> int:
        barrier.wait(timeout=30)
        return shop.order(sku, 1).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(attempt, range(20)))
    assert codes.count(201) == 3
    assert codes.count(409) == 17
    assert shop.ledger(sku)["reserved"] == 3


def test_concurrent_retries_of_one_key_make_one_order(shop: Shop) -> None:
    sku = shop.product(stock=STOCK)
    key = uuid.uuid4().hex
    threads = 24
    barrier = threading.Barrier(threads)

    def retry(_: int) -> httpx.Response:
        with http_client(shop.svc.base_url, shop.svc.token("buyer"), timeout=60) as c:
            barrier.wait(timeout=30)
            return shop.order(sku, 2, c, key=key)

    with ThreadPoolExecutor(threads) as pool:
        responses = list(pool.map(retry, range(threads)))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    ledger = shop.ledger(sku)
    assert (ledger["reserved"], ledger["remaining"], ledger["balanced"]) == (2, STOCK - 2, True)

    other = shop.order(sku, 3, key=key)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_mismatch"


def test_displayed_stock_is_the_real_stock(shop: Shop) -> None:
    sku = shop.product(stock=20)
    for quantity in (1, 2, 3):
        assert shop.order(sku, quantity).status_code == 201
        shown = shop.buyer.get(f"/products/{sku}").json()["displayed_stock"]
        assert shown == shop.ledger(sku)["remaining"]
    assert shown == 14
