"""Locust users for the roles of a broadcast, speaking only simlive's operations.

Each user runs operations through an :class:`~simlive.shops.client.OperationClient` over
Locust's own HTTP client, so the target file decides the URLs and how answers read, Locust's
statistics see every request, and the history records every operation (invoke, then ok /
fail / info). A user holds its own credentials (a buyer's token from the pool, or its own
anonymous session) and its own cookie jar: one user's identity never reaches another's
order. An operation the target does not support is skipped; its rules say unknown.
Randomness comes from one ``random.Random`` per user, seeded from the run and user number.
"""

from __future__ import annotations

import random
import time
from functools import partial
from itertools import count
from typing import Any
from urllib.parse import urlencode

from locust import between, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from simlive.load.context import Context
from simlive.load.roles import MINORITY, NEEDS, fixed_counts
from simlive.operations import OPERATIONS
from simlive.shops.client import OK, Answer, OperationClient, OpResult, Prepared, Reading

KINDS = ("consultation", "return", "replacement", "refund", "complaint")
_numbers = count(1)


class LocustTransport:
    """Sends a prepared request with Locust's client; marks it in Locust's statistics: ok
    and expected refusals (sold out) as successes, anything else as a failure."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, request: Prepared, read: Any) -> Answer:
        kwargs: dict[str, Any] = {}
        if request.json_body is not None:
            kwargs["json"] = request.json_body
        if request.form is not None:
            kwargs["data"] = urlencode(request.form)
            request.headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        url = request.url + ("?" + urlencode(request.params) if request.params else "")
        with self.client.request(request.method, url, headers=request.headers,
                                 name=request.name, catch_response=True, **kwargs) as resp:
            code = resp.status_code or 0
            err = resp.error if code == 0 else None
            headers: dict[str, str] = {}
            for k, v in (resp.headers.items() if resp.headers is not None else ()):
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
            ans = Answer(code, headers, resp.content or b"",
                         None if err is None else f"{type(err).__name__}: {err}",
                         refused=isinstance(err, ConnectionRefusedError))
            reading: Reading = read(ans)
            if reading.outcome == OK or reading.expected:
                resp.success()
            else:
                resp.failure(reading.reason)
        return ans


class SimliveUser(FastHttpUser):
    """Shared plumbing: the run's context, credentials, the operation client."""

    abstract = True
    wait_time = between(0.05, 0.3)
    network_timeout = 5.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        ctx: Context | None = getattr(self.environment, "simlive", None)
        if ctx is None or ctx.run.provisioned is None:
            raise StopUser()  # setup did not complete; the runner is quitting
        self.ctx = ctx
        run, prov = ctx.run, ctx.run.provisioned
        self.prov = prov  # what setup provisioned: set before any user starts
        self.number = next(_numbers)
        name = type(self).__name__
        self.rng = random.Random(f"{run.seed}-{run.run_id}-{ctx.tag}-{name}-{self.number}")
        self.process = f"{ctx.tag}-{name[:-4].lower()}-{self.number}"
        tokens = {role: (pool[self.rng.randrange(len(pool))] if pool else None)
                  for role, pool in prov.tokens.items()}
        self.ops = OperationClient(run.target, LocustTransport(self.client), tokens,
                                   {**prov.context(), "process": self.process},
                                   prov.products, ctx.recorder, self.process, ctx.hooks,
                                   logins=prov.logins)
        self.buyer: Any = None
        if self.sends_as_buyer():
            self.new_customer()

    # the operations this role runs; None: every kind (buys, tickets, reviews)
    operations: tuple[str, ...] | None = None

    def sends_as_buyer(self) -> bool:
        """Whether any of the role's operations sends a buyer's credentials (a viewer whose
        reads need none opens no session: hundreds of needless sessions at the peak)."""
        if self.operations is None:
            return True
        target = self.ctx.run.target
        for name in self.operations:
            op = target.operation(name)
            if op is None:
                continue
            for step in op.steps:
                if (step.role or op.role or OPERATIONS[name].role) == "buyer":
                    return True
        return False

    @property
    def products(self) -> list[str]:
        return list(self.prov.products)

    def new_customer(self) -> None:
        """Buy as another customer: another token of the pool (so per-buyer limits do not
        stop sales), or a fresh anonymous session."""
        cred = self.ctx.run.target.credential("buyer")
        if cred is not None and cred.source == "start_session":
            res = self.ops.run("start_session", {})
            self.ops.tokens["buyer"] = res.fields.get("token") if res.ok else None
            self.buyer = self.process
            return
        pool = self.prov.tokens.get("buyer") or []
        if pool:
            self.buyer = self.rng.randrange(len(pool))
            self.ops.tokens["buyer"] = pool[self.buyer]

    def can(self, name: str) -> bool:
        return self.ops.supports(name)

    def read(self, name: str) -> None:
        """A stock reading (read_stock or true_stock), by the target's scope."""
        op = self.ctx.run.target.operation(name)
        if not self.can(name):
            return
        if op is not None and op.scope == "all":
            self.ops.run(name, {}, value=lambda r: self.ops.stock_value(r, None))
            return
        skus = self.products if name == "true_stock" else [self.pick_sku()]
        for sku in skus:
            self.ops.run(name, {"sku": sku}, value=partial(self.ops.stock_value, sku=sku))

    def pick_sku(self, ordering: bool = False) -> str:
        """The hot SKU six times in ten, else any; to order, never a flash sale's SKU
        between its units' arrival and its release (they wait for the sale's buyers)."""
        sku = self.prov.hot_sku if self.rng.random() < 0.6 else self.rng.choice(self.products)
        holds = self.ctx.holds
        if ordering and holds and time.time() < holds.get(sku, 0.0):
            free = [s for s in self.products if time.time() >= holds.get(s, 0.0)]
            sku = self.rng.choice(free) if free else sku
        return sku


