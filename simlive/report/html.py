"""The HTML report: one self-contained file, verdicts first, then the plots.

The page is a Jinja2 template (``templates/report.html.j2``) with autoescape on: this
module turns a result dict into plain rows of text, the template lays them out, and only
the plots (inline SVG that ``report.figures`` draws, so the file opens anywhere with no
network and no JavaScript) go in unescaped. The same result gives the same bytes (fixed SVG
ids, no dates). This module only builds the text; the CLI writes it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simlive.report.figures import odds_figure, run_figures, service_level_figure
from simlive.report.tables import (
    DECIDED_NOTE,
    DESK_COLUMNS,
    compact,
    desk_rows,
    fmt_number,
    share,
)

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
.meta,.basis{color:#5b6475} table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e2e5ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f9} td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#137333;font-weight:600} .fail{color:#c5221f;font-weight:600}
.unknown,.undecided{color:#b06000;font-weight:600} .judged{color:#5b6475;font-style:italic}
figure{margin:1rem 0} figure svg{width:100%;height:auto}
.summary{font-size:1.1rem;padding:.6rem 1rem;border-radius:6px;display:inline-block}
.summary.pass{background:#e6f4ea} .summary.fail{background:#fce8e6}
.summary.unknown,.summary.undecided{background:#fef7e0}
"""


@cache
def _template() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("simlive.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def render_html(result: dict[str, Any], series: dict[str, Any] | None,
                extra_figures: list[tuple[str, str]] | None = None) -> str:
    """The report for a ``run`` (or ``check``/``plan``) result dict, as one HTML string."""
    from markupsafe import Markup

    rules = result.get("rules", [])
    statuses = {r["status"] for r in rules}
    overall = next((st for st in ("fail", "unknown", "undecided") if st in statuses), "pass")
    broken = [r["id"] for r in rules if r["status"] == "fail"]
    odds = any("broken_in" in r for r in rules)
    limits = next((r.get("limit") or {} for r in rules
                   if r["id"] == "aftersales.first-reply"), {})
    figures = ([("P(broken) per rule against its risk", odds_figure(rules))] if odds else [])
    figures += (run_figures(series, limits) if series else []) + (extra_figures or [])
    if result.get("service_level_by_interval"):
        figures.append(service_level_figure(result["service_level_by_interval"]))
    unknown = [r["id"] for r in rules if r["status"] == "unknown"]
    undecided = [r["id"] for r in rules if r["status"] == "undecided"]
    summary = ("every rule passes" if overall == "pass" else
               f"{len(broken)} rule(s) broken: {', '.join(broken)}" if broken else
               f"{len(unknown)} rule(s) could not be judged: {', '.join(unknown)}" if unknown
               else f"{len(undecided)} rule(s) undecided (more replications needed): "
               f"{', '.join(undecided)}")
    thresholds = result.get("thresholds") or []
    slow = [t["name"] for t in thresholds if t["status"] != "pass"]
    if slow:
        summary += f"; threshold(s) broken: {', '.join(slow)}"
        overall = "fail"
    plan = result.get("plan")
    plan_tables: list[Any] = []
    if plan is not None:  # a plan's own status first; the rules as judged on its check
        ruled = (f"; the scenario's rules on the {plan.get('replications', '')} fresh "
                 f"replications: {summary}") if rules else "; no rule judged"
        summary = plan["summary"] + ruled
        overall = overall if plan["met"] else "fail"
        plan_tables = [(title, head, [[str(c) for c in row] for row in rows])
                       for title, head, rows in plan.get("tables", [])]
    return str(_template().render(
        style=STYLE, scenario=str(result.get("scenario", "")),
        version=str(result.get("simlive_version", "")), meta=result.get("meta"),
        seed=result.get("seed", ""), replications=result.get("replications", ""),
        overall=overall, summary=summary, plan_tables=plan_tables,
        show_rules=bool(rules) or plan is None, odds=odds,
        rules=[_rule_row(r) for r in rules],
        thresholds=[_threshold_row(t) for t in thresholds],
        rates=[_rate_row(r) for r in result.get("rates") or []],
        flash_sales=[_flash_row(s) for s in result.get("flash_sales") or []],
        warnings=result.get("warnings") or [],
        kpis=[{"name": name, "mean": fmt_number(k.get("mean"), k["unit"]), "ci": _ci(k),
               "unit": k["unit"]} for name, k in result.get("kpis", {}).items()],
        desk_columns=list(DESK_COLUMNS), desks=_desk_rows(result.get("desks") or []),
        sold_out=[{"sku": r["sku"], "name": r["name"], "replications": r["replications"],
                   "at": fmt_number(r["at_s"]["mean"], "s"),
                   "into_slot": fmt_number(r["into_slot_s"], "s")}
                  for r in result.get("sold_out") or []],
        figures=[(title, Markup(svg)) for title, svg in figures]))


