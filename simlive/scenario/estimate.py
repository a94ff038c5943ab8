"""What a scenario would cost to simulate, estimated before it runs: steps, viewers,
orders and tickets one replication implies, the memory they take, and the budget a scenario
must stay within (refused with the key to change, before anything runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simlive.rules import DAY, rule_params
from simlive.scenario.catalogue import generated_slots, popularity_weights
from simlive.scenario.schema import Scenario
from simlive.scenario.units import count, duration_text

Problem = tuple[tuple[Any, ...], str, str]
Slot = tuple[tuple[Any, ...], float, float, float]  # (key, from, to, propensity)

GIB = 2**30
MEMORY_BUDGET = 4 * GIB
"""Bytes one replication may need by ``estimate``; above it a scenario is refused before it
runs (each worker process of ``-j`` runs one replication at a time)."""

# Bytes per unit, measured on the model (CPython 3.11, numpy 2) and rounded up.
BASE_BYTES = 200 * 2**20  # the interpreter, numpy, the dwell-time draws
STEP_BYTES = 200  # per step: the audience arrays and one SKU's stock arrays (170 measured)
SERIES_BYTES = 100  # per SKU and series point: real and displayed stock, array and list (92)
ORDER_BYTES = 64  # per order placed in the busiest step (30)
SKU_ORDER_BYTES = 48  # per order of one SKU: its draws, units, delay, payment (33 in arrays)
TICKET_BYTES = 256  # per after-sales ticket (200)
ROSTER_BYTES = 64  # per agent slot and shift: the desk's duty intervals
LAG_BYTES = 48  # per step of stock.display-matches' max_lag: its sliding min and max

SKU_STEPS_MAX = 2e9
"""SKU-steps (steps x SKUs) one replication may take: about 100 ns each, a few minutes."""
ORDERS_MAX = 1e9
"""Orders one replication may place (by the estimate): each is drawn and checked against
stock, a few hundred ns each."""
SIMPY_TICKETS_MAX = 1e6
"""Tickets the SimPy desk may be asked for (``simulation.desk_engine: simpy``): about 100 us
each, minutes for a million; the fast desk takes any number the memory holds."""


@dataclass(frozen=True)
class Part:
    """One term of the estimate: its size, the key a user would change, and the numbers."""

    bytes: float
    path: tuple[Any, ...]
    text: str
    phase: str = ""  # "": held throughout; else only while that phase runs (the most counts)


@dataclass(frozen=True)
class Estimate:
    """What one replication of a scenario implies, as upper bounds in expectation."""

    steps: float  # time steps each SKU's stock is run through (broadcast + payment timeout)
    skus: int
    viewers: float  # viewer arrivals over the broadcast
    peak_viewers: float  # viewers present at once
    orders: float  # orders placed
    peak_orders: float  # orders placed in the busiest step
    tickets: float  # after-sales tickets (chats and requests after paid orders)
    parts: tuple[Part, ...]
    orders_path: tuple[Any, ...]  # the key behind most orders

    @property
    def bytes(self) -> float:
        """Held throughout, plus the largest of the phases that do not overlap (a SKU's
        orders are freed before the desk's tickets exist)."""
        phases: dict[str, float] = {}
        for p in self.parts:
            if p.phase:
                phases[p.phase] = phases.get(p.phase, 0.0) + p.bytes
        return BASE_BYTES + sum(p.bytes for p in self.parts if not p.phase) + max(
            phases.values(), default=0.0)


def _gib(n: float) -> str:
    if n < GIB / 10:
        return f"{n / 2**20:.0f} MiB"
    g = n / GIB
    return f"{g:.1f} GiB" if g < 100 else f"{g:,.0f} GiB" if g < 1e9 else f"{g:.3g} GiB"


def _arrivals(s: Scenario) -> tuple[float, float, float]:
    """(viewer arrivals over the broadcast, the keyframes' highest rate, the viewers the
    spikes and flash sales bring)."""
    dur = s.duration
    keys = s.audience.arrivals
    at = [min(k.at, dur) for k in keys]
    rate = [k.rate for k in keys]
    total = rate[0] * at[0] + rate[-1] * (dur - at[-1])  # held before and after
    for i in range(len(keys) - 1):
        mean = (rate[i] + rate[i + 1]) / 2 if s.audience.interpolation == "linear" else rate[i]
        total += mean * (at[i + 1] - at[i])
    spikes = [(sp.at, sp.duration, sp.rate, sp.shape) for sp in s.audience.spikes]
    spikes += [(fs.at, fs.duration, fs.spike, "decay") for fs in s.products.flash_sales]
    brought = 0.0
    for start, width, r, shape in spikes:
        width = max(0.0, min(width, dur - start))
        brought += r * width if shape == "flat" else r * width / 3 * (1 - math.exp(-3))
    return total + brought, max(rate), brought


def _propensity(s: Scenario, sku_of: dict[str, list[Slot]]
                ) -> tuple[float, tuple[Any, ...], float, tuple[Any, ...], str, float]:
    """Sweep each SKU's slots and flash sales: (highest orders per viewer and second, the
    key behind it, the sum over SKUs of orders per viewer over the broadcast, the key
    behind most of it, the SKU with the highest rate, that SKU's orders per viewer over the
    broadcast: the most of any one SKU)."""
    flash: dict[str, list[tuple[int, float, float, float]]] = {}
    for i, fs in enumerate(s.products.flash_sales):
        flash.setdefault(fs.sku, []).append((i, fs.at, fs.at + fs.duration, fs.boost))
    best = 0.0
    best_path: tuple[Any, ...] = ("products",)
    best_sku = ""
    area_total = 0.0
    area_best = 0.0
    area_path: tuple[Any, ...] = ("products",)
    for sku, slots in sku_of.items():
        events: list[tuple[float, int, Any]] = []
        for path, start, end, prop in slots:
            events += [(start, 1, (path, prop)), (end, 0, (path, prop))]
        for i, start, end, boost in flash.get(sku, []):
            if not start < min(end, s.duration):  # nothing of it inside the broadcast
                continue
            events += [(start, 1, (("products", "flash_sales", i, "boost"), -boost)),
                       (min(end, s.duration), 0, (("products", "flash_sales", i, "boost"),
                                                  -boost))]
        events.sort(key=lambda e: (e[0], e[1]))  # at one time, ends before starts
        prop = 0.0
        boosts: list[tuple[tuple[Any, ...], float]] = []
        last_slot: tuple[Any, ...] = ("products",)
        area = 0.0
        for k, (t, starting, (path, value)) in enumerate(events):
            if value < 0:  # a flash sale's boost
                if starting:
                    boosts.append((path, -value))
                else:
                    boosts.remove((path, -value))
            else:
                prop += value if starting else -value
                if starting:
                    last_slot = path
            gain = math.prod(b for _, b in boosts)
            now = max(prop, 0.0) * gain
            if now > best:
                best, best_sku = now, sku
                best_path = max(boosts, key=lambda b: b[1])[0] if gain > 1 else last_slot
            if k + 1 < len(events):
                area += now * (events[k + 1][0] - t)
        area_total += area
        if area > area_best:
            area_best, area_path = area, last_slot
    return best, best_path, area_total, area_path, best_sku, area_best


def _slots_by_sku(s: Scenario) -> dict[str, list[Slot]]:
    """Each SKU's slots with the key behind each, so a refusal can name the key to change."""
    gen = s.products.generate
    sku_of: dict[str, list[Slot]] = {}
    for i, seg in enumerate(s.products.schedule):
        sku_of.setdefault(seg.sku, []).append(
            (("products", "schedule", i, "propensity"), seg.start, seg.end, seg.propensity))
    if gen is not None:
        weights = popularity_weights(gen, s.seed)
        for i, (sku, start, end) in enumerate(generated_slots(gen, s.duration)):
            sku_of.setdefault(sku, []).append(
                (("products", "generate", "propensity"), start, end,
                 gen.propensity * float(weights[i])))
    return sku_of


def estimate(s: Scenario) -> Estimate:
    """Steps, viewers, orders and tickets one replication implies, and the memory they take.

    Upper bounds in expectation, cheap to compute (no random draws): viewers present at once
    are at most the keyframes' highest rate times the mean dwell time, plus every viewer the
    spikes bring; orders follow the viewers present and each SKU's propensity in its slots
    (flash-sale boosts included); paid orders are capped by the stock when stock is
    reserved at order time; tickets are the paid orders' after-sales fractions plus chats.
    """
    dur, step = s.duration, s.simulation.step
    o, a = s.orders, s.aftersales
    gen = s.products.generate
    n_gen = gen.count if gen is not None else 0
    skus = len(s.products.skus) + n_gen
    bins = dur / step
    steps = bins + o.payment_timeout / step + 2
    # viewers
    viewers, peak_rate, brought = _arrivals(s)
    dwell = min(s.audience.dwell.mean_value, dur) + step
    present = min(viewers, peak_rate * dwell + brought)
    # orders
    top, top_path, area, area_path, top_sku, area_one = _propensity(s, _slots_by_sku(s))
    peak_orders = present * top * step
    orders = present * area
    one_sku = present * area_one  # a SKU's orders are drawn and kept while it is run
    # paid orders and tickets
    paid = _paid(s, orders)
    after_orders = paid * _after_sales_share(s, paid)
    chats = a.consultations.rate * dur + a.consultations.per_viewer * viewers * dwell
    tickets = after_orders + chats
    # memory
    stride = _series_step(s) / step
    points = bins / max(1.0, round(stride) if stride < 1e15 else stride)
    slots = _most_on(s) * a.chat_concurrency
    sku_key = ("products", "generate", "count") if n_gen > len(s.products.skus) else (
        "products", "skus")
    max_lag = rule_params(s.rule_overrides())["stock.display-matches"]["max_lag"]
    parts = (
        Part(STEP_BYTES * steps, ("duration",),
             f"{count(steps)} steps (duration {duration_text(dur)} / simulation.step "
             f"{duration_text(step)}, plus orders.payment_timeout "
             f"{duration_text(o.payment_timeout)}) x {STEP_BYTES} B"),
        Part(SERIES_BYTES * points * skus, sku_key,
             f"{count(skus)} SKUs x {count(points)} series points (duration / "
             f"simulation.series_step) x {SERIES_BYTES} B"),
        Part(ORDER_BYTES * peak_orders, top_path,
             f"{count(peak_orders)} orders in one step ({count(present)} viewers present "
             f"(audience) x {top:.3g} orders per viewer and second ({top_sku}) x "
             f"simulation.step {duration_text(step)}) x {ORDER_BYTES} B"),
        Part(SKU_ORDER_BYTES * one_sku, area_path,
             f"{count(one_sku)} orders of the SKU that sells most (its orders' draws are kept "
             f"while its stock is run: viewers present x its propensity over its slots) x "
             f"{SKU_ORDER_BYTES} B", phase="orders"),
        Part(TICKET_BYTES * tickets,
             ("aftersales", "consultations") if chats > after_orders else area_path,
             f"{count(tickets)} tickets ({count(chats)} chats (aftersales.consultations) + "
             f"{count(after_orders)} after {count(paid)} paid orders (products, "
             f"aftersales fractions)) x {TICKET_BYTES} B", phase="desk"),
        Part(ROSTER_BYTES * (slots * len(a.agents) + _desk_slots(s)), ("aftersales", "agents"),
             f"{count(slots)} desk slots (most agents on at once x "
             f"aftersales.chat_concurrency) x {len(a.agents)} shifts (aftersales.agents) x "
             f"{ROSTER_BYTES} B", phase="desk"),
        Part(LAG_BYTES * max_lag / step, ("compliance", "stock.display-matches", "max_lag"),
             f"{count(max_lag / step)} steps of max_lag {duration_text(max_lag)} (simulation.step "
             f"{duration_text(step)}) x {LAG_BYTES} B"),
    )
    return Estimate(steps, skus, viewers, present, orders, peak_orders, tickets, parts,
                    area_path)


def _paid(s: Scenario, orders: float) -> float:
    """Paid orders: the orders' paid share, capped by every unit of stock when stock is
    reserved at order time and released once."""
    o, gen = s.orders, s.products.generate
    paid = orders * o.pay_probability
    if o.reserve_on == "order" and o.release == "once":
        stock: float = sum(k.stock for k in s.products.skus)
        stock += sum(r.quantity for r in s.products.restocks)
        stock += sum(fs.quantity or 0 for fs in s.products.flash_sales)
        if gen is not None:
            stock += gen.count * gen.stock.mean_value
        paid = min(paid, stock)
    return paid


def _after_sales_share(s: Scenario, paid: float) -> float:
    """After-sales tickets per paid order: the highest return rate, replacements, refunds,
    complaints, and where-is-my-order questions about late deliveries."""
    a, gen = s.aftersales, s.products.generate
    returns = max([a.returns.fraction if k.return_rate is None else k.return_rate
                   for k in s.products.skus] or [0.0])
    if gen is not None:
        total = sum(gen.categories.values()) or 1.0
        returns = max(returns, sum(w * gen.return_rates.get(c, a.returns.fraction)
                                   for c, w in gen.categories.items()) / total)
    fractions = returns + a.replacements.fraction + a.refunds.fraction + a.complaints.fraction
    f = s.fulfilment
    if f is not None and f.wismo > 0:  # where-is-my-order: a chance each day late, for
        # the days an order waits in the backlog (first paid, first shipped: half its length
        # on average; the chance to ask is concave in the days, so the mean bounds it in
        # expectation), plus the transit, past the promise
        late = math.ceil(paid / f.capacity) / 2 + (f.transit.mean_value - f.promise) / DAY + 1
        fractions += min(1.0, f.wismo * max(1.0, late))
    return fractions


def _most_on(s: Scenario) -> int:
    """The most agents on the desk at once (shifts may overlap)."""
    changes = sorted([(sh.start, sh.agents) for sh in s.aftersales.agents]
                     + [(sh.end, -sh.agents) for sh in s.aftersales.agents])
    on = most = 0
    for _, d in changes:
        on += d
        most = max(most, on)
    return most


def _desk_slots(s: Scenario) -> float:
    """Slots x shifts of the desks of their own (under ``each: store``, once per store
    named; a desk taking categories may split into more, bounded by DESKS_MAX)."""
    total = 0.0
    for d in s.aftersales.desks:
        most = max((sh.agents for sh in d.agents), default=0)  # on at once, at the most
        copies = max(1, len(d.stores)) if d.each == "store" else 1
        # as the pooled desk's: slots x shifts (the shifts were once counted twice here,
        # and a planned roster of hundreds of shifts was refused for gigabytes)
        total += most * (d.chat_concurrency or s.aftersales.chat_concurrency) * len(
            d.agents) * copies
    return total


def _series_step(s: Scenario) -> float:
    if s.simulation.series_step is not None:
        return max(s.simulation.step, s.simulation.series_step)
    return max(s.simulation.step, s.duration / 2000)


def budget_problems(s: Scenario) -> list[Problem]:
    """The scenario refused for what it would cost: memory beyond MEMORY_BUDGET, more
    SKU-steps than SKU_STEPS_MAX, more orders than ORDERS_MAX. One problem each, at the
    key that drives the cost, naming the numbers and the other keys behind them."""
    e = estimate(s)
    problems: list[Problem] = []
    if not e.bytes <= MEMORY_BUDGET:
        parts = sorted(e.parts, key=lambda p: -p.bytes)
        shown = [p for p in parts if p.bytes >= 0.05 * e.bytes] or parts[:1]
        problems.append((parts[0].path,
                         f"a simulation that fits the memory budget of "
                         f"{_gib(MEMORY_BUDGET)} per replication",
                         f"about {_gib(e.bytes)}: " + "; ".join(
                             f"{_gib(p.bytes)} for {p.text}" for p in shown)))
    work = e.steps * e.skus
    if not work <= SKU_STEPS_MAX:
        sku_key = "products.generate.count" if s.products.generate is not None else \
            "products.skus"
        problems.append((("duration",), f"at most {SKU_STEPS_MAX:.0e} SKU-steps per "
                         "replication (about 100 ns each)",
                         f"{work:.3g}: {count(e.steps)} steps (duration "
                         f"{duration_text(s.duration)} / simulation.step "
                         f"{duration_text(s.simulation.step)}) x {count(e.skus)} SKUs "
                         f"({sku_key})"))
    if not e.orders <= ORDERS_MAX:
        problems.append((e.orders_path, f"at most {ORDERS_MAX:.0e} orders per replication (each is "
                         "drawn and checked against stock)",
                         f"about {e.orders:.3g}: up to {count(e.peak_viewers)} viewers present "
                         "(audience) ordering at the propensity of their SKU's slot "
                         "(products.schedule, products.generate.propensity, flash-sale "
                         "boosts)"))
    if s.simulation.desk_engine == "simpy" and not e.tickets <= SIMPY_TICKETS_MAX:
        problems.append((("simulation", "desk_engine"), f"the fast desk (auto or fast) for "
                         f"more than {SIMPY_TICKETS_MAX:.0e} tickets (the SimPy desk takes "
                         "about 100 us each)", f"simpy for about {count(e.tickets)} tickets"))
    return problems
