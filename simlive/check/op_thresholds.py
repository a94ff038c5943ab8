"""Thresholds per operation and per phase of the broadcast, judged on the history.

Locust's statistics aggregate by request name over the whole run; a planner's limits are
about one operation in one phase ("p99 of place order under 300 ms during the flash sale",
"failure ratio of pay under 0.1 %"). The history has every operation with its start, end and
outcome, so each limit is computed from it: the latency percentile (nearest rank) of the
operations that finished, the failed fraction (unknown outcomes and unexpected refusals;
a sold-out answer is a correct answer, not a failure) and the rate started. A limit with no
operation in its window fails: no evidence is not a pass. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from simlive.check.history import FAIL, INFO, Op, of
from simlive.check.thresholds import ThresholdResult


def _in_phase(t: float, phase: str, windows: list[tuple[float, float]]) -> bool:
    if phase == "all":
        return True
    inside = any(a <= t < b for a, b in windows)
    return inside if phase == "flash-sale" else not inside


def _nearest_rank(values: list[float], q: float) -> float:
    """The ``q``-th percentile by nearest rank: a latency some operation really took."""
    return float(np.percentile(values, q, method="inverted_cdf"))


def load_start(ops: Iterable[Op]) -> float | None:
    """When the load began: the first operation of a load process (not setup)."""
    return min((op.start for op in ops if op.process != "setup"), default=None)


def judge_operations(ops: list[Op], limits: Iterable[Any], windows: list[tuple[float, float]],
                     run_time: float) -> list[ThresholdResult]:
    """One result per limit (:class:`simlive.scenario.load.OperationThreshold`);
    ``windows``: flash-sale windows in seconds since the load began."""
    start = load_start(ops)
    out = []
    for lim in limits:
        # an operation the load interrupted as it stopped says nothing of the shop
        chosen = [op for op in of(ops, _history_name(lim.operation)) if op.process != "setup"
                  and start is not None and _in_phase(op.start - start, lim.phase, windows)
                  and not (op.value or {}).get("interrupted")]
        if lim.max_ms is not None:
            done = [(op.end - op.start) * 1000 for op in chosen if math.isfinite(op.end)
                    and op.type != INFO]
            v = _nearest_rank(done, lim.percentile) if done else None
            out.append(ThresholdResult(lim.name, v, lim.max_ms, v is not None and
                                       v <= lim.max_ms))
        elif lim.max_failure_ratio is not None:
            bad = sum(1 for op in chosen if op.type == INFO or (
                op.type == FAIL and not (op.value or {}).get("expected")))
            v = bad / len(chosen) if chosen else None
            out.append(ThresholdResult(lim.name, v, lim.max_failure_ratio,
                                       v is not None and v <= lim.max_failure_ratio))
        else:
            span = _span(lim.phase, windows, run_time)
            v = len(chosen) / span if span > 0 else None
            out.append(ThresholdResult(lim.name, v, lim.min_rate,
                                       v is not None and v >= lim.min_rate))
    return out


def _span(phase: str, windows: list[tuple[float, float]], run_time: float) -> float:
    inside = sum(max(0.0, min(b, run_time) - max(a, 0.0)) for a, b in windows)
    return {"all": run_time, "flash-sale": inside}.get(phase, run_time - inside)


def _history_name(operation: str) -> str:
    from simlive.operations import HISTORY_NAME

    return HISTORY_NAME.get(operation, operation)
