"""The flash-sale second: which buyers each sale releases, and what the release achieved.

A flash sale is many buyers on one SKU in the same instant; a lost update or an unguarded
allocation shows only when their checkouts overlap at the shop. The load therefore does not
leave a sale to the users that happen to be ordering: at each flash sale's opening the sale's
units reach the shop, its buyers are prepared ahead (every step of ``order`` before the
target's commit step) and released together at one instant that every Locust process shares
(:mod:`simlive.load.crowd`). This module is the plain part, no Locust: how many buyers and
units a sale gets (and why), and the per-sale report read back from what each process wrote:
buyers released, how far their commit requests left from the release instant, how many
checkouts of the SKU were in flight at once as the client saw them, the answers by outcome,
and a warning when the moment was not made, so a pass says how much contention it survived.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlive.load.curve import Curve
from simlive.rules import Status, Verdict
from simlive.scenario.schema import Scenario

MAX_BUYERS = 100_000  # over all processes, as load.flash_sale_buyers allows


@dataclass(frozen=True)
class FlashSalePlan:
    """One flash sale as the load plays it (plain JSON, in every process's run)."""

    index: int
    sku: str  # this run's SKU (the scenario's, renamed with the run id)
    scenario_sku: str
    opens: float  # real seconds after the load began (compressed like the curve)
    units: int  # units the sale adds at its opening (0: it sells the stock the SKU has)
    stock: int  # the SKU's stock before the sale, as created
    buyers: int  # released together, over every process
    why: str  # how ``buyers`` was chosen, in words
    price: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_flash_sales(scenario: Scenario, products: dict[str, dict[str, Any]]
                     ) -> list[FlashSalePlan]:
    """Each flash sale's units and buyers. ``products``: the run's SKUs (provisioning's
    ``scaled_products``), with ``scenario_sku``, ``stock`` and ``flash_units``."""
    ls = scenario.load
    by_scenario = {p.get("scenario_sku"): name for name, p in products.items()}
    curve = Curve(scenario, ls.run_time) if scenario.products.flash_sales else None
    plans = []
    for i, f in enumerate(scenario.products.flash_sales):
        name = by_scenario.get(f.sku)
        if name is None or curve is None:
            continue
        opens = f.at / curve.scale
        units = int(products[name].get("flash_units", {}).get(str(i), 0))
        stock = int(products[name]["stock"])
        on_sale = units + stock  # at most: the SKU's own stock may not have sold before
        at_open = curve.users(opens, ls.peak_users)
        if ls.flash_sale_buyers is not None:
            buyers, why = ls.flash_sale_buyers, "load.flash_sale_buyers"
        elif at_open >= 2 * on_sale:
            buyers = at_open
            why = (f"the load's users at the opening ({ls.peak_users} at the peak x "
                   f"{curve.fraction(opens):.0%} of the curve there)")
        else:
            buyers = 2 * on_sale
            why = (f"twice the {on_sale} unit(s) that may be on sale (the sale's {units} and "
                   f"the SKU's {stock}; the load's users at the opening are {at_open}: fewer "
                   f"could not be sure to fight over the last unit)")
        plans.append(FlashSalePlan(i, name, f.sku, opens, units, stock,
                                   min(MAX_BUYERS, max(1, buyers)), why, float(f.price)))
    return plans


def shares(total: int, clients: list[str]) -> dict[str, tuple[int, int]]:
    """``total`` buyers over the processes: per client id, (first buyer number, count)."""
    out, first = {}, 0
    n = max(1, len(clients))
    for k, cid in enumerate(clients):
        count = total // n + (1 if k < total % n else 0)
        out[cid] = (first, count)
        first += count
    return out


# --- what the release achieved --------------------------------------------------------------


@dataclass
class FlashSaleReport:
    """One flash sale's release, over every process's report."""

    index: int
    sku: str
    units: int
    planned: int  # buyers the plan released
    why: str
    stock: int = 0  # the SKU's stock before the sale, as created (some may have sold)
    accounts: int | None = None  # distinct buyer accounts (None: a session each)
    fired_late_ms: float = 0.0  # the latest process's fire loop after the instant
    release_at: float | None = None  # epoch seconds
    units_added: str = ""  # how the sale's units reached the shop
    released: int = 0  # buyers whose commit request was sent
    not_prepared: int = 0  # refused or failed before the commit step
    late: int = 0  # prepared only after the release instant
    spread_ms: dict[str, float] = field(default_factory=dict)  # p50, p99, max
    together_ms: float = 0.0  # p99 of the sends after the first one (lateness left out)
    max_in_flight: int = 0  # commit requests sent and not yet answered, at once
    outcomes: dict[str, int] = field(default_factory=dict)
    processes: int = 0
    errors: list[str] = field(default_factory=list)  # a few, for the warning
    spread_limit_ms: float = 100.0
    after_opening_s: float = 0.0  # the release instant, after the planned opening
    preparing_s: float = 0.0  # from "prepare" until every process was ready

    @property
    def warnings(self) -> list[str]:
        """Why this release may not have made the moment it claims to test."""
        out = []
        head = f"flash sale {self.index + 1} ({self.sku})"
        if self.released == 0:
            why = f": {self.errors[0]}" if self.errors else ""
            out.append(f"{head}: no buyer was released ({self.not_prepared} of "
                       f"{self.planned} failed before the commit step{why}); the run did "
                       "not test the sale")
            return out
        if self.after_opening_s > 1.0:
            out.append(f"{head}: released {self.after_opening_s:.1f} s after its opening "
                       f"(preparing the buyers took {self.preparing_s:.1f} s): raise "
                       "load.flash_sale_lead to open on time")
        p99 = self.spread_ms.get("p99", 0.0)
        if self.fired_late_ms > self.spread_limit_ms:
            out.append(f"{head}: a process fired {self.fired_late_ms:.0f} ms after the release "
                       "instant (a machine short of CPU, or the instant heard late): its "
                       "buyers went together, but later than planned")
        if p99 > self.spread_limit_ms and self.together_ms <= self.spread_limit_ms:
            out.append(f"{head}: the {self.released} buyers went together (within "
                       f"{self.together_ms:.0f} ms of each other, p99) but {p99:.0f} ms after "
                       "the release instant: the sale was late, not gentler")
        elif p99 > self.spread_limit_ms:
            out.append(f"{head}: the generator released its {self.released} buyers over "
                       f"{p99:.0f} ms (p99; limit {self.spread_limit_ms:.0f} ms): the verdicts "
                       f"speak of a gentler sale than planned")
        if self.accounts is not None and self.planned > self.accounts:
            out.append(f"{head}: {self.planned} buyers over {self.accounts} buyer account(s): "
                       "buyers share accounts (a shop's cart or per-buyer limit per account "
                       "then mixes them); give the shop more buyer accounts")
        if self.released < self.planned:
            out.append(f"{head}: {self.released} of {self.planned} planned buyers released "
                       f"({self.not_prepared} failed before the commit step)")
        on_sale = self.units + self.stock
        if self.max_in_flight <= on_sale:
            out.append(f"{head}: at most {self.max_in_flight} checkout(s) in flight at once "
                       f"for up to {on_sale} unit(s): no sure fight over the last unit, so "
                       "the sale may not have tested a race")
        elif not self.reached_last_unit:
            out.append(f"{head}: the shop answered {self.answers['ok']} commit(s) ok and "
                       f"refused {self.answers['sold out']} as sold out of {self.released} "
                       f"released on up to {on_sale} unit(s) (the rest: no answer or an "
                       "error): the sale never reached its last unit")
        return out

    @property
    def answers(self) -> dict[str, int]:
        """The commit requests the shop settled: sold (ok) and refused as sold out."""
        return {"ok": self.outcomes.get("ok", 0),
                "sold out": self.outcomes.get("refused as expected (sold out, limit)", 0)}

    @property
    def reached_last_unit(self) -> bool:
        """Whether the shop settled the fight: it refused a buyer as sold out, or sold at
        least every unit that could be on sale. Checkouts left unanswered (a shop drowning
        in its own locks) do not make a race for the last unit."""
        a = self.answers
        return a["sold out"] > 0 or a["ok"] >= max(1, self.units + self.stock)

    @property
    def contended(self) -> bool:
        """Whether the release made more checkouts overlap than there can be units (the
        sale's and the SKU's own stock, some of which may have sold before) and the shop
        answered them up to its last unit."""
        return (self.released > 0 and self.max_in_flight > max(1, self.units + self.stock)
                and self.reached_last_unit)

    def line(self) -> str:
        """The sale in one sentence (the no-oversell evidence and the terminal)."""
        if self.released == 0:
            return f"{self.sku}: no buyer released"
        s = self.spread_ms
        own = f" (+ up to {self.stock} of its own)" if self.units and self.stock else ""
        a = self.answers
        return (f"{self.sku}: {self.released} buyer(s) released together on "
                f"{self.units or 'its'} unit(s){own}, commit requests sent within "
                f"{s.get('p99', 0):.0f} ms (p99) of the release, {self.max_in_flight} in "
                f"flight at once, {a['ok']} sold and {a['sold out']} refused as sold out")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "warnings": self.warnings, "contended": self.contended,
                "reached_last_unit": self.reached_last_unit}


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end at t closes before a start at t)."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals],
                    key=lambda e: (e[0], e[1]))
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def summarize(plan: dict[str, Any], parts: list[dict[str, Any]],
              spread_limit: float) -> FlashSaleReport:
    """One sale's report from the coordinator's ``plan`` record and each process's part."""
    rep = FlashSaleReport(int(plan["index"]), str(plan["sku"]), int(plan["units"]),
                          int(plan["buyers"]), str(plan["why"]), int(plan.get("stock", 0)),
                          release_at=plan.get("release_at"),
                          units_added=str(plan.get("units_added", "")),
                          spread_limit_ms=spread_limit * 1000.0)
    if plan.get("release_at") is not None and plan.get("opened_at") is not None:
        rep.after_opening_s = max(0.0, float(plan["release_at"]) - float(plan["opened_at"]))
    rep.preparing_s = float(plan.get("preparing_s", 0.0))
    rep.accounts = plan.get("accounts")
    release = rep.release_at
    spreads, spans = [], []
    for part in parts:
        rep.processes += 1
        rep.not_prepared += int(part.get("not_prepared", 0))
        rep.late += int(part.get("late", 0))
        rep.errors += [e for e in part.get("errors", []) if e not in rep.errors][:3]
        if part.get("fired_at") is not None and release is not None:
            rep.fired_late_ms = max(rep.fired_late_ms,
                                    (float(part["fired_at"]) - release) * 1000.0)
        for sent, answered, outcome in part.get("rows", []):
            rep.outcomes[outcome] = rep.outcomes.get(outcome, 0) + 1
            if sent is None:
                continue
            rep.released += 1
            if release is not None:
                spreads.append(max(0.0, sent - release) * 1000.0)
            spans.append((sent, answered if answered is not None else math.inf))
        for outcome, n in part.get("before_commit", {}).items():
            key = f"{outcome} before the commit"
            rep.outcomes[key] = rep.outcomes.get(key, 0) + n
    if spreads:
        arr = np.asarray(spreads)
        rep.spread_ms = {"p50": float(np.percentile(arr, 50)),
                         "p99": float(np.percentile(arr, 99)), "max": float(arr.max())}
        rep.together_ms = float(np.percentile(arr - arr.min(), 99))
    rep.max_in_flight = max_overlap(spans)
    rep.errors = rep.errors[:3]
    return rep


