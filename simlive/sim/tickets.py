"""Where after-sales tickets come from: live chats during the broadcast, the requests that
follow paid orders (after delivery, or after the warehouse's backlog and transit), where-is-
my-order chats of late orders, each timed by the day's rhythm when there is one.

Consultations are live chats during the broadcast (a constant rate, plus a rate per viewer
present). Returns, replacements, refunds and complaints follow paid orders: a fraction of
each SKU's paid orders, after delivery plus a request delay. Price-protection requests
(``pricing.protection``) are drawn apart, from a stream of their own
(``simlive.sim.price_claims.protection_requests``), and join the others here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Scenario, Sku
from simlive.sim.contacts import DAY, contact_times
from simlive.sim.fulfilment import Shipping, beyond_ready, plan_shipping, ready_units
from simlive.sim.orders import SkuOutcome

CONSULTATION, RETURN, REPLACEMENT, REFUND, COMPLAINT, PRICE_PROTECTION = range(6)
"""Ticket kind codes, in the order of ``TICKET_KINDS``."""


@dataclass
class Tickets:
    """Every ticket of a replication, in order of arrival."""

    arrival: np.ndarray
    kind: np.ndarray
    sku: np.ndarray  # SKU index, -1 for consultations
    after_delivery: np.ndarray  # request delay after the goods arrived (returns), else 0
    exempt: np.ndarray  # per SKU index (and -1): exempt from no-reason returns by law
    desk: np.ndarray | None = None  # the desk each ticket goes to (aftersales.desks)
    excluded: np.ndarray | None = None  # per SKU index (and -1): the seller excludes it
    confirmed: np.ndarray | None = None  # per ticket: the buyer confirmed the exclusion
    intact: np.ndarray | None = None  # per ticket: the goods would come back intact
    declined: np.ndarray | None = None  # per ticket: a price-protection request the store
    # refuses when the desk resolves it (None: the scenario has none)

    @property
    def delivered(self) -> np.ndarray:
        """When each ticket's goods were signed for: its arrival less the time since
        delivery it was asked at (meaningful for returns, replacements and complaints)."""
        return self.arrival - self.after_delivery

    def refusable(self) -> tuple[np.ndarray, np.ndarray]:
        """Per ticket, as a return: (the seller refuses it whatever its age: the law's
        exempt goods, goods it excludes, goods not intact; such a refusal is lawful:
        exempt, excluded with the buyer's confirmation, or not intact)."""
        exempt = self.exempt[self.sku]
        if self.excluded is None and self.intact is None:
            return exempt, exempt
        excluded = exempt if self.excluded is None else self.excluded[self.sku]
        confirmed = excluded if self.confirmed is None else excluded & self.confirmed
        lawful = exempt | confirmed
        refuse = exempt | excluded
        if self.intact is not None:
            lawful = lawful | ~self.intact
            refuse = refuse | ~self.intact
        return refuse, lawful

    def unconfirmed(self) -> np.ndarray:
        """Per ticket: goods the seller excludes whose buyer did not confirm it."""
        if self.excluded is None or self.confirmed is None:
            return np.zeros(len(self), dtype=bool)
        return self.excluded[self.sku] & ~self.confirmed

    def __len__(self) -> int:
        return int(self.arrival.size)


def _paid_times(o: SkuOutcome, fraction: float, step: float,
                rng: np.random.Generator) -> np.ndarray:
    if fraction <= 0 or o.pay_counts.size == 0:
        return np.zeros(0)
    k = o.pay_counts if fraction >= 1 else rng.binomial(o.pay_counts, fraction)
    bins = np.repeat(o.pay_bins, k)
    if o.pay_width == 1:
        return (bins + rng.random(bins.size)) * step
    return (bins + rng.random(bins.size) * o.pay_width) * step


def make_tickets(s: Scenario, concurrent: np.ndarray, outcomes: list[SkuOutcome],
                 step: float, rng: np.random.Generator,
                 skus: tuple[Sku, ...] | None = None,
                 contacts: np.random.Generator | None = None,
                 protection: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                 ) -> Tickets:
    """The tickets of a replication; ``skus``: the scenario's catalogue, if already built;
    ``contacts``: the stream that times requests by ``aftersales.daily_profile`` (its own,
    so a scenario without a profile draws exactly what it always did). The returns'
    confirmations and intact goods are drawn last, and only when a scenario has them, so
    a scenario without draws what it always did. ``protection``: the price-protection
    requests (when, SKU index, refused), already timed: they join the tickets without a
    draw here, so the other tickets are the same with them or without."""
    a = s.aftersales
    parts: list[tuple[np.ndarray, int, int, np.ndarray]] = []
    rate = a.consultations.rate + a.consultations.per_viewer * concurrent
    width = np.minimum(step, s.duration - np.arange(concurrent.size) * step)
    n = rng.poisson(rate * width)
    bins = np.repeat(np.arange(concurrent.size), n)
    times = bins * step + rng.random(bins.size) * width[bins]  # the last step may be partial
    parts.append((times, CONSULTATION, -1, np.zeros(times.size)))
    if skus is None:
        from simlive.scenario.catalogue import build_catalogue

        skus = build_catalogue(s).skus
    f = s.fulfilment
    shipping = None if f is None else shipping_of(s, outcomes, step)
    for j, o in enumerate(outcomes):
        item = skus[j]
        fractions = {
            RETURN: a.returns.fraction if item.return_rate is None else item.return_rate,
            REPLACEMENT: a.replacements.fraction,
            REFUND: a.refunds.fraction,
            COMPLAINT: a.complaints.fraction,
        }
        for code, frac in fractions.items():
            paid = _paid_times(o, frac, step, rng)
            if paid.size == 0:
                continue
            req = {RETURN: a.returns, REPLACEMENT: a.replacements, REFUND: a.refunds,
                   COMPLAINT: a.complaints}[code]
            delay = req.delay.sample(rng, paid.size)
            if code == REFUND:  # refund only: asked after paying, before delivery
                at, after = paid + delay, np.zeros(paid.size)
            elif shipping is None:
                at, after = paid + s.orders.delivery.sample(rng, paid.size) + delay, delay
            else:  # delivered after the warehouse's backlog, then transit
                assert f is not None  # shipping is planned from the fulfilment
                delivered = _held(shipping, shipping.ship_times(shipping.positions(
                    paid, rng)), paid, o, item, f.replenish)
                at, after = delivered + f.transit.sample(rng, paid.size) + delay, delay
            parts.append((at, code, j, after))
        if f is not None and shipping is not None and f.wismo > 0:
            parts.append(_wismo(s, o, j, shipping, step, rng, item))
    refused = None
    if protection is not None:
        asks, refused = protection[0], protection[2]
        parts.append((asks, PRICE_PROTECTION, 0, np.zeros(asks.size)))
    arrival = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    sku = np.concatenate([np.full(p[0].size, p[2], dtype=np.int32) for p in parts])
    if protection is not None:  # the last part: each request's own SKU
        sku[sku.size - protection[1].size:] = protection[1]
    after = np.concatenate([p[3] for p in parts])
    if a.daily_profile is not None and contacts is not None:
        # every request after the broadcast (price protection's are timed already)
        asked = ((kind != CONSULTATION) | (sku >= 0)) & (kind != PRICE_PROTECTION)
        contact = contact_times(arrival[asked], a.daily_profile, s.start_clock, contacts)
        waited = contact - arrival[asked]
        # the time since delivery a return is asked at (the seven-day window) grows too
        after[asked] += np.where(kind[asked] == REFUND, 0.0, waited)
        arrival[asked] = contact
    keep = arrival < s.duration + a.horizon
    order = _time_order(arrival) if keep.all() else np.flatnonzero(keep)[
        _time_order(arrival[keep])]
    exempt = np.asarray([k.return_exempt is not None for k in skus] + [False])
    t = Tickets(arrival[order], kind[order], sku[order], after[order], exempt)
    if refused is not None:
        declined = np.zeros(arrival.size, dtype=bool)
        declined[declined.size - refused.size:] = refused
        t.declined = declined[order]
    _return_conditions(t, skus, a.returns_not_intact, rng)
    return t


def _return_conditions(t: Tickets, skus: tuple[Sku, ...], not_intact: float,
                       rng: np.random.Generator) -> None:
    """Fill in what a return's refusal turns on beyond its age: each excluded SKU's returns
    confirmed at purchase (a draw only where some are and some are not), then the goods of
    each return intact or not. Nothing is drawn, and nothing set, for a scenario without
    excluded SKUs or goods coming back not intact."""
    shares = [None if k.return_excluded is None else k.return_excluded.confirmed_at_purchase
              for k in skus]
    is_return = t.kind == RETURN
    if any(v is not None for v in shares):
        t.excluded = np.asarray([v is not None for v in shares] + [False])
        share = np.asarray([1.0 if v is None else v for v in shares] + [1.0])[t.sku]
        t.confirmed = share >= 1.0
        draw = np.flatnonzero(is_return & t.excluded[t.sku] & (share > 0) & (share < 1))
        t.confirmed[draw] = rng.random(draw.size) < share[draw]
    if not_intact > 0:
        t.intact = np.ones(len(t), dtype=bool)
        at = np.flatnonzero(is_return)
        t.intact[at] = rng.random(at.size) >= not_intact


def shipping_of(s: Scenario, outcomes: list[SkuOutcome], step: float) -> Shipping:
    """The warehouse's days, from every SKU's paid orders per step."""
    assert s.fulfilment is not None
    last = max((int(o.pay_bins.max()) + 1 for o in outcomes if o.pay_bins.size), default=0)
    per_step = np.zeros(last, dtype=np.int64)
    for o in outcomes:
        np.add.at(per_step, o.pay_bins, o.pay_counts)
    return plan_shipping(per_step, step, s.fulfilment, s.start_clock,
                         s.duration + s.aftersales.horizon,
                         max((o.pay_width for o in outcomes), default=1))


def _held(shipping: Shipping, shipped: np.ndarray, paid: np.ndarray, o: SkuOutcome,
          item: Sku, replenish: float) -> np.ndarray:
    """``shipped`` with the orders beyond the SKU's ready units (its ``warehouse``
    figure) shipping no earlier than the replenishment; no draws."""
    if item.warehouse is None:
        return shipped
    # of a sample of the paid orders (returns), the same share in payment order waits
    return shipping.hold(shipped, beyond_ready(paid, o.paid_units,
                                               ready_units(item, o.supply)), replenish)


def _wismo(s: Scenario, o: SkuOutcome, j: int, shipping: Shipping, step: float,
           rng: np.random.Generator, item: Sku | None = None
           ) -> tuple[np.ndarray, int, int, np.ndarray]:
    """"Where is my order": each day an order is late (past its promise, not delivered),
    its buyer asks with chance ``wismo``, once: a buyer whose order is d days late has
    asked with chance 1 - (1 - wismo)^d, so the chats grow with the backlog. The ask comes
    on the day it is made, at a uniform time in it; none after the delivery or the
    horizon's end. Live consultations of the SKU."""
    f = s.fulfilment
    assert f is not None
    paid = _paid_times(o, 1.0, step, rng)
    shipped = shipping.ship_times(shipping.positions(paid, rng))
    if item is not None:
        shipped = _held(shipping, shipped, paid, o, item, f.replenish)
    delivered = shipped + f.transit.sample(rng, paid.size)
    promised = paid + f.promise
    late = np.flatnonzero(delivered > promised)
    day = rng.geometric(f.wismo, late.size) - 1  # the days late before the buyer asks
    at = promised[late] + (day + rng.random(late.size)) * DAY
    asked = at < np.minimum(delivered[late], s.duration + s.aftersales.horizon)
    at = at[asked]
    return at, CONSULTATION, j, np.zeros(at.size)


def _time_order(t: np.ndarray) -> np.ndarray:
    """``np.argsort(t, kind="stable")`` in a third of the time: a radix sort on 65,536
    buckets of time (numpy sorts 16-bit keys by radix), then a merge sort that finds the
    times nearly in order. Both are stable, so equal times keep their order."""
    n = t.size
    lo, hi = (float(t.min()), float(t.max())) if n else (0.0, 0.0)
    if n < 1 << 16 or not np.isfinite(hi - lo) or hi == lo:
        return np.argsort(t, kind="stable")
    bucket = ((t - lo) * (65535 / (hi - lo))).astype(np.uint16)  # in order as t is
    order = np.argsort(bucket, kind="stable")
    return order[np.argsort(t[order], kind="stable")]
