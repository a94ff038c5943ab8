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
for it with the scenario's chance, drawn per undercut order from the ``pricing`` stream;
the store refuses a share. The requests are counted in the record only: the after-sales
desk does not see them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.judge.measures import PricingMeasures
from simlive.rules import format_duration
from simlive.scenario.catalogue import build_catalogue
from simlive.scenario.pricing import PricedSku, Pricing
from simlive.scenario.schema import FlashSale, Scenario
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


def price_claims(s: Scenario, outcomes: list[SkuOutcome], step: float,
                 rng: np.random.Generator, window: float, protection: float
                 ) -> PricingMeasures:
    """One replication's claims judged, orders undercut and requests drawn."""
    pricing: Pricing | None = s.pricing
    assert pricing is not None
    cat = {k.sku: (j, k) for j, k in enumerate(build_catalogue(s).skus)}
    claims = broken = undercut = requests = refused = 0
    owed = 0.0
    examples: list[str] = []
    ask, honoured = pricing.protection.ask, pricing.protection.honoured
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
        o = outcomes[j]
        if first_lowest is None or o.pay_counts.size == 0:
            continue
        t = o.pay_bins * step  # when each bin's orders were paid (its start)
        keep = t >= first_lowest
        t, n = t[keep], o.pay_counts[keep]
        paid = live_price(float(sku.price), flash, t)
        lows = seg.lowest(t, t + protection, closed=True)
        hit = lows < paid - CENT
        if not hit.any():
            continue
        per_order = o.paid_units / o.paid_orders if o.paid_orders else 1.0
        k = int(n[hit].sum())
        undercut += k
        owed += float(np.sum(n[hit] * (paid[hit] - lows[hit]))) * per_order
        asked = int(rng.binomial(k, ask))
        requests += asked
        refused += int(rng.binomial(asked, 1.0 - honoured))
    return PricingMeasures(claims, broken, tuple(examples[:5]), undercut, round(owed, 2),
                           requests, refused)
