"""Rich tables for the terminal: the KPIs and one row per compliance rule.

Functions build ``rich`` renderables and return them; printing is the caller's business, so
the same tables serve ``run``, ``check`` and ``plan``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

from simlive.rules import Status, Verdict, format_duration

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.UNKNOWN: "yellow"}


def fmt_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return "never" if unit == "s" else str(value)
    if unit == "s":
        return format_duration(value) if abs(value) >= 60 else f"{value:.1f}s"
    if unit == "fraction":
        return f"{value * 100:.1f}%"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def compact(value: Any, key: str = "") -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k.removesuffix('_s')}={compact(v, k)}" for k, v in value.items())
    if key.endswith("_s") and isinstance(value, int | float):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, list) else str(value)


def kpi_table(kpis: Mapping[str, Mapping[str, Any]], title: str = "KPIs") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("unit")
    for name, k in kpis.items():
        ci = k.get("ci95")
        ci_text = "-" if not ci else f"{fmt_number(ci[0], k['unit'])} .. " \
                                     f"{fmt_number(ci[1], k['unit'])}"
        table.add_row(name, fmt_number(k.get("mean"), k["unit"]), ci_text, k["unit"])
    return table


def verdict_table(verdicts: Iterable[Verdict], title: str = "Compliance") -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("status")
    table.add_column("measured", overflow="fold")
    table.add_column("limit", overflow="fold")
    table.add_column("evidence", overflow="fold")
    for v in verdicts:
        table.add_row(v.rule_id, f"[{STATUS_STYLE[v.status]}]{v.status.value}[/]",
                      compact(v.measured), compact(v.limit), v.evidence)
    return table


def summary(verdicts: Iterable[Verdict], thresholds: Iterable[Any] = ()) -> str:
    """The closing line(s) of every command that judges rules: what failed, what could not
    be judged (unknown is never a pass), which thresholds broke; else PASS."""
    verdicts, thresholds = list(verdicts), list(thresholds)
    failed = [v.rule_id for v in verdicts if v.status is Status.FAIL]
    unknown = [v.rule_id for v in verdicts if v.status is Status.UNKNOWN]
    slow = [t.name for t in thresholds if not t.passed]
    lines = []
    if failed:
        lines.append(f"FAIL: {len(failed)} rule(s) broken: {', '.join(failed)}")
    if unknown:
        lines.append(f"UNDECIDED: {len(unknown)} rule(s) could not be judged (unknown is not "
                     f"a pass): {', '.join(unknown)}")
    if slow:
        lines.append(f"FAIL: threshold(s) broken: {', '.join(slow)}")
    return "\n".join(lines) or "PASS: every rule passes" + (
        " and every threshold holds" if thresholds else "")
