"""Each deliberate fault really breaks its rule (and only when asked for).

``oversell`` and ``double-restock`` are race faults; their tests sit beside the correct
behaviour they break (test_concurrency.py, test_expiry.py). ``test_every_fault_has_a_test``
keeps it that way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from simlive.cli import cli
from simlive.rules import RULES
from simlive.service.faults import BREAKS, FAULT_NAMES, Fault
from simlive.service.process import ServiceProcess
from testing.shop import Shop


@pytest.fixture
def faulty(faulty_sqlite_service: ServiceProcess,
           shop_of: Callable[[ServiceProcess], Shop]) -> Shop:
    return shop_of(faulty_sqlite_service)


def test_stale_display_fault_shows_stale_stock(faulty: Shop) -> None:
    sku = faulty.product(stock=10)
    assert faulty.buyer.get(f"/products/{sku}").json()["displayed_stock"] == 10
    for _ in range(3):
        assert faulty.order(sku, 1).status_code == 201
    shown = faulty.buyer.get(f"/products/{sku}").json()["displayed_stock"]
    assert shown == 10
    assert faulty.ledger(sku)["remaining"] == 7


def test_lose_ticket_fault_loses_acknowledged_tickets(faulty: Shop) -> None:
    acknowledged = []
    for i in range(20):
        r = faulty.buyer.post("/tickets", json={"kind": "complaint", "message": f"late {i}"})
        assert r.status_code == 201
        acknowledged.append(r.json())
    stored = {(t["id"], t["message"]) for t in faulty.all("/admin/tickets")}
    lost = [t for t in acknowledged if (t["id"], t["message"]) not in stored]
    assert 0 < len(lost) < 20


def test_escalation_lost_fault_acknowledges_escalations_it_never_stores(
        faulty: Shop) -> None:
    tickets = []
    while len(tickets) < 6:  # lose-ticket is on as well: keep the tickets that were stored
        r = faulty.buyer.post("/tickets", json={"kind": "complaint", "message": "late"})
        stored = {t["id"] for t in faulty.all("/admin/tickets")}
        if r.json()["id"] in stored:
            tickets.append(r.json()["id"])
    for tid in tickets:
        r = faulty.buyer.post(f"/tickets/{tid}/escalate", json={"reason": "no answer"})
        assert r.status_code == 200 and r.json()["escalated_at"] is not None
    rows = {t["id"]: t for t in faulty.all("/admin/tickets")}
    lost = [tid for tid in tickets if rows[tid]["escalated_at"] is None]
    assert 0 < len(lost) < len(tickets)
    # the platform never sees them, so it cannot decide them
    queue = {e["id"] for e in faulty.all("/escalations", state="open")}
    assert not queue & set(lost)
    r = faulty.admin.post(f"/tickets/{lost[0]}/decide", json={"decision": "for-consumer",
                                                               "note": "n"})
    assert r.status_code == 409 and r.json()["code"] == "not_escalated"


def test_delete_review_fault_deletes_reviews(faulty: Shop) -> None:
    review = faulty.buyer.post("/reviews", json={"sku": faulty.product(), "rating": 1,
                                                  "text": "bad"}).json()
    assert faulty.buyer.delete(f"/reviews/{review['id']}").status_code == 204
    assert faulty.admin.get(f"/reviews/{review['id']}").status_code == 404
    assert review["id"] not in {r["id"] for r in faulty.all("/admin/reviews")}
    assert review["id"] not in {a["target_id"] for a in faulty.all("/admin/audit")
                                if a["target_type"] == "review"}


def test_no_replay_fault_publishes_no_replay(faulty: Shop) -> None:
    b = faulty.merchant.post("/broadcasts", json={"title": "t"}).json()
    faulty.merchant.post(f"/broadcasts/{b['id']}/start")
    ended = faulty.merchant.post(f"/broadcasts/{b['id']}/end").json()
    assert ended["state"] == "ended" and ended["replay"] is None
    assert faulty.buyer.get(f"/broadcasts/{b['id']}/replay").status_code == 404


def test_no_receipt_fault_issues_no_receipt(faulty: Shop) -> None:
    order = faulty.paid_order(faulty.product())
    assert order["state"] == "paid"
    assert faulty.buyer.get(f"/orders/{order['id']}/receipt").status_code == 404
    assert order["id"] not in {r["order_id"] for r in faulty.all("/admin/receipts")}


def test_retain_from_creation_fault_keeps_the_creation_clock(faulty: Shop) -> None:
    """Delivered, the order and its receipt still promise three years from creation:
    short of the law's clock by the time from creation to delivery."""
    order = faulty.paid_order(faulty.product())
    path = f"/orders/{order['id']}"
    delivered = faulty.merchant.post(f"{path}/deliver", json={}).json()
    receipt = faulty.buyer.get(f"{path}/receipt")
    assert receipt.status_code == 404  # no-receipt is on too
    assert delivered["retain_until"] == order["retain_until"]
    assert delivered["delivered_at"] > delivered["created_at"]


