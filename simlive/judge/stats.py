"""Means and 95 % intervals over replications (Student t), for KPIs and measured figures."""

from __future__ import annotations

import math

import numpy as np

# two-sided 95 % Student t quantiles by degrees of freedom; 1.96 beyond the table
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
         16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042,
         40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    if df in _T975:
        return _T975[df]
    keys = sorted(k for k in _T975 if k <= df)
    return _T975[keys[-1]] if df <= 120 else 1.96


def mean_ci(values: list[float], level: float = 0.95) -> tuple[float,
                                                               tuple[float, float] | None]:
    """Mean and the two-sided ``level`` confidence interval of the mean (None for a single
    value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    if level == 0.95:
        t = t975(n - 1)
    else:  # a plan's checks at several looks each take a share of the 5 %
        from scipy.special import stdtrit

        t = float(stdtrit(n - 1, 0.5 + level / 2))
    half = t * math.sqrt(var / n)
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
