"""The flash sales' coordinator: units on the shop, then the release instant to every process.

Runs once per load, in the local runner or the master (never in a worker), as a greenlet
started when the test starts. For each flash sale, ``load.flash_sale_lead`` before it opens:
the sale's units reach the shop (the target's ``restock``, else ``set_stock`` with the new
declared total), recorded in the history as a ``restock`` the checker adds to the declared
stock; then every process is told the release instant (the opening, or half the lead after
the units arrived if the shop was slow) and its share of the buyers, by Locust's own
message. ``flash-plan-<sale>.json`` keeps what was planned and done, for the report.
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
from simlive.target.client import INFO, OK, OpResult
from simlive.target.provision import admin_client

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


def coordinate(environment: Any, run: LoadRun, t0: float) -> None:
    """Every flash sale of ``run`` in turn (see the module doc)."""
    prov = run.provisioned
    if prov is None or not prov.flash_sales:
        return
    ls = run.scenario.load
    rec = Recorder(run.history_dir / "coordinator.jsonl")
    supply = {s: int(p["stock"]) for s, p in prov.products.items()}
    try:
        for sale in sorted(prov.flash_sales, key=lambda s: s["opens"]):
            gevent.sleep(max(0.0, t0 + sale["opens"] - ls.flash_sale_lead - time.time()))
            # first every process holds the SKU back from ordinary buyers, then the units
            # arrive: none of them is sold before the sale's own buyers are released
            environment.runner.send_message(FLASH_MESSAGE, {"index": sale["index"],
                                                            "hold": True})
            supply[sale["sku"]] += int(sale["units"])
            added = add_units(run, sale, supply[sale["sku"]], rec)
            release_at = max(t0 + sale["opens"], time.time() + ls.flash_sale_lead / 2)
            runner = environment.runner
            if isinstance(runner, MasterRunner):
                clients = sorted(runner.clients)
            else:
                clients = [getattr(runner, "client_id", "local")]
            data = {"index": sale["index"], "release_at": release_at,
                    "shares": shares(int(sale["buyers"]), clients)}
            plan = {**sale, "release_at": release_at, "units_added": added,
                    "processes": len(clients), "opened_at": t0 + sale["opens"]}
            (run.history_dir / f"flash-plan-{sale['index']}.json").write_text(
                json.dumps(plan), encoding="utf-8")
            log.info("simlive: flash sale %d on %s: %d buyer(s) over %d process(es), "
                     "released in %.1f s; units: %s", sale["index"] + 1, sale["sku"],
                     sale["buyers"], len(clients), release_at - time.time(), added)
            runner.send_message(FLASH_MESSAGE, data)
    finally:
        rec.close()
