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

from simlive.rules import RULES, Party, Status, Verdict, format_duration

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.UNKNOWN: "yellow",
                Status.UNDECIDED: "yellow", Status.NOT_JUDGED: "dim"}


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


KPI_OVER = {
    "orders.paid_fraction": "of the orders accepted (sold-out refusals left out)",
    "aftersales.agent_utilization": "agent time on duty, every shift to the horizon (per "
                                    "shift: the desk-by-shift table)",
    "aftersales.wait.mean_s": "every ticket the desk received",
    "aftersales.first_reply.p95_s": "live chats",
    "aftersales.first_reply.max_s": "every ticket",
    "aftersales.backlog_at_end": "waiting for a first reply when the broadcast ends",
    "presentation.short": "linked products on air under min_presentation (display.complete)",
    "presentation.shortest_s": "the least presented linked product's time on air",
    "presentation.misdescribed": "paid orders not as described (more after a short "
                                 "presentation); a KPI, not tickets for the desk",
}
"""What a KPI is over, where its name alone does not say (the KPI table's last column)."""


def kpi_table(kpis: Mapping[str, Mapping[str, Any]], title: str = "KPIs") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("unit")
    table.add_column("over", overflow="fold")
    for name, k in kpis.items():
        ci = k.get("ci95")
        ci_text = "-" if not ci else f"{fmt_number(ci[0], k['unit'])} .. " \
                                     f"{fmt_number(ci[1], k['unit'])}"
        table.add_row(name, fmt_number(k.get("mean"), k["unit"]), ci_text, k["unit"],
                      KPI_OVER.get(name, ""))
    return table


def share(x: float) -> str:
    """A probability as a percentage (two significant digits below 1 %)."""
    return f"{x * 100:.2g}%" if 0 < x < 0.01 else f"{x * 100:.1f}%"


DECIDED_NOTE = {"model": " (model)", "sequential": " (SPRT)"}
"""How a decided verdict was reached, after its k/n (nothing for the interval rule)."""


def _over_replications(v: Verdict) -> str:
    """The measured figures as mean [95% CI] over replications."""
    parts = []
    for name, figure in (v.measured_ci or {}).items():
        unit = "s" if name.endswith("_s") else "fraction" if name == "fraction" else ""
        text = fmt_number(figure["mean"], unit)
        if figure["ci95"]:
            lo, hi = figure["ci95"]
            text += f" [{fmt_number(lo, unit)}, {fmt_number(hi, unit)}]"
        parts.append(f"{name.removesuffix('_s')}={text}")
    return ", ".join(parts)


NARROW = 120
"""Below this many columns the verdicts are a list (evidence under each rule), not a table
whose evidence column would break words mid-way."""


def by_party(verdicts: Iterable[Verdict]) -> list[tuple[Party, list[Verdict]]]:
    """The verdicts of each party that owes rules (platform, brand store, host), in the
    rulebook's order within each: what each of them must act on."""
    verdicts = list(verdicts)
    return [(party, mine) for party in Party
            if (mine := [v for v in verdicts if RULES[v.rule_id].party is party])]


class VerdictView:
    """The verdicts as a table on a wide terminal, as a list on a narrow one: decided when
    printed, from the console's width (the terminal's, or ``COLUMNS``). ``parties``: one
    table per party that owes the rules (``--by-party``)."""

    def __init__(self, verdicts: Iterable[Verdict], title: str = "Compliance",
                 parties: bool = False) -> None:
        self.verdicts, self.title, self.parties = list(verdicts), title, parties

    def __rich_console__(self, console: Any, options: Any) -> Any:
        if not self.parties:
            yield from self._one(self.title, self.verdicts, options)
            return
        for party, mine in by_party(self.verdicts):
            yield from self._one(f"{self.title}: owed by the {party.value}", mine, options)

    def _one(self, title: str, verdicts: list[Verdict], options: Any) -> Any:
        if options.max_width >= NARROW:
            yield verdict_table(verdicts, title)
            return
        from rich.text import Text

        odds = any(v.odds is not None for v in verdicts)
        yield Text(title, style="italic")
        for v in verdicts:
            head = Text(v.rule_id, style="bold")
            head.append("  ")
            head.append(v.status.value, style=STATUS_STYLE[v.status])
            o = v.odds
            if o is not None:
                head.append(f"  broken {o.broken_in}/{o.replications}"
                            f"{DECIDED_NOTE.get(o.decided_by, '')}, P(broken) "
                            f"{share(o.p_broken)} [{share(o.ci95[0])}, {share(o.ci95[1])}]"
                            f", risk {share(o.risk)}")
            yield head
            label = "measured (mean [95% CI])" if v.measured_ci else "measured"
            measured = _over_replications(v) if v.measured_ci else compact(v.measured)
            for name, text in ((label, measured), ("limit", compact(v.limit)),
                               ("evidence", v.evidence)):
                line = Text("    " + name + ": ", style="dim")
                line.append(text)
                yield line
        if odds:
            yield Text("")


