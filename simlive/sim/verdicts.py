"""A verdict per compliance rule from what the model did, over every replication.

Pure functions of the replications' measurements and the rule parameters. A rule fails if
it fails in any replication (a peak event happens once; a rule broken in one run in ten is
broken); the evidence says in how many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simlive.rules import RULES, Status, Verdict, format_duration, ordered

M = list[dict[str, Any]]


def _tally(ms: M, broken: Callable[[dict[str, Any]], bool]) -> tuple[int, int]:
    return sum(1 for m in ms if broken(m)), len(ms)


def _in_runs(k: int, n: int) -> str:
    return "" if n == 1 else f" in {k} of {n} replications"


def _max(ms: M, key: str) -> float | None:
    vals = [m[key] for m in ms if m.get(key) is not None]
    return max(vals) if vals else None


def _v(rule_id: str, failed: bool, measured: Any, limit: Any, evidence: str) -> Verdict:
    return Verdict(rule_id, Status.FAIL if failed else Status.PASS, measured, limit, evidence)


def no_oversell(ms: M, p: dict) -> Verdict:
    worst = max(m["oversold_units"] for m in ms)
    k, n = _tally(ms, lambda m: m["oversold_units"] > p["max_violations"])
    skus = sorted({s for m in ms for s in m["oversold_skus"]})[:5]
    if k:
        ev = f"{worst} units sold beyond stock{_in_runs(k, n)} (SKUs {', '.join(skus)})"
    else:
        ev = f"no SKU sold beyond its stock; lowest stock {min(m['min_remaining'] for m in ms)}"
    return _v("stock.no-oversell", k > 0, {"oversold_units": worst}, p["max_violations"], ev)


def display_matches(ms: M, p: dict) -> Verdict:
    worst = max(m["display_mismatch_s"] for m in ms)
    steps = worst / ms[0]["step"]
    k, n = _tally(ms, lambda m: m["display_mismatch_s"] / m["step"] > p["max_mismatches"])
    sku = next((m["display_worst_sku"] for m in ms if m["display_worst_sku"]), None)
    phantom = max(m["display_phantom_s"] for m in ms)
    if k:
        ev = (f"displayed stock wrong beyond {format_duration(p['max_lag'])} for "
              f"{worst:g} SKU-seconds{_in_runs(k, n)}, worst SKU {sku}"
              + (f"; phantom stock shown for {phantom:g} SKU-seconds" if phantom else ""))
    else:
        ev = f"displayed stock within {format_duration(p['max_lag'])} of real stock throughout"
    return _v("stock.display-matches", k > 0,
              {"mismatch_sku_seconds": worst, "mismatched_readings": int(steps)},
              {"max_lag_s": p["max_lag"], "max_mismatches": p["max_mismatches"]}, ev)


def ledger_balances(ms: M, p: dict) -> Verdict:
    worst = max(m["ledger_max_error"] for m in ms)
    k, n = _tally(ms, lambda m: m["ledger_max_error"] > p["tolerance"])
    ev = (f"initial + restocks differs from sold + reserved + remaining by up to {worst} "
          f"units{_in_runs(k, n)}" if k else "initial + restocks = sold + reserved + "
          "remaining at every step for every SKU")
    return _v("stock.ledger-balances", k > 0, {"max_error_units": worst}, p["tolerance"], ev)


def replay_available(ms: M, p: dict) -> Verdict:
    missing = sum(1 for m in ms if not m["replay_published"])
    late = sum(1 for m in ms if m["replay_published"] and m["replay_after"] > p["publish_within"])
    worst = _max(ms, "replay_after")
    n = len(ms)
    failed = missing + late > 0
    if failed:
        ev = (f"replay missing in {missing} and late in {late} of {n} broadcasts"
              + (f"; slowest published {format_duration(worst)} after the end" if worst else ""))
    else:
        ev = f"replay published at most {format_duration(worst or 0)} after the end"
    return _v("replay.available", failed, {"missing": missing, "late": late,
                                           "published_after_s_max": worst},
              {"publish_within_s": p["publish_within"]}, ev)


def replay_retained(ms: M, p: dict) -> Verdict:
    kept = min(min(m["replay_retention"], m["records_retention"]) for m in ms)
    failed = kept < p["min_retention"]
    ev = (f"recording or records kept only {format_duration(kept)}" if failed else
          f"recording and records kept {format_duration(kept)}")
    return _v("replay.retained", failed, {"retention_s": kept},
              {"min_retention_s": p["min_retention"]}, ev)


def first_reply(ms: M, p: dict) -> Verdict:
    p95s = [m["chat_p95"] for m in ms if m["chat_p95"] is not None]
    worst_p95 = max(p95s) if p95s else None
    k95 = sum(1 for v in p95s if v > p["chat_p95"])
    overdue = max(m["unanswered_overdue"] + m["first_reply_late"] for m in ms)
    ko = sum(1 for m in ms if m["unanswered_overdue"] + m["first_reply_late"] > 0)
    failed = k95 > 0 or ko > 0
    parts = []
    if worst_p95 is not None:
        shown = "never" if worst_p95 == float("inf") else format_duration(worst_p95)
        parts.append(f"chat first-reply p95 {shown} (limit {format_duration(p['chat_p95'])})"
                     + (f", over the limit in {k95} of {len(ms)}" if k95 and len(ms) > 1
                        else ""))
    if overdue:
        parts.append(f"{overdue} requests without a reply within "
                     f"{format_duration(p['max_reply'])}")
    elif not failed:
        parts.append(f"every request answered within {format_duration(p['max_reply'])}")
    measured_p95 = None if worst_p95 is None or worst_p95 == float("inf") else worst_p95
    return _v("aftersales.first-reply", failed,
              {"chat_p95_s": measured_p95, "late_or_unanswered": overdue},
              {"chat_p95_s": p["chat_p95"], "max_reply_s": p["max_reply"]}, "; ".join(parts))


def refund_deadline(ms: M, p: dict) -> Verdict:
    late = max(m["refunds_late"] for m in ms)
    k, n = _tally(ms, lambda m: m["refunds_late"] > 0)
    worst = _max(ms, "refund_delay_max")
    paid = sum(m["refunds_paid"] for m in ms)
    if k:
        ev = f"{late} refunds paid or still owed past {format_duration(p['max_delay'])}" \
             f"{_in_runs(k, n)}"
    elif paid:
        ev = (f"{paid} refunds{'' if len(ms) == 1 else f' over {len(ms)} replications'}, "
              f"slowest paid {format_duration(worst or 0)} after goods came back")
    else:
        ev = "no refunds were due"
    return _v("aftersales.refund-deadline", k > 0, {"late": late, "slowest_s": worst},
              {"max_delay_s": p["max_delay"]}, ev)


def tracked_to_closure(ms: M, p: dict) -> Verdict:
    lost = max(m["lost"] for m in ms)
    overdue = max(m["open_overdue"] for m in ms)
    k, n = _tally(ms, lambda m: m["lost"] > p["max_lost"] or m["open_overdue"] > 0)
    still = max(m["open"] for m in ms)
    age = _max(ms, "oldest_open_age")
    if k:
        ev = (f"{lost} tickets lost and {overdue} open past "
              f"{format_duration(p['close_within'])}{_in_runs(k, n)}")
    else:
        ev = "every ticket closed with feedback" if not still else (
            f"{still} tickets still open at the horizon, oldest "
            f"{format_duration(age or 0)} (within {format_duration(p['close_within'])})")
    return _v("aftersales.tracked-to-closure", k > 0,
              {"lost": lost, "open_overdue": overdue, "open": still},
              {"max_lost": p["max_lost"], "close_within_s": p["close_within"]}, ev)


def not_deleted(ms: M, p: dict) -> Verdict:
    worst = max(m["reviews_deleted"] for m in ms)
    k, n = _tally(ms, lambda m: m["reviews_deleted"] > p["max_deletions"])
    bad = max(m["bad_reviews"] for m in ms)
    ev = (f"{worst} of {bad} bad reviews deleted{_in_runs(k, n)}" if k else
          f"{max(m['reviews'] for m in ms)} reviews kept, none deleted")
    return _v("reviews.not-deleted", k > 0, {"deleted": worst}, p["max_deletions"], ev)


def receipt(ms: M, p: dict) -> Verdict:
    fractions = [1.0 - m["receipts_missing"] / m["paid_orders"] if m["paid_orders"] else 1.0
                 for m in ms]
    low = min(fractions)
    missing = max(m["receipts_missing"] for m in ms)
    failed = low < p["min_fraction"]
    ev = (f"{missing} paid orders without a receipt" if failed else
          "every paid order has a receipt")
    return _v("evidence.receipt", failed, {"fraction": round(low, 6), "missing": missing},
              p["min_fraction"], ev)


def seven_day(ms: M, p: dict) -> Verdict:
    worst = max(m["returns_refused_in_window"] for m in ms)
    k, n = _tally(ms, lambda m: m["returns_refused_in_window"] > 0)
    ev = (f"{worst} returns requested within {format_duration(p['window'])} refused"
          f"{_in_runs(k, n)}" if k else
          f"every return requested within {format_duration(p['window'])} accepted")
    return _v("returns.seven-day", k > 0, {"refused_in_window": worst},
              {"window_s": p["window"]}, ev)


JUDGES: dict[str, Callable[[M, dict], Verdict]] = {
    "stock.no-oversell": no_oversell,
    "stock.display-matches": display_matches,
    "stock.ledger-balances": ledger_balances,
    "replay.available": replay_available,
    "replay.retained": replay_retained,
    "aftersales.first-reply": first_reply,
    "aftersales.refund-deadline": refund_deadline,
    "aftersales.tracked-to-closure": tracked_to_closure,
    "reviews.not-deleted": not_deleted,
    "evidence.receipt": receipt,
    "returns.seven-day": seven_day,
}
assert set(JUDGES) == set(RULES), "every rule needs a judge"


def judge(measures: M, params: dict[str, dict]) -> list[Verdict]:
    """One verdict per rule; a judge that crashes yields ``unknown``, never a pass."""
    out = []
    for rid, fn in JUDGES.items():
        try:
            out.append(fn(measures, params[rid]))
        except Exception as exc:  # noqa: BLE001 - a broken judge must not pass a rule
            out.append(Verdict(rid, Status.UNKNOWN, None, None,
                               f"could not be judged: {type(exc).__name__}: {exc}"))
    return ordered(out)
