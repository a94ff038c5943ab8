"""The flash sales' coordinator: units on the shop, then the release instant to every process.

Runs once per load, in the local runner or the master (never in a worker), as a greenlet
started when the test starts. For each flash sale, ``load.flash_sale_lead`` before it opens:
the sale's units reach the shop (the target's ``restock``, else ``set_stock`` with the new
declared total), recorded in the history as a ``restock`` the checker adds to the declared
stock; then every process prepares its share of the buyers and says when they are ready;
then the release instant (the opening, or a quarter second ahead if preparing took longer)
goes to every process, by Locust's own
message. ``flash-plan-<sale>.json`` keeps what was planned and done, for the report.

Like Gatling's rendezVous, but across processes: each process prepares its buyers and says
so; the instant is sent once all are ready, so a slow shop makes a late sale (reported),
never a spread-out one.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import gevent
from locust.runners import MasterRunner

from simlive.load.crowd import FLASH_MESSAGE
from simlive.load.flash import shares
from simlive.load.recorder import Recorder
from simlive.load.run import LoadRun
from simlive.load.shape import ScenarioShape
from simlive.shops.client import INFO, OK, OpResult
from simlive.shops.provision import admin_client

log = logging.getLogger("simlive")


def add_units(run: LoadRun, sale: dict[str, Any], supply: int, rec: Recorder) -> str:
    """The sale's units onto the shop; returns how, in words (for the report)."""
    assert run.provisioned is not None
    units = int(sale["units"])
    if units <= 0:
        return "none (the sale sells the stock the SKU has)"
    client, transport = admin_client(run.target, run.host, run.provisioned, None)
    args = {"sku": sale["sku"], "quantity": units, "supply": supply}
    try:
        if client.supports("restock"):
            how, name, call = "restock", "restock", args
        elif client.supports("set_stock"):
            how, name, call = f"set_stock to {supply}", "set_stock", {**args, "stock": supply}
        else:
            return (f"not added: the target maps neither restock nor set_stock, so the "
                    f"sale's {units} unit(s) never reached the shop")
        handle = rec.invoke("setup", "restock", args)
        try:
            res = client.execute(name, call)
        except Exception as exc:  # noqa: BLE001 - a hook's bug: the outcome is unknown
            res = OpResult(INFO, {}, 0, f"{type(exc).__name__}: {exc}")
        rec.complete(handle, res.outcome, {"sku": sale["sku"], "quantity": units}
                     if res.ok else {"status": res.status, "error": res.error})
        rec.flush()
        if res.outcome != OK:
            return f"{how} answered {res.outcome} ({res.error})"
        return f"{units} unit(s) by {how}"
    finally:
        transport.close()


def set_sale_price(run: LoadRun, sale: dict[str, Any], rec: Recorder) -> str | None:
    """The sale's price in force on the shop (the target's ``set_price``), recorded as a
    ``set_price``: the checker knows then that readings before it no longer show the price
    (``pricing.claims-hold``). Returns how, in words; None when the target cannot set a
    price and the scenario makes no price claim (nothing to say)."""
    assert run.provisioned is not None
    client, transport = admin_client(run.target, run.host, run.provisioned, None)
    price = float(sale["price"])
    args = {"sku": sale["sku"], "sale_price": price, "sale_price_cents": int(round(price * 100))}
    try:
        if not client.supports("set_price"):
            return None if run.scenario.pricing is None else \
                "price: not set (the target does not map set_price)"
        handle = rec.invoke("setup", "set_price", args)
        try:
            res = client.execute("set_price", args)
        except Exception as exc:  # noqa: BLE001 - a hook's bug: the outcome is unknown
            res = OpResult(INFO, {}, 0, f"{type(exc).__name__}: {exc}")
        rec.complete(handle, res.outcome, {"sku": sale["sku"], "price": price}
                     if res.ok else {"status": res.status, "error": res.error})
        rec.flush()
        return f"price {price:g}" if res.outcome == OK else \
            f"price: set_price answered {res.outcome} ({res.error})"
    finally:
        transport.close()


