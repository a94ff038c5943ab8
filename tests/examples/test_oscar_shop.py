"""The django-oscar example shop (examples/oscar/shop.py), over HTTP only.

The shop runs in a subprocess (`shop.py serve`); nothing from Django/Oscar is imported in
the pytest process. The test extra installs django-oscar, django-oscar-api and gunicorn;
the Oscar project is built once per test run (~10 s of SQLite migrations) and shared.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from examples.conftest import N_BUYERS

pytestmark = pytest.mark.slow


class Shop:
    def __init__(self, url: str, tokens_path: Path, tokens: dict) -> None:
        self.url = url
        self.tokens_path = tokens_path
        self.tokens = tokens
        self.admin = {"Authorization": "Token " + tokens["admin"][0]}
        self._next_buyer = 0

    def buyer(self) -> dict[str, str]:
        """A buyer token no other test has used (baskets persist per user)."""
        key = self.tokens["buyer"][self._next_buyer]
        self._next_buyer += 1
        return {"Authorization": "Token " + key}


@pytest.fixture(scope="module")
def shop(oscar: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with oscar(tmp_path_factory.mktemp("oscar")) as s:
        yield Shop(s.url, s.tokens_path, s.tokens)


@pytest.fixture(scope="module")
def client(shop: Shop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, timeout=20) as c:
        yield c


def create_product(shop: Shop, client: httpx.Client, stock: int) -> dict:
    upc = f"HOT-1.{secrets.token_hex(4)}"
    partner = client.get("/api/admin/partners/", headers=shop.admin).json()[0]["url"]
    r = client.post(
        "/api/admin/products/",
        headers=shop.admin,
        json={
            "upc": upc,
            "title": upc,
            "slug": upc.lower().replace(".", "-"),
            "product_class": "live",
            "structure": "standalone",
            "stockrecords": [
                {
                    "partner": partner,
                    "partner_sku": upc,
                    "price": "19.99",
                    "price_currency": "EUR",
                    "num_in_stock": stock,
                }
            ],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def add(shop: Shop, client: httpx.Client, buyer: dict, product: dict) -> httpx.Response:
    return client.post(
        "/api/basket/add-product/",
        headers=buyer,
        json={"url": f"{shop.url}/api/products/{product['id']}/", "quantity": 1},
    )


def buy(shop: Shop, client: httpx.Client, buyer: dict, product: dict) -> dict:
    r = add(shop, client, buyer, product)
    assert r.status_code == 200, r.text
    r = client.post("/api/checkout/", headers=buyer, json={"basket": r.json()["url"]})
    assert r.status_code == 200, r.text
    return r.json()


def real_stock(shop: Shop, client: httpx.Client, product: dict) -> dict:
    r = client.get(product["stockrecords"][0]["url"], headers=shop.admin)
    assert r.status_code == 200, r.text
    return r.json()


def test_tokens_file_written(shop: Shop) -> None:
    tokens = json.loads(shop.tokens_path.read_text())
    assert set(tokens) == {"admin", "buyer"}
    assert len(tokens["admin"]) == 1
    assert len(tokens["buyer"]) == N_BUYERS
    assert len(set(tokens["buyer"] + tokens["admin"])) == N_BUYERS + 1


def test_admin_creates_product_with_stock(shop: Shop, client: httpx.Client) -> None:
    product = create_product(shop, client, 5)
    assert product["stockrecords"][0]["num_in_stock"] == 5
    assert product["stockrecords"][0]["num_allocated"] is None
    r = client.get(f"/api/products/{product['id']}/availability/", headers=shop.buyer())
    assert r.json() == {
        "is_available_to_buy": True,
        "num_available": 5,
        "message": "In stock (5 available)",
    }
    # buyers may not use the admin API
    r = client.get("/api/admin/orders/", headers=shop.buyer())
    assert r.status_code == 403


def test_buyer_purchase_is_in_admin_orders_and_allocated(shop: Shop, client: httpx.Client) -> None:
    product = create_product(shop, client, 5)
    order = buy(shop, client, shop.buyer(), product)
    assert order["status"] == "new"
    assert order["number"]

    orders = client.get("/api/admin/orders/", headers=shop.admin).json()
    mine = [o for o in orders if o["id"] == order["id"]]
    assert len(mine) == 1 and mine[0]["number"] == order["number"]
    lines = client.get(mine[0]["lines"], headers=shop.admin).json()
    assert [(ln["product"], ln["quantity"]) for ln in lines] == [
        (f"{shop.url}/api/products/{product['id']}/", 1)
    ]

    stock = real_stock(shop, client, product)
    assert (stock["num_in_stock"], stock["num_allocated"]) == (5, 1)


def test_purchase_beyond_stock_is_refused(shop: Shop, client: httpx.Client) -> None:
    product = create_product(shop, client, 5)
    for _ in range(5):
        buy(shop, client, shop.buyer(), product)
    r = add(shop, client, shop.buyer(), product)
    assert r.status_code == 406
    assert r.json() == {"reason": "Unavailable"}
    stock = real_stock(shop, client, product)
    assert (stock["num_in_stock"], stock["num_allocated"]) == (5, 5)
    r = client.get(f"/api/products/{product['id']}/availability/", headers=shop.buyer())
    assert r.json()["is_available_to_buy"] is False


def test_default_oscar_oversells_interleaved_baskets(shop: Shop, client: httpx.Client) -> None:
    """Characterization of stock Oscar/oscarapi (not --guarded): stock is checked when a
    product is added to a basket, not at checkout, so two baskets holding the last unit
    both check out."""
    product = create_product(shop, client, 1)
    b1, b2 = shop.buyer(), shop.buyer()
    r1, r2 = add(shop, client, b1, product), add(shop, client, b2, product)
    assert (r1.status_code, r2.status_code) == (200, 200)
    for b, r in ((b1, r1), (b2, r2)):
        c = client.post("/api/checkout/", headers=b, json={"basket": r.json()["url"]})
        assert c.status_code == 200, c.text
    stock = real_stock(shop, client, product)
    assert (stock["num_in_stock"], stock["num_allocated"]) == (1, 2)
