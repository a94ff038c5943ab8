"""The host's price claims against the prices around the broadcast (``pricing.claims-hold``).

Each SKU of the scenario's ``pricing`` block has price segments: the timeline's channels
(a channel's price holds until its ``until``, its next entry, or for good) and the
broadcast's own, the live price (the SKU's ``price``, a flash sale's price while it runs).
A discount claim is broken when its stated reference is above the lowest price of the
``window`` before it (with no price in the window, the last price before it, as the
regulation says; with none at all the reference has nothing behind it). A 'lowest price'
claim is broken when any channel sells lower within ``protection`` after it; each paid
order of the SKU from the claim on is undercut when any channel sells below what it paid
within ``protection`` after its payment, and its buyer is owed the difference. Buyers ask
for it with the scenario's chance (``protection_requests``, drawn per undercut order from
a stream of its own): each request is a ``price-protection`` ticket the after-sales desk
answers, made when the lower price appears (at the payment if it was already there) after
the scenario's delay, and only within the protection period; the desk refuses the
scenario's share of them when it resolves them (``simlive.sim.aftersales``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simlive.judge.measures import PricingMeasures
from simlive.rules import format_duration
from simlive.scenario.catalogue import build_catalogue
from simlive.scenario.pricing import PricedSku, Pricing
from simlive.scenario.schema import FlashSale, Scenario, Sku
from simlive.sim.contacts import contact_times
from simlive.sim.orders import SkuOutcome
from simlive.text import money

CENT = 0.005
"""Prices closer than half a cent are the same price."""


@dataclass(frozen=True)
class Segments:
    """One SKU's prices over time: the goods sold at ``price[i]`` over [start[i], end[i])."""

    start: np.ndarray
    end: np.ndarray
    price: np.ndarray

    def lowest(self, a: np.ndarray, b: np.ndarray, closed: bool = False) -> np.ndarray:
        """Per interval [a, b) (``closed``: (a, b]), the lowest price in force in it (inf:
        none)."""
        a, b = np.atleast_1d(a)[None, :], np.atleast_1d(b)[None, :]
        s, e, p = self.start[:, None], self.end[:, None], self.price[:, None]
        overlap = ((s <= b) if closed else (s < b)) & (e > a)
        return np.where(overlap, p, np.inf).min(axis=0) if self.price.size else \
            np.full(a.shape[1], np.inf)

    def last_before(self, t: float) -> float:
        """The price in force latest before ``t`` (inf: none began before it)."""
        began = self.start < t
        if not began.any():
            return float("inf")
        ends = np.minimum(self.end[began], t)
        return float(self.price[began][np.argmax(ends)])


def live_price(base: float, flash: list[FlashSale], t: np.ndarray) -> np.ndarray:
    """The broadcast's price at times ``t``: a flash sale's while it runs, else ``base``."""
    out = np.full(np.shape(t), base, dtype=float)
    for f in flash:
        out = np.where((t >= f.at) & (t < f.at + f.duration), f.price, out)
    return out


def segments(item: PricedSku, base: float, flash: list[FlashSale],
             duration: float) -> Segments:
    """The SKU's timeline and its live prices, as segments."""
    starts, ends, prices = [], [], []
    by_channel: dict[str, list] = {}
    for e in item.timeline:
        by_channel.setdefault(e.channel, []).append(e)
    for entries in by_channel.values():
        entries.sort(key=lambda e: e.at)
        for k, e in enumerate(entries):
            nxt = entries[k + 1].at if k + 1 < len(entries) else np.inf
            starts.append(e.at)
            ends.append(min(nxt, e.until) if e.until is not None else nxt)
            prices.append(float(e.price))
    cuts = sorted({0.0, duration, *(f.at for f in flash),
                   *(min(duration, f.at + f.duration) for f in flash)})
    cuts = [c for c in cuts if 0.0 <= c <= duration]
    for a, b in zip(cuts, cuts[1:], strict=False):
        if b > a:
            starts.append(a)
            ends.append(b)
            prices.append(float(live_price(base, flash, np.array([a]))[0]))
    return Segments(np.array(starts, dtype=float), np.array(ends, dtype=float),
                    np.array(prices, dtype=float))


@dataclass(frozen=True)
class Undercut:
    """One SKU's paid orders undercut within the protection period, per payment bin."""

    paid_at: np.ndarray  # when the bin's orders were paid (its start)
    orders: np.ndarray  # how many
    price: np.ndarray  # what they paid a unit
    lowest: np.ndarray  # the lowest price in force within protection after the payment
    appears: np.ndarray  # when a price below what they paid is first in force, from then


def undercut(seg: Segments, base: float, flash: list[FlashSale], o: SkuOutcome,
             first_lowest: float | None, step: float, protection: float) -> Undercut | None:
    """The SKU's paid orders from its first 'lowest price' claim on that a lower price
    undercut within ``protection`` of their payment (None: none)."""
    if first_lowest is None or o.pay_counts.size == 0:
        return None
    t = o.pay_bins * step  # when each bin's orders were paid (its start)
    keep = t >= first_lowest
    t, n = t[keep], o.pay_counts[keep]
    paid = live_price(base, flash, t)
    lows = seg.lowest(t, t + protection, closed=True)
    hit = lows < paid - CENT
    if not hit.any():
        return None
    t, n, paid, lows = t[hit], n[hit], paid[hit], lows[hit]
    s, e, p = seg.start[:, None], seg.end[:, None], seg.price[:, None]
    below = (p < paid[None, :] - CENT) & (s <= (t + protection)[None, :]) & (e > t[None, :])
    appears = np.where(below, np.maximum(s, t[None, :]), np.inf).min(axis=0)
    return Undercut(t, n, paid, lows, appears)