class Readiness:
    """The processes' ready messages, per sale (registered on the runner once)."""

    def __init__(self) -> None:
        self.ready: dict[int, dict[str, int]] = {}
        self.answered: dict[int, set[str]] = {}

    def on_ready(self, environment: Any, msg: Any, **_: Any) -> None:
        self.ready.setdefault(int(msg.data["index"]), {})[str(msg.node_id)] = int(
            msg.data.get("prepared", 0))

    def on_answered(self, environment: Any, msg: Any, **_: Any) -> None:
        self.answered.setdefault(int(msg.data["index"]), set()).add(str(msg.node_id))

    def clear(self) -> None:
        self.ready.clear()
        self.answered.clear()


def coordinate(environment: Any, run: LoadRun, t0: float, readiness: Readiness) -> None:
    """Every flash sale of ``run`` in turn: hold its SKU, add its units, have every process
    prepare its share of the buyers, wait until each says it is ready (or the patience
    runs out), then send the release instant: the opening, or a quarter second from now
    if preparing took longer (every process must hear it before it comes)."""
    prov = run.provisioned
    if prov is None or not prov.flash_sales:
        return
    ls = run.scenario.load
    runner = environment.runner
    rec = Recorder(run.history_dir / "coordinator.jsonl")
    supply = {s: int(p["stock"]) for s, p in prov.products.items()}
    patience = run.flash_sale_patience  # as long as a process waits for its buyers
    try:
        for sale in sorted(prov.flash_sales, key=lambda s: s["opens"]):
            i = sale["index"]
            gevent.sleep(max(0.0, t0 + sale["opens"] - ls.flash_sale_lead - time.time()))
            # the load goes on while the sale is prepared (bounded: the patience below)
            ScenarioShape.hold_until = time.time() + patience + 5.0
            # first every process holds the SKU back from ordinary buyers, then the units
            # arrive: none of them is sold before the sale's own buyers are released
            runner.send_message(FLASH_MESSAGE, {"index": i, "phase": "hold"})
            supply[sale["sku"]] += int(sale["units"])
            added = add_units(run, sale, supply[sale["sku"]], rec)
            priced = set_sale_price(run, sale, rec)
            added += "" if priced is None else "; " + priced
            # the processes by the name their messages carry (a local runner's: "local")
            clients = sorted(runner.clients) if isinstance(runner, MasterRunner) else \
                ["local"]
            prepare_at = time.time()
            plan_shares = shares(int(sale["buyers"]), clients)
            runner.send_message(FLASH_MESSAGE, {"index": i, "phase": "prepare",
                                                "shares": plan_shares})
            deadline = prepare_at + patience
            while len(readiness.ready.get(i, {})) < len(clients) and time.time() < deadline:
                gevent.sleep(0.01)
            ready = readiness.ready.get(i, {})
            release_at = max(t0 + sale["opens"], time.time() + 0.25)
            plan = {**sale, "release_at": release_at, "units_added": added,
                    "processes": len(clients), "opened_at": t0 + sale["opens"],
                    "prepared": sum(ready.values()), "ready_processes": len(ready),
                    "preparing_s": time.time() - prepare_at}
            (run.history_dir / f"flash-plan-{i}.json").write_text(
                json.dumps(plan), encoding="utf-8")
            log.info("simlive: flash sale %d on %s: %d of %d buyer(s) prepared over %d of %d "
                     "process(es) in %.1f s; release in %.2f s; units: %s", i + 1, sale["sku"],
                     sum(ready.values()), sale["buyers"], len(ready), len(clients),
                     plan["preparing_s"], release_at - time.time(), added)
            runner.send_message(FLASH_MESSAGE, {"index": i, "phase": "release",
                                                "release_at": release_at})
            # ... and until its buyers' answers are in (each process with buyers says so)
            ScenarioShape.hold_until = release_at + run.request_timeout * 3 + 5.0
            with_buyers = {c for c, (_, n) in plan_shares.items() if n > 0}
            while not with_buyers <= readiness.answered.get(i, set()) and \
                    time.time() < ScenarioShape.hold_until:
                gevent.sleep(0.05)
            ScenarioShape.hold_until = time.time()
    finally:
        rec.close()
