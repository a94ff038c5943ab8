"""How a roster plan is shown: the roster, the intervals (required, scheduled, achieved), the
iterations, as terminal tables, JSON, CSV and a plot."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.table import Table

from simlive import __version__
from simlive.plan.desk_staffing import RosterPlan, roster_shifts
from simlive.scenario.units import duration_text

TABLE_ROWS = 48  # intervals shown in the terminal; the JSON and CSV have them all


def roster_table(plan: RosterPlan) -> Table:
    table = Table(title=f"Roster: {int(plan.heads.sum()):,} agents, "
                        f"{plan.agent_hours:,.1f} paid agent-hours, cost {plan.cost:,.2f}",
                  title_justify="left")
    for col in ("template", "starts at", "heads", "on the desk"):
        table.add_column(col, justify="right" if col == "heads" else "left")
    for row, duty in zip(plan.starts(), _duties(plan), strict=True):
        table.add_row(row["template"], duration_text(row["start_s"]), str(row["heads"]), duty)
    return table


def _duties(plan: RosterPlan) -> list[str]:
    out = []
    for c in (c for c in range(plan.heads.size) if plan.heads[c] > 0):
        out.append(", ".join(f"{duration_text(a)}..{duration_text(b)}"
                             for a, b in plan.cols.duty[c]))
    return out


def interval_rows(plan: RosterPlan) -> list[dict[str, Any]]:
    """Every interval with tickets: requirement (Erlang C, then as raised), heads scheduled,
    the service level achieved on the validation replications."""
    scheduled = plan.scheduled
    by_index = {v.index: v for v in plan.intervals}
    goal = next((t.factor for t in plan.targets if t.per_interval), 0.0) - 1e-12
    missed = set(plan.missed)
    rows = []
    for i in sorted(set(by_index) | {int(i) for i in (plan.requirement > 0).nonzero()[0]}):
        v = by_index.get(i)
        rows.append({
            "interval": i, "from_s": i * plan.interval, "to_s": (i + 1) * plan.interval,
            "erlang_c": int(plan.erlang[i]), "required": int(plan.requirement[i]),
            "scheduled": int(scheduled[i]),
            "service_level": None if v is None else round(v.mean, 6),
            "ci95": None if v is None or v.ci95 is None else
            [round(v.ci95[0], 6), round(v.ci95[1], 6)],
            # not missed in the last judgement (with confidence, on fresh replications;
            # an interval with tickets and nobody scheduled always misses)
            "met": None if v is None else i not in missed,
            # and held for sure: the 95 % CI's lower end meets the target
            "sure": None if v is None else (i not in missed and v.held and v.ci95 is not None
                                            and v.ci95[0] >= goal),
        })
    return rows


def intervals_table(plan: RosterPlan) -> Table:
    rows = interval_rows(plan)
    where = "fresh replications" if plan.validated_on else "the search replications"
    title = f"Per interval of {duration_text(plan.interval)} (service level on {where})"
    if len(rows) > TABLE_ROWS:
        title += f"; the {TABLE_ROWS} with the least margin of {len(rows)} (all in --json/--csv)"
        rows = sorted(sorted(rows, key=_margin)[:TABLE_ROWS], key=lambda r: r["interval"])
    table = Table(title=title, title_justify="left")
    for col in ("from", "to", "Erlang C", "required", "scheduled", "service level [95% CI]",
                "met"):
        table.add_column(col, justify="right")
    for r in rows:
        level = "-" if r["service_level"] is None else f"{r['service_level']:.1%}"
        if r["ci95"] and r["ci95"][0] != r["ci95"][1]:
            level += f" [{r['ci95'][0]:.1%}, {r['ci95'][1]:.1%}]"
        met = "-" if r["met"] is None else _met_text(r, rich=True)
        table.add_row(duration_text(r["from_s"]), duration_text(r["to_s"]),
                      str(r["erlang_c"]), str(r["required"]), str(r["scheduled"]), level, met)
    return table


def _met_text(r: dict[str, Any], rich: bool = False) -> str:
    """An interval's verdict in words: missed, held for sure, or held on its mean only (its
    CI reaches below the target, or too few tickets for one)."""
    if not r["met"]:
        text = "no: nobody scheduled" if not r["scheduled"] else "no"
        return f"[red]{text}[/]" if rich else text
    if r["sure"]:
        return "[green]yes[/]" if rich else "yes"
    text = "mean only, CI below" if r["ci95"] else "mean only, no CI"
    return f"[yellow]{text}[/]" if rich else text


def _margin(row: dict[str, Any]) -> float:
    ci = row["ci95"]
    level = row["service_level"]
    return 2.0 if level is None else (ci[0] if ci else level)


def roster_dict(plan: RosterPlan, scenario: str, seed: int) -> dict[str, Any]:
    return {
        "simlive_version": __version__,
        "scenario": scenario,
        "seed": seed,
        "targets": [t.text for t in plan.targets],
        "interval_s": plan.interval,
        "met": plan.met,
        "why_not": plan.why or None,
        "search_replications": plan.search_replications,
        "validated_on": None if plan.validated_on is None else
        {"first_replication": plan.validated_on[0], "replications": plan.validated_on[1]},
        "agents": int(plan.heads.sum()),
        "agent_hours": round(plan.agent_hours, 6),
        "cost": round(plan.cost, 6),
        "roster": plan.starts(),
        # as a scenario's aftersales.agents takes them (--write-scenario writes them there)
        "shifts": [{"from": duration_text(a), "to": duration_text(b), "agents": n}
                   for a, b, n in roster_shifts(plan.cols, plan.heads)],
        "templates": [t.model_dump(by_alias=True) for t in plan.roster.templates],
        "intervals": interval_rows(plan),
        "uncovered_intervals": plan.uncovered,
        "rules": [v.to_dict() for v in plan.rules],
        "iterations": [{"iteration": it.number, "replications": it.seeds, "agents": it.heads,
                        "cost": round(it.cost, 6), "intervals_missing": it.misses,
                        "intervals_missed": it.missed,
                        "overall_targets_missing": it.unmet} for it in plan.iterations],
    }


def intervals_csv(plan: RosterPlan) -> str:
    out = io.StringIO()
    fields = ["interval", "from_s", "to_s", "erlang_c", "required", "scheduled",
              "service_level", "ci95_low", "ci95_high", "met", "sure"]
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in interval_rows(plan):
        ci = r.pop("ci95") or [None, None]
        w.writerow({**r, "ci95_low": ci[0], "ci95_high": ci[1]})
    return out.getvalue()


def roster_figures(plan: RosterPlan) -> list[tuple[str, str]]:
    """Required vs scheduled heads, and the achieved service level against the target, over
    time."""
    from simlive.report.figures import pyplot, svg

    plt = pyplot()
    rows = interval_rows(plan)
    hours = [r["from_s"] / 3600 for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    top.step(hours, [r["erlang_c"] for r in rows], where="post", label="Erlang C", ls=":")
    top.step(hours, [r["required"] for r in rows], where="post", label="required")
    top.step(hours, [r["scheduled"] for r in rows], where="post", label="scheduled")
    top.set_ylabel("agents")
    top.legend(fontsize=8)
    pts = [(h, r) for h, r in zip(hours, rows, strict=True) if r["service_level"] is not None]
    xs = [h + plan.interval / 7200 for h, _ in pts]
    ys = [r["service_level"] for _, r in pts]
    lo = [r["service_level"] - (r["ci95"] or [r["service_level"]])[0] for _, r in pts]
    hi = [(r["ci95"] or [0, r["service_level"]])[1] - r["service_level"] for _, r in pts]
    bottom.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ms=3, capsize=2, label="achieved")
    for t in plan.targets:
        if t.within is not None:
            bottom.axhline(t.factor, color="#c5221f", ls="--", label=t.text)
    bottom.set_ylabel("service level")
    bottom.set_xlabel("hours from the start of the broadcast")
    bottom.legend(fontsize=8)
    return [("Agents required, scheduled, and the service level achieved per interval",
             svg(fig))]


def desks_table(desks: list) -> Table:
    """Each desk's roster in a line (``plan --roster`` with ``aftersales.desks``)."""
    table = Table(title=f"Rosters of {len(desks)} desks", title_justify="left")
    for col in ("desk", "agents", "paid agent-hours", "cost", "most on at once",
                "iterations", "checked on", "met"):
        table.add_column(col, justify="left" if col in ("desk", "met") else "right")
    for d in desks:
        p = d.plan
        first, count = p.validated_on or (0, 0)
        table.add_row(d.name, f"{int(p.heads.sum()):,}", f"{p.agent_hours:,.1f}",
                      f"{p.cost:,.2f}", f"{int(p.scheduled.max()) if p.scheduled.size else 0:,}",
                      str(len(p.iterations)),
                      f"{count} fresh ({first}..{first + count - 1})" if count else "-",
                      "yes" if p.met else f"NO: {p.why}")
    return table


