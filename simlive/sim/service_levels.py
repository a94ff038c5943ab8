"""From the shifts a scenario (or a roster) schedules to the desk slots on duty, and the
service level per interval that staffing is judged on.

Shifts may overlap (a roster starts agents every half hour): the heads on duty at a time are
the sum over the shifts on at that time. Of ``n`` heads, ``floor(n x (1 - shrinkage))``
answer (the rest is paid time not available: breaks, training, absence; deterministic, as
workforce planners count it). Each answering agent holds up to ``chat_concurrency`` tickets at
once, so it is that many desk slots, and every ticket's handling time is stretched by
``Aftersales.stretch`` when it does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Segment = tuple[float, float, int]  # from, to, slots (or heads) on duty
SERVICE_LEVEL = "aftersales.service_level("


def heads_over_time(shifts: Iterable[tuple[float, float, int]],
                    horizon: float) -> list[Segment]:
    """Overlapping shifts summed into consecutive segments of constant heads (within
    ``0 .. horizon``; segments with nobody on are left out, equal neighbours merged)."""
    shifts = [(max(0.0, s), min(e, horizon), n) for s, e, n in shifts
              if n > 0 and min(e, horizon) > max(0.0, s)]
    points = sorted({t for s, e, _ in shifts for t in (s, e)})
    deltas: dict[float, int] = {}
    for s, e, n in shifts:
        deltas[s] = deltas.get(s, 0) + n
        deltas[e] = deltas.get(e, 0) - n
    counted = []
    heads = 0
    for t0, t1 in zip(points, points[1:], strict=False):
        heads += deltas[t0]
        counted.append((t0, t1, heads))
    return _merged(counted)


def _merged(segments: Iterable[Segment]) -> list[Segment]:
    """Segments with nobody on left out, touching neighbours of equal count joined."""
    out: list[Segment] = []
    for s, e, n in segments:
        if n <= 0:
            continue
        if out and out[-1][1] == s and out[-1][2] == n:
            out[-1] = (out[-1][0], e, n)
        else:
            out.append((s, e, n))
    return out


def available(heads: int, shrinkage: float) -> int:
    """Agents answering of ``heads`` paid (float dust such as 10 x 0.7 = 6.9999... is 7)."""
    return int(math.floor(heads * (1.0 - shrinkage) + 1e-9))


def desk_slots(shifts: Iterable[tuple[float, float, int]], horizon: float, shrinkage: float,
               concurrency: int) -> list[Segment]:
    """The desk's slots on duty over time: heads summed, shrinkage taken off, x concurrency."""
    return _merged((s, e, available(n, shrinkage) * concurrency)
                   for s, e, n in heads_over_time(shifts, horizon))


def slot_seconds(segments: Sequence[Segment], lo: float, hi: float) -> float:
    """Slot-seconds on duty within ``lo .. hi``."""
    return float(sum(n * max(0.0, min(e, hi) - max(s, lo)) for s, e, n in segments))


@dataclass
class IntervalCounts:
    """Per interval of ``length`` seconds from 0: tickets offered (arrived) and, for each
    threshold, those first answered within it. Summed over a replication's desk; the same
    shape for every replication, so plans can judge each interval over replications."""

    length: float
    offered: np.ndarray  # int64 per interval
    answered: dict[float, np.ndarray]  # threshold (s) -> int64 per interval
    work: np.ndarray  # handling seconds the interval's tickets brought (desk slot-seconds)
    # slot-seconds spent handling within each interval, and on duty in it, over every desk
    # (set by the run of all desks; a single desk's view leaves them out)
    busy: np.ndarray | None = None
    duty: np.ndarray | None = None

    def service_level(self, within: float) -> np.ndarray:
        """Per interval; NaN where nothing was offered."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.answered[within] / np.where(self.offered > 0, self.offered, np.nan)

    def overall(self, within: float) -> float | None:
        total = int(self.offered.sum())
        return int(self.answered[within].sum()) / total if total else None


def service_level_name(within: float) -> str:
    """The KPI of a threshold: ``aftersales.service_level(20s)``."""
    from simlive.scenario.units import duration_text

    return f"{SERVICE_LEVEL}{duration_text(within)})"


def interval_counts(arrival: np.ndarray, start: np.ndarray, answered_ok: np.ndarray,
                    handling: np.ndarray, within: Sequence[float], length: float,
                    end: float) -> IntervalCounts:
    """Service level counts per interval. ``arrival`` sorted; ``start``: first reply (inf if
    none); ``answered_ok``: replied and the customer still there (a chat whose customer left
    is not answered, even when an agent reached it within the threshold, as WFM tools
    count abandoned contacts)."""
    bins = int(math.ceil(end / length))
    edges = np.arange(bins + 1) * length
    cut = np.searchsorted(arrival, edges, "left")
    offered = np.diff(cut).astype(np.int64)
    # sums per interval straight from the ticket arrays (no running sums the size of a
    # Double 11's tickets: memory new to the process is what costs); empty intervals are 0
    empty = offered == 0
    at = np.minimum(cut[:-1], max(arrival.size - 1, 0))

    def per_interval(values: np.ndarray, dtype: type) -> np.ndarray:
        if arrival.size == 0:
            return np.zeros(bins, dtype=dtype)
        sums = np.add.reduceat(values, at, dtype=dtype)
        sums[empty] = 0
        return sums

    answered: dict[float, np.ndarray] = {}
    wait = start - arrival
    for t in within:
        answered[float(t)] = per_interval(answered_ok & (wait <= t), np.int64)
    return IntervalCounts(length, offered, answered, per_interval(handling, np.float64))


def busy_per_interval(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Slot-seconds spent handling within each interval ``edges[i] .. edges[i + 1]``, from
    the handlings' start and end times (in any order). The busy time before ``t`` is
    ``sum(t - start, start < t) - sum(t - end, end < t)``: two sorts and prefix sums, not a
    ticket-by-interval table the size of a Double 11's tickets."""
    def before(times: np.ndarray) -> np.ndarray:
        times = np.sort(times)
        k = np.searchsorted(times, edges, "left")
        prefix = np.concatenate(([0.0], np.cumsum(times)))
        return edges * k - prefix[k]

    # the prefix sums run to 1e13 s on a Double 11: round the float dust off, to the ms
    return np.maximum(np.round(np.diff(before(starts) - before(ends)), 3), 0.0)


def duty_per_interval(slots: Sequence[Segment], edges: np.ndarray) -> np.ndarray:
    """Slot-seconds on duty within each interval, from a desk's slots over time (in time
    order, not overlapping, as ``desk_slots`` gives them). The slot-seconds before ``t``
    are linear between the slots' ends, so one interpolation over the edges gives them all:
    a month of hourly shifts by minute intervals stays a sort, not a product."""
    if not slots:
        return np.zeros(max(edges.size - 1, 0))
    at = np.asarray([t for lo, hi, _ in slots for t in (lo, hi)], dtype=float)
    gained = np.asarray([v for lo, hi, n in slots for v in (0.0, n * (hi - lo))])
    return np.diff(np.interp(edges, at, np.cumsum(gained)))