def verdict_table(verdicts: Iterable[Verdict], title: str = "Compliance") -> Table:
    """One row per rule; simulated verdicts add in how many broadcasts the rule broke and
    P(broken) with its exact 95 % interval against the risk."""
    verdicts = list(verdicts)
    odds = any(v.odds is not None for v in verdicts)
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("status")
    if odds:
        table.add_column("broken", justify="right")
        table.add_column("P(broken) [95% CI]", justify="right")
        table.add_column("risk", justify="right")
    # the terminal shows the mean over the replications, the JSON and HTML the worst one:
    # each says which
    ci = any(v.measured_ci for v in verdicts)
    table.add_column("measured: mean [95% CI]" if ci else "measured", overflow="fold")
    table.add_column("limit", overflow="fold")
    table.add_column("evidence", overflow="fold")
    for v in verdicts:
        row = [v.rule_id, f"[{STATUS_STYLE[v.status]}]{v.status.value}[/]"]
        if odds:
            o = v.odds
            if o is None:
                row += ["-", "-", "-"]
            else:
                row += [f"{o.broken_in}/{o.replications}{DECIDED_NOTE.get(o.decided_by, '')}",
                        f"{share(o.p_broken)} [{share(o.ci95[0])}, {share(o.ci95[1])}]",
                        share(o.risk)]
        measured = _over_replications(v) if v.measured_ci else compact(v.measured)
        row += [measured, compact(v.limit), v.evidence]
        table.add_row(*row)
    return table


def sold_out_table(rows: list[dict[str, Any]], replications: int, first: int = 10) -> Table:
    """The first SKUs to sell out (a buyer refused for want of stock), earliest first."""
    shown = rows[:first]
    table = Table(title=f"First {len(shown)} of {len(rows)} SKUs to sell out",
                  title_justify="left")
    for col in ("SKU", "name", "sold out in", "at (mean)", "into its slot"):
        table.add_column(col, justify="left" if col in ("SKU", "name") else "right")
    for row in shown:
        table.add_row(row["sku"], row["name"], f"{row['replications']} of {replications}",
                      fmt_number(row["at_s"]["mean"], "s"), fmt_number(row["into_slot_s"], "s"))
    return table


def desk_rows(desks: list[dict[str, Any]]) -> list[list[str]]:
    """Each desk as the cells of a row (terminal and HTML): agents at the busiest, tickets,
    the first service level, waits, first replies, utilization, the backlog when the
    broadcast ends, open at the horizon, and its verdict on the after-sales rules."""
    rows = []
    for d in desks:
        k = d["kpis"]

        def mean(name: str, unit: str = "", k: dict = k) -> str:
            return fmt_number((k.get(name) or {}).get("mean"), unit)
        level = next((n for n in k if n.startswith("aftersales.service_level(")), None)
        off = [r["id"].split(".", 1)[1] for r in d["rules"] if r["status"] == d["status"]]
        verdict = d["status"] + ("" if d["status"] == "pass" else
                                 f": {', '.join(off)}" if d["status"] == "fail" else
                                 f" ({len(off)} rules)")
        rows.append([d["name"], str(d["skus"]), str(max((a["agents"] for a in d["agents"]),
                                                       default=0)),
                     mean("aftersales.tickets"),
                     (level[len("aftersales.service_level("):-1] + " " + mean(level, "fraction"))
                     if level else "-",
                     mean("aftersales.wait.mean_s", "s"),
                     mean("aftersales.first_reply.p95_s", "s"),
                     mean("aftersales.agent_utilization", "fraction"),
                     mean("aftersales.backlog_at_end"), mean("aftersales.open_at_horizon"),
                     verdict])
    return rows


