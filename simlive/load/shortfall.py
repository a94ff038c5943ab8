"""Planned against achieved, per operation of a load profile (no Locust here).

The plan says each operation's peak rate; the run holds it along the curve, so the number of
arrivals due over the run is the peak times the curve's integral. What the run achieved is
what its history shows the drivers started. The gap is the generator's shortfall: arrivals
dropped because every slot was busy, or never scheduled because the generator itself fell
behind. A run whose generator could not keep up says so, with the numbers: its verdicts
then speak of a smaller load than planned.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlive.load.curve import Curve

KEEP_UP = 0.9  # achieved below 90 % of the plan: the generator did not hold it


@dataclass(frozen=True)
class RateRow:
    operation: str
    peak_rate: float  # planned, per second, at the curve's peak
    target: float  # arrivals the plan calls for over the run
    scheduled: int  # arrivals the drivers scheduled
    dropped: int  # scheduled while every slot was busy
    achieved: int  # operations the history shows started
    seconds: float

    @property
    def target_rate(self) -> float:
        return self.target / self.seconds if self.seconds else 0.0

    @property
    def achieved_rate(self) -> float:
        return self.achieved / self.seconds if self.seconds else 0.0

    @property
    def shortfall(self) -> float:
        return max(0.0, self.target - self.achieved)

    @property
    def kept_up(self) -> bool:
        # one arrival of slack: a plan of 3.6 arrivals is held by 3
        return self.achieved >= KEEP_UP * self.target - 1 and self.dropped == 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target_rate": self.target_rate,
                "achieved_rate": self.achieved_rate, "shortfall": self.shortfall,
                "kept_up": self.kept_up}


def curve_grid(curve: Curve, run_time: float, points: int = 2001
               ) -> tuple[np.ndarray, np.ndarray]:
    """The curve's fraction of its peak on a fine grid over the run: what the drivers
    interpolate (cheaply, thousands of times a second) and the plan integrates."""
    t = np.linspace(0.0, run_time, points)
    return t, np.array([curve.fraction(x) for x in t])


def planned_arrivals(curve: Curve, peak: float, run_time: float) -> float:
    """Peak rate times the curve's integral over the run (trapezoids on the grid)."""
    t, f = curve_grid(curve, run_time)
    return float(peak * np.sum((f[1:] + f[:-1]) / 2 * np.diff(t)))


def read_reports(history_dir: Path) -> dict[str, dict[str, int]]:
    """Per operation, what the drivers of every process scheduled and dropped."""
    out: dict[str, dict[str, int]] = {}
    for path in sorted(history_dir.glob("arrivals-*.json")):
        rep = json.loads(path.read_text(encoding="utf-8"))
        agg = out.setdefault(rep["operation"], {"scheduled": 0, "dropped": 0})
        agg["scheduled"] += int(rep["scheduled"])
        agg["dropped"] += int(rep["dropped"])
    return out


def rate_rows(profile: dict[str, float], curve: Curve, run_time: float,
              events: list[dict[str, Any]], reports: dict[str, dict[str, int]]
              ) -> list[RateRow]:
    started: dict[str, int] = {}
    for ev in events:
        if ev.get("type") == "invoke" and "-arrivals-" in str(ev.get("process")):
            started[ev["f"]] = started.get(ev["f"], 0) + 1
    rows = []
    for op, peak in sorted(profile.items()):
        rep = reports.get(op, {"scheduled": 0, "dropped": 0})
        rows.append(RateRow(op, peak, planned_arrivals(curve, peak, run_time),
                            rep["scheduled"], rep["dropped"], started.get(op, 0), run_time))
    return rows


def warnings(rows: list[RateRow]) -> list[str]:
    """One sentence per operation the generator did not hold."""
    out = []
    for r in rows:
        if not r.kept_up:
            out.append(f"the generator could not keep up with {r.operation}: "
                       f"{r.achieved_rate:.1f}/s achieved of {r.target_rate:.1f}/s planned "
                       f"(peak {r.peak_rate:g}/s; {r.shortfall:.0f} of {r.target:.0f} arrivals "
                       f"short, {r.dropped} dropped with every slot busy)")
    return out