class ViewerUser(SimliveUser):
    """Watches the broadcast, reads the displayed stock, browses the shop."""

    operations = ("watch", "read_stock", "browse", "read_counters")

    @task(1)
    def watch(self) -> None:
        b = self.prov.broadcast_id
        if self.can("watch") and b is not None:
            self.ops.run("watch", {"broadcast_id": b},
                         value=lambda r: {"state": r.fields.get("state")})

    @task(4)
    def stock(self) -> None:
        self.read("read_stock")

    @task(1)
    def browse(self) -> None:
        if self.can("browse"):
            self.ops.run("browse", {}, value=lambda r: None)

    @task(1)
    def counters(self) -> None:
        """The sold and viewer counts the broadcast shows (a scenario with ``counters``)."""
        if self.ctx.run.scenario.counters is not None and self.can("read_counters"):
            self.ops.run("read_counters", {}, value=lambda r: {
                "sold": r.fields.get("sold"), "viewers": r.fields.get("viewers")})


class BuyerUser(SimliveUser):
    """Orders with an idempotency key, retries unknown outcomes with the same key, pays or
    lets the order expire, reads the receipt."""

    pay_probability = 0.8

    def order(self, sku: str, attempts: int = 3) -> int | None:
        key = f"k-{self.ctx.run.run_id}-{self.process}-{self.rng.getrandbits(48):012x}"
        args = {"sku": sku, "quantity": 1, "key": key, "buyer": self.buyer}
        for _ in range(attempts):
            res = self.ops.run("order", args, value=lambda r: {
                "order_id": r.fields.get("order_id"), "state": r.fields.get("state")})
            if res.outcome == OK:
                return res.fields.get("order_id")
            if res.outcome == "fail":
                return None
        return None

    def pay(self, order_id: Any, sku: str, attempts: int = 3) -> bool:
        ok = True  # without a pay operation, placing the order was the purchase
        if self.can("pay"):
            res: OpResult | None = None
            for _ in range(attempts):
                res = self.ops.run("pay", {"order_id": order_id, "sku": sku, "quantity": 1},
                                   value=lambda r: {"order_id": order_id,
                                                    "state": r.fields.get("state")})
                if res.outcome != "info":
                    break
            ok = res is not None and res.outcome == OK
            if res is not None and res.outcome != "fail":  # paid, or maybe paid
                fulfil(self.ops, self.ctx.run.scenario, order_id)
        else:
            fulfil(self.ops, self.ctx.run.scenario, order_id)
        if ok and self.can("read_receipt"):
            self.ops.run("read_receipt", {"order_id": order_id},
                         value=lambda r: {"order_id": order_id,
                                          "receipt_no": r.fields.get("receipt_no")})
        return ok

    def read_price(self, sku: str) -> None:
        """The price and reference price the buyer is shown before ordering, when the
        scenario has price claims to judge (``pricing.claims-hold``)."""
        if self.ctx.run.scenario.pricing is None or not self.can("read_price"):
            return
        self.ops.run("read_price", {"sku": sku}, value=lambda r: {
            "price": r.fields.get("price"), "reference_price": r.fields.get("reference_price")})

    @task
    def buy(self) -> None:
        if not self.can("order"):
            return
        self.new_customer()
        self.read("read_stock")
        sku = self.pick_sku(ordering=True)
        self.read_price(sku)
        order_id = self.order(sku)
        if order_id is None:
            return
        pay_p = self.ctx.run.scenario.orders.pay_probability
        if not self.can("pay") or self.rng.random() < pay_p:
            self.pay(order_id, sku)
        elif self.can("cancel") and self.rng.random() < 0.3:
            self.ops.run("cancel", {"order_id": order_id},
                         value=lambda r: {"order_id": order_id})


