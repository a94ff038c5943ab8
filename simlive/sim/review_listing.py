"""The default review listing (``reviews.order-honest``): what it shows, and in which order.

The reviews a broadcast's paid orders leave (``records``: how many, how many bad, deleted,
hidden) get a rating each: bad ones 1 or 2, ``neutral_fraction`` of all a 3, the rest 4 or
5, each half and half. ``hide_neutral`` of the neutral ones are left out of the listing
without an allowed reason, as ``hide_bad: all`` leaves out the bad ones without one
(``records`` counts those); a deleted review is gone from every listing and is
``reviews.not-deleted``'s to count. Each review goes to a SKU in proportion to its paid
orders; its place in the posting order is random (the ratings are drawn independently, so
the order reviews arrive in is a random permutation).

A listing by time (``newest``, ``oldest``) buries nothing. A listing by rating
(``good-first``) puts every better review above a protected one; the ones that time order
would have put after it bury it. Newest first, those are the better reviews posted before
it; oldest first, those posted after it. The count is taken, product by product, against the
time order nearer the listing (the smaller of the two), as the load-test checker counts a
shop's listing, so the two sides measure the same thing.
"""

from __future__ import annotations

import numpy as np

from simlive.judge.measures import ReviewOrderMeasures
from simlive.scenario.schema import Scenario
from simlive.sim.orders import SkuOutcome
from simlive.sim.records import RecordsOutcome

ORDER = {"newest": "newest first", "oldest": "oldest first", "good-first": "by rating"}
SHOWN, HIDDEN, HIDDEN_ALLOWED = 0, 1, 2  # a review's place: listed, left out, left out lawfully


def simulate_review_listing(s: Scenario, outcomes: list[SkuOutcome], rec: RecordsOutcome,
                            protected_max: float, rng: np.random.Generator
                            ) -> ReviewOrderMeasures:
    """One broadcast's listings, judged against the rule's ``protected_max``."""
    rv = s.reviews
    order = ORDER[rv.listing or "newest"]
    rating, place = _ratings(s, rec, rng)
    n = rating.size
    paid = np.array([o.paid_orders for o in outcomes], dtype=float)
    if n == 0 or paid.sum() <= 0:
        return ReviewOrderMeasures(0, 0, 0, 0, order, 0)
    posted = rng.permutation(n)  # posting order: review posted[i] is the i-th posted
    rating, place = rating[posted], place[posted]
    sku = rng.choice(paid.size, size=n, p=paid / paid.sum())
    by_sku = np.argsort(sku, kind="stable")  # grouped by SKU, in posting order within each
    sku, rating, place = sku[by_sku], rating[by_sku], place[by_sku]
    protected = rating <= protected_max
    hidden = int(np.count_nonzero(protected & (place == HIDDEN)))
    buried = 0
    shown = place == SHOWN
    if rv.listing == "good-first" and shown.any():
        buried = buried_by_rating(sku[shown], rating[shown], protected[shown], paid.size)
    return ReviewOrderMeasures(n, int(np.count_nonzero(protected)), hidden, buried, order,
                               int(np.unique(sku).size))


def _ratings(s: Scenario, rec: RecordsOutcome, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Each review the listings must account for (the deleted ones aside): its rating and
    its place (``SHOWN``, ``HIDDEN``, ``HIDDEN_ALLOWED``), bad, then neutral, then good."""
    rv = s.reviews
    others = rec.reviews - rec.bad_reviews
    share = rv.neutral / (1.0 - rv.bad_fraction) if rv.bad_fraction < 1.0 else 0.0
    neutral = int(rng.binomial(others, min(1.0, share)))
    good = others - neutral
    bad = rec.bad_reviews - rec.reviews_deleted
    rating = np.concatenate([1 + rng.integers(0, 2, bad), np.full(neutral, 3),
                             4 + rng.integers(0, 2, good)]).astype(np.int8)
    place = np.full(rating.size, SHOWN, dtype=np.int8)
    place[:rec.reviews_suppressed] = HIDDEN  # bad reviews hidden without an allowed reason
    place[rec.reviews_suppressed:rec.reviews_suppressed + rec.reviews_hidden] = HIDDEN_ALLOWED
    place[bad:bad + int(rng.binomial(neutral, rv.hide_neutral))] = HIDDEN
    return rating, place


def buried_by_rating(sku: np.ndarray, rating: np.ndarray, protected: np.ndarray,
                     skus: int) -> int:
    """Protected reviews a listing by rating puts below a better review that time order
    would have put after them: per SKU, those with a better review posted before them
    (newest first) or after them (oldest first), whichever are fewer. The arrays are the
    listed reviews grouped by SKU (0 .. skus - 1), in posting order within each group."""
    span = 8  # above the largest rating: a key sku * span + rating orders SKUs, then ratings
    base = sku.astype(np.int64) * span
    earlier = _better_before(base + rating) & protected
    back = (skus - 1 - sku[::-1]).astype(np.int64) * span
    later = _better_before(back + rating[::-1])[::-1] & protected
    return _per_sku_min(sku, earlier, later, skus)


def _better_before(key: np.ndarray) -> np.ndarray:
    """Whether some earlier item of the same group has a higher rating: the running maximum
    of ``key`` (group * span + rating, groups ascending) before each item exceeds the item's
    own key only within its group, since every earlier group's keys lie below it."""
    before = np.empty_like(key)
    before[0] = -1
    np.maximum.accumulate(key[:-1], out=before[1:])
    return before > key


def _per_sku_min(sku: np.ndarray, earlier: np.ndarray, later: np.ndarray, skus: int) -> int:
    return int(np.minimum(np.bincount(sku, weights=earlier, minlength=skus),
                          np.bincount(sku, weights=later, minlength=skus)).sum())
