"""Shipping from one warehouse with a daily capacity (``fulfilment``): the backlog sets when
each order ships, so a night that sells 13.8M orders does not deliver them as fast as 100.

Orders queue in the order they were paid. Day D's cut-off is at ``c_D`` (the first cut-off
at or after the broadcast's start is day 0); an order paid by ``c_D`` may ship on day D. By
the end of day D the warehouse has shipped ``S_D = min(S_{D-1} + capacity, A_D)`` orders,
``A_D`` being those paid by ``c_D`` (first in, first out, never more than a day's
capacity). The n-th order paid ships on the first day with ``S_D >= n``, at that day's
cut-off, and arrives ``transit`` later. Positions come from the paid orders per step, so an
order's ship day needs no per-order state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simlive.scenario.schema import Fulfilment
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
