"""Running replications, in parallel processes, and summarising them.

Replication ``r`` always uses the streams of ``(seed, r)``, and results are gathered in
replication order, so the summary is the same bytes whatever ``jobs`` is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from simlive import __version__
from simlive.errors import UsageError
from simlive.rules import Verdict, rule_params
from simlive.scenario.schema import Scenario
from simlive.sim.engine import KPI_UNITS, ReplicationResult, run_replication
from simlive.sim.verdicts import judge

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


def mean_ci(values: list[float]) -> tuple[float, tuple[float, float] | None]:
    """Mean and the 95 % confidence interval of the mean (None for a single value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t975(n - 1) * math.sqrt(var / n)
    return mean, (mean - half, mean + half)


@dataclass
class SimulationResult:
    scenario: Scenario
    replications: list[ReplicationResult]
    verdicts: list[Verdict]
    kpis: dict[str, dict[str, Any]]

    @property
    def series(self) -> dict[str, Any]:
        return self.replications[0].series

    def to_dict(self) -> dict[str, Any]:
        return {
            "simlive_version": __version__,
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "replications": len(self.replications),
            "kpis": self.kpis,
            "rules": [v.to_dict() for v in self.verdicts],
        }


def summarise_metric(values: list[float | None]) -> tuple[float | None,
                                                        tuple[float, float] | None]:
    """Mean and 95 % CI of one metric over replications: None where no replication had it,
    infinity (no CI) where one was infinite (e.g. a chat never answered)."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None, None
    if not all(math.isfinite(v) for v in vals):
        return math.inf, None
    return mean_ci(vals)


def summarise(scenario: Scenario, reps: list[ReplicationResult]) -> SimulationResult:
    kpis: dict[str, dict[str, Any]] = {}
    for name, unit in KPI_UNITS.items():
        values = [r.kpis.get(name) for r in reps]
        mean, ci = summarise_metric(values)
        n = sum(v is not None for v in values)
        if mean is None or not math.isfinite(mean):
            kpis[name] = {"mean": mean, "ci95": None, "unit": unit, "n": n}
            continue
        # every KPI is non-negative, so the interval is clipped at zero
        kpis[name] = {"mean": _round(mean), "ci95": None if ci is None else
                      [_round(max(0.0, ci[0])), _round(ci[1])], "unit": unit, "n": n}
    params = rule_params(scenario.rule_overrides())
    verdicts = judge([r.measures for r in reps], params)
    return SimulationResult(scenario, reps, verdicts, kpis)


def _round(x: float) -> float:
    return float(f"{x:.10g}")


def _one(args: tuple[Scenario, int, bool]) -> ReplicationResult:
    scenario, rep, keep = args
    return run_replication(scenario, rep, keep_series=keep)


def simulate(scenario: Scenario, replications: int = 1, jobs: int = 1,
             progress: Callable[[float], None] | None = None,
             cache: dict | None = None) -> SimulationResult:
    """Run ``replications`` replications on ``jobs`` processes and judge every rule.

    ``cache`` (in-process runs only) lets repeated runs that differ only in the shift schedule
    reuse each replication's orders and tickets; see ``engine.run_replication``.
    """
    if replications < 1:
        raise UsageError(f"replications(={replications}) must be >= 1")
    if jobs < 1:
        raise UsageError(f"jobs(={jobs}) must be >= 1")
    results: dict[int, ReplicationResult] = {}
    if jobs == 1 or replications == 1:
        for rep in range(replications):
            def sub(frac: float, rep: int = rep) -> None:
                if progress is not None:
                    progress((rep + frac) / replications)
            results[rep] = run_replication(scenario, rep, keep_series=rep == 0,
                                           progress=sub, cache=cache)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, replications)) as pool:
            futures = {pool.submit(_one, (scenario, rep, rep == 0)): rep
                       for rep in range(replications)}
            for done, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if progress is not None:
                    progress(done / replications)
    return summarise(scenario, [results[r] for r in range(replications)])
