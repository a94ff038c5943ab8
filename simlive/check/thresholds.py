"""Performance thresholds (p95 latency, failure ratio, requests/s) judged on Locust's stats.

Pure: takes the ``Aggregated`` row of Locust's ``*_stats.csv`` as a dict of strings and the
scenario's ``load.thresholds``; returns one result per configured limit.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ThresholdResult:
    name: str
    measured: float | None
    limit: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "measured": self.measured, "limit": self.limit,
                "status": "pass" if self.passed else "fail"}


def aggregated_row(stats_csv: str | Path) -> dict[str, str] | None:
    path = Path(stats_csv)
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated":
                return row
    return None


def judge(row: dict[str, str] | None, p95_ms: float | None, max_failure_ratio: float | None,
          min_rps: float | None) -> list[ThresholdResult]:
    """A missing stats row fails every configured limit (no evidence is not a pass)."""
    def num(key: str) -> float | None:
        try:
            return float(row[key]) if row and row.get(key) not in (None, "", "N/A") else None
        except ValueError:
            return None

    out = []
    if p95_ms is not None:
        v = num("95%")
        out.append(ThresholdResult("p95_ms", v, p95_ms, v is not None and v <= p95_ms))
    if max_failure_ratio is not None:
        n, f = num("Request Count"), num("Failure Count")
        ratio = (f / n) if n and f is not None else None
        out.append(ThresholdResult("failure_ratio", ratio, max_failure_ratio,
                                   ratio is not None and ratio <= max_failure_ratio))
    if min_rps is not None:
        v = num("Requests/s")
        out.append(ThresholdResult("rps", v, min_rps, v is not None and v >= min_rps))
    return out
