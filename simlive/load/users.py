"""Locust users for the roles of a broadcast; every call is recorded in the history.

Each user records ``invoke`` before a request and ``ok`` / ``fail`` / ``info`` after it (see
:mod:`simlive.check.history`): a 2xx is ok, a 4xx or a refused connection is fail (it did not
happen), a timeout, reset or 5xx is info (it may have happened). Business refusals that a
correct service gives under load (sold out, buyer limit, illegal transition) are marked as
successes in Locust's statistics so the failure ratio measures the service, not the plot.
Randomness comes from one ``random.Random`` per user, seeded from the plan and user number.
"""

from __future__ import annotations

import random
from itertools import count
from typing import Any

from locust import between, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

from simlive.load.context import Context

EXPECTED = {405, 409, 404, 422}  # refusals a correct service gives; recorded as fail
KINDS = ("consultation", "return", "replacement", "refund", "complaint")
_numbers = count(1)


class SimliveUser(FastHttpUser):
    """Shared plumbing: token, recorder, the recorded ``call``."""

    abstract = True
    wait_time = between(0.05, 0.3)
    role_tokens = "viewer"

    def on_start(self) -> None:
        ctx: Context = self.environment.simlive  # type: ignore[attr-defined]
        self.ctx = ctx
        self.number = next(_numbers)
        self.rng = random.Random(f"{ctx.plan.seed}-{ctx.tag}-{type(self).__name__}-"
                                 f"{self.number}")
        self.process = f"{ctx.tag}-{type(self).__name__[:-4].lower()}-{self.number}"
        tokens = {"viewer": ctx.plan.viewer_tokens, "agent": ctx.plan.agent_tokens,
                  "merchant": [ctx.plan.merchant_token]}[self.role_tokens]
        self.buyer = self.rng.randrange(len(tokens))
        self.auth = {"Authorization": f"Bearer {tokens[self.buyer]}"}
        self.merchant = {"Authorization": f"Bearer {ctx.plan.merchant_token}"}

    def call(self, f: str, args: dict[str, Any], method: str, path: str, *,
             body: Any = None, headers: dict[str, str] | None = None, name: str | None = None,
             value: Any = None) -> tuple[str, Any]:
        """One recorded request; returns (outcome, parsed body or None)."""
        rec = self.ctx.recorder
        handle = rec.invoke(self.process, f, args)
        hdrs = headers or self.auth
        with self.client.request(method, path, json=body, headers=hdrs, name=name or path,
                                 catch_response=True) as resp:
            code = resp.status_code or 0
            data = None
            if code and resp.content:
                try:
                    data = resp.json()
                except ValueError:
                    data = None
            if 200 <= code < 300:
                resp.success()
                result = value(data) if value is not None else None
                rec.complete(handle, "ok", result)
                return "ok", data
            if 400 <= code < 500:
                if code in EXPECTED:
                    resp.success()
                else:
                    resp.failure(f"HTTP {code}")
                rec.complete(handle, "fail", {"status": code, "code": (data or {}).get("code")
                                              if isinstance(data, dict) else None})
                return "fail", data
            err = resp.error
            if code == 0 and isinstance(err, ConnectionRefusedError):
                rec.complete(handle, "fail", {"error": "connection refused"})
                return "fail", None
            rec.complete(handle, "info", {"status": code, "error": type(err).__name__
                                          if err else None})
            if code == 0 or code >= 500:
                resp.failure(f"outcome unknown: HTTP {code} {err!r}")
            return "info", None

    def read_stock(self) -> None:
        b = self.ctx.plan.broadcast_id
        self.call("read_stock", {}, "GET", f"/broadcasts/{b}/products",
                  name="/broadcasts/[id]/products",
                  value=lambda d: {p["sku"]: p["displayed_stock"] for p in d})


