"""The judges of what buyers are shown and told: products presented, counters, price claims,
the review listing's order (``rulebook.JUDGES`` holds them).
"""

from __future__ import annotations

import math
from typing import Any

from simlive.judge.judging import (
    RuleJudge,
    figures,
    in_runs,
    named_details,
    named_examples,
)
from simlive.judge.measures import (
    CounterMeasures,
    PresentationMeasures,
    PricingMeasures,
    ReviewOrderMeasures,
)
from simlive.rules import format_duration
from simlive.text import plural

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
              f"{in_runs(k, n)}: {'; '.join(parts) or 'none named'}; at most "
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
    ev += named_details(ms)
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
              f"of the {lag} before{in_runs(k, n)}, up to "
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
              + in_runs(k, n) + "".join(f"; {e}" for e in worst.examples))
    elif worst.failures:
        ev = (f"{worst.broken} of {plural(worst.claims, 'price claim')} broken and "
              f"{worst.refused:,} request(s) refused, within the limit of "
              f"{p['max_broken']:g}" + owed)
    else:
        ev = (f"{plural(claims, 'price claim')} held: reference prices at or below the "
              f"lowest of the {window} before, no 'lowest price' undercut within "
              f"{protection}" + owed + asked)
    return measured, limit, ev + named_details(ms)


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
              f"{', '.join(orders)}; limit {p['max_buried']:g}){in_runs(k, n)}"
              f"{named_examples(ms)}")
    else:
        most = max(ms, key=lambda m: m.protected)
        ev = (f"all {most.protected:,} reviews {rated} (of {most.reviews:,}) in the default "
              f"listing, none below a better one out of time order" if most.protected else
              f"no review {rated} (of {most.reviews:,}) to hide or bury") + (
            f" (listing {', '.join(orders)})")
    ev += named_details(ms)
    return ({"hidden": worst.hidden, "buried": worst.buried, "protected": worst.protected},
            {"protected_max": p["protected_max"], "max_buried": p["max_buried"]}, ev)


JUDGES: dict[str, RuleJudge] = {
    "display.complete": RuleJudge(
        lambda m: m.presentation, _incomplete, _presentation_report,
        figures(incomplete=lambda m: m.incomplete, short=lambda m: m.short,
           lacking=lambda m: m.lacking)),
    "display.counters-true": RuleJudge(
        lambda m: m.counters, _counters_overstated, _counters_report,
        figures(overstated=lambda m: m.overstated,
           worst_overstatement=lambda m: _over(m.worst_fraction))),
    "pricing.claims-hold": RuleJudge(
        lambda m: m.pricing, _claims_broken, _claims_report,
        figures(claims_broken=lambda m: m.broken, orders_undercut=lambda m: m.orders_undercut,
           owed=lambda m: m.owed, requests_refused=lambda m: m.refused)),
    "reviews.order-honest": RuleJudge(
        lambda m: m.review_order, _order_dishonest, _order_report,
        figures(hidden=lambda m: m.hidden, buried=lambda m: m.buried)),
}
