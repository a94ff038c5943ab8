"""The flash-sale crowd: buyers prepared ahead and released together, in every process.

The coordinator (the local runner, or the master) adds each sale's units to the shop a
little before the sale opens, then tells every Locust process the release instant as a
wall-clock time, with its share of the buyers (Locust's own messages; a local run sends the
message to itself). Each process fires on its own clock, so the instant holds across
workers and across machines whose clocks agree.

In each process every buyer gets its own identity (its own account of the pool, or its own
anonymous session) and its own connection, and runs every step of ``order`` before the
target's commit step: session, cart, address, shipping. Its commit request is then written
on a connection of its own, all but the last byte (:mod:`simlive.load.armed`). At the
instant the crowd writes the last bytes, one connection after another; each buyer reads
its answer, the order is recorded in the history like any other, and paid as the scenario
says. What the release achieved goes to ``flash-<process>-<sale>.json`` for the report
(:mod:`simlive.load.flash`).
"""

from __future__ import annotations

import json
import random
import resource
import time
from typing import Any

import gevent
from gevent.event import Event
from gevent.lock import BoundedSemaphore
from locust.contrib.fasthttp import FastHttpSession
from locust.runners import WorkerRunner

from simlive.load.armed import ArmedRequest
from simlive.load.context import Context
from simlive.load.relay import report_file
from simlive.load.users import LocustTransport, fulfil
from simlive.shops.client import FAIL, OK, OperationClient, OpResult, Staged

FLASH_MESSAGE = "simlive_flash"  # coordinator -> processes: hold, prepare, release
READY = "simlive_flash_ready"  # process -> coordinator: its buyers are prepared
ANSWERED = "simlive_flash_answered"  # process -> coordinator: its buyers have answers
SPIN = 0.003  # the last milliseconds before the instant are waited by spinning, not sleeping


