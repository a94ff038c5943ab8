"""The sold and viewer counts the broadcast shows, against the truth (``display.counters-true``).

Each counter shows ``factor x truth + offset`` (never below 0) as of its last update, the
updates ``refresh`` apart from the start. The truth of ``sold`` is the orders accepted so
far (every SKU's, however many units each), of ``viewers`` the viewers present (the
audience model's concurrency, a mean over each step). A figure read at a step is overstated
when it is above the highest truth of the ``max_lag`` before it by more than
``max_overstatement`` of that truth; anything shown while the truth was 0 is overstated.
Nothing here draws a random number: the counters follow the model's orders and audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.judge.measures import CounterMeasures
from simlive.scenario.counters import Counter, Counters
from simlive.sim.display import _sliding
from simlive.sim.orders import SkuOutcome

EPS = 1e-9  # relative: a shown figure equal to the truth is never over it by rounding


def accepted_so_far(outcomes: list[SkuOutcome], bins: int) -> np.ndarray:
    """Orders accepted by the end of each step, every SKU's."""
    per_step = np.zeros(bins, dtype=np.int64)
    for o in outcomes:
        inside = o.accept_bins < bins
        np.add.at(per_step, o.accept_bins[inside], o.accept_counts[inside])
    return np.cumsum(per_step)


def shown(c: Counter, truth: np.ndarray, refresh: float, step: float) -> np.ndarray:
    """What a counter shows each step: its formula over the truth at its last update."""
    if refresh <= step:
        at = truth
    else:
        i = np.arange(truth.size)
        at = truth[np.floor(np.floor(i * step / refresh) * refresh / step).astype(np.int64)]
    return np.maximum(c.factor * at.astype(float) + c.offset, 0.0)


@dataclass(frozen=True)
class _Reading:
    """One counter over the broadcast: where it was overstated, and its worst step."""

    over: np.ndarray  # bool per step
    fraction: float
    at: int  # step of the worst (-1: never above the truth)
    shown: float
    truth: float


def _compare(shown_: np.ndarray, truth: np.ndarray, lag_bins: int,
             tolerance: float) -> _Reading:
    ceiling = _sliding(truth.astype(float), lag_bins, np.maximum, 0.0)
    above = shown_ - ceiling
    fraction = np.zeros(shown_.size)
    pos = ceiling > 0
    np.divide(above, ceiling, out=fraction, where=pos)
    fraction[~pos & (shown_ > 0)] = np.inf
    over = (above > tolerance * ceiling + EPS * np.maximum(ceiling, 1.0)) & (fraction > 0)
    if not (fraction > 0).any():
        return _Reading(over, 0.0, -1, 0.0, 0.0)
    w = int(np.argmax(fraction))  # the first of the worst
    return _Reading(over, float(fraction[w]), w, float(shown_[w]), float(ceiling[w]))


def counter_measures(c: Counters, sold: np.ndarray, viewers: np.ndarray, step: float,
                     max_lag: float, tolerance: float
                     ) -> tuple[CounterMeasures, dict[str, float | None]]:
    """The record (both counters read every step) and its KPIs."""
    lag_bins = int(max_lag // step)
    shown_sold = shown(c.sold, sold, c.refresh, step)
    shown_viewers = shown(c.viewers, viewers, c.refresh, step)
    rs = _compare(shown_sold, sold, lag_bins, tolerance)
    rv = _compare(shown_viewers, viewers, lag_bins, tolerance)
    name, worst = max((("sold", rs), ("viewers", rv)), key=lambda x: x[1].fraction)
    n = int(rs.over.sum() + rv.over.sum())
    readings = 2 * sold.size
    record = CounterMeasures(
        readings, n, worst.fraction, name if worst.at >= 0 else None,
        worst.at * step if worst.at >= 0 else None, worst.shown, worst.truth, step=step,
        overstated_s=float((rs.over | rv.over).sum()) * step)
    kpis: dict[str, float | None] = {
        "counters.overstated_fraction": n / readings if readings else None,
        "counters.sold_shown_end": float(shown_sold[-1]) if sold.size else None,
        "counters.viewers_shown_peak": float(shown_viewers.max()) if viewers.size else None,
    }
    return record, kpis
