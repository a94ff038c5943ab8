"""A product's page names its seller and whether it can be returned without reason
(display.complete), and an older database gains the columns."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from simlive.service.process import ServiceProcess
from testing.shop import Shop


def test_page_shows_seller_and_returnability(sqlite_service: ServiceProcess,
                                             shop_of: Callable[[ServiceProcess], Shop]
                                             ) -> None:
    shop = shop_of(sqlite_service)
    fish, mug = f"F-{uuid.uuid4().hex[:12]}", f"M-{uuid.uuid4().hex[:12]}"
    assert shop.merchant.post("/products", json={
        "sku": fish, "name": "fish", "price_cents": 500, "stock": 3, "seller": "Sea Store",
        "not_returnable": "fresh-perishable"}).status_code == 201
    assert shop.merchant.post("/products", json={
        "sku": mug, "name": "mug", "price_cents": 900, "stock": 3}).status_code == 201
    page = shop.buyer.get(f"/products/{fish}").json()
    assert (page["seller"], page["returnable"], page["not_returnable"]) == (
        "Sea Store", False, "fresh-perishable")
    page = shop.buyer.get(f"/products/{mug}").json()
    assert page["returnable"] is True and page["not_returnable"] is None
    assert page["seller"]  # the merchant's account name when none is given