def raise_open_files(wanted: int) -> int:
    """Let this process hold ``wanted`` more connections (the soft limit up to the hard
    one); returns how many buyers it can hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + 256  # Locust's own connections, the history file, the users'
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else max(0, min(wanted, soft - 256))


class Buyer:
    """One buyer of one flash sale: prepared, armed, released, answered."""

    def __init__(self, crowd: Crowd, number: int) -> None:
        self.crowd = crowd
        ctx = crowd.ctx
        run, prov = ctx.run, ctx.run.provisioned
        assert prov is not None
        self.process = f"{ctx.tag}-flash{crowd.sale['index'] + 1}-{number}"
        self.session = FastHttpSession(
            base_url=run.host, request_event=crowd.environment.events.request, user=None,
            network_timeout=crowd.timeout, connection_timeout=crowd.timeout, concurrency=1,
            insecure=True)
        tokens = {role: (pool[number % len(pool)] if pool else None)
                  for role, pool in prov.tokens.items()}
        self.ops = OperationClient(run.target, LocustTransport(self.session), tokens,
                                   {**prov.context(), "process": self.process},
                                   prov.products, ctx.recorder, self.process, ctx.hooks,
                                   logins=prov.logins)
        self.buyer: Any = number
        self.armed: ArmedRequest | None = None
        self.staged: Staged | None = None
        self.result: OpResult | None = None
        self.before: str | None = None  # the outcome, when it ended before the commit
        self.answered: float | None = None
        # the sale is acknowledged at payment: the buyer orders ahead and is released on
        # the commit step of pay
        self.at_pay = run.target.sale == "pay" and self.ops.supports("pay")

    def prepare(self) -> None:
        """Identity, then every step of ``order`` before the commit; arm the commit."""
        run = self.crowd.ctx.run
        cred = run.target.credential("buyer")
        if cred is not None and cred.source == "start_session":
            res = self.ops.run("start_session", {})
            if not res.ok:
                self.before = res.outcome
                self.crowd.error(f"start_session: {res.error}")
                return
            self.ops.tokens["buyer"] = res.fields.get("token")
            self.buyer = self.process
        sku = self.crowd.sale["sku"]
        key = f"k-{run.run_id}-{self.process}"
        args = {"sku": sku, "quantity": 1, "key": key, "buyer": self.buyer}
        order_value = lambda r: {"order_id": r.fields.get("order_id"),  # noqa: E731
                                 "state": r.fields.get("state")}
        if self.at_pay:  # the shop takes the stock at payment: the order is preparation
            res = self.ops.run("order", args, value=order_value)
            oid = res.fields.get("order_id")
            if not res.ok or oid is None:
                self.before = res.outcome
                self.crowd.error(f"order (before paying, where the sale is): {res.error}")
                return
            staged = self.ops.stage("pay", {"order_id": oid, "sku": sku, "quantity": 1},
                                    value=lambda r: {"order_id": oid,
                                                     "state": r.fields.get("state")})
        else:
            staged = self.ops.stage("order", args, value=order_value)
        if not isinstance(staged, Staged):
            self.before = staged.outcome
            self.crowd.error(f"order before its commit step: {staged.error}")
            return
        assert staged.request is not None
        # armed later, once every buyer is prepared: a held request occupies one of the
        # shop's workers (a thread of gunicorn's), and buyers held early would starve the
        # preparation of the others
        self.staged = staged
        self.armed = ArmedRequest(run.host, staged.request, self.crowd.timeout,
                                  self.session.cookiejar)

    def arm(self) -> None:
        """Connect and write the commit request but its last byte."""
        if self.armed is not None and self.armed.sock is None and not self.armed.arm():
            self.crowd.error(f"connecting for the commit: {self.armed.error}")

    def finish(self) -> None:
        """Read the commit's answer, run the steps after it, pay as the scenario says."""
        assert self.armed is not None and self.staged is not None
        armed = self.armed
        ans = armed.answer()
        took = (time.time() - (armed.sent or time.time())) * 1000.0
        self.answered = time.time()
        self.result = result = self.ops.commit(self.staged, ans)
        req = armed.request
        reading = result.requests[-1][2] if result.requests else None
        failure = None if reading is None or reading.outcome == OK or reading.expected \
            else reading.reason
        self.crowd.environment.events.request.fire(
            request_type=req.method, name=req.name, response_time=took,
            response_length=len(ans.body), response=None, context={},
            exception=None if failure is None else Exception(failure))
        oid = result.fields.get("order_id")
        ctx = self.crowd.ctx
        if not self.at_pay and result.ok and oid is not None and self.ops.supports("pay") and \
                self.crowd.rng_pay(self) < ctx.run.scenario.orders.pay_probability:
            paid = self.ops.run("pay", {"order_id": oid, "sku": self.crowd.sale["sku"],
                                        "quantity": 1},
                                value=lambda r: {"order_id": oid,
                                                 "state": r.fields.get("state")})
            if paid.outcome != "fail":
                fulfil(self.ops, ctx.run.scenario, oid)
        elif self.at_pay and result.outcome != "fail" and oid is not None:
            fulfil(self.ops, ctx.run.scenario, oid)  # the commit was the payment

    def outcome(self) -> str:
        r = self.result
        if r is None:
            return "not sent"
        if r.outcome == OK:
            return "ok"
        if r.outcome == FAIL:
            expected = bool(r.requests) and r.requests[-1][2].expected
            return "refused as expected (sold out, limit)" if expected else "refused"
        return "unknown (no answer, 5xx)"