DESK_COLUMNS = ("desk", "SKUs", "agents", "tickets", "service level", "wait mean",
                "chat p95", "utilization", "backlog at end", "open at horizon", "verdict")


def desk_table(desks: list[dict[str, Any]], first: int = 25) -> Table:
    """The desks (``aftersales.desks``), the pooled desk first; the first ``first``."""
    shown = desks[:first]
    more = f" (first {len(shown)} of {len(desks)}; all in the JSON)" if len(desks) > first \
        else ""
    table = Table(title=f"Desks{more}", title_justify="left")
    for col in DESK_COLUMNS:
        table.add_column(col, justify="left" if col in ("desk", "verdict") else "right")
    for row in desk_rows(shown):
        table.add_row(*row)
    return table


def shift_table(shifts: list[dict[str, Any]],
                title: str = "Desk by shift: the pooled desk (aftersales.agents)") -> Table:
    """The desk KPIs of each shift: utilization is the share of the shift's own agent time
    spent serving, not an average over the whole horizon."""
    table = Table(title=title, title_justify="left")
    for col in ("shift", "agents", "tickets", "wait mean", "first reply p95", "abandoned",
                "utilization"):
        table.add_column(col, justify="right" if col != "shift" else "left")
    for sh in shifts:
        def mean(name: str, unit: str = "", sh: dict = sh) -> str:
            return fmt_number((sh.get(name) or {}).get("mean"), unit)
        table.add_row(f"{format_duration(sh['from_s'])} .. {format_duration(sh['to_s'])}",
                      str(sh["agents"]), mean("aftersales.tickets"),
                      mean("aftersales.wait.mean_s", "s"),
                      mean("aftersales.first_reply.p95_s", "s"),
                      mean("aftersales.abandoned_fraction", "fraction"),
                      mean("aftersales.agent_utilization", "fraction"))
    return table


def summary(verdicts: Iterable[Verdict], thresholds: Iterable[Any] = ()) -> str:
    """The closing line(s) of every command that judges rules: what failed, what could not
    be judged (unknown is never a pass), what more replications would decide, which
    thresholds broke; else one PASS line."""
    verdicts, thresholds = list(verdicts), list(thresholds)
    failed = [v.rule_id for v in verdicts if v.status is Status.FAIL]
    unknown = [v.rule_id for v in verdicts if v.status is Status.UNKNOWN]
    undecided = [v for v in verdicts if v.status is Status.UNDECIDED]
    slow = [t.name for t in thresholds if not t.passed]
    lines = []
    if failed:
        lines.append(f"FAIL: {len(failed)} rule(s) broken: {', '.join(failed)}")
    if unknown:
        lines.append(f"UNKNOWN: {len(unknown)} rule(s) could not be judged (unknown is not "
                     f"a pass): {', '.join(unknown)}")
    if undecided:
        more = [v.odds.more for v in undecided if v.odds is not None]
        hint = (f"; about {max(m for m in more if m is not None)} more replications would "
                "likely decide them (--until-decided)" if any(m is not None for m in more)
                else "; run more replications (--until-decided)")
        lines.append(f"UNDECIDED: {len(undecided)} rule(s) neither established within nor "
                     f"beyond their risk: {', '.join(v.rule_id for v in undecided)}{hint}")
    if slow:
        lines.append(f"FAIL: threshold(s) broken: {', '.join(slow)}")
    skipped = [v.rule_id for v in verdicts if v.status is Status.NOT_JUDGED]
    aside = (f"NOT JUDGED: {len(skipped)} rule(s) the scenario does not model (see each "
             f"row for what to add): {', '.join(skipped)}") if skipped else ""
    if lines:
        return "\n".join(lines + ([aside] if aside else []))
    simulated = any(v.odds is not None for v in verdicts)
    every = "every rule judged passes" if skipped else "every rule passes"
    return "PASS: " + every + (
        " (P(broken) within its risk established)" if simulated else "") + (
        " and every threshold holds" if thresholds else "") + (f"\n{aside}" if aside else "")
