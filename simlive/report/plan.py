"""How a plan is shown: the candidates tried, the answer, the per-shift staffing, the plots."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from simlive import __version__
from simlive.plan.search import PlanResult
from simlive.report.tables import fmt_number


def _unit(metric: str) -> str:
    if metric.endswith("_s"):
        return "s"
    if metric.endswith(("fraction", "p_delayed", "utilization")):
        return "fraction"
    return ""


def _cell(m: dict[str, Any], metric: str) -> str:
    unit = _unit(metric)
    text = fmt_number(m.get("mean"), unit)
    ci = m.get("ci95")
    if ci:
        text += f" [{fmt_number(ci[0], unit)}, {fmt_number(ci[1], unit)}]"
    return text


def candidates_table(plan: PlanResult) -> Table:
    metrics = sorted({m for t in plan.targets for m in t.metrics()})
    table = Table(title=f"Candidates tried for {plan.knob}" +
                  (" (per shift)" if plan.per_shift else ""), title_justify="left")
    if plan.per_shift:
        table.add_column("shift agents")
    table.add_column("value", justify="right")
    for m in metrics:
        table.add_column(f"{m.removeprefix('aftersales.')}\nmean [95% CI]", justify="right")
    table.add_column("targets")
    for c in plan.candidates:
        row = [f"{c.values} (shift {c.shift})"] if plan.per_shift else []
        row.append(str(c.value))
        row += [_cell(c.metrics.get(m, {}), m) for m in metrics]
        if not c.measured:
            row.append("[yellow]not measured[/]")
        else:
            row.append("[green]met[/]" if c.met else "[red]not met[/]")
        table.add_row(*row)
    return table


def shifts_table(plan: PlanResult) -> Table:
    from simlive.rules import format_duration

    table = Table(title="Agents per shift", title_justify="left")
    for col in ("shift", "from", "to", "in scenario", "Erlang guess", "simulated answer"):
        table.add_column(col, justify="right")
    table.add_column("note")
    for s in plan.shifts:
        table.add_row(str(s["shift"]), format_duration(s["from_s"]), format_duration(s["to_s"]),
                      str(s["scenario"]), "-" if s["analytic"] is None else str(s["analytic"]),
                      "-" if s["simulated"] is None else str(s["simulated"]), s.get("note", ""))
    return table


def plan_dict(plan: PlanResult, scenario: str, seed: int, replications: int) -> dict[str, Any]:
    return {
        "simlive_version": __version__,
        "scenario": scenario,
        "seed": seed,
        "replications": replications,
        "vary": plan.knob,
        "per_shift": plan.per_shift,
        "targets": [t.text for t in plan.targets],
        "answer": plan.answer,
        "unmet": plan.unmet,
        "shifts": plan.shifts,
        "validated_on": None if plan.validated_on is None else
        {"first_replication": plan.validated_on[0], "replications": plan.validated_on[1]},
        "validations": plan.validations,
        "candidates": [
            {"shift": c.shift, "values": c.values, "value": c.value, "met": c.met,
             "metrics": c.metrics,
             "targets": [{"target": a.target.text, "met": a.met, "bound": a.bound}
                         for a in c.assessments]}
            for c in plan.candidates
        ],
    }


def plan_figures(plan: PlanResult) -> list[tuple[str, str]]:
    """One plot per target metric against the varied value, with CIs and the limit."""
    from simlive.report.figures import pyplot, svg

    plt = pyplot()
    figs = []
    for t in plan.targets:
        groups: dict[str, list] = {}
        for c in plan.candidates:
            key = "all shifts" if c.shift is None else f"shift {c.shift}"
            m = c.metrics.get(t.left, {})
            if m.get("mean") is None or m["mean"] == float("inf"):
                continue
            groups.setdefault(key, []).append((c.value, m["mean"], m.get("ci95")))
        if not groups:
            continue
        fig, ax = plt.subplots(figsize=(9, 3.2))
        for key, pts in sorted(groups.items()):
            pts.sort()
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            lo = [p[1] - (p[2][0] if p[2] else p[1]) for p in pts]
            hi = [(p[2][1] if p[2] else p[1]) - p[1] for p in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=key)
        if t.right_metric is None:
            ax.axhline(t.factor, color="#c5221f", ls="--", label=f"target {t.limit_text()}")
        ax.set_xlabel(plan.knob)
        ax.set_ylabel(t.left)
        ax.legend(fontsize=8)
        figs.append((f"{t.left} against {plan.knob}", svg(fig)))
    return figs
