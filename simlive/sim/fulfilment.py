"""Shipping from one warehouse with a daily capacity (``fulfilment``): the backlog sets when
each order ships, so a night that sells 13.8M orders does not deliver them as fast as 100.

Orders queue in the order they were paid. Day D's cut-off is at ``c_D`` (the first cut-off
at or after the broadcast's start is day 0); an order paid by ``c_D`` may ship on day D. By
the end of day D the warehouse has shipped ``S_D = min(S_{D-1} + capacity, A_D)`` orders,
``A_D`` being those paid by ``c_D`` (first in, first out, never more than a day's
capacity). The n-th order paid ships on the first day with ``S_D >= n``, at that day's
cut-off, and arrives ``transit`` later. Positions come from the paid orders per step, so an
order's ship day needs no per-order state.

Stock readiness: a SKU's ``warehouse`` figure is the units ready before going live (its
restocks and flash-sale quantities count as ready when they come). Its paid orders are taken
in payment order, each carrying the SKU's mean units per paid order (the units of single
orders are not kept); those whose units go beyond the ready units cannot ship before the
goods arrive, ``fulfilment.replenish`` after the start: at the first cut-off from then on,
if their place in the queue has not come later still. No draws: a scenario without
``warehouse`` figures ships exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Fulfilment, Sku
from simlive.sim.contacts import DAY, clock_seconds


@dataclass(frozen=True)
class Shipping:
    cutoffs: np.ndarray  # day D's cut-off, seconds from the broadcast's start
    shipped: np.ndarray  # S_D: orders shipped by the end of day D (cumulative)
    paid_cum: np.ndarray  # orders paid by the end of each step (cumulative)
    step: float
    width: int = 1  # steps a pay bin spans (a presale's balances are counted by the minute)

    def positions(self, paid_at: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Queue positions (1-based) of orders paid at ``paid_at``: among the orders of
        their step, at a uniformly drawn place (one draw per order)."""
        b = (paid_at // self.step).astype(np.int64)
        if self.width > 1:  # the orders of a bin spanning several steps, counted at its start
            b = b // self.width * self.width
        b = np.minimum(b, self.paid_cum.size - 1)
        before = np.where(b > 0, self.paid_cum[np.maximum(b - 1, 0)], 0)
        within = self.paid_cum[b] - before
        return before + np.floor(rng.random(paid_at.size) * within) + 1

    def ship_times(self, position: np.ndarray) -> np.ndarray:
        """When the orders at these queue positions ship (inf: after the last day kept)."""
        day = np.searchsorted(self.shipped, position, side="left")
        out = np.full(position.size, math.inf)
        ok = day < self.cutoffs.size
        out[ok] = self.cutoffs[day[ok]]
        return out

    def hold(self, shipped: np.ndarray, held: np.ndarray, until: float) -> np.ndarray:
        """``shipped`` with the ``held`` orders shipping no earlier than the first cut-off
        at or after ``until`` (inf: after the last day kept)."""
        if not held.any():
            return shipped
        d = int(np.searchsorted(self.cutoffs, until, side="left"))
        at = float(self.cutoffs[d]) if d < self.cutoffs.size else math.inf
        out = shipped.copy()
        out[held] = np.maximum(out[held], at)
        return out


def ready_units(sku: Sku, supply: int) -> int | None:
    """Units of the SKU ready to ship (None: all of them, no ``warehouse`` figure): the
    warehouse figure plus what restocks and flash sales brought (``supply`` beyond the
    linked stock)."""
    if sku.warehouse is None:
        return None
    return sku.warehouse + max(0, supply - sku.stock)


def beyond_ready(paid_at: np.ndarray, paid_units: int, ready: int | None) -> np.ndarray:
    """Which orders paid at ``paid_at`` (the SKU's paid orders, or a sample of them) go
    beyond the ``ready`` units of the ``paid_units`` paid, in payment order, each order
    taking the mean units: the first ``ready / paid_units`` of them are ready, the rest
    wait."""
    n = paid_at.size
    held = np.zeros(n, dtype=bool)
    if ready is None or n == 0 or paid_units <= ready:
        return held
    first = min(n, ready * n // paid_units)  # Python ints: no overflow
    held[np.argsort(paid_at, kind="stable")[first:]] = True
    return held


def plan_shipping(paid_per_step: np.ndarray, step: float, f: Fulfilment, start_clock: str,
                  until: float, width: int = 1) -> Shipping:
    """The warehouse's days from the broadcast's start to ``until`` (seconds)."""
    first = (clock_seconds(f.cut_off) - clock_seconds(start_clock)) % DAY
    days = max(1, int(math.ceil((until - first) / DAY)) + 1)
    cutoffs = first + DAY * np.arange(days)
    paid_cum = np.cumsum(paid_per_step, dtype=np.int64)
    if paid_cum.size == 0:
        paid_cum = np.zeros(1, dtype=np.int64)
    # A_D: orders paid by day D's cut-off (an order paid in the step holding the cut-off
    # counts for that day if the step ends by it)
    by_cutoff = np.minimum(np.floor(cutoffs / step).astype(np.int64), paid_cum.size) - 1
    arrived = np.where(by_cutoff >= 0, paid_cum[np.maximum(by_cutoff, 0)], 0)
    shipped = np.empty(days, dtype=np.float64)
    done = 0.0
    for d in range(days):
        done = min(done + f.capacity, float(arrived[d]))
        shipped[d] = done
    return Shipping(cutoffs, shipped, paid_cum, step, width)
