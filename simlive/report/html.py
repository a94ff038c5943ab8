"""The HTML report: one self-contained file, verdicts first, then the plots.

Plots are drawn with matplotlib as inline SVG, so the file opens anywhere with no network and
no JavaScript, and the same result gives the same bytes (fixed SVG ids, no dates). This
module only builds the text; the CLI writes it.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

from simlive.report.tables import DECIDED_NOTE, compact, fmt_number, share

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#5b6475} table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e2e5ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f9} td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#137333;font-weight:600} .fail{color:#c5221f;font-weight:600}
.unknown,.undecided{color:#b06000;font-weight:600}
figure{margin:1rem 0} figure svg{width:100%;height:auto}
.summary{font-size:1.1rem;padding:.6rem 1rem;border-radius:6px;display:inline-block}
.summary.pass{background:#e6f4ea} .summary.fail{background:#fce8e6}
.summary.unknown,.summary.undecided{background:#fef7e0}
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text[text.index("<svg"):]


def pyplot() -> Any:
    """matplotlib's pyplot, headless and set up for byte-stable SVG (fixed hash salt, text
    kept as text): the one setup every report's plots share."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "simlive"
    matplotlib.rcParams["svg.fonttype"] = "none"
    return plt


def _figures(series: dict[str, Any], limits: dict[str, float]) -> list[tuple[str, str]]:
    plt = pyplot()
    out: list[tuple[str, str]] = []
    hours = [t / 3600 for t in series["time_s"]]

    fig, ax = plt.subplots(figsize=(10, 3.4))
    ax.plot(hours, series["viewers"], color="#1a73e8", label="viewers present")
    ax.set_xlabel("hours into the broadcast")
    ax.set_ylabel("viewers")
    ax2 = ax.twinx()
    ax2.plot(hours, series["orders_per_s"], color="#e8710a", lw=0.9, label="orders/s")
    ax2.set_ylabel("orders per second")
    fig.legend(loc="upper right")
    out.append(("Viewers present and orders per second", _svg(fig)))

    stock = series.get("stock", {})
    if stock:
        ranked = sorted(stock, key=lambda k: (stock[k]["real"][0] - min(stock[k]["real"]),
                                              k), reverse=True)[:6]
        fig, axes = plt.subplots(len(ranked), 1, figsize=(10, 1.6 * len(ranked) + 0.6),
                                 sharex=True, squeeze=False)
        for ax, sku in zip(axes[:, 0], ranked, strict=True):
            n = len(stock[sku]["real"])
            ax.step(hours[:n], stock[sku]["real"], where="post", color="#137333",
                    label="real")
            ax.step(hours[:n], stock[sku]["displayed"], where="post", color="#c5221f",
                    ls="--", label="displayed")
            ax.set_ylabel(sku, rotation=0, ha="right", fontsize=8)
        axes[0, 0].legend(loc="upper right", fontsize=8)
        axes[-1, 0].set_xlabel("hours into the broadcast")
        out.append(("Stock per SKU: real and displayed (the SKUs that sold most)",
                    _svg(fig)))

    # two panels: the broadcast in minutes (where live chats queue), the after-sales days
    end = float(series.get("broadcast_s") or 0.0)
    bt, backlog, agents = series["backlog_time_s"], series["backlog"], series["agents"]
    live = [k for k, t in enumerate(bt) if t <= end] if end else []
    after = [k for k, t in enumerate(bt) if t >= end] if end else list(range(len(bt)))
    panels = [(live, 60.0, "minutes into the broadcast"),
              (after, 86400.0, "days from the start of the broadcast")]
    panels = [p for p in panels if len(p[0]) > 1]
    fig, axes_ = plt.subplots(1, len(panels), figsize=(10, 3.2), squeeze=False)
    for ax, (idx, unit, label) in zip(axes_[0], panels, strict=True):
        xs = [bt[k] / unit for k in idx]
        ax.plot(xs, [backlog[k] for k in idx], color="#9334e6",
                label="tickets awaiting a reply")
        ax.set_xlabel(label)
        ax.set_ylabel("tickets")
        ax2 = ax.twinx()
        ax2.step(xs, [agents[k] for k in idx], where="post", color="#5b6475", lw=0.9,
                 label="agents on shift")
        ax2.set_ylabel("agents")
    axes_[0][0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out.append(("After-sales backlog and agents on shift: during the broadcast, and after "
                "(replication 0)", _svg(fig)))

    replies = series.get("first_reply_chat_s", [])
    if replies:
        fig, ax = plt.subplots(figsize=(10, 3.0))
        ax.hist([r / 60 for r in replies], bins=60, color="#1a73e8", alpha=0.8)
        sla = limits.get("chat_p95_s")
        if sla:
            ax.axvline(sla / 60, color="#c5221f", ls="--", label=f"SLA p95 {sla / 60:g} min")
            ax.legend()
        ax.set_xlabel("first reply to a live chat (minutes)")
        ax.set_ylabel("chats")
        out.append(("First-reply times against the SLA", _svg(fig)))
    return out


def _odds_cells(r: dict[str, Any]) -> str:
    if "broken_in" not in r:
        return "<td></td><td></td><td></td>"
    lo, hi = r["p_broken_ci95"]
    how = DECIDED_NOTE.get(r.get("decided_by", ""), "")
    return (f"<td class='num'>{r['broken_in']}/{r['replications']}{how}</td>"
            f"<td class='num'>{share(r['p_broken'])} [{share(lo)}, {share(hi)}]</td>"
            f"<td class='num'>{share(r['risk'])}</td>")


def _odds_figure(rules: list[dict[str, Any]]) -> str:
    """Each rule's P(broken) with its exact 95 % interval, and the risk it may run."""
    plt = pyplot()
    shown = [r for r in rules if "broken_in" in r]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.2))
    colour = {"pass": "#137333", "fail": "#c5221f"}
    for i, r in enumerate(reversed(shown)):
        lo, hi = r["p_broken_ci95"]
        c = colour.get(r["status"], "#b06000")
        ax.plot([lo * 100, hi * 100], [i, i], color=c, linewidth=3, solid_capstyle="butt")
        ax.plot([r["p_broken"] * 100], [i], "o", color=c)
        ax.plot([r["risk"] * 100] * 2, [i - 0.4, i + 0.4], color="#1d2330", linewidth=1)
        # why it is decided: a pass whose interval still crosses the risk was decided by
        # Wald's test (the odds of its k of n), not by the interval
        ax.annotate(_decided(r), (1.0, i), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=7,
                    color=c, annotation_clip=False)
    ax.set_yticks(range(len(shown)), [r["id"] for r in reversed(shown)])
    ax.set_xlabel("P(broken) in one broadcast, % (bar: exact 95% interval; tick: the risk)")
    top = max(max(r["p_broken_ci95"][1], r["risk"]) for r in shown) if shown else 1.0
    ax.set_xlim(0, min(100.0, top * 110))
    fig.subplots_adjust(right=0.72)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _decided(r: dict[str, Any]) -> str:
    """How a rule's verdict was reached, in a few words beside its bar."""
    n, k = r.get("replications"), r.get("broken_in")
    how = r.get("decided_by")
    if how == "model":
        return (f"{r['status']}: the scenario's policies make it break in "
                f"{'every' if r['status'] == 'fail' else 'no'} broadcast")
    if how == "sequential":
        return (f"{r['status']} by Wald's test: {k} broken in {n} decides P(broken) "
                f"{'within' if r['status'] == 'pass' else 'beyond'} the risk")
    if how == "interval":
        side = "below" if r["status"] == "pass" else "above"
        return f"{r['status']}: the whole interval is {side} the risk"
    more = r.get("more_replications")
    return f"{r['status']}: {k} of {n}" + (f", ~{more} more would decide" if more else "")


