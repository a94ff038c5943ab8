"""Plots of a load run over time: operations started, latency percentiles, failures.

One-second buckets from the history (each operation's start, end and whether it failed),
with the flash-sale windows shaded, drawn like the simulator's report (inline SVG). Pure
data in (:func:`load_series` takes plain tuples), SVG strings out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from simlive.report.figures import pyplot, svg


def load_series(samples: Iterable[tuple[float, float, bool]], run_time: float
                ) -> dict[str, list[float]]:
    """``samples``: (start, end, failed) in seconds since the load began (end may be inf).
    Per second: operations started, failed, and p50 / p95 / p99 latency (ms) of those
    that finished in it."""
    n = max(1, int(math.ceil(run_time)) + 1)
    started = np.zeros(n)
    failed = np.zeros(n)
    lat: list[list[float]] = [[] for _ in range(n)]
    for start, end, bad in samples:
        i = min(n - 1, max(0, int(start)))
        started[i] += 1
        if bad:
            failed[i] += 1
        if math.isfinite(end):
            lat[min(n - 1, max(0, int(end)))].append((end - start) * 1000)

    def pct(q: float) -> list[float]:
        return [float(np.percentile(v, q)) if v else float("nan") for v in lat]

    return {"t": list(range(n)), "started": started.tolist(), "failed": failed.tolist(),
            "p50": pct(50), "p95": pct(95), "p99": pct(99)}


def _shade(ax: Any, windows: list[tuple[float, float]]) -> None:
    for i, (a, b) in enumerate(windows):
        ax.axvspan(a, b, color="#fbbc04", alpha=0.25, label="flash sale" if i == 0 else None)


def load_figures(series: dict[str, list[float]], windows: list[tuple[float, float]]
                 ) -> list[tuple[str, str]]:
    plt = pyplot()
    t = series["t"]

    def figure(title: str, ylabel: str, draw: Any) -> tuple[str, str]:
        fig, ax = plt.subplots(figsize=(10, 3.2))
        draw(ax)
        _shade(ax, windows)
        ax.set_xlabel("seconds into the load test")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper right")
        return title, svg(fig)

    def latency(ax: Any) -> None:
        for q, color in (("p50", "#34a853"), ("p95", "#e8710a"), ("p99", "#c5221f")):
            ax.plot(t, series[q], color=color, label=q)

    return [
        figure("Request rate over time", "operations per second",
               lambda ax: ax.plot(t, series["started"], color="#1a73e8",
                                  label="operations started /s")),
        figure("Latency percentiles over time", "latency (ms)", latency),
        figure("Failures over time (unknown outcomes and unexpected refusals)",
               "failed operations per second",
               lambda ax: ax.bar(t, series["failed"], color="#c5221f", width=0.9,
                                 label="failed /s")),
    ]
