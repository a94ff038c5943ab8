"""Means and 95 % intervals over replications (Student t), for KPIs and measured figures."""

from __future__ import annotations

import math
from functools import cache

import numpy as np


@cache
def t_quantile(df: int, level: float = 0.95) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + level / 2))


def mean_ci(values: list[float], level: float = 0.95) -> tuple[float,
                                                               tuple[float, float] | None]:
    """Mean and the two-sided ``level`` confidence interval of the mean (None for a single
    value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_quantile(n - 1, level) * math.sqrt(var / n)
    return mean, (mean - half, mean + half)


def summarise_metric(values: list[float | None]) -> tuple[float | None,
                                                        tuple[float, float] | None]:
    """Mean and 95 % CI of one metric over replications: None where no replication had it,
    infinity (no CI) where one was infinite (e.g. a chat never answered). A metric that was
    never negative (counts, durations, fractions) never gets a negative lower bound: the
    normal interval's tail below zero is not a value it can take."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None, None
    if not all(math.isfinite(v) for v in vals):
        return math.inf, None
    mean, ci = mean_ci(vals)
    if ci is not None and min(vals) >= 0:
        ci = (max(0.0, ci[0]), ci[1])
    return mean, ci


def ci_list(mean: float | None, ci: tuple[float, float] | None) -> list[float] | None:
    """A JSON-friendly interval (10 significant digits), or None."""
    if mean is None or ci is None or not math.isfinite(mean):
        return None
    return [rounded(ci[0]), rounded(ci[1])]


def rounded(x: float) -> float:
    return float(f"{x:.10g}")


def p95(values: np.ndarray) -> float | None:
    """The 95th percentile; infinite when more than 5 % never got a reply; None if empty."""
    if values.size == 0:
        return None
    if np.isfinite(values).all():
        return float(np.percentile(values, 95))
    return float(np.percentile(values, 95, method="higher"))
