"""Escalations to the platform: a buyer takes their own ticket to the platform once; the
platform (admin) lists the undecided ones oldest first and decides each once."""

from __future__ import annotations

from testing.shop import Shop


def _ticket(shop: Shop) -> dict:
    r = shop.buyer.post("/tickets", json={"kind": "complaint", "message": "never came"})
    assert r.status_code == 201
    return r.json()


def test_a_buyer_escalates_their_ticket_and_the_platform_decides_it(shop: Shop) -> None:
    t = _ticket(shop)
    r = shop.buyer.post(f"/tickets/{t['id']}/escalate", json={"reason": "no answer"})
    assert r.status_code == 200 and r.json()["escalated_at"] is not None
    assert r.json()["decided_at"] is None
    again = shop.buyer.post(f"/tickets/{t['id']}/escalate", json={"reason": "still none"})
    assert again.status_code == 409 and again.json()["code"] == "already_escalated"
    queue = [e["id"] for e in shop.all("/escalations", state="open")]
    assert t["id"] in queue
    # only the platform decides
    assert shop.agent.post(f"/tickets/{t['id']}/decide", json={
        "decision": "for-consumer", "note": "x"}).status_code == 403
    d = shop.admin.post(f"/tickets/{t['id']}/decide", json={"decision": "for-consumer",
                                                             "note": "refund the buyer"})
    assert d.status_code == 200
    body = d.json()
    assert body["decision"] == "for-consumer" and body["decided_at"] >= body["escalated_at"]
    twice = shop.admin.post(f"/tickets/{t['id']}/decide", json={"decision": "for-store",
                                                                 "note": "no"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_decided"
    assert t["id"] not in [e["id"] for e in shop.all("/escalations", state="open")]
    row = next(x for x in shop.all("/admin/tickets") if x["id"] == t["id"])
    assert row["escalated_at"] and row["decided_at"] and row["decision"] == "for-consumer"


def test_a_ticket_not_escalated_cannot_be_decided_nor_escalated_by_another(
        shop: Shop) -> None:
    t = _ticket(shop)
    r = shop.admin.post(f"/tickets/{t['id']}/decide", json={"decision": "partial",
                                                             "note": "n"})
    assert r.status_code == 409 and r.json()["code"] == "not_escalated"
    other = shop.client(shop.mint("buyer")[0])
    assert other.post(f"/tickets/{t['id']}/escalate",
                      json={"reason": "not mine"}).status_code == 403
    assert shop.buyer.get("/escalations").status_code == 403
