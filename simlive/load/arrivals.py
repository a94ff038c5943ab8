"""The open model per operation: arrivals at a planned rate, whatever the shop's latency.

Each operation of the profile gets its own driver: a Locust user that starts one arrival
(an order, a stock read, a ticket) each time the integral of ``rate(t)`` passes another
whole arrival, where ``rate(t)`` is the operation's peak rate scaled by the scenario's curve,
in a new greenlet, so
a slow answer never delays the next arrival (k6's constant-arrival-rate, following the
broadcast's shape). At most ``load.max_inflight`` arrivals of a driver are in flight; one
due while all are busy is dropped and counted: the generator's shortfall (k6's
dropped_iterations). Each driver writes what it scheduled, started and dropped to
``arrivals-<process>-<n>.json`` in the history folder when it is done.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from itertools import count

import gevent
import numpy as np
from gevent.pool import Pool
from locust import constant, task

from simlive.load.curve import Curve
from simlive.load.relay import report_file
from simlive.load.shortfall import curve_grid
from simlive.load.users import KINDS, SimliveUser, fulfil

_drivers = count(0)
log = logging.getLogger("simlive")


class ArrivalDriver(SimliveUser):
    """One operation's arrivals in this process (drivers are numbered per process; driver
    ``k`` drives stream ``k mod streams`` at its share of the rate)."""

    fixed_count = 0  # set by configure(): streams x processes; none without a profile
    # weight: 1 here, so Locust keeps the class when it builds its environment; the
    # locustfile sets it to 0 once configured (fixed count only: spawned by weight, a
    # driver without a profile had no stream to drive)
    wait_time = constant(0)
    concurrency = 200  # connections this user's client may hold at once
    streams: tuple[str, ...] = ()
    share = 1  # drivers per stream across all processes
    _said = False  # an arrival's exception logged once

    @classmethod
    def configure(cls, rates: dict[str, float], processes: int, max_inflight: int,
                  timeout: float) -> int:
        cls.network_timeout = cls.connection_timeout = timeout
        cls.streams = tuple(sorted(rates))
        cls.share = max(1, processes)
        cls.fixed_count = len(cls.streams) * cls.share
        cls.concurrency = max_inflight
        return cls.fixed_count

    def on_start(self) -> None:
        super().on_start()
        self.index = next(_drivers)
        self.stream = self.streams[self.index % len(self.streams)]
        self.process = f"{self.ctx.tag}-arrivals-{self.stream}-{self.index}"
        self.ops.process = self.process

    @task
    def drive(self) -> None:
        run = self.ctx.run
        ls = run.scenario.load
        peak = (run.profile or {}).get(self.stream, 0.0) / self.share
        grid, shape = curve_grid(Curve(run.scenario, ls.run_time), ls.run_time)
        pool = Pool(ls.max_inflight)
        scheduled = dropped = 0
        t0 = time.monotonic()
        last, credit = 0.0, 0.0
        while True:
            now = time.monotonic() - t0
            if now >= ls.run_time:
                break
            # arrivals due so far: the rate integrated over time (the curve moves, so a
            # fixed gap computed at a quiet moment would skip the rise after it)
            rate = peak * float(np.interp(now, grid, shape))
            credit += rate * (now - last)
            last = now
            while credit >= 1.0:
                credit -= 1.0
                scheduled += 1
                if pool.full():
                    dropped += 1
                else:
                    pool.spawn(self.arrive)
            # at least 2 ms between looks: a fast stream fires its arrivals in small bursts
            gevent.sleep(max(0.002, min(0.05, (1.0 - credit) / rate)) if rate > 1e-9
                         else 0.05)
        pool.join(timeout=run.request_timeout + 1)
        report_file(self.environment, f"arrivals-{self.ctx.tag}-{self.index}.json",
                    json.dumps({"operation": self.stream, "scheduled": scheduled,
                                "dropped": dropped, "peak_rate": peak,
                                "seconds": time.monotonic() - t0}))
        self.ctx.recorder.flush()
        while True:  # done: wait for the shape to end the test (a stopped user would be
            gevent.sleep(1.0)  # spawned again, and drive its stream twice)

    def arrive(self) -> None:
        """One arrival of this driver's operation, as its own customer: its own operation
        client (tokens and session), so concurrent arrivals never share a session."""
        me = copy.copy(self)
        me.ops = copy.copy(self.ops)
        me.ops.tokens = dict(self.ops.tokens)
        me.ops.context = dict(self.ops.context)
        try:
            getattr(me, f"_{self.stream}")()
        except gevent.GreenletExit:
            raise
        except Exception:  # noqa: BLE001 - never kill the driver; say it once
            if not self._said:
                ArrivalDriver._said = True
                log.exception("simlive: an arrival of %s raised (the driver goes on; the "
                              "operation's outcome was recorded by the client)", self.stream)

    def _order(self) -> None:
        self.new_customer()
        sku = self.pick_sku(ordering=True)
        key = f"k-{self.ctx.run.run_id}-{self.process}-{self.rng.getrandbits(48):012x}"
        res = self.ops.run("order", {"sku": sku, "quantity": 1, "key": key,
                                     "buyer": self.buyer},
                           value=lambda r: {"order_id": r.fields.get("order_id"),
                                            "state": r.fields.get("state")})
        oid = res.fields.get("order_id")
        if res.ok and oid is not None and self.can("pay") and \
                self.rng.random() < self.ctx.run.scenario.orders.pay_probability:
            paid = self.ops.run("pay", {"order_id": oid, "sku": sku, "quantity": 1},
                                value=lambda r: {"order_id": oid,
                                                 "state": r.fields.get("state")})
            if paid.outcome != "fail":
                fulfil(self.ops, self.ctx.run.scenario, oid)

    def _read_stock(self) -> None:
        self.read("read_stock")

    def _open_ticket(self) -> None:
        self.new_customer()
        message = f"{KINDS[0]} {self.rng.getrandbits(48):012x} from {self.process}"
        self.ops.run("open_ticket", {"kind": KINDS[0], "order_id": None, "message": message},
                     value=lambda r: {"ticket_id": r.fields.get("ticket_id")})

    def _review(self) -> None:
        self.new_customer()
        sku = self.rng.choice(self.products)
        text = f"review {self.rng.getrandbits(48):012x} by {self.process}"
        self.ops.run("review", {"sku": sku, "rating": self.rng.randint(1, 5), "text": text},
                     value=lambda r: {"review_id": r.fields.get("review_id")})

    def _browse(self) -> None:
        self.ops.run("browse", {}, value=lambda r: None)
