"""Rules a scenario's policies decide outright: broken in every broadcast, or in none.

Most rules break by chance (a queue that happens to back up, a replay that happens to be
slow), and only replications can say how often. Some cannot break at all under the
scenario's policies (stock reserved at order time and released once cannot be oversold),
and some break in every broadcast (a recording kept one year where three are required).
For those one replication is proof, and the verdict says ``decided_by: model``. Each claim
here is a reading of the model's code; ``tests/sim/test_certainty.py`` checks every one
against simulated broadcasts, and the verdicts fall back to counting if a replication ever
contradicts it.
"""

from __future__ import annotations

import numpy as np

from simlive.rules import DAY
from simlive.scenario.catalogue import build_catalogue
from simlive.scenario.dists import Empirical, Fixed, Uniform
from simlive.scenario.on_air import incomplete
from simlive.scenario.schema import Scenario

Certainty = bool | None  # True: breaks in every broadcast; False: in none; None: by chance


def _upper(dist: object) -> float | None:
    """The largest value a distribution can draw, where it has one."""
    if isinstance(dist, Fixed):
        return dist.value
    if isinstance(dist, Uniform):
        return dist.high
    if isinstance(dist, Empirical):
        return max(dist.values)
    return None


def certainties(s: Scenario, params: dict[str, dict]) -> dict[str, Certainty]:
    """What the scenario's policies decide, per rule id (rules left out are by chance)."""
    o, a, rp, rv = s.orders, s.aftersales, s.replay, s.reviews
    out: dict[str, Certainty] = {}
    # stock: reserving at order time and releasing an expired order's units once keeps the
    # ledger exact and refuses any order the stock cannot cover
    if o.reserve_on == "order" and o.release == "once":
        out["stock.no-oversell"] = False
    if o.release == "once":
        out["stock.ledger-balances"] = False
    skus = build_catalogue(s).skus
    linked = any(k.displayed_stock is not None and k.displayed_stock != k.stock for k in skus)
    if not linked and o.display_refresh <= s.simulation.step:
        out["stock.display-matches"] = False  # the real stock is shown at every step
    # replay
    within = params["replay.available"]["publish_within"]
    if not rp.record or rp.failure_probability >= 1.0:
        out["replay.available"] = True
    elif rp.failure_probability == 0.0:
        upper = _upper(rp.publish_delay)
        if upper is not None and upper <= within:
            out["replay.available"] = False
    kept = min(rp.retention if rp.record else 0.0, rp.records_retention)
    if kept < params["replay.retained"]["min_retention"]:
        out["replay.retained"] = True
    elif rp.records_clock == "completion":
        out["replay.retained"] = False
    # counted from creation: short by each broadcast's slowest order, as its orders have it
    # records and reviews
    if o.receipt_failure == 0.0 and params["evidence.receipt"]["min_fraction"] <= 1.0:
        out["evidence.receipt"] = False
    if rv.delete_bad == 0.0 and (rv.hide_bad != "all" or rv.bad_with_cause >= 1.0):
        out["reviews.not-deleted"] = False
    # the review listing: a listing by time buries nothing; only hiding can break the rule
    protected_max = params["reviews.order-honest"]["protected_max"]
    hides_neutral = protected_max >= 3 and rv.hide_neutral > 0 and rv.neutral > 0
    hides_bad = protected_max >= 1 and rv.hide_bad == "all" and rv.bad_with_cause < 1.0
    if rv.listing in ("newest", "oldest") and not (hides_neutral or hides_bad):
        out["reviews.order-honest"] = False
    # returns: refused past the merchant's window, for the law's exempt kinds, for goods
    # not intact, or for goods it excludes, lawfully only where the buyer confirmed it; a
    # window counted in hours must cover the law's last day, whenever the goods arrived
    window = params["returns.seven-day"]["window"]
    covers = a.accept_returns_within >= window + (DAY if a.accept_returns_counted == "hours"
                                                  else 0.0)
    if covers and all(k.return_excluded is None or k.return_excluded.confirmed_at_purchase
                      >= 1.0 for k in skus):
        out["returns.seven-day"] = False
    # display.complete: the schedule and the pages are the scenario's, the same in every
    # broadcast (only the goods not as described are drawn, and the rule does not count them)
    if s.presentation is not None:
        _, _, short, lacking = incomplete(s, params["display.complete"]["min_presentation"])
        out["display.complete"] = int(np.count_nonzero(short | lacking)) > params[
            "display.complete"]["max_incomplete"]
    # counters: an honest formula (no multiple above 1, no base) updated within max_lag
    # shows a truth of the last max_lag; the sold count only grows, so it is never over
    c = s.counters
    if c is not None and all(k.factor <= 1.0 and k.offset == 0.0 for k in (c.sold, c.viewers)) \
            and (c.refresh <= s.simulation.step or c.refresh + s.simulation.step
                 <= params["display.counters-true"]["max_lag"]):
        out["display.counters-true"] = False
    return out