class Crowd:
    """One flash sale's buyers in this process: prepared when told, ready said, released at
    the instant the coordinator sends."""

    def __init__(self, environment: Any, ctx: Context, sale: dict[str, Any],
                 first: int, count: int) -> None:
        self.environment = environment
        self.ctx = ctx
        self.sale = sale
        self.release_at: float | None = None  # set by the release message
        self.first = first
        self.count = raise_open_files(count)
        self.timeout = ctx.run.request_timeout
        self.instant = Event()  # the release instant is known
        self.released = Event()  # the last bytes are written
        self.errors: list[str] = []
        self.late = 0
        self.fired_at: float | None = None

    def error(self, text: str) -> None:
        if len(self.errors) < 5 and text not in self.errors:
            self.errors.append(text)

    def rng_pay(self, buyer: Buyer) -> float:
        """A buyer's own draw for paying: seeded by run, sale and buyer, no global state."""
        return random.Random(f"{self.ctx.run.seed}-{self.ctx.run.run_id}-"
                             f"{buyer.process}-pay").random()

    def _prepare(self, buyer: Buyer) -> None:
        try:
            buyer.prepare()
        except Exception as exc:  # noqa: BLE001 - one buyer's bug must not stop the sale
            self.error(f"{type(exc).__name__}: {exc}")

    def _prepare_in(self, slots: BoundedSemaphore, buyer: Buyer) -> None:
        with slots:  # at most flash_sale_preparers at once: a slow shop is not flooded
            self._prepare(buyer)

    def _answer(self, buyer: Buyer) -> None:
        self.released.wait()
        try:
            buyer.finish()
        except Exception as exc:  # noqa: BLE001
            self.error(f"{type(exc).__name__}: {exc}")

    def release(self, release_at: float) -> None:
        self.release_at = release_at
        self.instant.set()

    def run(self) -> None:
        """Prepare every buyer, say ready, wait for the instant, release, read answers."""
        buyers = [Buyer(self, self.first + i) for i in range(self.count)]
        slots = BoundedSemaphore(self.ctx.run.scenario.load.flash_sale_preparers)
        started = time.time()
        preparing = [gevent.spawn(self._prepare_in, slots, b) for b in buyers]
        # every buyer prepared (or failed) before the process says it is ready, within the
        # coordinator's patience counted from now; later ones are released late
        limit = self.ctx.run.flash_sale_patience
        gevent.joinall(preparing, timeout=max(0.0, started + limit - 1.0 - time.time()))
        for b in buyers:  # every prepared buyer's commit written but its last byte
            b.arm()
        self.environment.runner.send_message(READY, {
            "index": self.sale["index"], "count": self.count,
            "prepared": sum(1 for b in buyers if b.armed is not None and b.armed.sock)})
        self.instant.wait(timeout=limit + 60)
        release_at = self.release_at if self.release_at is not None else time.time()
        wait = release_at - time.time()
        if wait > SPIN:
            gevent.sleep(wait - SPIN)
        while time.time() < release_at:
            pass  # spin the last milliseconds: a sleep would wake late by a scheduler tick
        self.fired_at = time.time()  # late here: a loaded machine, or a late message
        for b in buyers:
            if b.armed is not None:
                b.armed.fire()
        self.released.set()
        self.late = sum(1 for g in preparing if not g.dead)  # still preparing at the instant
        gevent.joinall(preparing, timeout=limit)
        for b in buyers:  # prepared after the instant: sent now, counted late
            if b.armed is not None and b.armed.sent is None:
                b.arm()
                b.armed.fire()
        answering = [gevent.spawn(self._answer, b) for b in buyers if b.armed is not None]
        gevent.joinall(answering, timeout=self.timeout * 3 + 10)
        gevent.killall([g for g in preparing + answering if not g.dead], block=False)
        self.ctx.recorder.flush()
        self.write(buyers)
        self.environment.runner.send_message(ANSWERED, {"index": self.sale["index"]})

    def write(self, buyers: list[Buyer]) -> None:
        rows: list[list[Any]] = []
        before: dict[str, int] = {}
        for b in buyers:
            if b.armed is None or b.armed.sent is None:
                key = b.before or "not prepared"
                before[key] = before.get(key, 0) + 1
                continue
            rows.append([b.armed.sent, b.answered, b.outcome()])
        part = {"index": self.sale["index"], "sku": self.sale["sku"],
                "release_at": self.release_at, "buyers": self.count, "rows": rows,
                "not_prepared": sum(before.values()), "before_commit": before,
                "late": self.late, "errors": self.errors, "fired_at": self.fired_at}
        report_file(self.environment, f"flash-{self.ctx.tag}-{self.sale['index']}.json",
                    json.dumps(part))


def on_flash(environment: Any, msg: Any, **_: Any) -> None:
    """The coordinator's word on a sale, in every process: ``hold`` (its SKU is kept from
    ordinary buyers), ``prepare`` (this process's share of buyers starts preparing),
    ``release`` (the instant). The handler returns at once."""
    ctx: Context | None = getattr(environment, "simlive", None)
    if ctx is None or ctx.run.provisioned is None:
        return
    data = msg.data
    runner = environment.runner
    sale = next(s for s in ctx.run.provisioned.flash_sales if s["index"] == data["index"])
    phase = data["phase"]
    if phase == "hold":  # the units are on their way: held until the release is known
        ctx.holds[sale["sku"]] = float("inf")
        return
    if phase == "release":
        ctx.holds[sale["sku"]] = float(data["release_at"])
        crowd = ctx.crowds.get(sale["index"])
        if crowd is not None:
            crowd.release(float(data["release_at"]))
        return
    me = runner.client_id if isinstance(runner, WorkerRunner) else "local"
    first, count = data["shares"].get(me, (0, 0))
    if count <= 0:
        runner.send_message(READY, {"index": sale["index"], "count": 0, "prepared": 0})
        return
    crowd = ctx.crowds[sale["index"]] = Crowd(environment, ctx, sale, int(first), int(count))
    gevent.spawn(crowd.run)
