"""Each DESIGN.md rule kept by the correct service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import httpx

from testing.shop import Shop

THREE_YEARS = timedelta(days=3 * 365)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_ending_a_broadcast_publishes_a_retained_replay(shop: Shop) -> None:
    m = shop.merchant
    b = m.post("/broadcasts", json={"title": "Double 11 warm-up"}).json()
    assert b["state"] == "scheduled" and b["replay"] is None
    assert m.get(f"/broadcasts/{b['id']}/replay").status_code == 404
    assert m.post(f"/broadcasts/{b['id']}/end").json()["code"] == "illegal_transition"
    assert m.post(f"/broadcasts/{b['id']}/start").json()["state"] == "live"
    ended = m.post(f"/broadcasts/{b['id']}/end").json()
    assert ended["state"] == "ended"

    replay = shop.buyer.get(f"/broadcasts/{b['id']}/replay")
    assert replay.status_code == 200
    body = replay.json()
    assert _when(body["retain_until"]) - _when(body["published_at"]) >= THREE_YEARS
    assert _when(body["published_at"]) >= _when(ended["ended_at"])
    listed = {x["id"]: x for x in shop.all("/admin/broadcasts")}
    assert listed[b["id"]]["replay"] == body
    assert b["id"] in {x["broadcast_id"] for x in shop.all("/admin/replays")}


def test_products_linked_to_a_broadcast_show_real_stock(shop: Shop) -> None:
    sku = shop.product(stock=7)
    b = shop.merchant.post("/broadcasts", json={"title": "flash sale"}).json()
    assert shop.merchant.post(f"/broadcasts/{b['id']}/products",
                              json={"sku": sku}).status_code == 201
    assert shop.order(sku, 2).status_code == 201
    shown = shop.buyer.get(f"/broadcasts/{b['id']}/products").json()
    assert [(p["sku"], p["displayed_stock"]) for p in shown] == [(sku, 5)]
    assert shop.merchant.post(f"/products/{sku}/restock",
                              json={"quantity": 10}).json()["displayed_stock"] == 15
    ledger = shop.ledger(sku)
    assert (ledger["initial"], ledger["restocked"], ledger["reserved"], ledger["remaining"],
            ledger["balanced"]) == (7, 10, 2, 15, True)


def test_sold_out_is_409_and_unknown_sku_404(shop: Shop) -> None:
    sku = shop.product(stock=1)
    assert shop.order(sku, 2).json()["code"] == "sold_out"
    assert shop.order(sku, 1).status_code == 201
    assert shop.order(sku, 1).status_code == 409
    assert shop.order("NO-SUCH-SKU", 1).status_code == 404


def test_paid_order_has_a_retained_receipt(shop: Shop) -> None:
    sku = shop.product(stock=3, price_cents=250)
    order = shop.order(sku, 2).json()
    assert shop.buyer.get(f"/orders/{order['id']}/receipt").status_code == 404
    paid = shop.buyer.post(f"/orders/{order['id']}/pay").json()
    receipt = shop.buyer.get(f"/orders/{order['id']}/receipt").json()
    assert (receipt["order_id"], receipt["amount_cents"], receipt["quantity"]) == \
        (order["id"], 500, 2)
    assert receipt["paid_at"] == paid["paid_at"]
    assert _when(receipt["retain_until"]) - _when(receipt["issued_at"]) >= THREE_YEARS
    assert _when(paid["retain_until"]) - _when(paid["created_at"]) >= THREE_YEARS


def test_an_orders_records_are_kept_from_its_completion(shop: Shop) -> None:
    """``replay.retained``: three years from creation is a floor; delivery (or closing)
    moves the order's and its receipt's promise out to three years from then, never in."""
    sku = shop.product(stock=5)
    paid = shop.paid_order(sku)
    path = f"/orders/{paid['id']}"
    assert _when(paid["retain_until"]) - _when(paid["created_at"]) == THREE_YEARS
    delivered = shop.merchant.post(f"{path}/deliver", json={}).json()
    receipt = shop.buyer.get(f"{path}/receipt").json()
    assert _when(delivered["delivered_at"]) > _when(paid["created_at"])
    for promise in (delivered["retain_until"], receipt["retain_until"]):
        assert _when(promise) - _when(delivered["delivered_at"]) == THREE_YEARS
    listed = {o["id"]: o for o in shop.all("/admin/orders")}[paid["id"]]
    assert listed["retain_until"] == delivered["retain_until"]
    # an admin back-dating the delivery does not bring the promise in
    earlier = _when(delivered["delivered_at"]) - timedelta(days=30)
    again = shop.admin.post(f"{path}/deliver", json={"delivered_at": earlier.isoformat()})
    assert again.json()["retain_until"] == delivered["retain_until"]
    # a cancelled order completes when it is closed
    order = shop.order(sku).json()
    cancelled = shop.buyer.post(f"/orders/{order['id']}/cancel").json()
    assert _when(cancelled["retain_until"]) - _when(cancelled["closed_at"]) == THREE_YEARS


def test_a_replay_is_kept_from_the_broadcasts_end(shop: Shop) -> None:
    m = shop.merchant
    b = m.post("/broadcasts", json={"title": "kept"}).json()
    m.post(f"/broadcasts/{b['id']}/start")
    ended = m.post(f"/broadcasts/{b['id']}/end").json()
    for promise in (ended["retain_until"], ended["replay"]["retain_until"]):
        assert _when(promise) - _when(ended["ended_at"]) == THREE_YEARS


def test_ticket_is_tracked_to_closure_with_feedback(shop: Shop) -> None:
    v, a = shop.buyer, shop.agent
    t = v.post("/tickets", json={"kind": "consultation", "message": "is it waterproof?"}).json()
    assert t["state"] == "open"
    path = f"/tickets/{t['id']}"
    assert a.post(f"{path}/resolve", json={"resolution": "x"}).json()["code"] == \
        "illegal_transition"
    assert v.post(f"{path}/close", json={"feedback": "ok", "satisfaction": 5}
                  ).status_code == 409
    assert t["id"] in {x["id"] for x in
                       a.get("/tickets", params={"state": "open", "limit": 1000}
                             ).json()["items"]}
    assert a.post(f"{path}/reply", json={"message": "yes, IPX7"}).json()["state"] == "replied"
    assert a.post(f"{path}/reply", json={"message": "again"}).status_code == 409
    assert a.post(f"{path}/start").json()["state"] == "in_progress"
    resolved = a.post(f"{path}/resolve", json={"resolution": "answered"}).json()
    assert resolved["state"] == "resolved"
    closed = v.post(f"{path}/close", json={"feedback": "thanks", "satisfaction": 4}).json()
    assert (closed["state"], closed["feedback"], closed["satisfaction"]) == \
        ("closed", "thanks", 4)
    assert closed["first_reply_at"] <= closed["in_progress_at"] <= closed["resolved_at"] \
        <= closed["closed_at"]
    events = v.get(f"{path}/events").json()
    assert [e["action"] for e in events] == ["open", "reply", "start", "resolve", "close"]
    aged = a.get("/tickets", params={"older_than": 3600, "state": "closed"}).json()["items"]
    assert t["id"] not in {x["id"] for x in aged}


def test_refund_records_goods_back_then_money_paid(shop: Shop) -> None:
    order = shop.paid_order(shop.product(stock=2))
    t = shop.buyer.post("/tickets", json={"kind": "refund", "message": "broken",
                                           "order_id": order["id"]}).json()
    path = f"/tickets/{t['id']}"
    goods = shop.agent.post(f"{path}/goods-received", json={}).json()
    assert goods["goods_received_at"] is not None
    assert shop.agent.post(f"{path}/goods-received", json={}).json()["code"] == \
        "already_recorded"
    paid = shop.agent.post(f"{path}/refund-paid", json={}).json()
    assert paid["refund_paid_at"] >= paid["goods_received_at"]
    consult = shop.buyer.post("/tickets", json={"kind": "consultation",
                                                 "message": "hi"}).json()
    assert shop.agent.post(f"/tickets/{consult['id']}/refund-paid", json={}
                           ).json()["code"] == "wrong_kind"
    missing = shop.buyer.post("/tickets", json={"kind": "refund", "message": "no order"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "order_id"]


def test_return_within_seven_days_accepted_after_refused_with_reason(shop: Shop) -> None:
    sku = shop.product(stock=5)
    fresh, old, undelivered = (shop.paid_order(sku) for _ in range(3))
    now = datetime.now(UTC)
    for order, delivered in ((fresh, now - timedelta(days=6)),
                             (old, now - timedelta(days=8))):
        r = shop.admin.post(f"/orders/{order['id']}/deliver",
                            json={"delivered_at": delivered.isoformat()})
        assert r.status_code == 200, r.text

    def ask(order: dict[str, int]) -> object:
        return shop.buyer.post("/tickets", json={"kind": "return", "message": "no reason",
                                                  "order_id": order["id"]})

    accepted = ask(fresh)
    assert accepted.status_code == 201  # type: ignore[attr-defined]
    refused = ask(old)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    body = refused.json()  # type: ignore[attr-defined]
    assert body["code"] == "return_window_closed"
    assert "7 days" in body["detail"] and "8.0 days after delivery" in body["detail"]
    assert ask(undelivered).json()["code"] == "not_delivered"  # type: ignore[attr-defined]
    merchant_backdate = shop.merchant.post(f"/orders/{undelivered['id']}/deliver",
                                           json={"delivered_at": now.isoformat()})
    assert merchant_backdate.status_code == 403
    assert shop.merchant.post(f"/orders/{undelivered['id']}/deliver",
                              json={}).status_code == 200


CHINA = timezone(timedelta(hours=8))  # the service's default return_utc_offset


def test_returns_count_seven_calendar_days_after_the_day_of_signing(shop: Shop) -> None:
    """The law's window runs to 24:00 (UTC+8) of the 7th day after the day of delivery:
    goods signed for at 01:00 local time seven days ago are still returnable today, well
    over 7 x 24 h later (7.5 days when it is 13:00); goods signed for at 23:00 eight days
    ago are not, though fewer than 8 x 24 h have passed, and the refusal names the
    deadline. (Before 02:00 local time the early delivery is put halfway from midnight to
    now, so that it still lies more than 7 x 24 h back.)"""
    sku = shop.product(stock=5)
    early, late = shop.paid_order(sku), shop.paid_order(sku)
    now = datetime.now(CHINA)
    today = datetime.combine(now.date(), time(), CHINA)
    signed_early = today - timedelta(days=7) + min(timedelta(hours=1), (now - today) / 2)
    signed_late = today - timedelta(days=8) + timedelta(hours=23)
    for order, at in ((early, signed_early), (late, signed_late)):
        r = shop.admin.post(f"/orders/{order['id']}/deliver",
                            json={"delivered_at": at.astimezone(UTC).isoformat()})
        assert r.status_code == 200, r.text

    def ask(order: dict[str, int]) -> httpx.Response:
        return shop.buyer.post("/tickets", json={"kind": "return", "message": "no reason",
                                                  "order_id": order["id"]})

    accepted = ask(early)
    assert accepted.status_code == 201, accepted.text
    assert datetime.now(CHINA) - signed_early > timedelta(days=7)  # refused by 7 x 24 h
    refused = ask(late)
    assert datetime.now(CHINA) - signed_late < timedelta(days=8, hours=1)
    assert refused.status_code == 422
    body = refused.json()
    last_day = (today - timedelta(days=1)).date()
    assert body["code"] == "return_window_closed"
    assert (f"accepted for 7 days after the day of delivery, until the end of {last_day} "
            f"local time ({today.isoformat()})") in body["detail"], body["detail"]
    assert f"({signed_late.isoformat()})" in body["detail"]


def test_reviews_cannot_be_deleted_and_hiding_is_audited(shop: Shop) -> None:
    sku = shop.product(stock=1)
    review = shop.buyer.post("/reviews", json={"sku": sku, "rating": 1,
                                                "text": "off-topic spam"}).json()
    for client in (shop.buyer, shop.merchant, shop.agent, shop.admin, shop.anonymous):
        assert client.delete(f"/reviews/{review['id']}").status_code == 405
    # a bad review may be hidden only for an allowed reason (rules.HIDE_REASONS)
    refused = shop.admin.post(f"/admin/reviews/{review['id']}/hide",
                              json={"reason": "off-topic"})
    assert refused.status_code == 422 and "reason" in refused.text
    hidden = shop.admin.post(f"/admin/reviews/{review['id']}/hide",
                             json={"reason": "spam"}).json()
    assert hidden["hidden"] and hidden["text"] == "off-topic spam"
    assert hidden["hidden_reason"] == "spam"
    assert shop.admin.post(f"/admin/reviews/{review['id']}/hide",
                           json={"reason": "spam"}).status_code == 409
    as_buyer = shop.buyer.get(f"/reviews/{review['id']}").json()
    assert as_buyer["hidden"] and as_buyer["text"] is None
    visible = shop.buyer.get("/reviews", params={"sku": sku}).json()["items"]
    assert visible == []
    assert review["id"] in {r["id"] for r in shop.all("/admin/reviews")}
    # the audit records about this review (a user whose token another test revoked may
    # share its id: that record's target_type is "user")
    audit = [a for a in shop.all("/admin/audit")
             if a["target_type"] == "review" and a["target_id"] == review["id"]]
    assert [(a["action"], a["detail"]) for a in audit] == [("review.hide", "spam")]


def test_bad_input_is_422_naming_each_field(shop: Shop) -> None:
    r = shop.merchant.post("/products", json={"sku": "bad sku!", "name": "", "price_cents": -1,
                                              "stock": "many", "colour": "red"})
    assert r.status_code == 422
    fields = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert fields == {("body", "sku"), ("body", "name"), ("body", "price_cents"),
                      ("body", "stock"), ("body", "colour")}
    no_key = shop.buyer.post("/orders", json={"sku": "X", "quantity": 1})
    assert no_key.status_code == 422
    assert no_key.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    nul = shop.buyer.post("/tickets", json={"kind": "complaint", "message": "a\u0000b"})
    assert nul.status_code == 422
    assert shop.buyer.post("/orders", content=b"{not json", headers={
        "Idempotency-Key": "k", "Content-Type": "application/json"}).status_code == 422
    assert shop.buyer.get("/orders/99999999").status_code == 404
    assert shop.buyer.get("/orders/0").status_code == 422
    assert shop.buyer.get(f"/orders/{2**70}").status_code == 422
    assert shop.admin.get("/tickets/424242424").status_code == 404
    assert shop.buyer.get("/no/such/path").status_code == 404


def test_oversized_body_is_413(shop: Shop) -> None:
    big = {"kind": "complaint", "message": "x" * 200_000}
    assert shop.buyer.post("/tickets", json=big).status_code == 413

    def chunks() -> object:
        for _ in range(100):
            yield b"x" * 10_000

    r = shop.buyer.post("/tickets", content=chunks(),  # type: ignore[arg-type]
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_health_openapi_and_docs(shop: Shop) -> None:
    assert shop.anonymous.get("/health").json() == {"status": "ok"}
    spec = shop.anonymous.get("/openapi.json").json()
    assert "/orders" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "swagger" in shop.anonymous.get("/docs").text.lower()
    me = shop.buyer.get("/me").json()
    assert me["role"] == "buyer"


def test_the_service_allows_exactly_the_rules_hide_reasons() -> None:
    import typing

    from simlive.rules import HIDE_REASONS
    from simlive.service.bodies import HideReason

    assert set(typing.get_args(HideReason)) == set(HIDE_REASONS)


def _live(shop: Shop) -> tuple[int, str]:
    """A live broadcast and a product to order in it."""
    b = shop.merchant.post("/broadcasts", json={"title": "counters"}).json()["id"]
    shop.merchant.post(f"/broadcasts/{b}/start")
    sku = shop.product(stock=10)
    shop.merchant.post(f"/broadcasts/{b}/products", json={"sku": sku})
    return b, sku


def test_broadcast_counters_show_its_orders_and_its_viewers(shop: Shop) -> None:
    """Sold: orders taken in the broadcast (a refused one, or one elsewhere, is not); viewers:
    the sessions that opened the live page lately, each once; reading the counters is not
    watching."""
    b, sku = _live(shop)
    counters = f"/broadcasts/{b}/counters"
    assert shop.buyer.get(counters).json()["sold"] == 0
    for viewer in ("s1", "s2", "s1"):
        assert shop.buyer.get(f"/broadcasts/{b}", params={"viewer": viewer}).status_code == 200
    for key in ("k1", "k1", "k2"):  # a retried key is one order
        r = shop.buyer.post("/orders", json={"sku": sku, "quantity": 1, "broadcast_id": b},
                            headers={"Idempotency-Key": key})
        assert r.status_code in (200, 201)  # 200: the retry's answer, the same order
    shop.order(sku, 1)  # not in the broadcast
    assert shop.buyer.post("/orders", json={"sku": sku, "quantity": 99, "broadcast_id": b},
                           headers={"Idempotency-Key": "k3"}).status_code in (409, 422)
    shown = shop.buyer.get(counters).json()
    assert (shown["sold"], shown["viewers"], shown["viewer_window_s"]) == (2, 2, 60)
    shop.merchant.get(f"/broadcasts/{b}")  # the host is no viewer
    assert shop.buyer.get(counters).json()["viewers"] == 2