def desk_rosters_dict(desks: list, scenario: str, seed: int) -> dict[str, Any]:
    return {"simlive_version": __version__, "scenario": scenario, "seed": seed,
            "met": all(d.plan.met for d in desks),
            "agents": sum(int(d.plan.heads.sum()) for d in desks),
            "agent_hours": round(sum(d.plan.agent_hours for d in desks), 6),
            "cost": round(sum(d.plan.cost for d in desks), 6),
            "desks": [{"desk": d.name, **{k: v for k, v in roster_dict(
                d.plan, scenario, seed).items() if k not in (
                    "simlive_version", "scenario", "seed")}} for d in desks]}


def desk_rosters_csv(desks: list) -> str:
    """The per-interval table of every desk, a ``desk`` column first."""
    out = io.StringIO()
    for k, d in enumerate(desks):
        rows = intervals_csv(d.plan).splitlines()
        if k == 0:
            out.write("desk," + rows[0] + "\n")
        for row in rows[1:]:
            out.write(f"{d.name},{row}\n")
    return out.getvalue()


def roster_status(plan: RosterPlan) -> str:
    """The plan's outcome in a sentence (the terminal's last line, the HTML's summary)."""
    if not plan.met:
        return f"no roster met every target: {plan.why}"
    first, count = plan.validated_on or (0, 0)
    return (f"{int(plan.heads.sum()):,} agents on {len(plan.starts())} (template, start) "
            f"pairs, {plan.agent_hours:,.1f} agent-hours, cost {plan.cost:,.2f}; every target "
            f"held on {count} fresh replications ({first}..{first + count - 1})")