class AftersalesUser(BuyerUser):
    """Buys, has it delivered, opens a ticket of each kind and closes resolved ones with
    feedback."""

    kind_index = 1  # the first request of each customer is a return, then every kind
    last_ticket: tuple[Any, Any] | None = None  # (buyer token, ticket id) opened last

    @task
    def request(self) -> None:
        if not self.can("open_ticket"):
            return
        self.new_customer()
        kind = KINDS[self.kind_index % len(KINDS)]
        self.kind_index += 1
        order_id = None
        if kind in ("return", "replacement", "refund"):
            prov = self.prov
            cold = [s for s, p in prov.products.items() if not p.get("hot")] or [prov.hot_sku]
            sku = self.rng.choice(cold)
            order_id = self.order(sku) if self.can("order") else None
            if order_id is None or not self.pay(order_id, sku):
                kind, order_id = "consultation", None
            elif self.can("deliver") and self.ctx.run.scenario.fulfilment is None:
                # (with a fulfilment block, paying shipped and delivered it)
                self.ops.run("deliver", {"order_id": order_id},
                             value=lambda r: {"order_id": order_id})
        message = f"{kind} {self.rng.getrandbits(48):012x} from {self.process}"
        res = self.ops.run("open_ticket", {"kind": kind, "order_id": order_id,
                                           "message": message},
                           value=lambda r: {"ticket_id": r.fields.get("ticket_id")})
        if self.can("read_ticket") and self.last_ticket is not None:
            # read the previous ticket back (as its customer): a lost one shows here
            last_token, last_id = self.last_ticket
            mine = self.ops.tokens.get("buyer")
            self.ops.tokens["buyer"] = last_token
            read = self.ops.run("read_ticket", {"ticket_id": last_id},
                                value=lambda r: {"state": r.fields.get("state"),
                                                 "message": r.fields.get("message")})
            self.escalate(last_id, read)
            self.ops.tokens["buyer"] = mine
        if res.ok and res.fields.get("ticket_id") is not None:
            self.last_ticket = (self.ops.tokens.get("buyer"), res.fields["ticket_id"])
        if not (self.can("list_tickets") and self.can("close_ticket")):
            return
        res = self.ops.run("list_tickets", {"state": "resolved"}, value=lambda r: None,
                           as_role="buyer")
        for t in _items(res):
            self.ops.run("close_ticket", {"ticket_id": t.get("id"), "feedback": "thanks",
                                          "satisfaction": self.rng.randint(1, 5)},
                         value=lambda r: None)

    def escalate(self, ticket_id: Any, read: OpResult) -> None:
        """Take the previous ticket (a while old by now) to the platform when it is still
        not closed, as a share of consumers do (``aftersales.escalation.unresolved``), with
        this customer's credentials (set by the caller)."""
        esc = self.ctx.run.scenario.aftersales.escalation
        if esc is None or not self.can("escalate") or not read.ok \
                or read.fields.get("state") == "closed" or self.rng.random() >= esc.unresolved:
            return
        self.ops.run("escalate", {"ticket_id": ticket_id,
                                  "reason": f"still {read.fields.get('state')}, no answer"},
                     value=lambda r: {"ticket_id": ticket_id,
                                      "escalated_at": r.fields.get("escalated_at")})


