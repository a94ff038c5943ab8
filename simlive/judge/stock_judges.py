"""The judges of the goods: stock sold, shown and booked, and the goods shipped as promised.

Each rule's ``broken`` (one broadcast's record against the rule's parameters) and
``report`` (what was measured, against which limit, in one sentence); the registry is
``rulebook.JUDGES``.
"""

from __future__ import annotations

from typing import Any

from simlive.judge.judging import (
    RuleJudge,
    figures,
    in_runs,
    largest,
    named_details,
    named_examples,
    short_seconds,
)
from simlive.judge.measures import (
    DisplayMeasures,
    FulfilmentMeasures,
    LedgerMeasures,
    OversellMeasures,
)
from simlive.rules import format_duration
from simlive.text import plural

# --- stock ---------------------------------------------------------------------------------


def _oversold(m: OversellMeasures, p: dict) -> bool:
    return m.oversold_units + (m.duplicate_orders or 0) > p["max_violations"]


def _oversell_report(ms: list[OversellMeasures], p: dict, broken: list[bool]
                     ) -> tuple[Any, Any, str]:
    worst = max(m.oversold_units for m in ms)
    k, n = sum(broken), len(ms)
    skus = sorted({s for m in ms for s in m.oversold_skus})[:5]
    retried = [m.duplicate_orders for m in ms if m.duplicate_orders is not None]
    dups = max(retried, default=0)
    if k and worst:
        ev = f"{worst} units sold beyond stock{in_runs(k, n)} (SKUs {', '.join(skus)})"
    elif k:
        ev = f"no unit sold beyond stock{in_runs(k, n)}"
    else:
        lows = [m.min_remaining for m in ms if m.min_remaining is not None]
        ev = "no SKU sold beyond its stock" + (f"; lowest stock {min(lows)}" if lows else "")
    if dups:
        ev += f"; {dups} retried idempotency key(s) produced a second order"
    elif retried:
        ev += "; retries made no second order"
    ev += named_details(ms)
    measured: dict[str, Any] = {"oversold_units": worst}
    if retried:
        measured["duplicate_orders"] = dups
    return measured, p["max_violations"], ev


def _display_wrong(m: DisplayMeasures, p: dict) -> bool:
    return m.mismatched > p["max_mismatches"]


