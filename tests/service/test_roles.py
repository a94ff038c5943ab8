"""Every endpoint x every role: 401 without a token, 403 for a wrong role or owner, 2xx else.

Each case builds what it needs (a fresh product, order, ticket...) owned by the demo users, so
cases never depend on one another. ``test_matrix_covers_every_operation`` keeps the table in
step with the service's own OpenAPI document.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from simlive.service.process import ServiceProcess
from testing.shop import Shop

ROLES = ("anonymous", "buyer", "merchant", "agent", "admin")
ALL = frozenset(ROLES) - {"anonymous"}


@dataclass
class World:
    """The demo users, plus a second buyer and merchant who own nothing in the cases."""

    shop: Shop
    clients: dict[str, httpx.Client]

    def sku(self) -> str:
        return self.shop.product(stock=50)

    def broadcast(self, state: str = "scheduled") -> int:
        m = self.shop.merchant
        b = m.post("/broadcasts", json={"title": "role test"}).json()["id"]
        if state in ("live", "ended"):
            m.post(f"/broadcasts/{b}/start")
        if state == "ended":
            m.post(f"/broadcasts/{b}/end")
        return int(b)

    def order(self, paid: bool = False) -> int:
        r = self.shop.order(self.sku())
        assert r.status_code == 201, r.text
        oid = int(r.json()["id"])
        if paid:
            assert self.shop.buyer.post(f"/orders/{oid}/pay").status_code == 200
        return oid

    def ticket(self, state: str = "open", kind: str = "consultation") -> int:
        body: dict[str, Any] = {"kind": kind, "message": "help"}
        if kind != "consultation":
            body["order_id"] = self.order(paid=True)
        tid = self.shop.buyer.post("/tickets", json=body).json()["id"]
        a = self.shop.agent
        steps = [("replied", "reply", {"message": "hi"}), ("in_progress", "start", None),
                 ("resolved", "resolve", {"resolution": "done"})]
        for reached, verb, payload in steps:
            if state == "open":
                break
            assert a.post(f"/tickets/{tid}/{verb}", json=payload).status_code == 200
            if state == reached:
                break
        return int(tid)

    def escalated(self) -> int:
        """A ticket its buyer took to the platform (the platform decides it)."""
        tid = self.ticket()
        assert self.shop.buyer.post(f"/tickets/{tid}/escalate", json={
            "reason": "no answer"}).status_code == 200
        return tid

    def review(self) -> int:
        return int(self.shop.buyer.post("/reviews", json={
            "sku": self.sku(), "rating": 5, "text": "great"}).json()["id"])


Case = tuple[str, str, Callable[[World], tuple[str, Any]], frozenset[str]]


def _p(path: str, body: Any = None) -> Callable[[World], tuple[str, Any]]:
    return lambda w: (path, body)


def _key() -> str:
    return uuid.uuid4().hex


CASES: list[Case] = [
    ("GET", "/health", _p("/health"), frozenset(ROLES)),
    ("GET", "/me", _p("/me"), ALL),
    ("POST", "/admin/users", _p("/admin/users", {"role": "buyer"}), frozenset({"admin"})),
    ("GET", "/admin/users", _p("/admin/users"), frozenset({"admin"})),
    ("GET", "/admin/config", _p("/admin/config"), frozenset({"admin"})),
    ("POST", "/admin/sweep", _p("/admin/sweep"), frozenset({"admin"})),
    ("POST", "/admin/tokens/revoke", lambda w: ("/admin/tokens/revoke", {
        "token": w.shop.mint("buyer")[0]}), frozenset({"admin"})),
    ("GET", "/admin/orders", _p("/admin/orders"), frozenset({"admin"})),
    ("GET", "/admin/receipts", _p("/admin/receipts"), frozenset({"admin"})),
    ("GET", "/admin/tickets", _p("/admin/tickets"), frozenset({"admin"})),
    ("GET", "/admin/ticket-events", _p("/admin/ticket-events"), frozenset({"admin"})),
    ("GET", "/admin/reviews", _p("/admin/reviews"), frozenset({"admin"})),
    ("GET", "/admin/broadcasts", _p("/admin/broadcasts"), frozenset({"admin"})),
    ("GET", "/admin/replays", _p("/admin/replays"), frozenset({"admin"})),
    ("GET", "/admin/ledger", _p("/admin/ledger"), frozenset({"admin"})),
    ("GET", "/admin/audit", _p("/admin/audit"), frozenset({"admin"})),
    ("POST", "/admin/reviews/{review_id}/hide",
     lambda w: (f"/admin/reviews/{w.review()}/hide", {"reason": "spam"}), frozenset({"admin"})),
    ("POST", "/broadcasts", _p("/broadcasts", {"title": "t"}), frozenset({"merchant"})),
    ("GET", "/broadcasts", _p("/broadcasts"), ALL),
    ("GET", "/broadcasts/{broadcast_id}", lambda w: (f"/broadcasts/{w.broadcast()}", None),
     ALL),
    ("POST", "/broadcasts/{broadcast_id}/start",
     lambda w: (f"/broadcasts/{w.broadcast()}/start", None), frozenset({"merchant", "admin"})),
    ("POST", "/broadcasts/{broadcast_id}/end",
     lambda w: (f"/broadcasts/{w.broadcast('live')}/end", None),
     frozenset({"merchant", "admin"})),
    ("GET", "/broadcasts/{broadcast_id}/replay",
     lambda w: (f"/broadcasts/{w.broadcast('ended')}/replay", None), ALL),
    ("POST", "/broadcasts/{broadcast_id}/products",
     lambda w: (f"/broadcasts/{w.broadcast()}/products", {"sku": w.sku()}),
     frozenset({"merchant"})),
    ("GET", "/broadcasts/{broadcast_id}/products",
     lambda w: (f"/broadcasts/{w.broadcast()}/products", None), ALL),
    ("POST", "/products", lambda w: ("/products", {
        "sku": f"R-{_key()[:12]}", "name": "n", "price_cents": 1, "stock": 1}),
     frozenset({"merchant"})),
    ("GET", "/products", _p("/products"), ALL),
    ("GET", "/products/{sku}", lambda w: (f"/products/{w.sku()}", None), ALL),
    ("POST", "/products/{sku}/restock",
     lambda w: (f"/products/{w.sku()}/restock", {"quantity": 1}), frozenset({"merchant"})),
    ("GET", "/products/{sku}/ledger", lambda w: (f"/products/{w.sku()}/ledger", None),
     frozenset({"merchant", "admin"})),
    ("POST", "/orders", lambda w: ("/orders", {"sku": w.sku(), "quantity": 1}),
     frozenset({"buyer"})),
    ("GET", "/orders", _p("/orders"), ALL),
    ("GET", "/orders/{order_id}", lambda w: (f"/orders/{w.order()}", None), ALL),
    ("POST", "/orders/{order_id}/pay", lambda w: (f"/orders/{w.order()}/pay", None),
     frozenset({"buyer"})),
    ("POST", "/orders/{order_id}/cancel", lambda w: (f"/orders/{w.order()}/cancel", None),
     frozenset({"buyer"})),
    ("POST", "/orders/{order_id}/deliver",
     lambda w: (f"/orders/{w.order(paid=True)}/deliver", {}), frozenset({"merchant", "admin"})),
    ("GET", "/orders/{order_id}/receipt",
     lambda w: (f"/orders/{w.order(paid=True)}/receipt", None), ALL),
    ("POST", "/tickets", _p("/tickets", {"kind": "complaint", "message": "late"}),
     frozenset({"buyer"})),
    ("GET", "/tickets", _p("/tickets"), frozenset({"buyer", "agent", "admin"})),
    ("GET", "/tickets/{ticket_id}", lambda w: (f"/tickets/{w.ticket()}", None),
     frozenset({"buyer", "agent", "admin"})),
    ("GET", "/tickets/{ticket_id}/events", lambda w: (f"/tickets/{w.ticket()}/events", None),
     frozenset({"buyer", "agent", "admin"})),
    ("POST", "/tickets/{ticket_id}/reply",
     lambda w: (f"/tickets/{w.ticket()}/reply", {"message": "hello"}),
     frozenset({"agent", "admin"})),
    ("POST", "/tickets/{ticket_id}/start",
     lambda w: (f"/tickets/{w.ticket('replied')}/start", None), frozenset({"agent", "admin"})),
    ("POST", "/tickets/{ticket_id}/resolve",
     lambda w: (f"/tickets/{w.ticket('in_progress')}/resolve", {"resolution": "ok"}),
     frozenset({"agent", "admin"})),
    ("POST", "/tickets/{ticket_id}/close",
     lambda w: (f"/tickets/{w.ticket('resolved')}/close", {"feedback": "ok",
                                                           "satisfaction": 5}),
     frozenset({"buyer"})),
    ("POST", "/tickets/{ticket_id}/goods-received",
     lambda w: (f"/tickets/{w.ticket(kind='refund')}/goods-received", {}),
     frozenset({"agent", "admin"})),
    ("POST", "/tickets/{ticket_id}/refund-paid",
     lambda w: (f"/tickets/{w.ticket(kind='refund')}/refund-paid", {}),
     frozenset({"agent", "admin"})),
    ("POST", "/reviews", lambda w: ("/reviews", {"sku": w.sku(), "rating": 4, "text": "ok"}),
     frozenset({"buyer"})),
    ("GET", "/reviews", _p("/reviews"), ALL),
    ("GET", "/reviews/{review_id}", lambda w: (f"/reviews/{w.review()}", None), ALL),
    # the six duties added with the whole rulebook
    ("GET", "/broadcasts/{broadcast_id}/counters",
     lambda w: (f"/broadcasts/{w.broadcast('live')}/counters", None), ALL),
    ("GET", "/products/{sku}/price", lambda w: (f"/products/{w.sku()}/price", None), ALL),
    ("PUT", "/products/{sku}/price",
     lambda w: (f"/products/{w.sku()}/price", {"price_cents": 50}), frozenset({"merchant"})),
    ("POST", "/orders/{order_id}/ship",
     lambda w: (f"/orders/{w.order(paid=True)}/ship", None), frozenset({"merchant", "admin"})),
    ("POST", "/tickets/{ticket_id}/escalate",
     lambda w: (f"/tickets/{w.ticket()}/escalate", {"reason": "no answer"}),
     frozenset({"buyer"})),
    ("GET", "/escalations", _p("/escalations"), frozenset({"admin"})),
    ("POST", "/tickets/{ticket_id}/decide",
     lambda w: (f"/tickets/{w.escalated()}/decide", {"decision": "for-consumer",
                                                      "note": "refund the buyer"}),
     frozenset({"admin"})),
]

# Someone of the right role who is not the owner: (endpoint, intruder) -> 403.
NOT_OWNER = [
    ("GET", "/orders/{order_id}", "buyer2"), ("POST", "/orders/{order_id}/pay", "buyer2"),
    ("POST", "/orders/{order_id}/cancel", "buyer2"),
    ("GET", "/orders/{order_id}/receipt", "buyer2"),
    ("GET", "/orders/{order_id}", "merchant2"),
    ("POST", "/orders/{order_id}/deliver", "merchant2"),
    ("GET", "/tickets/{ticket_id}", "buyer2"), ("GET", "/tickets/{ticket_id}/events", "buyer2"),
    ("POST", "/tickets/{ticket_id}/close", "buyer2"),
    ("GET", "/products/{sku}", "merchant2"), ("POST", "/products/{sku}/restock", "merchant2"),
    ("GET", "/products/{sku}/ledger", "merchant2"),
    ("GET", "/broadcasts/{broadcast_id}", "merchant2"),
    ("POST", "/broadcasts/{broadcast_id}/start", "merchant2"),
    ("POST", "/broadcasts/{broadcast_id}/end", "merchant2"),
    ("GET", "/broadcasts/{broadcast_id}/replay", "merchant2"),
    ("POST", "/broadcasts/{broadcast_id}/products", "merchant2"),
    ("GET", "/broadcasts/{broadcast_id}/products", "merchant2"),
    ("PUT", "/products/{sku}/price", "merchant2"), ("POST", "/orders/{order_id}/ship", "merchant2"),
    ("POST", "/tickets/{ticket_id}/escalate", "buyer2"),
]


@pytest.fixture(scope="module")
def world(sqlite_service: ServiceProcess,
          shop_of: Callable[[ServiceProcess], Shop]) -> Iterator[World]:
    shop = shop_of(sqlite_service)
    clients = {"anonymous": shop.anonymous, "buyer": shop.buyer, "merchant": shop.merchant,
               "agent": shop.agent, "admin": shop.admin,
               "buyer2": shop.client(shop.mint("buyer")[0]),
               "merchant2": shop.client(shop.mint("merchant")[0])}
    yield World(shop, clients)


def _call(world: World, method: str, template: str, who: str) -> httpx.Response:
    case = next(c for c in CASES if (c[0], c[1]) == (method, template))
    path, body = case[2](world)
    headers = {"Idempotency-Key": _key()} if (method, template) == ("POST", "/orders") else {}
    return world.clients[who].request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template"), [(c[0], c[1]) for c in CASES],
                         ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_role_matrix(world: World, method: str, template: str, role: str) -> None:
    allowed = next(c[3] for c in CASES if (c[0], c[1]) == (method, template))
    r = _call(world, method, template, role)
    if role in allowed:
        assert 200 <= r.status_code < 300, r.text
    elif role == "anonymous":
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    else:
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"


@pytest.mark.parametrize(("method", "template", "who"), NOT_OWNER,
                         ids=[f"{m} {t} as {w}" for m, t, w in NOT_OWNER])
def test_not_the_owner_is_403(world: World, method: str, template: str, who: str) -> None:
    r = _call(world, method, template, who)
    assert r.status_code == 403, r.text


def test_unknown_token_is_401(world: World) -> None:
    bad = world.shop.client("sl-buyer-not-a-real-token")
    assert bad.get("/me").status_code == 401
    assert world.shop.anonymous.get("/me", headers={"Authorization": "Basic abc"}
                                    ).status_code == 401


def test_matrix_covers_every_operation(sqlite_service: ServiceProcess) -> None:
    spec = httpx.get(f"{sqlite_service.base_url}/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert operations == {(c[0], c[1]) for c in CASES}
