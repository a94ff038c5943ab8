"""The default review listing is newest first, whatever the rating (reviews.order-honest)."""

from __future__ import annotations

from typing import Any

from testing.shop import Shop

RATINGS = [5, 1, 3, 4, 2, 5, 3]


def post_reviews(shop: Shop, sku: str) -> list[int]:
    ids = []
    for i, rating in enumerate(RATINGS):
        r = shop.buyer.post("/reviews", json={"sku": sku, "rating": rating,
                                              "text": f"review {i}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def listing(shop: Shop, sku: str, limit: int) -> list[dict[str, Any]]:
    """The default listing as a buyer pages through it."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        body = shop.buyer.get("/reviews", params={"sku": sku, "after": after,
                                                  "limit": limit}).json()
        items += body["items"]
        if body["next_after"] is None:
            return items
        after = body["next_after"]


def test_the_default_listing_is_newest_first_and_pages_in_that_order(shop: Shop) -> None:
    sku = shop.product(stock=1)
    ids = post_reviews(shop, sku)
    whole = listing(shop, sku, 100)
    assert [r["id"] for r in whole] == ids[::-1]
    assert [r["id"] for r in listing(shop, sku, 2)] == ids[::-1]
    # a bad review hidden for an allowed reason leaves the listing; the rest keep order
    assert shop.admin.post(f"/admin/reviews/{ids[1]}/hide",
                           json={"reason": "spam"}).status_code == 200
    assert [r["id"] for r in listing(shop, sku, 3)] == [i for i in ids[::-1] if i != ids[1]]
    # the record an admin reads is every review in id order
    assert [r["id"] for r in shop.all("/admin/reviews") if r["sku"] == sku] == ids