def _display_report(ms: list[DisplayMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    lag = format_duration(p["max_lag"])
    limit = {"max_lag_s": p["max_lag"], "max_mismatches": p["max_mismatches"]}
    if ms[0].step is None:  # a load test's readings
        m = ms[0]
        return ({"readings_checked": m.readings, "mismatches": int(m.mismatched)}, limit,
                _display_said(m, lag, broken[0]))
    worst = max(m.sku_seconds for m in ms)
    k, n = sum(broken), len(ms)
    sku = next((m.worst_sku for m in ms if m.worst_sku), None)
    phantom = max(m.phantom_sku_seconds for m in ms)
    if k:
        ev = (f"displayed stock wrong beyond {lag} for "
              f"{worst:,.0f} SKU-seconds{in_runs(k, n)}, worst SKU {sku}"
              + (f"; phantom stock shown for {phantom:,.0f} SKU-seconds" if phantom else ""))
    else:
        ev = f"displayed stock within {lag} of real stock throughout"
    readings = int(worst / ms[0].step)
    return {"mismatch_sku_seconds": worst, "mismatched_readings": readings}, limit, ev


def _display_said(m: DisplayMeasures, lag: str, broken: bool) -> str:
    """A load test's readings: how many were wrong, against what, the worst."""
    basis = (" (the real stock cannot be read; bounds from the declared stock and the "
             "history)" if m.bounds_only else "")
    if m.bounds_only:
        wrong, right = ("lie outside what the acknowledged orders allow",
                        "lie within what the acknowledged orders allow")
    else:
        wrong, right = "matched no real stock", "equal the real stock"
    if not broken:
        return f"all {m.readings} displayed figures {right} within {lag}{basis}"
    return (f"{int(m.mismatched)} of {m.readings} displayed figures {wrong} within {lag}"
            f"{basis}; worst {m.worst_sku} off by {m.worst_gap} unit(s)"
            + (f", {m.worst_kind}" if m.worst_kind else ""))


def _ledger_off(m: LedgerMeasures, p: dict) -> bool:
    return m.max_error > p["tolerance"] or m.records_lost > 0


def _ledger_report(ms: list[LedgerMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    worst = max(m.max_error for m in ms)
    lost = max(m.records_lost for m in ms)
    k, n = sum(broken), len(ms)
    when = "at the end" if any(m.final_only for m in ms) else "at every step"
    parts = []
    if worst > p["tolerance"]:
        parts.append(f"initial + restocks differs from sold + reserved + remaining by up to "
                     f"{worst} units{in_runs(k, n)}")
    if lost:
        parts.append(f"{lost} acknowledged order(s) or payment(s) not held by the books")
    ev = ("; ".join(parts) if k else "initial + restocks = sold + reserved + remaining "
          f"{when} for every SKU") + named_details(ms)
    measured: dict[str, Any] = {"max_error_units": worst}
    if lost:
        measured["records_lost"] = lost
    return measured, p["tolerance"], ev


# --- fulfilment.on-time -------------------------------------------------------------------


def _late_orders(m: FulfilmentMeasures, p: dict) -> bool:
    return m.judged > 0 and m.on_time < p["min_on_time"]


def _on_time_pct(x: float) -> str:
    return f"{100 * x:.4g} %"


def _on_time_report(ms: list[FulfilmentMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    k, n = sum(broken), len(ms)
    low = min(m.on_time for m in ms)
    late = max(m.late for m in ms)
    worst = largest([m.worst_late for m in ms])
    pending = max(m.pending for m in ms)
    judged = sum(m.judged for m in ms)
    ship = format_duration(p["ship_within"])
    if k or late:
        w = max(ms, key=lambda m: (m.late, m.judged))
        ev = (f"{w.late:,} of {w.judged:,} paid orders late ({w.shipped_late:,} not shipped within "
              f"{ship} of payment, {w.delivered_late:,} not delivered by the promise)"
              f"{in_runs(k, n) if k else ''}: on time {_on_time_pct(low)} "
              f"(limit {_on_time_pct(p['min_on_time'])}), worst {short_seconds(worst or 0.0)} "
              f"past its deadline")
    elif judged:
        ev = (f"every paid order shipped within {ship} of payment and delivered by the "
              f"promise ({judged:,} judged{'' if n == 1 else f' over {n} replications'})")
    else:
        ev = "no paid order reached its deadlines"
    if pending:
        ev += (f"; up to {plural(pending, 'order')} still within their deadlines at the end "
               "(pending, not judged)")
    # what only a load test names: late orders, shipments it never recorded, deadlines
    ev += named_examples(ms).replace(", e.g.", "; e.g.", 1)
    unrecorded = max(m.unrecorded for m in ms)
    if unrecorded:
        ev += f"; {plural(unrecorded, 'shipment')} acknowledged that the shop never recorded"
    ev += _unready(ms)
    ev += named_details(ms)
    measured: dict[str, Any] = {"on_time_fraction": round(low, 6), "late": late,
                                "worst_late_s": worst}
    if pending:
        measured["pending"] = pending
    if ms[0].unready_units:  # the catalogue's, the same every replication
        measured["unready_units"] = ms[0].unready_units
    return (measured, {"min_on_time": p["min_on_time"], "ship_within_s": p["ship_within"]},
            ev)


def _unready(ms: list[FulfilmentMeasures]) -> str:
    """Stock readiness: the linked units the warehouse did not have before going live."""
    m = max(ms, key=lambda m: (m.unready_units, m.held))
    if not m.unready_units:
        return ""
    k = m.unready_sku_units
    ev = (f"; {k:,} units linked beyond the warehouse's {m.unready_sku_ready:,} ready: SKU "
          f"{m.unready_sku}")
    if m.unready_units > k:
        ev += f" ({m.unready_units:,} units beyond, all SKUs)"
    held = max(x.held for x in ms)
    wait = "" if m.replenish is None else f" ({format_duration(m.replenish)} after going live)"
    return ev + (f"; up to {plural(held, 'paid order')} waited for the replenishment{wait}"
                 if held else "; no paid order went beyond the ready units")


JUDGES: dict[str, RuleJudge] = {
    "stock.no-oversell": RuleJudge(lambda m: m.stock.oversell(), _oversold, _oversell_report,
                                   figures(oversold_units=lambda m: m.oversold_units)),
    "stock.display-matches": RuleJudge(
        lambda m: m.stock.display(), _display_wrong, _display_report,
        figures(mismatch_sku_seconds=lambda m: m.sku_seconds)),
    "stock.ledger-balances": RuleJudge(lambda m: m.stock.ledger(), _ledger_off,
                                       _ledger_report,
                                       figures(max_error_units=lambda m: m.max_error)),
    "fulfilment.on-time": RuleJudge(
        lambda m: m.fulfilment, _late_orders, _on_time_report,
        figures(on_time_fraction=lambda m: m.on_time, late=lambda m: m.late,
           worst_late_s=lambda m: m.worst_late)),
}
