"""The Locust ``LoadTestShape`` that follows the scenario (closed or open model)."""

from __future__ import annotations

import time

from locust import LoadTestShape

from simlive.load.curve import Curve, open_model_users


class ScenarioShape(LoadTestShape):
    """Closed model: users follow the compressed curve up to ``peak_users``. Open model:
    requests per second follow it up to ``arrival_rate``, users adjusted from the measured
    rate. Stops (returns None) after ``run_time``. Configured by ``configure`` at init."""

    # -t/--run-time and -u/--users are read as the compressed broadcast's length and peak
    # (the locustfile applies them to the run), so Locust need not warn they are ignored
    use_common_options = True
    curve: Curve | None = None
    peak_users = 10
    mode = "closed"
    arrival_rate = 10.0
    user_rate = 2.0
    floor = 2  # the fixed-count users (agent, monitor)
    spawn_rate: float | None = None
    _users = 0
    # the coordinator keeps the load going past run_time while a flash sale is prepared or
    # answered (epoch seconds; bounded by LoadRun.overtime): a sale cut off by the end of
    # the load would not have been tested
    hold_until = 0.0

    @classmethod
    def configure(cls, curve: Curve, peak_users: int, mode: str, arrival_rate: float | None,
                  user_rate: float, floor: int, spawn_rate: float | None) -> None:
        cls.curve, cls.peak_users, cls.mode = curve, peak_users, mode
        cls.arrival_rate = arrival_rate or peak_users * user_rate
        cls.user_rate, cls.floor, cls.spawn_rate = user_rate, floor, spawn_rate

    def tick(self) -> tuple[int, float] | None:
        if self.curve is None:
            return None
        t = self.get_run_time()
        if t >= self.curve.run_time and time.time() >= ScenarioShape.hold_until:
            return None
        rate = self.spawn_rate or max(10.0, float(self.peak_users))
        t = min(t, self.curve.run_time)  # overtime for a flash sale: the curve's end
        if self.mode == "profile":  # arrival drivers pace themselves; agents, monitor
            return self.floor, max(rate, float(self.floor))
        if self.mode == "closed":
            return self.curve.users(t, self.peak_users, self.floor) + self.floor, rate
        target = self.arrival_rate * self.curve.fraction(t)
        measured = float(self.runner.stats.total.current_rps) if self.runner else 0.0
        cap = max(self.peak_users * 4, int(self.arrival_rate / self.user_rate) * 4)
        self._users = open_model_users(self._users, measured, target, self.user_rate, cap)
        return self._users + self.floor, rate
