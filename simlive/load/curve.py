"""The scenario's traffic curve, compressed in time and scaled to a load target. No locust.

``arrival_rate`` from the simulator gives viewers arriving per second along the broadcast
(keyframes, spikes, flash-sale spikes). A load test replays that shape: scenario time
``t_s = t_real * duration / run_time`` and load ``peak * rate(t_s) / max(rate)``. The peak is
found on a fine grid that includes every spike's start, so a 2-minute spike in a 4-hour
broadcast is never stepped over.
"""

from __future__ import annotations

import math

import numpy as np

from simlive.scenario.schema import Scenario
from simlive.sim.audience import arrival_rate


class Curve:
    def __init__(self, scenario: Scenario, run_time: float) -> None:
        self.scenario = scenario
        self.run_time = float(run_time)
        self.scale = scenario.duration / self.run_time
        starts = [s.at for s in scenario.audience.spikes] + \
                 [f.at for f in scenario.products.flash_sales]
        grid = np.concatenate([np.linspace(0.0, scenario.duration, 4001),
                               np.asarray(starts, dtype=float)])
        self.peak_rate = float(arrival_rate(scenario, grid).max()) or 1.0

    def fraction(self, t_real: float) -> float:
        """Load at real time ``t_real`` as a fraction of the peak (0..1)."""
        t = min(max(t_real, 0.0) * self.scale, self.scenario.duration)
        return float(arrival_rate(self.scenario, np.asarray([t]))[0]) / self.peak_rate

    def users(self, t_real: float, peak_users: int, floor: int = 1) -> int:
        return max(floor, int(math.ceil(peak_users * self.fraction(t_real))))


def open_model_users(current: int, measured_rps: float, target_rps: float, user_rate: float,
                     cap: int) -> int:
    """Users needed to hold ``target_rps``: start from the pacing estimate, then follow the
    measured rate, at most doubling or halving per tick so a noisy measurement cannot make
    the user count explode or collapse."""
    estimate = math.ceil(target_rps / user_rate)
    if measured_rps > 0 and current > 0:
        # the measurement wins both ways: users that wait on a slow service issue fewer
        # requests than their pacing (add users); tasks that make several calls issue more
        # (remove users); at most doubling or halving per tick
        corrected = math.ceil(current * target_rps / measured_rps)
        estimate = min(max(corrected, current // 2), 2 * current)
    return max(1, min(cap, estimate))


def flash_windows(scenario: Scenario, run_time: float) -> list[tuple[float, float]]:
    """The flash sales' windows in real seconds since the load started (compressed like the
    curve), for thresholds per phase and the report's plots."""
    scale = scenario.duration / float(run_time)
    return [(f.at / scale, (f.at + f.duration) / scale) for f in scenario.products.flash_sales]
