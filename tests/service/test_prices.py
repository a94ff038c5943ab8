"""Prices: the reference ('was') price is the lowest of the list price and the lowest unit
price paid in the last 7 days; the price the merchant sets is what an order is charged."""

from __future__ import annotations

from collections.abc import Callable

from simlive.service.process import ServiceProcess
from testing.shop import Shop


def test_the_reference_is_the_weeks_lowest_paid_price_and_orders_pay_the_price_shown(
        sqlite_service: ServiceProcess, shop_of: Callable[[ServiceProcess], Shop]) -> None:
    shop = shop_of(sqlite_service)
    sku = shop.product(price_cents=19900)
    first = shop.buyer.get(f"/products/{sku}/price").json()
    assert (first["price"], first["reference_price"]) == (199.0, 199.0)
    assert shop.order(sku).json()["amount_cents"] == 19900  # reserved, never paid
    assert shop.merchant.put(f"/products/{sku}/price",
                             json={"price_cents": 990}).json()["price"] == 9.9
    unpaid = shop.buyer.get(f"/products/{sku}/price").json()
    assert (unpaid["price"], unpaid["reference_price"]) == (9.9, 199.0)  # nothing paid yet
    assert shop.paid_order(sku)["amount_cents"] == 990
    shown = shop.buyer.get(f"/products/{sku}/price").json()
    assert (shown["price"], shown["reference_price"]) == (9.9, 9.9)
    back = shop.merchant.put(f"/products/{sku}/price", json={"price_cents": 19900}).json()
    assert (back["price"], back["reference_price"]) == (199.0, 9.9)
    assert shop.order(sku).json()["amount_cents"] == 19900


def test_only_the_products_merchant_sets_its_price(
        sqlite_service: ServiceProcess, shop_of: Callable[[ServiceProcess], Shop]) -> None:
    shop = shop_of(sqlite_service)
    sku = shop.product()
    assert shop.buyer.put(f"/products/{sku}/price", json={"price_cents": 1}).status_code == 403
    assert shop.merchant.put("/products/NOPE-1/price",
                             json={"price_cents": 1}).status_code == 404
    assert shop.merchant.put(f"/products/{sku}/price",
                             json={"price_cents": 0}).status_code == 422