class ViewerUser(SimliveUser):
    """Watches the broadcast, reads the displayed stock, browses the shop."""

    @task(1)
    def watch(self) -> None:
        b = self.ctx.plan.broadcast_id
        self.call("watch", {"broadcast_id": b}, "GET", f"/broadcasts/{b}",
                  name="/broadcasts/[id]", value=lambda d: {"state": d["state"]})

    @task(4)
    def stock(self) -> None:
        self.read_stock()

    @task(1)
    def browse(self) -> None:
        self.call("browse", {}, "GET", "/products?limit=20", name="/products")


class BuyerUser(SimliveUser):
    """Orders with an Idempotency-Key, retries unknown outcomes with the same key, pays or
    lets the order expire."""

    pay_probability = 0.8

    def order(self, sku: str, attempts: int = 3) -> int | None:
        key = f"k-{self.process}-{self.rng.getrandbits(48):012x}"
        args = {"sku": sku, "quantity": 1, "key": key, "buyer": self.buyer}
        for _ in range(attempts):
            outcome, data = self.call(
                "order", args, "POST", "/orders", body={"sku": sku, "quantity": 1,
                                                        "broadcast_id": self.ctx.plan.broadcast_id},
                headers={**self.auth, "Idempotency-Key": key},
                value=lambda d: {"order_id": d["id"], "state": d["state"]})
            if outcome == "ok":
                return int(data["id"])
            if outcome == "fail":
                return None
        return None

    def pay(self, order_id: int, sku: str, attempts: int = 3) -> bool:
        for _ in range(attempts):
            outcome, _ = self.call("pay", {"order_id": order_id, "sku": sku, "quantity": 1},
                                   "POST", f"/orders/{order_id}/pay", name="/orders/[id]/pay",
                                   value=lambda d: {"order_id": d["id"], "state": d["state"]})
            if outcome != "info":
                return outcome == "ok"
        return False

    def pick_sku(self) -> str:
        plan = self.ctx.plan
        if self.rng.random() < 0.6:
            return plan.hot_sku
        return self.rng.choice(plan.skus)["sku"]

    def new_customer(self) -> None:
        """Each purchase by another viewer account, so per-buyer limits do not stop sales."""
        tokens = self.ctx.plan.viewer_tokens
        self.buyer = self.rng.randrange(len(tokens))
        self.auth = {"Authorization": f"Bearer {tokens[self.buyer]}"}

    @task
    def buy(self) -> None:
        self.new_customer()
        self.read_stock()
        sku = self.pick_sku()
        order_id = self.order(sku)
        if order_id is not None and self.rng.random() < self.ctx.plan.extra.get(
                "pay_probability", self.pay_probability):
            self.pay(order_id, sku)


class AftersalesUser(BuyerUser):
    """Buys, has it delivered, opens a ticket of each kind and closes resolved ones with
    feedback."""

    kind_index = 1  # the first request of each customer is a return, then every kind

    @task
    def request(self) -> None:
        self.new_customer()
        kind = KINDS[self.kind_index % len(KINDS)]
        self.kind_index += 1
        order_id = None
        if kind in ("return", "replacement", "refund"):
            cold = [s["sku"] for s in self.ctx.plan.skus if not s["hot"]] or \
                [self.ctx.plan.hot_sku]
            sku = self.rng.choice(cold)
            order_id = self.order(sku)
            if order_id is None or not self.pay(order_id, sku):
                kind, order_id = "consultation", None
            else:
                self.call("deliver", {"order_id": order_id}, "POST",
                          f"/orders/{order_id}/deliver", body={}, headers=self.merchant,
                          name="/orders/[id]/deliver")
        message = f"{kind} {self.rng.getrandbits(48):012x} from {self.process}"
        self.call("open_ticket", {"kind": kind, "order_id": order_id, "message": message},
                  "POST", "/tickets", body={"kind": kind, "message": message,
                                            "order_id": order_id},
                  value=lambda d: {"ticket_id": d["id"]})
        outcome, data = self.call("list_tickets", {"state": "resolved"}, "GET",
                                  "/tickets?state=resolved&limit=20", name="/tickets")
        for t in (data or {}).get("items", []) if outcome == "ok" else []:
            self.call("close", {"ticket_id": t["id"]}, "POST", f"/tickets/{t['id']}/close",
                      body={"feedback": "thanks", "satisfaction": self.rng.randint(1, 5)},
                      name="/tickets/[id]/close")


