"""Shipping against the store's promise (fulfilment.on-time): deadlines stamped at payment,
shipped before delivered."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from testing.shop import Shop


def promised_order(shop: Shop, ship_within: float = 60.0, promise: float = 120.0
                   ) -> dict[str, Any]:
    """A paid order of a broadcast that states the store's promise."""
    sku = shop.product()
    b = shop.merchant.post("/broadcasts", json={"title": "t", "ship_within_s": ship_within,
                                                "promise_s": promise})
    assert b.status_code == 201, b.text
    assert (b.json()["ship_within_s"], b.json()["promise_s"]) == (ship_within, promise)
    linked = shop.merchant.post(f"/broadcasts/{b.json()['id']}/products", json={"sku": sku})
    assert linked.status_code in (200, 201), linked.text
    order = shop.buyer.post("/orders", json={"sku": sku, "quantity": 1,
                                             "broadcast_id": b.json()["id"]},
                            headers={"Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.text
    paid = shop.buyer.post(f"/orders/{order.json()['id']}/pay")
    assert paid.status_code == 200, paid.text
    return paid.json()  # type: ignore[no-any-return]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_payment_stamps_the_broadcasts_promise_on_the_order(shop: Shop) -> None:
    order = promised_order(shop)
    paid = _at(order["paid_at"])
    assert _at(order["ship_by"]) - paid == timedelta(seconds=60)
    assert _at(order["promised_at"]) - paid == timedelta(seconds=120)
    assert order["shipped_at"] is None
    listed = {o["id"]: o for o in shop.all("/admin/orders")}[order["id"]]
    assert listed["ship_by"] == order["ship_by"]


def test_an_order_with_a_promise_ships_before_it_is_delivered(shop: Shop) -> None:
    order = promised_order(shop)
    path = f"/orders/{order['id']}"
    early = shop.merchant.post(f"{path}/deliver", json={})
    assert early.status_code == 409 and early.json()["code"] == "not_shipped"
    shipped = shop.merchant.post(f"{path}/ship")
    assert shipped.status_code == 200 and shipped.json()["shipped_at"] is not None
    again = shop.merchant.post(f"{path}/ship")
    assert again.json()["shipped_at"] == shipped.json()["shipped_at"]
    assert shop.buyer.post(f"{path}/ship").status_code == 403
    delivered = shop.merchant.post(f"{path}/deliver", json={})
    assert delivered.status_code == 200 and delivered.json()["delivered_at"] is not None


def test_an_order_without_a_promise_delivers_as_before(shop: Shop) -> None:
    order = shop.paid_order(shop.product())
    assert order["ship_by"] is None and order["promised_at"] is None
    path = f"/orders/{order['id']}"
    assert shop.merchant.post(f"{path}/deliver", json={}).status_code == 200
    late = shop.merchant.post(f"{path}/ship")
    assert late.status_code == 409 and late.json()["code"] == "already_delivered"


def test_an_unpaid_order_cannot_ship(shop: Shop) -> None:
    order = shop.order(shop.product()).json()
    r = shop.merchant.post(f"/orders/{order['id']}/ship")
    assert r.status_code == 409 and r.json()["code"] == "order_not_paid"