def _indexed(s: Scenario, skus: Sequence[Sku] | None) -> dict[str, tuple[int, Sku]]:
    """SKU -> (catalogue index, SKU), from the engine's catalogue when it passes one (a
    generated catalogue is not built again every replication)."""
    return {k.sku: (j, k) for j, k in enumerate(build_catalogue(s).skus if skus is None
                                                 else skus)}


def _undercuts(s: Scenario, step: float, protection: float, outcomes: list[SkuOutcome],
               skus: Sequence[Sku] | None = None) -> list[tuple[int, Undercut]]:
    """Each priced SKU's undercut orders (catalogue index, orders), in the block's order."""
    pricing = s.pricing
    assert pricing is not None
    cat = _indexed(s, skus)
    out = []
    for item in pricing.skus:
        j, sku = cat[item.sku]
        flash = [f for f in s.products.flash_sales if f.sku == item.sku]
        lowest = [c.at for c in item.claims if c.kind == "lowest-price"]
        if not lowest:
            continue
        seg = segments(item, float(sku.price), flash, s.duration)
        u = undercut(seg, float(sku.price), flash, outcomes[j], min(lowest), step,
                     protection)
        if u is not None:
            out.append((j, u))
    return out


def protection_requests(s: Scenario, outcomes: list[SkuOutcome], step: float,
                        protection: float, rng: np.random.Generator,
                        skus: Sequence[Sku] | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The buyers' price-protection requests, as tickets: (when each is asked, its SKU's
    catalogue index, whether the store refuses it). Each undercut order's buyer asks with
    ``pricing.protection.ask``, ``delay`` after the lower price appears (timed by the day's
    rhythm when the scenario has one), and only within the protection period after the
    payment; ``1 - honoured`` of them are refused. Every draw is from ``rng``, a stream of
    its own, so the other tickets are drawn as they were without a ``pricing`` block."""
    pricing = s.pricing
    assert pricing is not None
    p = pricing.protection
    at_parts, sku_parts, deadline_parts = [], [], []
    for j, u in _undercuts(s, step, protection, outcomes, skus):
        asked = rng.binomial(u.orders, p.ask)
        appears = np.repeat(u.appears, asked)
        at_parts.append(appears + p.delay.sample(rng, appears.size))
        sku_parts.append(np.full(appears.size, j, dtype=np.int32))
        deadline_parts.append(np.repeat(u.paid_at + protection, asked))
    if not at_parts:
        return np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=bool)
    at, sku = np.concatenate(at_parts), np.concatenate(sku_parts)
    deadline = np.concatenate(deadline_parts)
    refused = rng.random(at.size) >= p.honoured
    profile = s.aftersales.daily_profile
    if profile is not None:
        at = contact_times(at, profile, s.start_clock, rng)
    keep = at <= deadline
    return at[keep], sku[keep], refused[keep]


def price_claims(s: Scenario, outcomes: list[SkuOutcome], step: float, window: float,
                 protection: float, skus: Sequence[Sku] | None = None) -> PricingMeasures:
    """One replication's claims judged and orders undercut. The price-protection requests
    are the desk's tickets: the caller fills in how many were asked and refused."""
    pricing: Pricing | None = s.pricing
    assert pricing is not None
    cat = _indexed(s, skus)
    claims = broken = undercut_orders = 0
    owed = 0.0
    examples: list[str] = []
    for item in pricing.skus:
        j, sku = cat[item.sku]
        flash = [f for f in s.products.flash_sales if f.sku == item.sku]
        seg = segments(item, float(sku.price), flash, s.duration)
        first_lowest: float | None = None
        for c in item.claims:
            claims += 1
            if c.kind == "discount":
                ref = float(c.reference_price or item.list_price or 0.0)
                low = float(seg.lowest(np.array([c.at - window]), np.array([c.at]))[0])
                basis = f"the lowest price of the {format_duration(window)} before"
                if not np.isfinite(low):
                    low = seg.last_before(c.at)
                    basis = "the last price before (none in the window)"
                if not np.isfinite(low):
                    broken += 1
                    examples.append(f"{item.sku}: discount from {money(ref)} with no earlier "
                                    "sale behind it")
                elif ref > low + CENT:
                    broken += 1
                    examples.append(f"{item.sku}: discount from {money(ref)}, "
                                    f"{money(ref - low)} above {basis} ({money(low)})")
                continue
            first_lowest = c.at if first_lowest is None else min(first_lowest, c.at)
            claimed = float(c.price if c.price is not None else
                            live_price(float(sku.price), flash, np.array([c.at]))[0])
            low = float(seg.lowest(np.array([c.at]), np.array([c.at + protection]),
                                   closed=True)[0])
            if low < claimed - CENT:
                broken += 1
                examples.append(f"{item.sku}: 'lowest price' {money(claimed)} undercut by "
                                f"{money(claimed - low)} (sold at {money(low)}) within "
                                f"{format_duration(protection)}")
        u = undercut(seg, float(sku.price), flash, outcomes[j], first_lowest, step,
                     protection)
        if u is None:
            continue
        o = outcomes[j]
        per_order = o.paid_units / o.paid_orders if o.paid_orders else 1.0
        undercut_orders += int(u.orders.sum())
        owed += float(np.sum(u.orders * (u.price - u.lowest))) * per_order
    return PricingMeasures(claims, broken, tuple(examples[:5]), undercut_orders,
                           round(owed, 2))