def fulfil(ops: OperationClient, scenario: Any, order_id: Any) -> None:
    """With a fulfilment block (``fulfilment.on-time``), the store ships a paid order and
    it is delivered, at once: the store's promise is compressed to seconds of load time
    (``shops.provision.store_promise``), so every order must be shipped and delivered as it
    is paid. A shipment the shop refused is not delivered."""
    if scenario.fulfilment is None or order_id is None:
        return
    shipped = None
    if ops.supports("ship"):
        shipped = ops.run("ship", {"order_id": order_id},
                          value=lambda r: {"order_id": order_id})
    if ops.supports("deliver") and (shipped is None or shipped.outcome != "fail"):
        ops.run("deliver", {"order_id": order_id}, value=lambda r: {"order_id": order_id})


def _items(res: OpResult) -> list[dict[str, Any]]:
    items = res.fields.get("items") if res.ok else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class AgentUser(SimliveUser):
    """Works the queue oldest first: reply, start, record goods and refund, resolve."""

    fixed_count = 1
    wait_time = between(0.05, 0.2)
    operations = ("list_tickets", "reply", "start_ticket", "goods_received", "refund_paid",
                  "resolve")

    def _queue(self, state: str) -> list[dict[str, Any]]:
        return _items(self.ops.run("list_tickets", {"state": state}, value=lambda r: None))

    def _step(self, name: str, tid: Any, **extra: Any) -> None:
        if self.can(name):
            self.ops.run(name, {"ticket_id": tid, **extra}, value=lambda r: None)

    @task
    def work(self) -> None:
        if not self.can("list_tickets"):
            return
        for t in self._queue("open"):
            self._step("reply", t.get("id"), message="we are on it")
        for t in self._queue("replied"):
            self._step("start_ticket", t.get("id"))
        for t in self._queue("in_progress"):
            if t.get("kind") in ("return", "refund"):
                self._step("goods_received", t.get("id"))
                self._step("refund_paid", t.get("id"))
            self._step("resolve", t.get("id"), resolution="done")


class PlatformUser(SimliveUser):
    """The platform's arbiter (``aftersales.escalations-answered``): decides the escalated
    tickets, oldest first. One, when the scenario models escalations."""

    fixed_count = 1  # set by apply_settings (Locust drops a class with neither at import)
    wait_time = between(0.1, 0.3)
    operations = ("list_escalations", "decide_escalation")
    decisions = ("for-consumer", "for-store", "partial")

    @task
    def arbitrate(self) -> None:
        if not (self.can("list_escalations") and self.can("decide_escalation")):
            return
        for t in _items(self.ops.run("list_escalations", {}, value=lambda r: None)):
            tid = t.get("id")
            self.ops.run("decide_escalation",
                         {"ticket_id": tid, "decision": self.rng.choice(self.decisions),
                          "note": "decided by the platform"},
                         value=lambda r: {"decided_at": r.fields.get("decided_at")})