def roster_html_tables(plan: RosterPlan, prefix: str = "") -> list[tuple[str, list[str],
                                                                          list[list[Any]]]]:
    """The roster (template, start, heads, duty) and the intervals, as plain tables for the
    HTML report: the intervals that missed first, then the rest by time."""
    roster = [[r["template"], duration_text(r["start_s"]), r["heads"], duty]
              for r, duty in zip(plan.starts(), _duties(plan), strict=True)]
    rows = interval_rows(plan)
    rows = sorted(rows, key=lambda r: (bool(r["met"]), r["interval"]))
    body = []
    for r in rows:
        level = "-" if r["service_level"] is None else f"{r['service_level']:.1%}"
        if r["ci95"] and r["ci95"][0] != r["ci95"][1]:
            level += f" [{r['ci95'][0]:.1%}, {r['ci95'][1]:.1%}]"
        body.append([duration_text(r["from_s"]), duration_text(r["to_s"]), r["erlang_c"],
                     r["required"], r["scheduled"], level,
                     "-" if r["met"] is None else _met_text(r)])
    where = "fresh replications" if plan.validated_on else "the search replications"
    return [(f"{prefix}Roster: {int(plan.heads.sum()):,} agents, {plan.agent_hours:,.1f} paid "
             f"agent-hours, cost {plan.cost:,.2f}", ["template", "starts at", "heads",
                                                     "on the desk"], roster),
            (f"{prefix}Per interval of {duration_text(plan.interval)} (mean service level "
             f"over {where}, misses first)", ["from", "to", "Erlang C", "required",
                                             "scheduled", "service level [95% CI]", "met"],
             body)]


def desks_html_table(desks: list) -> tuple[str, list[str], list[list[Any]]]:
    """``desks_table`` as a plain table for the HTML report."""
    rows = []
    for d in desks:
        p = d.plan
        first, count = p.validated_on or (0, 0)
        rows.append([d.name, int(p.heads.sum()), f"{p.agent_hours:,.1f}", f"{p.cost:,.2f}",
                     int(p.scheduled.max()) if p.scheduled.size else 0, len(p.iterations),
                     f"{count} fresh ({first}..{first + count - 1})" if count else "-",
                     "yes" if p.met else f"NO: {p.why}"])
    return (f"Rosters of {len(desks)} desks", ["desk", "agents", "paid agent-hours", "cost",
                                               "most on at once", "iterations", "checked on",
                                               "met"], rows)
