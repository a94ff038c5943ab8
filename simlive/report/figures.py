"""The report's plots: matplotlib figures drawn as inline SVG, byte-stable.

Fixed SVG ids and no dates, so the same result gives the same bytes; the HTML page
(``report.html``) and the plan and load reports embed them as they are.
"""

from __future__ import annotations

import io
import re
from typing import Any


def svg(fig: Any) -> str:
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


def run_figures(series: dict[str, Any], limits: dict[str, float]) -> list[tuple[str, str]]:
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
    out.append(("Viewers present and orders per second", svg(fig)))

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
                    svg(fig)))

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
                "(replication 0)", svg(fig)))

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
        out.append(("First-reply times against the SLA", svg(fig)))
    return out


def odds_figure(rules: list[dict[str, Any]]) -> str:
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
    return svg(fig)


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


def service_level_figure(levels: dict[str, Any]) -> tuple[str, str]:
    """The desk's service level per interval, with the tickets that arrived in each and how
    busy the agents on duty were."""
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
    busy = [(h, u * 100) for h, u in zip(hours, levels.get("utilization") or [], strict=False)
            if u is not None]
    if busy:  # the agents' side of the same hours: busy share of their time on duty
        ax2.step([h for h, _ in busy], [u for _, u in busy], where="post", color="#e37400",
                 label="agents busy, % of their time on duty")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("service level, busy, %")
    fig.legend(loc="upper right")
    title = (f"Service level per {format_duration(levels['interval_s'])}: first reply within "
             f"{format_duration(levels['within_s'])}")
    return title, svg(fig)