def _rule_row(r: dict[str, Any]) -> dict[str, Any]:
    odds = None
    if "broken_in" in r:
        lo, hi = r["p_broken_ci95"]
        odds = {"broken": f"{r['broken_in']}/{r['replications']}"
                          f"{DECIDED_NOTE.get(r.get('decided_by', ''), '')}",
                "p": f"{share(r['p_broken'])} [{share(lo)}, {share(hi)}]",
                "risk": share(r["risk"])}
    return {"id": r["id"], "name": r.get("name", ""), "status": r["status"], "odds": odds,
            "measured": compact(r.get("measured")), "limit": compact(r.get("limit")),
            "evidence": r.get("evidence", ""), "basis": _basis(r)}


def _basis(r: dict[str, Any]) -> str:
    """What the rule rests on and who owes it, from the rulebook (one source, whatever a
    stored run's verdicts carried)."""
    from simlive.rules import RULES

    rule = RULES.get(r["id"])
    return (f"{rule.basis.value}, owed by the {rule.party.value}: {rule.source}"
            if rule else "")


def _threshold_row(t: dict[str, Any]) -> dict[str, Any]:
    return {"name": t["name"], "status": t["status"],
            "measured": "-" if t["measured"] is None else f"{t['measured']:.4g}",
            "limit": format(t["limit"], "g")}


def _rate_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"operation": r["operation"], "peak": f"{r['peak_rate']:g}",
            "target": f"{r['target_rate']:.1f}", "achieved": f"{r['achieved_rate']:.1f}",
            "dropped": r["dropped"], "kept_up": r["kept_up"]}


def _flash_row(r: dict[str, Any]) -> dict[str, Any]:
    """One flash sale of a load run: buyers released together, how close, how many in
    flight at once, and the answers."""
    sp = r.get("spread_ms") or {}
    return {"number": r["index"] + 1, "sku": r["sku"], "units": r["units"] or "-",
            "planned": r["planned"], "released": r["released"],
            "spread": f"{sp['p50']:.0f} / {sp['p99']:.0f} / {sp['max']:.0f}" if sp else "-",
            "cls": "pass" if r.get("contended") and not r.get("warnings") else "fail",
            "max_in_flight": r["max_in_flight"],
            "answers": ", ".join(f"{k} {v}" for k, v in sorted((r.get("outcomes") or {})
                                                               .items())),
            "why": r.get("why", ""), "units_added": r.get("units_added", "")}


def _desk_rows(desks: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    """Every desk (``aftersales.desks``), its KPIs and its verdict on the after-sales rules:
    (class, text) per cell, numbers right-aligned, the status coloured."""
    return [[("num" if 0 < i < len(row) - 1 else d["status"] if i else "", str(cell))
             for i, cell in enumerate(row)]
            for d, row in zip(desks, desk_rows(desks), strict=True)]


def _ci(k: dict[str, Any]) -> str:
    ci = k.get("ci95")
    if not ci:
        return "-"
    return f"{fmt_number(ci[0], k['unit'])} .. {fmt_number(ci[1], k['unit'])}"
