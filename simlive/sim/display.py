"""The stock viewers are shown against the real stock, for ``stock.display-matches``.

``orders.SkuModel`` keeps a SKU's real stock as values at the steps where something happens
(``at``; constant in between). The display is compared with it step by step only where it
can differ from one step to the next (after an event, for as long as the display may lag);
before the first event and once the last one has had time to show, every step is the same,
so those steps are counted, not compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


@dataclass(frozen=True)
class Display:
    """What one SKU's display depends on, taken from its model once: the comparison needs
    nothing else of the model, and the model nothing of how it is done."""

    stock: int  # the SKU's stock before the broadcast
    displayed_stock: int | None  # linked stock: shown as this much more (or less)
    refresh: float  # orders.display_refresh, seconds
    step: float
    bins: int  # steps of the broadcast
    max_lag_bins: int  # stock.display-matches' max_lag, in steps

    def remaining_at(self, at: np.ndarray, remaining: np.ndarray,
                     bins: np.ndarray) -> np.ndarray:
        """The real stock at ``bins`` (the stock before the first event before it)."""
        if at.size == 0:
            return np.full(bins.shape, self.stock, dtype=np.int64)
        i = np.searchsorted(at, bins, "right") - 1
        return np.where(i >= 0, remaining[np.maximum(i, 0)], self.stock)

    def shown(self, at: np.ndarray, remaining: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """What viewers see at ``bins``: the real stock as of the last refresh, plus any
        linked excess."""
        refresh = self.refresh
        if refresh <= self.step:
            idx = bins
        else:
            t = bins * self.step
            idx = ((t // refresh) * refresh / self.step).astype(np.int64) - 1
        before = np.where(idx >= 0, self.remaining_at(at, remaining, idx), self.stock)
        shown = np.maximum(before, 0)
        if self.displayed_stock is not None:
            shown = np.maximum(shown + (self.displayed_stock - self.stock), 0)
        return shown

    def mismatches(self, at: np.ndarray, remaining: np.ndarray) -> tuple[int, int]:
        """Steps where the display is wrong: shown outside the real stock's range over the
        last ``max_lag``; and of those, the steps it showed stock that was gone."""
        lag = self.max_lag_bins
        show_lag = 0 if self.refresh <= self.step else \
            int(np.ceil(self.refresh / self.step)) + 2
        initial = max(self.stock, 0)
        changes = at[at < self.bins]
        first = int(changes[0]) if changes.size else self.bins
        last = int(changes[-1]) if changes.size else 0
        end = min(self.bins, last + lag + show_lag + 2) if changes.size else self.bins
        mismatch = phantom = 0
        for lo, hi in ((0, first), (end, self.bins)):  # stretches where nothing changes
            if hi > lo:
                point = np.asarray([lo])
                real_at = max(int(self.remaining_at(at, remaining, point)[0]), 0)
                shown_at = int(self.shown(at, remaining, point)[0])
                if shown_at != real_at:
                    mismatch += hi - lo
                    phantom += (hi - lo) if shown_at > 0 and real_at == 0 else 0
        if end > first:
            start = max(0, first - lag - 1)
            real = np.maximum(self.remaining_at(at, remaining, np.arange(start, end)), 0)
            low = _sliding(real, lag, np.minimum, initial)[first - start:]
            high = _sliding(real, lag, np.maximum, initial)[first - start:]
            real = real[first - start:]
            shown = self.shown(at, remaining, np.arange(first, end))
            wrong = (shown < low) | (shown > high)
            mismatch += int(wrong.sum())
            phantom += int(((shown > 0) & (real == 0) & wrong).sum())
        return mismatch, phantom
