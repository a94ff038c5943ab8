"""The per-step SKU model as it was before it skipped the steps where nothing happens.

Kept, unchanged but for names, as the reference ``test_orders_steps`` compares
``simlive.sim.orders`` with: every step of the broadcast in dense arrays, the ledger by
cumulative sums over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlive.scenario.schema import FlashSale, Orders, Restock, Segment, Sku


@dataclass
class PlainOutcome:
    """What happened to one SKU: totals, rule measurements and the paid-order timeline."""

    sku: str
    placed: int = 0
    accepted: int = 0
    rejected: int = 0
    paid_orders: int = 0
    paid_units: int = 0
    expired_orders: int = 0
    gmv: float = 0.0
    supply: int = 0
    oversold_units: int = 0
    min_remaining: int = 0
    ledger_max_error: int = 0
    display_mismatch_steps: int = 0
    display_phantom_steps: int = 0
    final_remaining: int = 0
    final_reserved: int = 0
    sold_out_at: float | None = None
    pay_bins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pay_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    orders_per_step: np.ndarray | None = None  # placed orders per step, broadcast only
    remaining: np.ndarray | None = None  # real sellable stock per step
    displayed: np.ndarray | None = None  # stock shown to viewers per step


def _sliding(values: np.ndarray, window: int, fn: np.ufunc,
             before: float | None = None) -> np.ndarray:
    """fn over values[t-window .. t] for every t, in O(n) (van Herk / Gil-Werman).

    ``before`` is the value ahead of the series (the stock before the broadcast began);
    without it the first value is repeated.
    """
    n = values.size
    if window <= 0 or n == 0:
        return values.copy()
    w = window + 1
    pad = (-n) % w
    fill = values[0] if before is None else before
    v = np.concatenate([np.full(w - 1, fill), values, np.full(pad, values[-1])])
    m = v.size
    pad2 = (-m) % w
    v = np.concatenate([v, np.full(pad2, values[-1])])
    blocks = v.reshape(-1, w)
    prefix = fn.accumulate(blocks, axis=1).ravel()
    suffix = fn.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    idx = np.arange(n) + (w - 1)  # window end in padded coordinates
    start = idx - (w - 1)
    return fn(suffix[start], prefix[idx])


class PlainSkuModel:
    """Runs one SKU's stock through the broadcast; one instance per SKU and replication."""

    def __init__(self, sku: Sku, segments: list[Segment], flash: list[FlashSale],
                 restocks: list[Restock], orders: Orders, duration: float, step: float,
                 max_lag: float) -> None:
        self.sku = sku
        self.orders = orders
        self.step = step
        self.bins = int(np.ceil(duration / step))
        self.timeout_bins = max(1, int(np.ceil(orders.payment_timeout / step)))
        self.total_bins = self.bins + self.timeout_bins + 2
        self.max_lag_bins = int(np.floor(max_lag / step))
        prop = np.zeros(self.bins)
        price = np.full(self.bins, sku.price)
        restock = np.zeros(self.total_bins, dtype=np.int64)
        for seg in segments:
            prop[self._bin(seg.start):self._bin_end(seg.end)] += seg.propensity
        for fs in flash:
            lo, hi = self._bin(fs.at), self._bin_end(fs.at + fs.duration)
            prop[lo:hi] *= fs.boost
            price[lo:hi] = fs.price
            if fs.quantity:
                restock[lo] += fs.quantity
        for r in restocks:
            restock[self._bin(r.at)] += r.quantity
        self.propensity = prop
        self.price = price
        self.restock = restock
        values = np.asarray(sorted(orders.units), dtype=np.int64)
        probs = np.asarray([orders.units[int(v)] for v in values], dtype=float)
        self.unit_values = np.minimum(values, sku.limit)
        self.unit_cdf = np.cumsum(probs / probs.sum())

    def _bin(self, t: float) -> int:
        return min(int(t // self.step), self.bins)

    def _bin_end(self, t: float) -> int:
        return min(int(np.ceil(t / self.step)), self.bins)

    def run(self, concurrent: np.ndarray, rng: np.random.Generator,
            keep_series: bool) -> PlainOutcome:
        o, sku, step = self.orders, self.sku, self.step
        lam = concurrent[: self.bins] * self.propensity * step
        active = np.flatnonzero(lam > 0)
        counts = rng.poisson(lam[active]) if active.size else np.zeros(0, dtype=np.int64)
        nb = self.total_bins
        accepted_units = np.zeros(nb, dtype=np.int64)
        pay_units = np.zeros(nb, dtype=np.int64)
        pay_orders = np.zeros(nb, dtype=np.int64)
        release_once = np.zeros(nb, dtype=np.int64)
        placed = np.zeros(self.bins, dtype=np.int64)
        by_order = o.reserve_on == "order"
        mult = 2 if o.release == "twice" else 1
        out = PlainOutcome(sku.sku)
        rem = sku.stock
        cursor = -1
        for b, k in zip(active.tolist(), counts.tolist(), strict=True):
            if k == 0:
                continue
            if b > cursor:
                lo = cursor + 1
                if by_order:
                    rem += int(self.restock[lo:b + 1].sum()) + mult * int(
                        release_once[lo:b + 1].sum())
                else:
                    rem += int(self.restock[lo:b + 1].sum()) - int(pay_units[lo:b + 1].sum())
                cursor = b
            placed[b] = k
            units = self.unit_values[np.searchsorted(self.unit_cdf, rng.random(k), "right")]
            if by_order:
                total = int(units.sum())
                if total <= rem:
                    ok = np.ones(k, dtype=bool)
                else:
                    ok = self._greedy(units, rem)
                    if out.sold_out_at is None:
                        out.sold_out_at = b * step
                taken = int(units[ok].sum())
                rem -= taken
            else:
                ok = units <= rem
                taken = int(units[ok].sum())
            m = int(ok.sum())
            out.placed += k
            out.accepted += m
            out.rejected += k - m
            if m == 0:
                continue
            u = units[ok]
            accepted_units[b] += taken
            delay = o.pay_delay.sample(rng, m)
            pays = (rng.random(m) < o.pay_probability) & (delay < o.payment_timeout)
            pay_bin = b + 1 + (delay[pays] // step).astype(np.int64)
            np.add.at(pay_units, pay_bin, u[pays])
            np.add.at(pay_orders, pay_bin, 1)
            paid_units = int(u[pays].sum())
            out.gmv += paid_units * float(self.price[b])
            out.paid_orders += int(pays.sum())
            out.paid_units += paid_units
            out.expired_orders += m - int(pays.sum())
            if by_order:
                release_once[b + self.timeout_bins] += int(u[~pays].sum())
        self._ledger(out, accepted_units, pay_units, release_once, mult, by_order)
        nz = np.flatnonzero(pay_orders)
        out.pay_bins, out.pay_counts = nz, pay_orders[nz]
        if keep_series:
            out.orders_per_step = placed
        return out

    @staticmethod
    def _greedy(units: np.ndarray, rem: int) -> np.ndarray:
        """First come, first served: each order takes its units if they are still there."""
        ok = np.zeros(units.size, dtype=bool)
        cs = np.cumsum(units)
        prefix = int(np.searchsorted(cs, rem, side="right"))
        ok[:prefix] = True
        left = rem - (int(cs[prefix - 1]) if prefix else 0)
        if left > 0:
            for i in range(prefix, units.size):
                if units[i] <= left:
                    ok[i] = True
                    left -= int(units[i])
                    if left == 0:
                        break
        return ok

    def _ledger(self, out: PlainOutcome, accepted: np.ndarray, paid: np.ndarray,
                released: np.ndarray, mult: int, by_order: bool) -> None:
        supply = self.sku.stock + np.cumsum(self.restock)
        sold = np.cumsum(paid)
        if by_order:
            remaining = supply - np.cumsum(accepted) + mult * np.cumsum(released)
            reserved = np.cumsum(accepted) - sold - np.cumsum(released)
        else:
            remaining = supply - sold
            reserved = np.zeros_like(sold)
        error = remaining + reserved + sold - supply
        out.supply = int(supply[-1])
        out.min_remaining = int(remaining.min())
        out.oversold_units = max(0, -out.min_remaining, int(sold[-1] - supply[-1]))
        out.ledger_max_error = int(np.abs(error).max())
        out.final_remaining = int(remaining[-1])
        out.final_reserved = int(reserved[-1])
        shown = self._displayed(remaining[: self.bins])
        real = np.maximum(remaining[: self.bins], 0)
        initial = max(self.sku.stock, 0)
        lo = _sliding(real, self.max_lag_bins, np.minimum, initial)
        hi = _sliding(real, self.max_lag_bins, np.maximum, initial)
        wrong = (shown < lo) | (shown > hi)
        out.display_mismatch_steps = int(wrong.sum())
        out.display_phantom_steps = int(((shown > 0) & (real == 0) & wrong).sum())
        out.remaining = remaining[: self.bins]
        out.displayed = shown

    def _displayed(self, remaining: np.ndarray) -> np.ndarray:
        """What viewers see: the real stock as of the last refresh, plus any linked excess."""
        refresh = self.orders.display_refresh
        n = remaining.size
        if refresh <= self.step:
            idx = np.arange(n)
        else:
            t = np.arange(n) * self.step
            idx = ((t // refresh) * refresh / self.step).astype(np.int64) - 1
        before = np.where(idx >= 0, remaining[np.maximum(idx, 0)], self.sku.stock)
        shown = np.maximum(before, 0)
        if self.sku.displayed_stock is not None:
            shown = np.maximum(shown + (self.sku.displayed_stock - self.sku.stock), 0)
        return shown
