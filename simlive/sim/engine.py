"""One replication of a broadcast: audience, then each SKU's stock, then after-sales, records.

The parts run in causal order and each draws from its own random stream (``streams``).
The result is plain data: KPIs, the measurements the rules are judged on, and (for the
replication that is plotted) the time series.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlive.judge.measures import (
    DeskMeasures,
    Measures,
    ReceiptMeasures,
    ReplayMeasures,
    ReviewMeasures,
    StockMeasures,
)
from simlive.rules import rule_params
from simlive.scenario.catalogue import build_catalogue
from simlive.scenario.desks import Routing, all_settings, route
from simlive.scenario.schema import Scenario, Sku
from simlive.sim.aftersales import AftersalesOutcome, run_aftersales
from simlive.sim.audience import simulate_audience
from simlive.sim.on_time import on_time
from simlive.sim.orders import SkuModel, SkuOutcome
from simlive.sim.per_desk import DeskResult
from simlive.sim.platform_desk import simulate_escalations
from simlive.sim.presented import presentation_measures
from simlive.sim.price_claims import price_claims, protection_requests
from simlive.sim.records import RecordsOutcome, clock_early, simulate_records
from simlive.sim.review_listing import simulate_review_listing
from simlive.sim.service_levels import SERVICE_LEVEL, IntervalCounts, service_level_name
from simlive.sim.shown_counters import accepted_so_far, counter_measures
from simlive.sim.streams import Streams
from simlive.sim.tickets import make_tickets

Progress = Callable[[float], None]

KPI_UNITS: dict[str, str] = {
    "viewers.total": "viewers",
    "viewers.peak_concurrent": "viewers",
    "orders.placed": "orders",
    "orders.paid": "orders",
    "orders.paid_fraction": "fraction",
    "orders.deposits": "orders",
    "orders.balance_fraction": "fraction",
    "orders.forfeited": "orders",
    "orders.expired": "orders",
    "orders.sold_out_rejections": "orders",
    "orders.peak_per_s": "orders/s",
    "units.sold": "units",
    "gmv": "currency",
    "aftersales.tickets": "tickets",
    "aftersales.wait.mean_s": "s",
    "aftersales.wait.p_delayed": "fraction",
    "aftersales.first_reply.p95_s": "s",
    "aftersales.first_reply.max_s": "s",
    "aftersales.abandoned_fraction": "fraction",
    "aftersales.agent_utilization": "fraction",
    "aftersales.open_at_horizon": "tickets",
    "aftersales.backlog_at_end": "tickets",
    "pricing.claims_broken": "claims",
    "pricing.orders_undercut": "orders",
    "pricing.owed": "currency",
    "pricing.requests": "requests",  # price-protection tickets the desk received
    "pricing.requests_refused": "requests",
    "replay.published_after_s": "s",
    "reviews.total": "reviews",
    # display.complete (with a presentation block): linked products, those presented under
    # min_presentation, the least presented one's seconds, paid orders not as described
    "presentation.linked": "products",
    "presentation.short": "products",
    "presentation.shortest_s": "s",
    "presentation.misdescribed": "orders",
    "orders.on_time_fraction": "fraction",  # fulfilment.on-time, with a fulfilment block
    "orders.shipped_late": "orders",
    "orders.delivered_late": "orders",
    "orders.unready_units": "units",  # fulfilment.on-time, with warehouse figures
    "escalations.dispute_rate": "fraction",  # escalated of the requests (chats aside)
    "escalations.backlog_at_horizon": "escalations",  # undecided by the platform then
    # reviews.order-honest: reviews rated protected_max or lower, per broadcast, and of them
    # those hidden from or buried in the default listing (scenarios stating reviews.listing)
    "reviews.protected": "reviews",
    "reviews.protected_out_of_listing": "reviews",
    "counters.overstated_fraction": "fraction",  # display.counters-true: of the readings
    "counters.sold_shown_end": "orders",
    "counters.viewers_shown_peak": "viewers",
}


OPTIONAL_KPIS = frozenset({"orders.deposits", "orders.balance_fraction", "orders.forfeited"})
OPTIONAL_KPIS |= {"orders.on_time_fraction", "orders.shipped_late", "orders.delivered_late"}
OPTIONAL_KPIS |= {"orders.unready_units"}  # SKUs with a warehouse figure
OPTIONAL_KPIS |= {"reviews.protected", "reviews.protected_out_of_listing"}  # order-honest
"""Shown only for the scenarios that have them (a presale's deposits)."""
OPTIONAL_KPIS |= {"presentation.linked", "presentation.short", "presentation.shortest_s",
                  "presentation.misdescribed"}  # display.complete
OPTIONAL_KPIS |= {"pricing.claims_broken", "pricing.orders_undercut", "pricing.owed",
                  "pricing.requests", "pricing.requests_refused"}  # a scenario with a pricing block
OPTIONAL_KPIS |= {"escalations.dispute_rate", "escalations.backlog_at_horizon"}  # escalation
OPTIONAL_KPIS |= {"counters.overstated_fraction", "counters.sold_shown_end",
                  "counters.viewers_shown_peak"}  # with a counters block
PLAN_METRICS = (*KPI_UNITS, "aftersales.first_reply.max_s")
"""What a plan target may name, beside ``aftersales.service_level(T)``."""


@dataclass
class ReplicationResult:
    replication: int
    kpis: dict[str, float | None]
    measures: Measures
    series: dict[str, Any] = field(default_factory=dict)
    by_shift: list[dict[str, float | None]] = field(default_factory=list)
    intervals: IntervalCounts | None = None  # service level counts per interval
    desks: list[DeskResult] = field(default_factory=list)  # with aftersales.desks
    # per SKU (catalogue order): when a buyer first found it sold out, None if never
    sold_out_at: list[float | None] = field(default_factory=list)

    def interval_counts(self) -> IntervalCounts:
        """``intervals``, which every simulated replication has (a plan judges them)."""
        if self.intervals is None:
            raise ValueError(f"replication {self.replication} has no interval counts")
        return self.intervals


def series_step(s: Scenario, step: float) -> float:
    if s.simulation.series_step is not None:
        return max(step, s.simulation.series_step)
    raw = s.duration / 2000
    return max(step, float(np.ceil(raw / step) * step))


@dataclass
class Front:
    """Everything before the after-sales desk: it does not depend on the agents on shift."""

    audience: Any
    outcomes: list[SkuOutcome]
    tickets: Any
    orders_per_step: np.ndarray
    stock_series: dict[str, tuple[np.ndarray, np.ndarray]]
    stride: int
    routing: Routing  # which desk takes which SKU (aftersales.desks)
    skus: tuple[Sku, ...] = ()  # the catalogue (fulfilment.on-time's warehouse figures)


class FrontCache:
    """The Fronts of the replications run lately, the least recently used dropped first once
    they hold more than ``budget`` bytes of arrays (always at least one: a plan's candidates
    reuse the replications they share)."""

    def __init__(self, budget: int = 1 << 30) -> None:
        self.budget = budget
        self._items: dict[tuple, tuple[Front, int]] = {}
        self._lock = threading.Lock()  # a Dask worker may run tasks on several threads

    def get(self, key: tuple) -> Front | None:
        with self._lock:
            got = self._items.pop(key, None)
            if got is None:
                return None
            self._items[key] = got  # now the most recently used
            return got[0]

    def put(self, key: tuple, front: Front) -> None:
        size = _nbytes(front)
        with self._lock:
            self._items.pop(key, None)
            while self._items and sum(n for _, n in self._items.values()) + size > self.budget:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (front, size)

    def __len__(self) -> int:
        return len(self._items)


def _nbytes(x: Any, depth: int = 0) -> int:
    """The bytes of the numpy arrays a Front holds (its other parts are small)."""
    if isinstance(x, np.ndarray):
        return x.nbytes
    if depth > 3 or isinstance(x, Sku):  # a catalogue's SKUs hold no arrays
        return 0
    if isinstance(x, dict):
        return sum(_nbytes(v, depth + 1) for v in x.values())
    if isinstance(x, list | tuple):
        return sum(_nbytes(v, depth + 1) for v in x)
    if hasattr(x, "__dict__"):
        return sum(_nbytes(v, depth + 1) for v in vars(x).values())
    return 0


def front_key(s: Scenario, replication: int, keep_series: bool) -> tuple:
    """What a Front depends on: the scenario less every desk's shift schedule, and the
    replication."""
    return replication, keep_series, s.model_dump_json(
        exclude={"aftersales": {"agents": True, "desks": {"__all__": {"agents"}}}})


def _front(s: Scenario, keep_series: bool, progress: Progress | None, streams: Streams,
           params: dict) -> Front:
    step = s.simulation.step
    audience = simulate_audience(s, step, streams.get("audience"))
    cat = build_catalogue(s)
    outcomes: list[SkuOutcome] = []
    max_lag = params["stock.display-matches"]["max_lag"]
    plan: dict[str, dict[str, list]] = {k.sku: {"seg": [], "fs": [], "rs": []}
                                        for k in cat.skus}
    for seg in cat.schedule:
        plan[seg.sku]["seg"].append(seg)
    for fs in s.products.flash_sales:
        plan[fs.sku]["fs"].append(fs)
    for rs in s.products.restocks:
        plan[rs.sku]["rs"].append(rs)
    orders_per_step = np.zeros(audience.concurrent.size)
    stock_series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    sstep = series_step(s, step)
    stride = max(1, int(round(sstep / step)))
    for j, sku in enumerate(cat.skus):
        p = plan[sku.sku]
        model = SkuModel(sku, p["seg"], p["fs"], p["rs"], s.orders, s.duration, step, max_lag)
        out = model.run(audience.concurrent, streams.get("sku", j), stride if keep_series else 0)
        orders_per_step[out.placed_bins] += out.placed_counts  # the peak, every replication
        if keep_series:  # a stride of one step or more: the series were kept
            assert out.remaining is not None and out.displayed is not None
            stock_series[sku.sku] = (out.remaining, out.displayed)
        out.remaining = out.displayed = None
        outcomes.append(out)
        if progress is not None and (j % 16 == 0 or j == len(cat.skus) - 1):
            progress(0.7 * (j + 1) / len(cat.skus))
    # pricing.claims-hold: the buyers' price-protection requests, tickets of their own stream
    protection = None if s.pricing is None else protection_requests(
        s, outcomes, step, params["pricing.claims-hold"]["protection"],
        streams.get("price-protection"), cat.skus)
    tickets = make_tickets(s, audience.concurrent, outcomes, step, streams.get("tickets"),
                           cat.skus, contacts=streams.get("contacts"), protection=protection)
    routing = route(s, cat.skus)
    if len(routing) > 1:  # chats about no SKU go to the pooled desk (0)
        sku_of = tickets.sku
        tickets.desk = np.where(sku_of >= 0, routing.sku_desk[np.maximum(sku_of, 0)],
                                0).astype(np.int32)
    return Front(audience, outcomes, tickets, orders_per_step, stock_series, stride, routing,
                 cat.skus)


def run_replication(s: Scenario, replication: int, keep_series: bool = False,
                    progress: Progress | None = None,
                    cache: FrontCache | None = None) -> ReplicationResult:
    """One replication. ``cache`` keeps the part before the desk, so a planner trying agent
    counts simulates orders and tickets once per replication."""
    streams = Streams(s.seed, replication)
    params = rule_params(s.rule_overrides())
    step = s.simulation.step
    if cache is not None:
        key = front_key(s, replication, keep_series)
        front = cache.get(key)
        if front is None:
            front = _front(s, keep_series, progress, streams, params)
            cache.put(key, front)
    else:
        front = _front(s, keep_series, progress, streams, params)
    audience, outcomes = front.audience, front.outcomes
    orders_per_step, stock_series, stride = (front.orders_per_step, front.stock_series,
                                             front.stride)
    desks = all_settings(s, front.routing)
    after = run_aftersales(s, front.tickets, params, streams.get("desk"), desks)
    if progress is not None:
        progress(0.95)
    paid = sum(o.paid_orders for o in outcomes)
    deposits = sum(o.deposit_orders for o in outcomes)
    # a presale issues a receipt for the deposit and one for the balance
    rec = simulate_records(s, paid, streams.get("records"), receipts_due=paid + deposits,
                           early=clock_early(s, outcomes, step))
    peak_orders = float(orders_per_step.max() / step) if orders_per_step.size else 0.0
    kpis: dict[str, float | None] = {
        "viewers.total": audience.total,
        "viewers.peak_concurrent": audience.peak,
        "orders.placed": float(sum(o.placed for o in outcomes)),
        "orders.paid": float(paid),
        # of the orders accepted: a buyer refused for want of stock placed no order to pay
        "orders.paid_fraction": _share(paid, sum(o.accepted for o in outcomes)),
        "orders.deposits": None if s.orders.presale is None else float(deposits),
        # a presale's balance conversion: balances paid of deposits paid
        "orders.balance_fraction": None if s.orders.presale is None else _share(paid, deposits),
        "orders.forfeited": None if s.orders.presale is None else float(
            sum(o.forfeited_orders for o in outcomes)),
        "orders.expired": float(sum(o.expired_orders for o in outcomes)),
        "orders.sold_out_rejections": float(sum(o.rejected for o in outcomes)),
        "orders.peak_per_s": peak_orders,
        "units.sold": float(sum(o.paid_units for o in outcomes)),
        "gmv": float(round(sum(o.gmv for o in outcomes), 2)),
        "aftersales.tickets": float(after.tickets),
        "aftersales.wait.mean_s": after.wait_mean,
        "aftersales.wait.p_delayed": after.p_delayed,
        "aftersales.first_reply.p95_s": after.chat_first_reply_p95,
        "aftersales.first_reply.max_s": after.first_reply_max_all,
        "aftersales.abandoned_fraction": after.abandoned_fraction,
        "aftersales.agent_utilization": after.utilization,
        "aftersales.open_at_horizon": float(after.open),
        "aftersales.backlog_at_end": _backlog_at(after, s.duration),
        "replay.published_after_s": rec.replay_published_after,
        "reviews.total": float(rec.reviews),
    }
    for t in s.aftersales.service_level.within:
        kpis[service_level_name(t)] = after.intervals.overall(t)
    if after.steady is not None:  # simulation.warmup: the desk KPIs leave the warm-up out
        kpis.update({k: v for k, v in after.steady.items()
                     if k in KPI_UNITS or k.startswith(SERVICE_LEVEL)})
    measures = _measures(step, outcomes, after, rec, paid + deposits)
    # The new duties, each filled in only when the scenario models it (scenario.scope):
    # measures = dataclasses.replace(measures, <field>=...) and its KPIs, one block each.
    # -- display.complete
    if s.presentation is not None:
        pres = presentation_measures(
            s, params["display.complete"]["min_presentation"],
            np.asarray([o.paid_orders for o in outcomes], dtype=np.int64),
            streams.get("presentation"))
        measures = dataclasses.replace(measures, presentation=pres)
        kpis.update({"presentation.linked": float(pres.linked),
                     "presentation.short": float(pres.short or 0),
                     "presentation.shortest_s": pres.shortest_s,
                     "presentation.misdescribed": float(pres.misdescribed or 0)})

    # -- display.counters-true
    if s.counters is not None:
        cp = params["display.counters-true"]
        counters, counter_kpis = counter_measures(
            s.counters, accepted_so_far(outcomes, audience.concurrent.size),
            audience.concurrent, step, cp["max_lag"], cp["max_overstatement"])
        measures = dataclasses.replace(measures, counters=counters)
        kpis.update(counter_kpis)

    # -- pricing.claims-hold
    if s.pricing is not None:
        pm = price_claims(s, outcomes, step, params["pricing.claims-hold"]["window"],
                          params["pricing.claims-hold"]["protection"], front.skus)
        # the requests are the desk's price-protection tickets, refused as it resolves them
        pm = dataclasses.replace(pm, requests=after.by_kind["price-protection"],
                                 refused=after.protection_refused)
        measures = dataclasses.replace(measures, pricing=pm)
        kpis.update({"pricing.claims_broken": float(pm.broken),
                     "pricing.orders_undercut": float(pm.orders_undercut),
                     "pricing.owed": pm.owed,
                     "pricing.requests": float(pm.requests),
                     "pricing.requests_refused": float(pm.refused)})

    # -- fulfilment.on-time
    if s.fulfilment is not None:
        ful = on_time(s, outcomes, step, params["fulfilment.on-time"]["ship_within"],
                      streams.get("fulfilment"), front.skus)
        measures = dataclasses.replace(measures, fulfilment=ful)
        # over the paid orders judged (deadline passed or delivered by the horizon)
        kpis.update({"orders.on_time_fraction": ful.on_time if ful.judged else None,
                     "orders.shipped_late": float(ful.shipped_late),
                     "orders.delivered_late": float(ful.delivered_late)})
        if any(k.warehouse is not None for k in front.skus):  # stock readiness stated
            # linked units beyond the warehouse figures, all SKUs (the same every run)
            kpis["orders.unready_units"] = float(ful.unready_units)

    # -- aftersales.escalations-answered
    esc = s.aftersales.escalation
    if esc is not None and after.requests is not None:
        escalations = simulate_escalations(
            esc, after.requests, s.duration + s.aftersales.horizon,
            params["aftersales.escalations-answered"]["decide_within"],
            streams.get("escalations"))
        measures = dataclasses.replace(measures, escalations=escalations.measures)
        # over the requests (chats aside) and at the after-sales horizon
        kpis["escalations.dispute_rate"] = _share(escalations.measures.escalated,
                                                  escalations.measures.tickets)
        kpis["escalations.backlog_at_horizon"] = float(escalations.backlog)

    # -- reviews.order-honest
    if s.reviews.states_listing():
        order = simulate_review_listing(s, outcomes, rec,
                                        params["reviews.order-honest"]["protected_max"],
                                        streams.get("review-listing"))
        measures = dataclasses.replace(measures, review_order=order)
        kpis["reviews.protected"] = float(order.protected)
        kpis["reviews.protected_out_of_listing"] = float(order.hidden + order.buried)

    result = ReplicationResult(replication, kpis, measures)
    result.by_shift = after.by_shift
    result.intervals = after.intervals
    result.desks = after.desks or []
    result.sold_out_at = [o.sold_out_at for o in outcomes]
    if keep_series:
        result.series = _series(s, audience, orders_per_step, stock_series, after, step, stride,
                                [sh for d in desks for sh in d.agents])
        result.series["first_reply_chat_s"] = _sample(after.chat_first_reply, 5000)
    if progress is not None:
        progress(1.0)
    return result


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _backlog_at(after: AftersalesOutcome, t: float) -> float:
    """Tickets arrived by ``t`` still waiting for their first reply at ``t`` (the backlog
    series' definition): what the desk carries when the broadcast ends."""
    arrived = np.searchsorted(after.backlog_times, t, side="right")
    replied = np.searchsorted(after.reply_times, t, side="right")
    return float(arrived - replied)


def _measures(step: float, outcomes: list[SkuOutcome], after: AftersalesOutcome,
              rec: RecordsOutcome, paid: int) -> Measures:
    worst_display = max(outcomes, key=lambda o: o.display_mismatch_steps)
    oversold = [o for o in outcomes if o.oversold_units > 0]
    stock = StockMeasures(
        step=step,
        oversold_units=sum(o.oversold_units for o in outcomes),
        oversold_skus=tuple(o.sku for o in oversold[:5]),
        min_remaining=min(o.min_remaining for o in outcomes),
        display_mismatch_s=sum(o.display_mismatch_steps for o in outcomes) * step,
        display_phantom_s=sum(o.display_phantom_steps for o in outcomes) * step,
        display_worst_sku=worst_display.sku if worst_display.display_mismatch_steps else None,
        ledger_max_error=max(o.ledger_max_error for o in outcomes))
    desk = DeskMeasures(
        tickets=after.tickets, chats=after.by_kind["consultation"],
        chat_p95=after.chat_first_reply_p95, unanswered_overdue=after.unanswered_overdue,
        first_reply_late=after.first_reply_late, first_reply_max=after.first_reply_max,
        refunds_paid=after.refunds_paid, refunds_late=after.refunds_late,
        refund_delay_max=after.refund_delay_max, lost=after.lost, open=after.open,
        open_overdue=after.open_overdue, oldest_open_age=after.oldest_open_age,
        closed=after.closed, closed_without_feedback=after.closed_without_feedback,
        closed_too_early=after.closed_too_early, returns=after.by_kind["return"],
        returns_refused_in_window=after.returns_refused_in_window, engine=after.engine,
        returns_refused_unconfirmed=after.returns_refused_unconfirmed)
    replay = ReplayMeasures(rec.replay_published, rec.replay_published_after,
                            rec.replay_retention, rec.records_retention, rec.records_early)
    reviews = ReviewMeasures(rec.reviews, rec.bad_reviews, rec.reviews_deleted,
                             rec.reviews_hidden, rec.reviews_suppressed)
    desks = tuple(d.measures for d in after.desks or () if d.measures is not None)
    return Measures(stock, desk, replay, reviews, ReceiptMeasures(paid, rec.receipts_missing),
                    desks)  # the new duties' records: None until modelled (scenario.scope)


def _sample(values: np.ndarray, n: int) -> list[float]:
    finite = np.sort(values[np.isfinite(values)])
    if finite.size > n:
        finite = finite[np.linspace(0, finite.size - 1, n).astype(int)]
    return [round(float(v), 3) for v in finite]


def _series(s: Scenario, audience, placed: np.ndarray, stock: dict, after, step: float,
            stride: int, shifts: list) -> dict[str, Any]:
    n = audience.concurrent.size
    groups = np.arange(n) // stride
    counts = np.bincount(groups)
    t = np.arange(counts.size) * stride * step
    viewers = np.bincount(groups, audience.concurrent) / counts
    orders = np.bincount(groups, placed) / (counts * step)
    arrivals = np.bincount(groups, audience.arrivals) / (counts * step)
    horizon_end = s.duration + s.aftersales.horizon
    # finely while the broadcast runs (a 30-minute broadcast's chat queue lives in minutes),
    # coarsely over the after-sales days: 500 points each
    bt = np.round(np.concatenate([np.linspace(0.0, s.duration, 501),
                                  np.linspace(s.duration, horizon_end, 501)[1:]]), 3)
    arrived = np.searchsorted(after.backlog_times, bt, side="right")
    replied = np.searchsorted(after.reply_times, bt, side="right")
    edges = np.append(t, s.duration)
    tickets_per_s = np.histogram(after.backlog_times, bins=edges)[0] / np.diff(edges)
    agents = np.zeros(bt.size)
    for sh in shifts:  # every desk's
        agents += np.where((bt >= sh.start) & (bt < sh.end), sh.agents, 0)
    return {
        "time_s": t.tolist(),
        "viewers": np.round(viewers, 3).tolist(),
        "arrivals_per_s": np.round(arrivals, 4).tolist(),
        "orders_per_s": np.round(orders, 4).tolist(),
        "tickets_per_s": np.round(tickets_per_s, 4).tolist(),
        "stock": {k: {"real": v[0].tolist(), "displayed": v[1].tolist()}
                  for k, v in stock.items()},
        "broadcast_s": s.duration,
        "backlog_time_s": bt.tolist(),
        "backlog": (arrived - replied).tolist(),
        "agents": agents.tolist(),
    }
