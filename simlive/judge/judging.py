"""What every judge is made of: the shape of a rule's judge (``RuleJudge``), the figures
averaged over replications, and the words its evidence shares (over how many replications,
the ids a load test named, the details it saw, the largest figure, a short time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simlive.judge.measures import (
    Measures,
)
from simlive.rules import MINUTE, format_duration

M = list[Any]  # one rule's records, one per replication (or one for a load test)
Numbers = dict[str, float | None]


@dataclass(frozen=True)
class RuleJudge:
    """One rule: which record it reads, whether that record breaks it, what to report."""

    record: Callable[[Measures], Any]  # the rule's record out of a replication's measures
    broken: Callable[[Any, dict], bool]
    report: Callable[[M, dict, list[bool]], tuple[Any, Any, str]]
    numbers: Callable[[Any], Numbers]


def figures(**values: Any) -> Callable[[Measures], Numbers]:
    """Per-replication figures to average: name -> function of one replication's measures."""
    return lambda m: {k: (None if (v := fn(m)) is None else float(v)) for k, fn in
                      values.items()}


def in_runs(k: int, n: int) -> str:
    return "" if n == 1 else f" in {k} of {n} replications"


def named_examples(records: list[Any]) -> str:
    """A few ids the measurer named (a load test's; the simulator names none)."""
    ids = [i for r in records for i in r.examples][:5]
    return f", e.g. {ids}" if ids else ""


def named_details(records: list[Any]) -> str:
    """What a load test's checker saw, SKU by SKU (the simulator has none)."""
    lines = [d for r in records for d in r.details]
    return "".join(f"; {d}" for d in lines)


def largest(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def short_seconds(s: float) -> str:
    """A shortfall, to the millisecond below a minute (a load test's are fractions of one)."""
    return format_duration(s) if s >= MINUTE else f"{s:.3f}".rstrip("0").rstrip(".") + "s"