def read_reports(history_dir: Path, spread_limit: float,
                 planned: list[dict[str, Any]] | None = None) -> list[FlashSaleReport]:
    """Every flash sale's report from the files the coordinator and the processes wrote
    (``flash-plan-<i>.json``, ``flash-<process>-<i>.json``); a ``planned`` sale with no
    plan file was never released (the load ended first) and is reported so."""
    out = []
    seen = {int(p.name.removeprefix("flash-plan-").removesuffix(".json"))
            for p in history_dir.glob("flash-plan-*.json")}
    for sale in planned or []:
        if int(sale["index"]) not in seen:
            rep = FlashSaleReport(int(sale["index"]), str(sale["sku"]), int(sale["units"]),
                                  int(sale["buyers"]), str(sale["why"]),
                                  int(sale.get("stock", 0)),
                                  spread_limit_ms=spread_limit * 1000.0)
            rep.errors = ["the load ended before the sale was released"]
            out.append(rep)
    for path in sorted(history_dir.glob("flash-plan-*.json")):
        plan = json.loads(path.read_text(encoding="utf-8"))
        i = int(plan["index"])
        parts = [json.loads(p.read_text(encoding="utf-8"))
                 for p in sorted(history_dir.glob(f"flash-*-{i}.json"))
                 if not p.name.startswith("flash-plan-")]
        out.append(summarize(plan, parts, spread_limit))
    return sorted(out, key=lambda r: r.index)


def with_contention(verdicts: list[Verdict], sales: list[FlashSaleReport]) -> list[Verdict]:
    """``stock.no-oversell`` says how much contention it survived: each sale's release in
    its evidence; a pass from a run whose sales never made checkouts overlap beyond the
    units on sale could not have failed by a race, and is ``unknown`` instead."""
    if not sales:
        return verdicts
    out = []
    for v in verdicts:
        if v.rule_id == "stock.no-oversell":
            lines = "; ".join(r.line() for r in sales)
            if v.status is Status.PASS and not any(r.contended for r in sales):
                v = Verdict(v.rule_id, Status.UNKNOWN, v.measured, v.limit,
                            f"not earned: no flash sale made more checkouts overlap than "
                            f"there could be units and had the shop settle them up to its "
                            f"last unit ({lines}), so it may not have tested a race; "
                            f"{v.evidence}")
            else:
                v = Verdict(v.rule_id, v.status, v.measured, v.limit,
                            f"{v.evidence}; flash sale {lines}")
        out.append(v)
    return out