class AgentUser(SimliveUser):
    """Works the queue oldest first: reply, start, record goods and refund, resolve."""

    role_tokens = "agent"
    fixed_count = 1
    wait_time = between(0.05, 0.2)

    def _queue(self, state: str) -> list[dict[str, Any]]:
        outcome, data = self.call("list_tickets", {"state": state}, "GET",
                                  f"/tickets?state={state}&limit=50", name="/tickets")
        return (data or {}).get("items", []) if outcome == "ok" else []

    def _step(self, f: str, tid: int, body: dict[str, Any] | None = None) -> None:
        path = {"goods_received": "goods-received", "refund_paid": "refund-paid"}.get(f, f)
        self.call(f, {"ticket_id": tid}, "POST", f"/tickets/{tid}/{path}", body=body,
                  name=f"/tickets/[id]/{path}")

    @task
    def work(self) -> None:
        for t in self._queue("open"):
            self._step("reply", t["id"], {"message": "we are on it"})
        for t in self._queue("replied"):
            self._step("start", t["id"])
        for t in self._queue("in_progress"):
            if t["kind"] in ("return", "refund"):
                self._step("goods_received", t["id"], {})
                self._step("refund_paid", t["id"], {})
            self._step("resolve", t["id"], {"resolution": "done"})


class ReviewerUser(SimliveUser):
    """Writes reviews; now and then tries to delete their own bad one (must be refused)."""

    @task
    def review(self) -> None:
        sku = self.rng.choice(self.ctx.plan.skus)["sku"]
        rating = self.rng.randint(1, 5)
        text = f"review {self.rng.getrandbits(48):012x} by {self.process}"
        outcome, data = self.call("review", {"sku": sku, "rating": rating, "text": text},
                                  "POST", "/reviews",
                                  body={"sku": sku, "rating": rating, "text": text},
                                  value=lambda d: {"review_id": d["id"]})
        if outcome == "ok" and rating <= 2 and self.rng.random() < 0.5:
            self.call("delete_review", {"review_id": data["id"]}, "DELETE",
                      f"/reviews/{data['id']}", name="/reviews/[id]")


class MonitorUser(SimliveUser):
    """Reads the real stock (the ledger) often: the truth displayed figures are judged by."""

    role_tokens = "merchant"
    fixed_count = 1
    wait_time = between(0.05, 0.1)

    @task
    def truth(self) -> None:
        for s in self.ctx.plan.skus:
            self.call("true_stock", {}, "GET", f"/products/{s['sku']}/ledger",
                      name="/products/[sku]/ledger",
                      value=lambda d: {d["sku"]: d["remaining"]})


ROLE_CLASSES: dict[str, type[SimliveUser]] = {
    "viewer": ViewerUser, "buyer": BuyerUser, "aftersales": AftersalesUser,
    "agent": AgentUser, "reviewer": ReviewerUser,
}


MINORITY = ("aftersales", "agent", "reviewer")


def apply_settings(weights: dict[str, float], mode: str, user_rate: float,
                   peak_users: int) -> int:
    """Scenario weights onto the classes (before spawning); open model: fixed pacing.

    The minority roles (after-sales, agents, reviewers) get a fixed count, their weighted
    share of ``peak_users`` but at least one if weighted at all, so that a short test with
    few users still exercises every rule; viewers and buyers share the rest by weight.
    Returns the number of fixed users (the shape's floor, monitor included).
    """
    total = sum(weights.values()) or 1.0
    fixed = MonitorUser.fixed_count
    for role, cls in ROLE_CLASSES.items():
        w = weights.get(role, 0.0)
        if role in MINORITY:
            cls.fixed_count = max(1, round(peak_users * w / total)) if w > 0 else 0
            cls.weight = 1
            fixed += cls.fixed_count
        else:
            cls.weight = max(1, int(round(w))) if w > 0 else 0
        if mode == "open" and role != "agent":
            cls.wait_time = constant_throughput(user_rate)
    return fixed
