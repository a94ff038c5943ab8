"""Request bodies are strict: a value of the wrong JSON type is 422 naming the field, and a
body the JSON parser cannot read is 422 too (never 400, never a stored value). On SQLite and
PostgreSQL. An integer is what JSON Schema calls one: 1.0 is the integer 1 (the OpenAPI
document says "integer", and schemathesis sends 1.0 as a valid one); true and "1" are not."""

from __future__ import annotations

import uuid

import pytest

from testing.shop import Shop


def fields(answer) -> set[str]:
    """The fields a 422 answer names."""
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid"
    return {str(e["loc"][-1]) for e in body["detail"]}


@pytest.mark.parametrize("quantity", [True, "1", 1.5, [1], None])
def test_an_order_quantity_must_be_an_integer(shop: Shop, quantity) -> None:
    sku = shop.product(stock=10)
    before = shop.ledger(sku)
    r = shop.buyer.post("/orders", json={"sku": sku, "quantity": quantity},
                         headers={"Idempotency-Key": uuid.uuid4().hex})
    assert "quantity" in fields(r)
    assert shop.ledger(sku) == before  # nothing reserved


@pytest.mark.parametrize(("field", "value"), [("stock", True), ("price_cents", "1999"),
                                              ("max_per_buyer", 2.5), ("name", 7)])
def test_a_product_field_of_the_wrong_type_is_named(shop: Shop, field: str, value) -> None:
    sku = f"T-{uuid.uuid4().hex[:12]}"
    body = {"sku": sku, "name": "mug", "price_cents": 1999, "stock": 5, "max_per_buyer": 2,
            field: value}
    assert field in fields(shop.merchant.post("/products", json=body))
    assert shop.merchant.get(f"/products/{sku}").status_code == 404  # not created


def test_times_are_strings_and_ratings_integers(shop: Shop) -> None:
    order = shop.paid_order(shop.product(stock=2))
    t = shop.buyer.post("/tickets", json={"kind": "refund", "message": "broken",
                                           "order_id": order["id"]}).json()
    mark = shop.agent.post(f"/tickets/{t['id']}/goods-received", json={"at": 1767225600})
    assert "at" in fields(mark)
    assert shop.agent.post(f"/tickets/{t['id']}/goods-received",
                           json={"at": "2026-11-12T08:00:00Z"}).status_code == 200
    review = shop.buyer.post("/reviews", json={"sku": shop.product(stock=1), "rating": "5",
                                                "text": "fine"})
    assert "rating" in fields(review)
    assert "order_id" in fields(shop.buyer.post(
        "/tickets", json={"kind": "refund", "message": "x", "order_id": str(order["id"])}))


@pytest.mark.parametrize("body", [
    b'{"sku": "A", "quantity": 1, "x": "\xff\xfe"}',  # not UTF-8
    b"[" * 5000 + b"]" * 5000,  # nested deeper than the parser goes
    b'{"sku": "A", "quantity": ' + b"9" * 5000 + b"}",  # more digits than Python converts
    b'{"sku": "A", "quantity": 1',  # cut short
])
def test_unreadable_bodies_are_422_naming_the_body(shop: Shop, body: bytes) -> None:
    r = shop.buyer.post("/orders", content=body, headers={
        "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"
    assert r.json()["detail"][0]["loc"][0] == "body"


def test_options_and_405_name_every_method_of_the_path(shop: Shop) -> None:
    """GET /orders and POST /orders are two routes: Allow names both (Starlette's own 405
    named the first route's alone)."""
    r = shop.buyer.options("/orders")
    assert r.status_code == 204 and r.headers["allow"] == "GET, OPTIONS, POST"
    r = shop.buyer.delete("/orders")
    assert r.status_code == 405 and r.headers["allow"] == "GET, OPTIONS, POST"
    assert r.json()["code"] == "method_not_allowed"
    assert shop.buyer.options("/tickets/1/reply").headers["allow"] == "OPTIONS, POST"


def test_the_openapi_says_what_the_service_does(shop: Shop) -> None:
    spec = shop.anonymous.get("/openapi.json").json()
    paths = spec["paths"]
    for step in ("reply", "start", "resolve", "close", "goods-received", "refund-paid"):
        assert "409" in paths[f"/tickets/{{ticket_id}}/{step}"]["post"]["responses"], step
    for step in ("start", "end"):
        assert "409" in paths[f"/broadcasts/{{broadcast_id}}/{step}"]["post"]["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["TicketCreate"]["then"]["required"] == ["order_id"]
    assert schemas["TicketNote"]["properties"]["message"]["pattern"] == "^[^\\u0000]*$"
    # a time the pattern admits is taken, one it refuses is refused, both as the schema says
    order = shop.paid_order(shop.product(stock=2))
    t = shop.buyer.post("/tickets", json={"kind": "refund", "message": "late",
                                           "order_id": order["id"]}).json()
    late = shop.agent.post(f"/tickets/{t['id']}/goods-received",
                           json={"at": "2200-12-31T23:00:00-05:00"})
    assert late.status_code == 200, late.text
    assert "at" in fields(shop.agent.post(f"/tickets/{t['id']}/refund-paid",
                                          json={"at": "1999-12-31T23:00:00Z"}))
    assert "message" in fields(shop.buyer.post("/tickets", json={"kind": "consultation",
                                                                  "message": "a\u0000b"}))


def test_an_integral_number_is_an_integer_as_json_schema_counts_it(shop: Shop) -> None:
    sku = shop.product(stock=10)
    r = shop.buyer.post("/orders", json={"sku": sku, "quantity": 2.0},
                         headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201 and r.json()["quantity"] == 2
