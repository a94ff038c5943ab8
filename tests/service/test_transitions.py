"""Every state change under concurrency: N simultaneous requests for one transition, exactly
one changes the state (the others get 409 naming why, or, where the API promises a repeat is
a no-op, the same answer and no second effect). On SQLite and PostgreSQL.

Each request comes from its own thread and connection, released together by a barrier, so
that they overlap at the service; every loop is bounded in count.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from simlive.service.process import http_client
from testing.shop import Shop

N = 10


def race(shop: Shop, role: str, call: Callable[[httpx.Client], httpx.Response],
         n: int = N) -> list[httpx.Response]:
    """``call`` made by ``n`` clients of ``role`` (the demo user) at once."""
    barrier = threading.Barrier(n)
    token = shop.svc.token(role)

    def one(_: int) -> httpx.Response:
        with http_client(shop.svc.base_url, token, timeout=60) as c:
            barrier.wait(timeout=30)
            return call(c)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def one_wins(answers: list[httpx.Response], loser_code: str) -> dict[str, Any]:
    """Exactly one 200; every other answer a 409 with ``loser_code``. The winner's body."""
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {200: 1, 409: len(answers) - 1}, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {loser_code}
    return next(r.json() for r in answers if r.status_code == 200)  # type: ignore[no-any-return]


def test_concurrent_deliveries_one_wins(shop: Shop) -> None:
    order = shop.paid_order(shop.product(stock=5))
    won = one_wins(race(shop, "merchant", lambda c: c.post(f"/orders/{order['id']}/deliver",
                                                            json={})), "already_delivered")
    stored = shop.buyer.get(f"/orders/{order['id']}").json()
    assert stored["delivered_at"] == won["delivered_at"]  # the winner's stays recorded


def test_concurrent_payments_make_one_receipt(shop: Shop) -> None:
    """Paying a paid order is a documented no-op: every answer is the paid order, and there
    is one payment time and one receipt."""
    sku = shop.product(stock=5)
    order = shop.order(sku).json()
    answers = race(shop, "buyer", lambda c: c.post(f"/orders/{order['id']}/pay"))
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["paid_at"] for r in answers}) == 1
    receipts = [r for r in shop.all("/admin/receipts") if r["order_id"] == order["id"]]
    assert len(receipts) == 1


