"""The judges of what is kept: replays and records, reviews, receipts
(``rulebook.JUDGES`` holds them).
"""

from __future__ import annotations

from typing import Any

from simlive.judge.judging import (
    M,
    RuleJudge,
    figures,
    in_runs,
    largest,
    named_details,
    named_examples,
    short_seconds,
)
from simlive.judge.measures import (
    PublishMeasures,
    ReceiptMeasures,
    RetentionMeasures,
    ReviewMeasures,
)
from simlive.rules import format_duration
from simlive.text import plural

# --- replay --------------------------------------------------------------------------------


def _replay_missing(m: PublishMeasures, p: dict) -> bool:
    return not m.published or m.after is None or m.after > p["publish_within"]


def _replay_report(ms: list[PublishMeasures], p: dict, broken: list[bool]
                   ) -> tuple[Any, Any, str]:
    missing = sum(1 for m in ms if not m.published)
    late = sum(1 for m, b in zip(ms, broken, strict=True) if b and m.published)
    worst = largest([m.after for m in ms])
    n = len(ms)
    if missing + late:
        ev = (f"replay missing in {missing} and late in {late} of {n} broadcasts"
              + (f"; slowest published {format_duration(worst)} after the end" if worst else "")
              + named_examples(ms))
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
    ev = (f"recording or records kept only {format_duration(kept)}, {short_seconds(short)} short "
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
              + f"and {suppressed} hidden without an allowed reason{in_runs(k, n)}"
              f"{named_examples(ms)}")
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
    ev = (f"{missing} paid orders without a receipt{in_runs(sum(broken), len(ms))}"
          f"{named_examples(ms)}" if any(broken) else "every paid order has a receipt")
    ev += named_details(ms)
    return {"fraction": round(low, 6), "missing": missing}, p["min_fraction"], ev


JUDGES: dict[str, RuleJudge] = {
    "replay.available": RuleJudge(lambda m: m.replay.publish(), _replay_missing,
                                  _replay_report,
                                  figures(published_after_s=lambda m: m.after)),
    "replay.retained": RuleJudge(lambda m: m.replay.kept(), _not_retained, _retained_report,
                                 figures(retention_s=_kept)),
    "reviews.not-deleted": RuleJudge(
        lambda m: m.reviews, _reviews_removed, _reviews_report,
        figures(deleted=lambda m: m.deleted, suppressed=lambda m: m.suppressed)),
    "evidence.receipt": RuleJudge(lambda m: m.receipts, _receipt_missing, _receipt_report,
                                  figures(fraction=_receipt_fraction)),
}