def _service_level_figure(levels: dict[str, Any]) -> tuple[str, str]:
    """The desk's service level per interval, with the tickets that arrived in each."""
    from simlive.rules import format_duration

    plt = pyplot()
    hours = [t / 3600 for t in levels["from_s"]]
    fig, ax = plt.subplots(figsize=(10, 3.4))
    ax.bar(hours, levels["offered"], width=levels["interval_s"] / 3600, align="edge",
           color="#dadce0", label="tickets arrived (per replication)")
    ax.set_ylabel("tickets")
    ax.set_xlabel("hours from the broadcast's start")
    ax2 = ax.twinx()
    shown = [(h, v * 100) for h, v in zip(hours, levels["level"], strict=True) if v is not None]
    ax2.step([h for h, _ in shown], [v for _, v in shown], where="post", color="#1a73e8",
             label="answered within the threshold, %")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("service level, %")
    fig.legend(loc="upper right")
    title = (f"Service level per {format_duration(levels['interval_s'])}: first reply within "
             f"{format_duration(levels['within_s'])}")
    return title, _svg(fig)


def render_html(result: dict[str, Any], series: dict[str, Any] | None,
                extra_figures: list[tuple[str, str]] | None = None) -> str:
    """The report for a ``run`` (or ``check``/``plan``) result dict, as one HTML string."""
    esc = html.escape
    rules = result.get("rules", [])
    statuses = {r["status"] for r in rules}
    overall = next((st for st in ("fail", "unknown", "undecided") if st in statuses), "pass")
    broken = [r["id"] for r in rules if r["status"] == "fail"]
    odds = any("broken_in" in r for r in rules)
    rows = "".join(
        f"<tr><td><code>{esc(r['id'])}</code><br>{esc(r.get('name', ''))}</td>"
        f"<td class='{esc(r['status'])}'>{esc(r['status'])}</td>"
        + (_odds_cells(r) if odds else "")
        + f"<td>{esc(compact(r.get('measured')))}</td><td>{esc(compact(r.get('limit')))}</td>"
        f"<td>{esc(r.get('evidence', ''))}</td></tr>" for r in rules)
    odds_head = "<th>broken</th><th>P(broken) [95% CI]</th><th>risk</th>" if odds else ""
    kpis = "".join(
        f"<tr><td>{esc(name)}</td><td class='num'>{esc(fmt_number(k.get('mean'), k['unit']))}"
        f"</td><td class='num'>{esc(_ci(k))}</td><td>{esc(k['unit'])}</td></tr>"
        for name, k in result.get("kpis", {}).items())
    limits = next((r.get("limit") or {} for r in rules
                   if r["id"] == "aftersales.first-reply"), {})
    figures = ([("P(broken) per rule against its risk", _odds_figure(rules))] if odds else [])
    figures += (_figures(series, limits) if series else []) + (extra_figures or [])
    if result.get("service_level_by_interval"):
        figures.append(_service_level_figure(result["service_level_by_interval"]))
    figs = "".join(f"<h2>{esc(title)}</h2><figure>{svg}</figure>" for title, svg in figures)
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
    plan_tables = ""
    if plan is not None:  # a plan's own status first; the rules as judged on its check
        ruled = (f"; the scenario's rules on the {plan.get('replications', '')} fresh "
                 f"replications: {summary}") if rules else "; no rule judged"
        summary = plan["summary"] + ruled
        overall = overall if plan["met"] else "fail"
        plan_tables = "".join(_plain_table(*t) for t in plan.get("tables", []))
    th_rows = "".join(_threshold_row(t) for t in thresholds)
    th_table = ("<h2>Performance thresholds</h2><table id='thresholds'><thead><tr><th>"
                "threshold</th><th>status</th><th>measured</th><th>limit</th></tr></thead>"
                f"<tbody>{th_rows}</tbody></table>") if thresholds else ""
    rate_rows = "".join(
        f"<tr><td>{esc(r['operation'])}</td><td class='num'>{r['peak_rate']:g}</td>"
        f"<td class='num'>{r['target_rate']:.1f}</td><td class='num'>{r['achieved_rate']:.1f}"
        f"</td><td class='num'>{r['dropped']}</td><td class='{'pass' if r['kept_up'] else 'fail'}'>"
        f"{'yes' if r['kept_up'] else 'NO'}</td></tr>" for r in result.get("rates") or [])
    warn = "".join(f"<p class='summary fail'>warning: {esc(w)}</p>"
                   for w in result.get("warnings") or [])
    rate_table = ("<h2>Load profile: planned vs achieved</h2><table id='rates'><thead><tr>"
                  "<th>operation</th><th>peak /s</th><th>planned /s</th><th>achieved /s</th>"
                  f"<th>dropped</th><th>held?</th></tr></thead><tbody>{rate_rows}</tbody>"
                  "</table>") if rate_rows else ""
    flash_table = _flash_table(result.get("flash_sales") or [])
    kpi_table = ("<h2>KPIs</h2><table id='kpis'><thead><tr><th>KPI</th><th>mean</th><th>95% "
                 f"CI</th><th>unit</th></tr></thead><tbody>{kpis}</tbody></table>"
                 ) if kpis else ""
    sold = result.get("sold_out") or []
    sold_rows = "".join(
        f"<tr><td><code>{esc(r['sku'])}</code></td><td>{esc(r['name'])}</td>"
        f"<td class='num'>{r['replications']}</td>"
        f"<td class='num'>{esc(fmt_number(r['at_s']['mean'], 's'))}</td>"
        f"<td class='num'>{esc(fmt_number(r['into_slot_s'], 's'))}</td></tr>" for r in sold)
    sold_table = ("<h2>Sold out (a buyer refused for want of stock), earliest first</h2>"
                  "<table id='sold-out'><thead><tr><th>SKU</th><th>name</th><th>"
                  "replications</th><th>at (mean)</th><th>into its slot</th></tr></thead>"
                  f"<tbody>{sold_rows}</tbody></table>") if sold_rows else ""
    desk_table = _desk_table(result.get("desks") or [])
    meta = result.get("meta") or (f"seed {result.get('seed', '')} &middot; "
                                  f"{result.get('replications', '')} replication(s)")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>simlive: {esc(str(result.get('scenario', '')))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>simlive report: {esc(str(result.get('scenario', '')))}</h1>"
        f"<p class='meta'>simlive {esc(str(result.get('simlive_version', '')))} &middot; "
        f"{esc(meta).replace('&amp;middot;', '&middot;')}</p>"
        f"<p class='summary {overall}'>{esc(summary)}</p>{plan_tables}"
        + ("<h2>Compliance</h2><table id='verdicts'><thead><tr><th>rule</th><th>status</th>"
           f"{odds_head}<th>{'measured (worst replication)' if odds else 'measured'}</th>"
           "<th>limit</th><th>evidence</th></tr></thead>"
           f"<tbody>{rows}</tbody></table>" if rules or plan is None else "")
        + f"{th_table}{rate_table}{flash_table}{warn}{kpi_table}"
        f"{desk_table}{sold_table}{figs}</body></html>\n"
    )


