"""What each rule says about one simulated broadcast, and what it says over many.

One judge per rule, for the simulator and the load-test checker alike. A judge reads its
rule's measure record (``measures``): ``record`` picks it out of a replication's measures,
``broken`` says whether the rule broke in one broadcast (the event whose probability the
verdict is about, see ``odds``), and ``report`` says what was measured against which limit,
with one sentence of evidence. ``finding`` runs them over replications, ``verdict`` over the
one record a checker measured from a history and a final state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simlive.judge.measures import (
    ClosureMeasures,
    CounterMeasures,
    DisplayMeasures,
    EscalationMeasures,
    FirstReplyMeasures,
    FulfilmentMeasures,
    LedgerMeasures,
    Measures,
    OversellMeasures,
    PresentationMeasures,
    PricingMeasures,
    PublishMeasures,
    ReceiptMeasures,
    RefundMeasures,
    RetentionMeasures,
    ReturnMeasures,
    ReviewMeasures,
    ReviewOrderMeasures,
)
from simlive.rules import DAY, MINUTE, RULES, Status, Verdict, format_duration
from simlive.text import plural

M = list[Any]  # one rule's records, one per replication (or one for a load test)
Numbers = dict[str, float | None]


@dataclass(frozen=True)
class Finding:
    """One rule over some replications: broken per replication, and the report."""

    broken: list[bool]
    measured: Any
    limit: Any
    evidence: str
    numbers: list[Numbers]  # per replication, for the mean and interval of each figure


@dataclass(frozen=True)
class RuleJudge:
    """One rule: which record it reads, whether that record breaks it, what to report."""

    record: Callable[[Measures], Any]  # the rule's record out of a replication's measures
    broken: Callable[[Any, dict], bool]
    report: Callable[[M, dict, list[bool]], tuple[Any, Any, str]]
    numbers: Callable[[Any], Numbers]


def _in_runs(k: int, n: int) -> str:
    return "" if n == 1 else f" in {k} of {n} replications"


def _examples(records: list[Any]) -> str:
    """A few ids the measurer named (a load test's; the simulator names none)."""
    ids = [i for r in records for i in r.examples][:5]
    return f", e.g. {ids}" if ids else ""


def _details(records: list[Any]) -> str:
    """What a load test's checker saw, SKU by SKU (the simulator has none)."""
    lines = [d for r in records for d in r.details]
    return "".join(f"; {d}" for d in lines)


def _max(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


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
        ev = f"{worst} units sold beyond stock{_in_runs(k, n)} (SKUs {', '.join(skus)})"
    elif k:
        ev = f"no unit sold beyond stock{_in_runs(k, n)}"
    else:
        lows = [m.min_remaining for m in ms if m.min_remaining is not None]
        ev = "no SKU sold beyond its stock" + (f"; lowest stock {min(lows)}" if lows else "")
    if dups:
        ev += f"; {dups} retried idempotency key(s) produced a second order"
    elif retried:
        ev += "; retries made no second order"
    ev += _details(ms)
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
              f"{worst:,.0f} SKU-seconds{_in_runs(k, n)}, worst SKU {sku}"
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
                     f"{worst} units{_in_runs(k, n)}")
    if lost:
        parts.append(f"{lost} acknowledged order(s) or payment(s) not held by the books")
    ev = ("; ".join(parts) if k else "initial + restocks = sold + reserved + remaining "
          f"{when} for every SKU") + _details(ms)
    measured: dict[str, Any] = {"max_error_units": worst}
    if lost:
        measured["records_lost"] = lost
    return measured, p["tolerance"], ev


# --- replay --------------------------------------------------------------------------------


def _replay_missing(m: PublishMeasures, p: dict) -> bool:
    return not m.published or m.after is None or m.after > p["publish_within"]


def _replay_report(ms: list[PublishMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    missing = sum(1 for m in ms if not m.published)
    late = sum(1 for m, b in zip(ms, broken, strict=True) if b and m.published)
    worst = _max([m.after for m in ms])
    n = len(ms)
    if missing + late:
        ev = (f"replay missing in {missing} and late in {late} of {n} broadcasts"
              + (f"; slowest published {format_duration(worst)} after the end" if worst else "")
              + _examples(ms))
    else:
        ev = f"replay published at most {format_duration(worst or 0)} after the end"
    return ({"missing": missing, "late": late, "published_after_s_max": worst},
            {"publish_within_s": p["publish_within"]}, ev)


def _kept(m: RetentionMeasures) -> float:
    return min(m.recording, m.records)


def _not_retained(m: RetentionMeasures, p: dict) -> bool:
    return _kept(m) < p["min_retention"]


def _retained_report(ms: M, p: dict, broken: list[bool]) -> tuple[Any, Any, str]:
    kept = min(_kept(m) for m in ms)
    short = p["min_retention"] - kept
    ev = (f"recording or records kept only {format_duration(kept)}, {_seconds(short)} short "
          f"of {format_duration(p['min_retention'])}" if any(broken) else
          f"recording and records kept {format_duration(kept)}")
    shortest = next((m.shortest for m in ms if m.shortest), None)
    if shortest:
        ev += f" ({shortest})"
    waiting = max(m.not_complete for m in ms)
    if waiting:
        ev += (f"; {plural(waiting, 'record')} of transactions not complete when the state "
               f"was read (neither delivered nor closed): their promise cannot be judged yet")
    measured: dict[str, Any] = {"retention_s": kept}
    if waiting:
        measured["not_complete"] = waiting
    return measured, {"min_retention_s": p["min_retention"]}, ev


def _seconds(s: float) -> str:
    """A shortfall, to the millisecond below a minute (a load test's are fractions of one)."""
    return format_duration(s) if s >= MINUTE else f"{s:.3f}".rstrip("0").rstrip(".") + "s"


# --- after-sales ---------------------------------------------------------------------------


def _reply_late(m: FirstReplyMeasures, p: dict) -> bool:
    p95 = m.chat_p95
    return (p95 is not None and p95 > p["chat_p95"]) or m.overdue > 0


def _reply_report(ms: list[FirstReplyMeasures], p: dict, broken: list[bool]
                  ) -> tuple[Any, Any, str]:
    p95s = [m.chat_p95 for m in ms if m.chat_p95 is not None]
    worst_p95 = max(p95s) if p95s else None
    k95 = sum(1 for v in p95s if v > p["chat_p95"])
    overdue = max(m.overdue for m in ms)
    parts = []
    if worst_p95 is not None:
        shown = "never" if worst_p95 == math.inf else format_duration(worst_p95)
        parts.append(f"chat first-reply p95 {shown} (limit {format_duration(p['chat_p95'])})"
                     + (f", over the limit in {k95} of {len(ms)}" if k95 and len(ms) > 1
                        else ""))
    if overdue:
        parts.append(f"{plural(overdue, 'request')} without a reply within "
                     f"{format_duration(p['max_reply'])}")
    elif not any(broken):
        parts.append(f"every request answered within {format_duration(p['max_reply'])}")
    measured_p95 = None if worst_p95 is None or worst_p95 == math.inf else worst_p95
    return ({"chat_p95_s": measured_p95, "late_or_unanswered": overdue},
            {"chat_p95_s": p["chat_p95"], "max_reply_s": p["max_reply"]}, "; ".join(parts))


def _refund_late(m: RefundMeasures, p: dict) -> bool:
    return m.late > 0


def _refund_report(ms: list[RefundMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    late = max(m.late for m in ms)
    k, n = sum(broken), len(ms)
    worst = _max([m.slowest for m in ms])
    paid = sum(m.paid for m in ms)
    if k:
        ev = (f"{plural(late, 'refund')} paid or still owed past {format_duration(p['max_delay'])}"
              f"{_in_runs(k, n)}")
    elif paid:
        ev = (f"{plural(paid, 'refund')}{'' if n == 1 else f' over {n} replications'}, "
              f"slowest paid {format_duration(worst or 0)} after goods came back")
    else:
        ev = "no refunds were due"
    return {"late": late, "slowest_s": worst}, {"max_delay_s": p["max_delay"]}, ev


def _untracked(m: ClosureMeasures, p: dict) -> bool:
    return m.lost > p["max_lost"] or m.open_overdue > 0 or m.closed_too_early > 0


def _tracked_report(ms: list[ClosureMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    lost = max(m.lost for m in ms)
    overdue = max(m.open_overdue for m in ms)
    early = max(m.closed_too_early for m in ms)
    k, n = sum(broken), len(ms)
    still = max(m.open for m in ms)
    silent = max(m.closed_without_feedback for m in ms)
    age = _max([m.oldest_open_age for m in ms])
    timeout = format_duration(p["feedback_timeout"])
    if k:
        parts = [f"{plural(lost, 'ticket')} lost", f"{overdue} open past "
                 f"{format_duration(p['close_within'])}"]
        if early:
            parts.append(f"{early} closed without feedback before the consumer had {timeout}")
        ev = ", ".join(parts) + _in_runs(k, n) + _examples(ms)
    else:
        ev = ("every ticket closed with feedback" if not silent else
              f"every ticket closed with feedback or, for up to "
              f"{plural(silent, 'silent consumer')}, as 'no feedback' after {timeout}")
        if still:
            ev += (f"; {still} still open at the horizon, oldest {format_duration(age or 0)}"
                   f" (within {format_duration(p['close_within'])})")
    return ({"lost": lost, "open_overdue": overdue, "closed_too_early": early, "open": still},
            {"max_lost": p["max_lost"], "close_within_s": p["close_within"],
             "feedback_timeout_s": p["feedback_timeout"]}, ev)


def _returns_refused(m: ReturnMeasures, p: dict) -> bool:
    return m.refused_in_window > 0


def _returns_report(ms: list[ReturnMeasures], p: dict, broken: list[bool]
                    ) -> tuple[Any, Any, str]:
    worst = max(m.refused_in_window for m in ms)
    unconfirmed = max(m.unconfirmed for m in ms)
    k, n = sum(broken), len(ms)
    within = f"by 24:00 of day {p['window'] / DAY:g} after the day of signing"
    ev = (f"{worst} returns requested {within} refused{_in_runs(k, n)}"
          + (f" ({unconfirmed} of goods excluded without the buyer's confirmation at "
             "purchase)" if unconfirmed else "") + _examples(ms) if k else
          f"every return requested {within} accepted (exempt goods, exclusions the buyer "
          "confirmed and goods not intact aside)")
    return {"refused_in_window": worst}, {"window_s": p["window"]}, ev


# --- reviews and receipts ------------------------------------------------------------------


def _reviews_removed(m: ReviewMeasures, p: dict) -> bool:
    return (m.deleted > p["max_deletions"]
            or m.suppressed > p["max_suppressed"])


def _reviews_report(ms: M, p: dict, broken: list[bool]) -> tuple[Any, Any, str]:
    deleted = max(m.deleted for m in ms)
    suppressed = max(m.suppressed for m in ms)
    bad = max(m.bad for m in ms)
    hidden = max(m.hidden for m in ms)
    k, n = sum(broken), len(ms)
    if k:
        other = max(m.deleted_other for m in ms)
        ev = (f"of {bad} bad reviews {deleted - other} deleted "
              + (f"(and {plural(other, 'other review')}) " if other else "")
              + f"and {suppressed} hidden without an allowed reason{_in_runs(k, n)}"
              f"{_examples(ms)}")
    else:
        ev = (f"{max(m.reviews for m in ms)} reviews kept, none deleted"
              + (f"; up to {hidden} bad reviews hidden, each for an allowed reason"
                 if hidden else ""))
    return ({"deleted": deleted, "suppressed": suppressed},
            {"max_deletions": p["max_deletions"], "max_suppressed": p["max_suppressed"]}, ev)


def _receipt_fraction(m: ReceiptMeasures) -> float:
    r = m
    return 1.0 - r.missing / r.paid_orders if r.paid_orders else 1.0


def _receipt_missing(m: ReceiptMeasures, p: dict) -> bool:
    return _receipt_fraction(m) < p["min_fraction"]


def _receipt_report(ms: M, p: dict, broken: list[bool]) -> tuple[Any, Any, str]:
    low = min(_receipt_fraction(m) for m in ms)
    missing = max(m.missing for m in ms)
    ev = (f"{missing} paid orders without a receipt{_in_runs(sum(broken), len(ms))}"
          f"{_examples(ms)}" if any(broken) else "every paid order has a receipt") + _details(ms)
    return {"fraction": round(low, 6), "missing": missing}, p["min_fraction"], ev


# --- display.complete ---------------------------------------------------------------------


def _incomplete(m: PresentationMeasures, p: dict) -> bool:
    return m.incomplete > p["max_incomplete"]


def _presentation_report(ms: list[PresentationMeasures], p: dict, broken: list[bool]
                         ) -> tuple[Any, Any, str]:
    k, n = sum(broken), len(ms)
    worst = max(ms, key=lambda m: m.incomplete)
    least = min(ms, key=lambda m: math.inf if m.shortest_s is None else m.shortest_s)
    seen = all(m.short is not None for m in ms)
    least_at = p["min_presentation"]
    fields = "its price, its seller and whether it can be returned without reason"
    if k:
        parts = []
        if worst.short:
            parts.append(f"{worst.short} presented under {format_duration(least_at)} "
                         f"(least: {least.shortest_sku}, "
                         f"{format_duration(least.shortest_s or 0.0)})")
        if worst.lacking:
            parts.append(f"{worst.lacking:,} shown on a page lacking a field "
                         f"({', '.join(worst.lacking_pages)})")
        ev = (f"{worst.incomplete:,} of {worst.linked:,} linked products incomplete"
              f"{_in_runs(k, n)}: {'; '.join(parts) or 'none named'}; at most "
              f"{p['max_incomplete']} allowed")
    else:
        ev = f"each of {worst.linked:,} linked products' pages shows {fields}"
        if seen:
            ev += (f"; each presented at least {format_duration(least_at)} (least: "
                   f"{least.shortest_sku}, {format_duration(least.shortest_s or 0.0)})")
    if not seen:
        ev += ("; presentation time cannot be seen on a shop: judged on the pages' fields "
               "only")
    bad = [m.misdescribed for m in ms if m.misdescribed]
    if bad:
        ev += f"; up to {max(bad):,} paid orders not as described"
    ev += _details(ms)
    measured: dict[str, Any] = {"incomplete": worst.incomplete, "lacking": worst.lacking}
    if seen:
        measured["short"] = max(m.short or 0 for m in ms)
        measured["shortest_s"] = least.shortest_s
    return measured, {"min_presentation_s": least_at,
                      "max_incomplete": p["max_incomplete"]}, ev



# --- display.counters-true ----------------------------------------------------------------

BOUNDS = ("bounds from the history: sold at most the order requests sent (ok or unknown) "
          "before the reading answered, viewers at most the distinct sessions that had "
          "opened the broadcast by then")


def _counters_overstated(m: CounterMeasures, p: dict) -> bool:
    return m.overstated > 0


def _over(fraction: float) -> float | None:
    """An overstatement as a figure: None when the truth was 0 (infinitely over)."""
    return None if math.isinf(fraction) else round(fraction, 6)


def _worst_said(m: CounterMeasures, p: dict) -> str:
    """The worst reading: which counter, shown against what, how far over, when."""
    what = "orders accepted" if m.worst_counter == "sold" else "viewers present"
    than = (f"at most {m.worst_truth:,.0f}" if m.bounds_only else
            f"at most {m.worst_truth:,.0f} {what} in the {format_duration(p['max_lag'])} "
            f"before")
    over = ("while there was none" if math.isinf(m.worst_fraction) else
            f"{m.worst_fraction:.0%} over" if m.worst_fraction < 10 else
            f"{m.worst_shown / m.worst_truth:,.0f} times it")
    when = "" if m.worst_at is None else (
        f" at {format_duration(m.worst_at)} of the {'run' if m.bounds_only else 'broadcast'}")
    return (f"worst: {m.worst_counter} shown {m.worst_shown:,.0f}{when} against {than} "
            f"({over}; limit {p['max_overstatement']:.0%} over)")


def _counters_report(ms: list[CounterMeasures], p: dict, broken: list[bool]
                     ) -> tuple[Any, Any, str]:
    limit = {"max_lag_s": p["max_lag"], "max_overstatement": p["max_overstatement"]}
    k, n = sum(broken), len(ms)
    worst = max(ms, key=lambda m: (m.overstated > 0, m.worst_fraction))
    over = max(m.overstated for m in ms)
    readings = max(m.readings for m in ms)
    measured = {"readings": readings, "overstated": over,
                "worst_overstatement": _over(worst.worst_fraction)}
    tolerance = f"{p['max_overstatement']:.0%}"
    if worst.bounds_only:
        ev = (f"{over:,} of {readings:,} counter figures read were more than {tolerance} above "
              f"what the shop could have had ({BOUNDS}); {_worst_said(worst, p)}" if k else
              f"all {readings:,} counter figures read were within {tolerance} of what the shop "
              f"could have had ({BOUNDS})")
        return measured, limit, ev
    lag = format_duration(p["max_lag"])
    if k:
        ev = (f"{over:,} of {readings:,} counter readings more than {tolerance} above the truth "
              f"of the {lag} before{_in_runs(k, n)}, up to "
              f"{format_duration(max(m.overstated_s for m in ms))} of the broadcast; "
              f"{_worst_said(worst, p)}")
    else:
        ev = (f"shown sold and viewer counts never more than {tolerance} above the truth of "
              f"the {lag} before ({readings:,} readings a broadcast; sold counts orders "
              f"accepted, viewers those present)")
    return measured, limit, ev


# --- pricing.claims-hold ------------------------------------------------------------------


def _claims_broken(m: PricingMeasures, p: dict) -> bool:
    return m.failures > p["max_broken"]


def _claims_report(ms: list[PricingMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    k, n = sum(broken), len(ms)
    worst = max(ms, key=lambda m: (m.failures, m.owed))
    claims = max(m.claims for m in ms)
    window, protection = format_duration(p["window"]), format_duration(p["protection"])
    measured = {"broken": worst.broken, "refused": worst.refused,
                "orders_undercut": worst.orders_undercut, "owed": worst.owed}
    limit = {"max_broken": p["max_broken"], "window_s": p["window"],
             "protection_s": p["protection"]}
    asked = (f"; {worst.requests:,} asked for the difference, {worst.refused:,} refused"
             if worst.requests else "")
    owed = (f"; {plural(worst.orders_undercut, 'paid order')} undercut within {protection}, "
            f"{worst.owed:,.2f} owed in differences" if worst.orders_undercut else "")
    if k:
        what = [f"{worst.broken} of {plural(worst.claims, 'price claim')} broken"]
        if worst.overcharged:
            what.append(f"{plural(worst.overcharged, 'order')} charged above the price shown")
        ev = (", ".join(what) + owed + asked + f" (limit: {p['max_broken']:g} claims broken "
              "or requests refused)"
              + _in_runs(k, n) + "".join(f"; {e}" for e in worst.examples))
    elif worst.failures:
        ev = (f"{worst.broken} of {plural(worst.claims, 'price claim')} broken and "
              f"{worst.refused:,} request(s) refused, within the limit of "
              f"{p['max_broken']:g}" + owed)
    else:
        ev = (f"{plural(claims, 'price claim')} held: reference prices at or below the "
              f"lowest of the {window} before, no 'lowest price' undercut within "
              f"{protection}" + owed + asked)
    return measured, limit, ev + _details(ms)



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
    worst = _max([m.worst_late for m in ms])
    pending = max(m.pending for m in ms)
    judged = sum(m.judged for m in ms)
    ship = format_duration(p["ship_within"])
    if k or late:
        w = max(ms, key=lambda m: (m.late, m.judged))
        ev = (f"{w.late:,} of {w.judged:,} paid orders late ({w.shipped_late:,} not shipped within "
              f"{ship} of payment, {w.delivered_late:,} not delivered by the promise)"
              f"{_in_runs(k, n) if k else ''}: on time {_on_time_pct(low)} "
              f"(limit {_on_time_pct(p['min_on_time'])}), worst {_seconds(worst or 0.0)} "
              f"past its deadline")
    elif judged:
        ev = (f"every paid order shipped within {ship} of payment and delivered by the "
              f"promise ({judged} judged{'' if n == 1 else f' over {n} replications'})")
    else:
        ev = "no paid order reached its deadlines"
    if pending:
        ev += (f"; up to {plural(pending, 'order')} still within their deadlines at the end "
               "(pending, not judged)")
    # what only a load test names: late orders, shipments it never recorded, deadlines
    ev += _examples(ms).replace(", e.g.", "; e.g.", 1)
    unrecorded = max(m.unrecorded for m in ms)
    if unrecorded:
        ev += f"; {plural(unrecorded, 'shipment')} acknowledged that the shop never recorded"
    ev += _unready(ms)
    ev += _details(ms)
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


# --- aftersales.escalations-answered ------------------------------------------------------


def _escalations_unanswered(m: EscalationMeasures, p: dict) -> bool:
    return m.unanswered > p["max_undecided"]


def _escalations_report(ms: list[EscalationMeasures], p: dict, broken: list[bool]
                        ) -> tuple[Any, Any, str]:
    within = format_duration(p["decide_within"])
    k, n = sum(broken), len(ms)
    worst = max(ms, key=lambda m: (m.unanswered, m.escalated))
    slowest = _max([m.slowest for m in ms])
    oldest = _max([m.oldest_undecided for m in ms])
    pending = max(m.pending for m in ms)
    escalated = sum(m.escalated for m in ms)
    if k:
        parts = [f"{worst.decided_late:,} decided late" if worst.decided_late else "",
                 f"{worst.overdue:,} undecided past it" if worst.overdue else "",
                 f"{worst.lost:,} acknowledged but never recorded" if worst.lost else ""]
        ev = (f"{worst.unanswered} of {plural(worst.escalated, 'escalation')} to the platform "
              f"had no decision within {within} ({', '.join(x for x in parts if x)})"
              f"{_in_runs(k, n)}; the rule allows {p['max_undecided']:g}")
        if slowest is not None:
            ev += f"; the slowest decision took {format_duration(slowest)}"
        ev += _examples(ms)
    elif escalated:
        decided = sum(m.decided_in_time for m in ms)
        ev = (f"{plural(escalated, 'escalation')} to the platform"
              f"{'' if n == 1 else f' over {n} replications'}: {decided} decided, each within "
              f"{within}" + (f" (the slowest took {format_duration(slowest)})"
                             if slowest is not None else ""))
        if pending:
            ev += (f"; {pending:,} still undecided, within the deadline"
                   + (f" (oldest {format_duration(oldest)})" if oldest is not None else ""))
    else:
        ev = "no request was escalated to the platform"
    measured = {"unanswered": worst.unanswered, "escalated": worst.escalated,
                "slowest_s": slowest, "pending": pending}
    return measured, {"decide_within_s": p["decide_within"],
                      "max_undecided": p["max_undecided"]}, ev



# --- reviews.order-honest -----------------------------------------------------------------


def _out_of_listing(m: ReviewOrderMeasures) -> int:
    return m.hidden + m.buried


def _order_dishonest(m: ReviewOrderMeasures, p: dict) -> bool:
    return _out_of_listing(m) > p["max_buried"]


def _order_report(ms: list[ReviewOrderMeasures], p: dict, broken: list[bool]
                  ) -> tuple[Any, Any, str]:
    worst = max(ms, key=_out_of_listing)
    k, n = sum(broken), len(ms)
    rated = f"rated {p['protected_max']:g} or lower"
    orders = sorted({m.order for m in ms})
    if k:
        parts = ([f"{worst.hidden:,} left out of the default listing without an allowed "
                  "reason"] if worst.hidden else []) + (
            [f"{worst.buried:,} listed below a better review that time order would have put "
             "after them"] if worst.buried else [])
        ev = (f"of {worst.protected:,} reviews {rated}, {' and '.join(parts)} (listing "
              f"{', '.join(orders)}; limit {p['max_buried']:g}){_in_runs(k, n)}"
              f"{_examples(ms)}")
    else:
        most = max(ms, key=lambda m: m.protected)
        ev = (f"all {most.protected:,} reviews {rated} (of {most.reviews:,}) in the default "
              f"listing, none below a better one out of time order" if most.protected else
              f"no review {rated} (of {most.reviews:,}) to hide or bury") + (
            f" (listing {', '.join(orders)})")
    ev += _details(ms)
    return ({"hidden": worst.hidden, "buried": worst.buried, "protected": worst.protected},
            {"protected_max": p["protected_max"], "max_buried": p["max_buried"]}, ev)



def _n(**values: Any) -> Callable[[Measures], Numbers]:
    """Per-replication figures to average: name -> function of one replication's measures."""
    return lambda m: {k: (None if (v := fn(m)) is None else float(v)) for k, fn in
                      values.items()}


JUDGES: dict[str, RuleJudge] = {
    "stock.no-oversell": RuleJudge(lambda m: m.stock.oversell(), _oversold, _oversell_report,
                                   _n(oversold_units=lambda m: m.oversold_units)),
    "stock.display-matches": RuleJudge(
        lambda m: m.stock.display(), _display_wrong, _display_report,
        _n(mismatch_sku_seconds=lambda m: m.sku_seconds)),
    "stock.ledger-balances": RuleJudge(lambda m: m.stock.ledger(), _ledger_off,
                                       _ledger_report,
                                       _n(max_error_units=lambda m: m.max_error)),
    "replay.available": RuleJudge(lambda m: m.replay.publish(), _replay_missing,
                                  _replay_report,
                                  _n(published_after_s=lambda m: m.after)),
    "replay.retained": RuleJudge(lambda m: m.replay.kept(), _not_retained, _retained_report,
                                 _n(retention_s=_kept)),
    "aftersales.first-reply": RuleJudge(
        lambda m: m.desk.first_replies(), _reply_late, _reply_report,
        _n(chat_p95_s=lambda m: m.chat_p95, late_or_unanswered=lambda m: m.overdue)),
    "aftersales.refund-deadline": RuleJudge(
        lambda m: m.desk.refunds(), _refund_late, _refund_report,
        _n(late=lambda m: m.late, slowest_s=lambda m: m.slowest)),
    "aftersales.tracked-to-closure": RuleJudge(
        lambda m: m.desk.closure(), _untracked, _tracked_report,
        _n(lost=lambda m: m.lost, open_overdue=lambda m: m.open_overdue,
           open=lambda m: m.open)),
    "reviews.not-deleted": RuleJudge(
        lambda m: m.reviews, _reviews_removed, _reviews_report,
        _n(deleted=lambda m: m.deleted, suppressed=lambda m: m.suppressed)),
    "evidence.receipt": RuleJudge(lambda m: m.receipts, _receipt_missing, _receipt_report,
                                  _n(fraction=_receipt_fraction)),
    "returns.seven-day": RuleJudge(
        lambda m: m.desk.returns_record(), _returns_refused, _returns_report,
        _n(refused_in_window=lambda m: m.refused_in_window)),

    "display.complete": RuleJudge(
        lambda m: m.presentation, _incomplete, _presentation_report,
        _n(incomplete=lambda m: m.incomplete, short=lambda m: m.short,
           lacking=lambda m: m.lacking)),

    "display.counters-true": RuleJudge(
        lambda m: m.counters, _counters_overstated, _counters_report,
        _n(overstated=lambda m: m.overstated,
           worst_overstatement=lambda m: _over(m.worst_fraction))),

    "pricing.claims-hold": RuleJudge(
        lambda m: m.pricing, _claims_broken, _claims_report,
        _n(claims_broken=lambda m: m.broken, orders_undercut=lambda m: m.orders_undercut,
           owed=lambda m: m.owed, requests_refused=lambda m: m.refused)),

    "fulfilment.on-time": RuleJudge(
        lambda m: m.fulfilment, _late_orders, _on_time_report,
        _n(on_time_fraction=lambda m: m.on_time, late=lambda m: m.late,
           worst_late_s=lambda m: m.worst_late)),

    "aftersales.escalations-answered": RuleJudge(
        lambda m: m.escalations, _escalations_unanswered, _escalations_report,
        _n(escalated=lambda m: m.escalated,
           unanswered=lambda m: m.unanswered,
           slowest_s=lambda m: m.slowest)),

    "reviews.order-honest": RuleJudge(
        lambda m: m.review_order, _order_dishonest, _order_report,
        _n(hidden=lambda m: m.hidden, buried=lambda m: m.buried)),
}
assert set(JUDGES) == set(RULES), "every rule needs a judge"


def broken_by_rule(m: Measures, params: dict[str, dict]) -> dict[str, bool | None]:
    """Whether each rule broke in one replication (None: its judge crashed)."""
    out: dict[str, bool | None] = {}
    for rid, j in JUDGES.items():
        try:
            record = j.record(m)
            if record is None:
                continue  # not modelled by the scenario: never judged, never a crash
            out[rid] = bool(j.broken(record, params[rid]))
        except Exception:  # noqa: BLE001 - a broken judge must not pass a rule
            out[rid] = None
    return out


DESK_RULES = ("aftersales.first-reply", "aftersales.refund-deadline",
              "aftersales.tracked-to-closure", "returns.seven-day")
"""The rules a desk answers for (``aftersales.desks``): what happens to its tickets."""


def desk_key(desk: int, rule_id: str) -> str:
    """The sequential test's name for desk ``desk``'s verdict on ``rule_id``."""
    return f"desk {desk}|{rule_id}"


def rule_of(key: str) -> str:
    """The rule a key of ``desk_key`` (or a rule id) is about."""
    return key.rsplit("|", 1)[-1]


def desk_measures(m: Measures, d: int) -> Measures:
    """The measures as desk ``d`` alone sees them: its tickets for the whole desk's."""
    return dataclasses.replace(m, desk=m.desks[d])


def broken_by_desk(m: Measures, params: dict[str, dict]) -> dict[str, bool | None]:
    """Whether each desk broke each of its rules in one replication (keys ``desk_key``)."""
    out: dict[str, bool | None] = {}
    for d in range(len(m.desks)):
        view = desk_measures(m, d)
        for rid in DESK_RULES:
            try:
                j = JUDGES[rid]
                out[desk_key(d, rid)] = bool(j.broken(j.record(view), params[rid]))
            except Exception:  # noqa: BLE001 - a broken judge must not pass a rule
                out[desk_key(d, rid)] = None
    return out


def finding(rule_id: str, ms: list[Measures], p: dict) -> Finding:
    """One rule over the replications ``ms``; raises if its judge is broken (the caller
    says unknown)."""
    j = JUDGES[rule_id]
    return judged(rule_id, [j.record(m) for m in ms], p)


def judged(rule_id: str, records: M, p: dict) -> Finding:
    """One rule over its own records: the simulator's replications, or a load test's one."""
    j = JUDGES[rule_id]
    broken = [bool(j.broken(r, p)) for r in records]
    measured, limit, evidence = j.report(records, p, broken)
    return Finding(broken, measured, limit, evidence, [j.numbers(r) for r in records])


def verdict(rule_id: str, record: Any, p: dict) -> Verdict:
    """A load test's verdict on one rule from the record its checker measured: the same
    judge, limits and evidence as a simulated broadcast's."""
    f = judged(rule_id, [record], p)
    return Verdict(rule_id, Status.FAIL if f.broken[0] else Status.PASS, f.measured, f.limit,
                   f.evidence)