def test_incomplete_listing_fault_omits_seller_and_returnability(faulty: Shop) -> None:
    sku = f"P-{faulty.product()}"[:60]
    faulty.merchant.post("/products", json={"sku": sku, "name": "fish", "price_cents": 500,
                                            "stock": 3, "seller": "Sea Store",
                                            "not_returnable": "fresh-perishable"})
    page = faulty.buyer.get(f"/products/{sku}").json()
    assert page["price_cents"] == 500
    assert (page["seller"], page["returnable"], page["not_returnable"]) == (None, None, None)
def test_lost_shipment_fault_acknowledges_shipments_it_never_records(faulty: Shop) -> None:
    from tests.service.test_shipping import promised_order

    lost = 0
    for _ in range(12):
        order = promised_order(faulty)
        path = f"/orders/{order['id']}"
        shipped = faulty.merchant.post(f"{path}/ship")
        assert shipped.status_code == 200 and shipped.json()["shipped_at"] is not None
        if faulty.admin.get(path).json()["shipped_at"] is None:
            lost += 1  # and it cannot be delivered: it stays unshipped past its promise
            assert faulty.merchant.post(f"{path}/deliver", json={}).status_code == 409
    assert 0 < lost < 12
def test_inflated_reference_fault_shows_the_list_price_after_a_flash_sale(
        faulty: Shop) -> None:
    sku = faulty.product(price_cents=19900)
    sale = faulty.merchant.put(f"/products/{sku}/price", json={"price_cents": 990})
    assert sale.status_code == 200 and sale.json()["price_cents"] == 990
    order = faulty.paid_order(sku)
    assert order["amount_cents"] == 990
    shown = faulty.buyer.get(f"/products/{sku}/price").json()
    # sold at 9.90 a moment ago, yet shown 'was 199'
    assert (shown["price"], shown["reference_price"]) == (9.9, 199.0)
def test_inflated_counters_fault_shows_three_times_the_truth_and_a_base(faulty: Shop) -> None:
    b = faulty.merchant.post("/broadcasts", json={"title": "t"}).json()["id"]
    faulty.merchant.post(f"/broadcasts/{b}/start")
    faulty.buyer.get(f"/broadcasts/{b}", params={"viewer": "only-one"})
    sku = faulty.product()
    faulty.merchant.post(f"/broadcasts/{b}/products", json={"sku": sku})
    r = faulty.buyer.post("/orders", json={"sku": sku, "quantity": 1, "broadcast_id": b},
                          headers={"Idempotency-Key": "one-order"})
    assert r.status_code == 201
    shown = faulty.buyer.get(f"/broadcasts/{b}/counters").json()
    assert (shown["sold"], shown["viewers"]) == (3 * 1 + 1000, 3 * 1 + 500)


def test_every_fault_has_a_test() -> None:
    source = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for name in FAULT_NAMES:
        assert re.search(rf"def test_{name.replace('-', '_')}_fault_\w+", source), name


def test_each_fault_breaks_a_known_rule() -> None:
    assert set(BREAKS) == set(Fault)
    assert all(rule in RULES for rule in BREAKS.values())
    assert Fault("oversell").rule_id == "stock.no-oversell"


def test_faults_are_announced_and_listed(faulty_sqlite_service: ServiceProcess,
                                         faulty: Shop) -> None:
    log = faulty_sqlite_service.log()
    for name in FAULT_NAMES:
        assert f"FAULT {name} is ON" in log
    listed = faulty.admin.get("/admin/config").json()["faults"]
    assert {(f["name"], f["breaks"]) for f in listed} == \
        {(f.value, f.rule_id) for f in Fault}


def test_correct_service_has_no_faults(sqlite_service: ServiceProcess,
                                       shop_of: Callable[[ServiceProcess], Shop]) -> None:
    assert shop_of(sqlite_service).admin.get("/admin/config").json()["faults"] == []
    assert "FAULT" not in sqlite_service.log()


def test_unknown_fault_name_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--fault", "oversell", "--fault", "oversel1"])
    assert result.exit_code == 2
    assert "'oversel1' is not a known fault. Did you mean 'oversell'?" in result.output


def test_good_reviews_first_fault_ranks_the_default_listing_by_rating(faulty: Shop) -> None:
    sku = faulty.product()
    ratings = [1, 5, 3, 4, 2]
    for i, rating in enumerate(ratings):
        assert faulty.buyer.post("/reviews", json={"sku": sku, "rating": rating,
                                                   "text": f"r{i}"}).status_code == 201
    pages, after = [], 0
    while True:  # two at a time: paging follows the same order
        body = faulty.buyer.get("/reviews", params={"sku": sku, "after": after,
                                                    "limit": 2}).json()
        pages += [r["rating"] for r in body["items"]]
        if body["next_after"] is None:
            break
        after = body["next_after"]
    assert pages == [5, 4, 3, 2, 1]