class ReviewerUser(SimliveUser):
    """Writes reviews; now and then tries to delete their own bad one (must be refused);
    reads an earlier one back."""

    def on_start(self) -> None:
        super().on_start()
        self.written: list[Any] = []

    @task
    def review(self) -> None:
        if not self.can("review"):
            return
        self.new_customer()
        sku = self.rng.choice(self.products)
        rating = self.rng.randint(1, 5)
        text = f"review {self.rng.getrandbits(48):012x} by {self.process}"
        res = self.ops.run("review", {"sku": sku, "rating": rating, "text": text},
                           value=lambda r: {"review_id": r.fields.get("review_id")})
        rid = res.fields.get("review_id")
        if res.ok and rid is not None and rating <= 2 and self.rng.random() < 0.5 \
                and self.can("delete_review"):
            self.ops.run("delete_review", {"review_id": rid}, value=lambda r: None)
        if self.can("read_review") and self.written:
            # read an earlier review back: one deleted or suppressed since shows here
            earlier = self.written[self.rng.randrange(len(self.written))]
            self.ops.run("read_review", {"review_id": earlier},
                         value=lambda r: {"text": r.fields.get("text")})
        if res.ok and rid is not None:
            self.written.append(rid)


class MonitorUser(SimliveUser):
    """Reads the real stock often: the truth displayed figures are judged by."""

    fixed_count = 1
    wait_time = between(0.05, 0.1)
    operations = ("true_stock",)

    @task
    def truth(self) -> None:
        self.read("true_stock")


ROLE_CLASSES: dict[str, type[SimliveUser]] = {
    "viewer": ViewerUser, "buyer": BuyerUser, "aftersales": AftersalesUser,
    "agent": AgentUser, "reviewer": ReviewerUser,
}


def apply_settings(weights: dict[str, float], mode: str, user_rate: float, peak_users: int,
                   supports: Any, timeout: float,
                   only: tuple[str, ...] | None = None, platform: bool = False) -> int:
    """Scenario weights onto the classes (before spawning); open model: fixed pacing.

    The minority roles (after-sales, agents, reviewers) get a fixed count, their weighted
    share of ``peak_users`` but at least one if weighted at all, so that a short test with
    few users still exercises every rule; viewers and buyers share the rest by weight. A
    role whose key operation the target lacks gets no users. Returns the number of fixed
    users (the shape's floor, monitor included). ``only``: the roles that run at all (with
    a profile, only the agents: arrival drivers do the rest). ``platform``: the scenario
    models escalations, so one platform user decides them.
    """
    SimliveUser.network_timeout = SimliveUser.connection_timeout = timeout
    classes: list[type[SimliveUser]] = [*ROLE_CLASSES.values(), MonitorUser, PlatformUser]
    for cls in classes:
        cls.network_timeout = cls.connection_timeout = timeout
    # a class with no fixed count is spawned by weight: a weight of 0 keeps it out
    counts = fixed_counts(weights, peak_users, supports, only, platform)
    MonitorUser.fixed_count = counts["monitor"]
    MonitorUser.weight = 0
    fixed = MonitorUser.fixed_count
    PlatformUser.fixed_count = counts["platform"]
    PlatformUser.weight = 0
    fixed += PlatformUser.fixed_count
    for role, cls in ROLE_CLASSES.items():
        w = weights.get(role, 0.0) if supports(NEEDS[role]) else 0.0
        if only is not None and role not in only:  # a profile's arrivals replace the role
            cls.fixed_count, cls.weight = 0, 0
            continue
        if role in MINORITY:
            cls.fixed_count = counts[role]
            cls.weight = 0  # fixed count only (a role without one gets no user)
            fixed += cls.fixed_count
        else:
            cls.weight = max(1, int(round(w))) if w > 0 else 0
        if mode == "open" and role != "agent":
            cls.wait_time = constant_throughput(user_rate)
    return fixed