def _plain_table(title: str, head: list[str], rows: list[list[Any]]) -> str:
    """A titled table of plain cells (a plan's roster, its intervals)."""
    esc = html.escape
    cells = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>"
                    for r in rows)
    heads = "".join(f"<th>{esc(h)}</th>" for h in head)
    return (f"<h2>{esc(title)}</h2><table><thead><tr>{heads}</tr></thead>"
            f"<tbody>{cells}</tbody></table>")


def _flash_table(sales: list[dict[str, Any]]) -> str:
    """Each flash sale of a load run: buyers released together, how close, how many in
    flight at once, and the answers."""
    if not sales:
        return ""
    esc = html.escape
    rows = []
    for r in sales:
        sp = r.get("spread_ms") or {}
        spread = (f"{sp['p50']:.0f} / {sp['p99']:.0f} / {sp['max']:.0f}" if sp else "-")
        cls = "pass" if r.get("contended") and not r.get("warnings") else "fail"
        answers = ", ".join(f"{k} {v}" for k, v in sorted((r.get("outcomes") or {}).items()))
        rows.append(f"<tr><td class='num'>{r['index'] + 1}</td><td><code>{esc(r['sku'])}"
                    f"</code></td><td class='num'>{r['units'] or '-'}</td>"
                    f"<td class='num'>{r['planned']}</td><td class='num'>{r['released']}</td>"
                    f"<td class='num'>{esc(spread)}</td><td class='{cls}'>"
                    f"{r['max_in_flight']}</td><td>{esc(answers)}</td>"
                    f"<td>{esc(r.get('why', ''))}; units: {esc(r.get('units_added', ''))}"
                    "</td></tr>")
    return ("<h2>Flash sales: buyers released together</h2><table id='flash-sales'><thead>"
            "<tr><th>sale</th><th>SKU</th><th>units</th><th>buyers planned</th><th>released"
            "</th><th>send spread from the release, ms (p50 / p99 / max)</th><th>checkouts "
            "in flight at once (client)</th><th>answers</th><th>why</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>")


def _desk_table(desks: list[dict[str, Any]]) -> str:
    """Every desk (``aftersales.desks``), its KPIs and its verdict on the after-sales rules."""
    from simlive.report.tables import DESK_COLUMNS, desk_rows

    if not desks:
        return ""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in DESK_COLUMNS)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='{'num' if 0 < i < len(row) - 1 else d['status'] if i else ''}'>"
            f"{esc(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for d, row in zip(desks, desk_rows(desks), strict=True))
    return (f"<h2>Desks</h2><table id='desks'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _threshold_row(t: dict[str, Any]) -> str:
    esc = html.escape
    measured = "-" if t["measured"] is None else f"{t['measured']:.4g}"
    return (f"<tr><td>{esc(t['name'])}</td><td class='{esc(t['status'])}'>"
            f"{esc(t['status'])}</td><td class='num'>{esc(measured)}</td>"
            f"<td class='num'>{esc(format(t['limit'], 'g'))}</td></tr>")


def _ci(k: dict[str, Any]) -> str:
    ci = k.get("ci95")
    if not ci:
        return "-"
    return f"{fmt_number(ci[0], k['unit'])} .. {fmt_number(ci[1], k['unit'])}"