def test_pay_and_cancel_race_one_outcome(shop: Shop) -> None:
    """Half pay, half cancel the same reserved order: it ends paid or cancelled, never both,
    the units are returned at most once and the ledger balances."""
    sku = shop.product(stock=3)
    order = shop.order(sku, 2).json()

    sides = iter(["pay", "cancel"] * (N // 2))
    lock = threading.Lock()

    def pay_or_cancel(c: httpx.Client) -> httpx.Response:
        with lock:
            side = next(sides)
        return c.post(f"/orders/{order['id']}/{side}")

    answers = race(shop, "buyer", pay_or_cancel)
    final = shop.buyer.get(f"/orders/{order['id']}").json()["state"]
    assert final in ("paid", "cancelled")
    for r in answers:  # the side that lost is told what the order became
        assert r.status_code == 200 and r.json()["state"] == final or \
            r.status_code == 409 and r.json()["code"] == f"order_{final}", r.text
    ledger = shop.ledger(sku)
    assert ledger["balanced"] and ledger["reserved"] == 0
    assert ledger["remaining"] == (1 if final == "paid" else 3)


def test_each_ticket_step_is_taken_once(shop: Shop) -> None:
    t = shop.buyer.post("/tickets", json={"kind": "consultation", "message": "size?"}).json()
    path = f"/tickets/{t['id']}"
    for role, step, body in (("agent", "reply", {"message": "M fits"}),
                             ("agent", "start", None),
                             ("agent", "resolve", {"resolution": "answered"}),
                             ("buyer", "close", {"feedback": "thanks", "satisfaction": 5})):
        won = one_wins(race(shop, role, lambda c, step=step, body=body: c.post(
            f"{path}/{step}", json=body)), "illegal_transition")
        assert won["state"] == {"reply": "replied", "start": "in_progress",
                                "resolve": "resolved", "close": "closed"}[step]
    events = shop.buyer.get(f"{path}/events").json()
    assert [e["action"] for e in events if e["action"] != "open"] == \
        ["reply", "start", "resolve", "close"]


def test_ticket_marks_are_recorded_once(shop: Shop) -> None:
    order = shop.paid_order(shop.product(stock=2))
    t = shop.buyer.post("/tickets", json={"kind": "refund", "message": "broken",
                                           "order_id": order["id"]}).json()
    path = f"/tickets/{t['id']}"
    for mark in ("goods-received", "refund-paid"):
        one_wins(race(shop, "agent", lambda c, mark=mark: c.post(f"{path}/{mark}", json={})),
                 "already_recorded")
    events = [e["action"] for e in shop.buyer.get(f"{path}/events").json()]
    assert events.count("goods_received") == 1 and events.count("refund_paid") == 1


def test_broadcast_steps_are_taken_once_and_publish_one_replay(shop: Shop) -> None:
    b = shop.merchant.post("/broadcasts", json={"title": "race"}).json()
    for step in ("start", "end"):
        one_wins(race(shop, "merchant", lambda c, step=step: c.post(
            f"/broadcasts/{b['id']}/{step}")), "illegal_transition")
    replays = [r for r in shop.all("/admin/replays") if r["broadcast_id"] == b["id"]]
    assert len(replays) == 1


def test_a_review_is_hidden_once_with_one_audit_record(shop: Shop) -> None:
    sku = shop.product(stock=1)
    review = shop.buyer.post("/reviews", json={"sku": sku, "rating": 1,
                                                "text": "buy followers at spam.example"}
                              ).json()
    one_wins(race(shop, "admin", lambda c: c.post(f"/admin/reviews/{review['id']}/hide",
                                                  json={"reason": "spam"})), "already_hidden")
    audit = [a for a in shop.all("/admin/audit") if a["target_id"] == review["id"]
             and a["action"] == "review.hide"]
    assert len(audit) == 1


def test_admin_may_correct_a_delivery_time(shop: Shop) -> None:
    """The one deliberate exception: an admin may record a delivery time again (a
    back-fill); the last write stands and the order stays delivered."""
    order = shop.paid_order(shop.product(stock=2))
    for when in ("2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"):
        r = shop.admin.post(f"/orders/{order['id']}/deliver", json={"delivered_at": when})
        assert r.status_code == 200, r.text
    assert shop.buyer.get(f"/orders/{order['id']}").json()["delivered_at"].startswith(
        "2026-11-02")


def test_an_order_cites_only_a_broadcast_that_presents_its_sku(shop: Shop) -> None:
    """A broadcast is credited only with sales of the SKUs it presents: not another
    merchant's, not one of its merchant's products it never showed."""
    shown, unshown = shop.product(stock=5), shop.product(stock=5)
    b = shop.merchant.post("/broadcasts", json={"title": "showcase"}).json()
    assert shop.merchant.post(f"/broadcasts/{b['id']}/products",
                              json={"sku": shown}).status_code == 201
    other = shop.client(shop.mint("merchant")[0])
    theirs = shop.product(stock=5, merchant=other)

    def order(sku: str) -> httpx.Response:
        return shop.buyer.post("/orders", json={"sku": sku, "quantity": 1,
                                                 "broadcast_id": b["id"]},
                                headers={"Idempotency-Key": f"k-{sku}-{b['id']}"})

    assert order(shown).status_code == 201
    for sku in (unshown, theirs):
        r = order(sku)
        assert r.status_code == 409 and r.json()["code"] == "not_presented", r.text
        assert shop.ledger(sku)["reserved"] == 0
    assert shop.buyer.post("/orders", json={"sku": shown, "quantity": 1,
                                             "broadcast_id": 2**52},
                            headers={"Idempotency-Key": "k-unknown"}).status_code == 404
