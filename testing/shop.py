"""Clients on a running reference service, one per demo role, and helpers that set up data
(products, orders, users), for the tests and the benchmarks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from simlive.service.process import ServiceProcess, http_client
from testing import HarnessError


class Shop:
    """Clients on one service, one per demo role, and helpers that set up data.

    Raises :class:`HarnessError` when the service refuses a set-up step, with its answer.
    """

    def __init__(self, svc: ServiceProcess) -> None:
        self.svc = svc
        self.admin = svc.client("admin")
        self.merchant = svc.client("merchant")
        self.agent = svc.client("agent")
        self.buyer = svc.client("buyer")
        self.anonymous = svc.client()
        self._clients = [self.admin, self.merchant, self.agent, self.buyer, self.anonymous]

    @staticmethod
    def _expect(r: httpx.Response, status: int) -> Any:
        if r.status_code != status:
            raise HarnessError(f"{r.request.method} {r.request.url.path} answered "
                               f"{r.status_code}, expected {status}: {r.text}")
        return r.json()

    def client(self, token: str | None = None) -> httpx.Client:
        """A client (closed with the shop) for ``token``, or anonymous."""
        c = http_client(self.svc.base_url, token)
        self._clients.append(c)
        return c

    def mint(self, role: str, count: int = 1) -> list[str]:
        """Tokens of ``count`` new users of ``role``."""
        body = self._expect(self.admin.post("/admin/users", json={"role": role,
                                                                  "count": count}), 201)
        return [u["token"] for u in body["users"]]

    def product(self, stock: int = 100, max_per_buyer: int | None = None,
                merchant: httpx.Client | None = None, price_cents: int = 1999,
                stock_buckets: int | None = None) -> str:
        """A new product with a unique SKU; its SKU."""
        sku = f"T-{uuid.uuid4().hex[:16]}"
        body: dict[str, Any] = {"sku": sku, "name": f"test product {sku}",
                                "price_cents": price_cents, "stock": stock,
                                "max_per_buyer": max_per_buyer}
        if stock_buckets is not None:
            body["stock_buckets"] = stock_buckets
        self._expect((merchant or self.merchant).post("/products", json=body), 201)
        return sku

    def order(self, sku: str, quantity: int = 1, client: httpx.Client | None = None,
              key: str | None = None) -> httpx.Response:
        """``POST /orders`` (a fresh idempotency key unless ``key``); the raw response."""
        return (client or self.buyer).post(
            "/orders", json={"sku": sku, "quantity": quantity},
            headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def paid_order(self, sku: str, client: httpx.Client | None = None) -> dict[str, Any]:
        c = client or self.buyer
        order = self._expect(self.order(sku, 1, c), 201)
        return self._expect(c.post(f"/orders/{order['id']}/pay"), 200)  # type: ignore[no-any-return]

    def ledger(self, sku: str) -> dict[str, Any]:
        return self._expect(self.admin.get(f"/products/{sku}/ledger"), 200)  # type: ignore[no-any-return]

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a listing, following ``next_after``, as admin."""
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            body = self._expect(self.admin.get(path, params={"after": after, "limit": 1000,
                                                             **params}), 200)
            items += body["items"]
            if body["next_after"] is None:
                return items
            after = body["next_after"]

    def close(self) -> None:
        for c in self._clients:
            c.close()
