"""``reviews.order-honest`` from a load: the default listings read after the load, against
the reviews the history acknowledged and the final state's reviews.

Once the load's reviews are in, the after phase reads each product's default listing
(``list_reviews``: the items in the order shown, each with its id, rating and, where the
shop shows it, its posting time; ``next``, where mapped, null when nothing follows). A
review missing past the end of a listing ordered by time that may have a next page is not
counted, but named in the evidence. Every protected review (rated the rule's
``protected_max`` or lower) the shop acknowledged must be in its product's listing, unless
the final state shows it hidden for an allowed reason; one the state no longer holds was
deleted, and is ``reviews.not-deleted``'s to count. The listing's order must be explained
by posting time, newest first or oldest first; where it is not, the protected reviews
listed below a better review that time order would have put after them are buried,
counted against the nearer of the two orders, product by product, as the model counts them
(``simlive.sim.review_listing``). A posting time the listing does not show is read from the
state's ``created_at``, else from when the shop acknowledged the review.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlive.check.history import OK, Op, of
from simlive.check.service_rules import acknowledged
from simlive.check.state import FinalState, epoch, needed
from simlive.judge.measures import ReviewOrderMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import HIDE_REASONS, RULES, Status, Verdict
from simlive.text import plural

RULE = "reviews.order-honest"


def order_honest(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    limit = RULES[RULE].limits(p)
    acked = acknowledged(ops, "review", "review_id")
    reads = [op for op in of(ops, "list_reviews") if op.type == OK
             and isinstance(op.value, dict)]
    listings = {op.args.get("sku"): _items(op.value) for op in reads}  # the last of each
    # the whole listing, when the shop says there is no next page (``next`` null)
    complete = {op.args.get("sku"): "next" in op.value and op.value["next"] is None
                for op in reads}
    if not acked:
        return Verdict(RULE, Status.UNKNOWN, None, limit,
                       "no review was acknowledged during the load test")
    if not listings:
        return Verdict(RULE, Status.UNKNOWN, None, limit,
                       "no product's default review listing was read after the load "
                       "(list_reviews)")
    rows = {r.get("id"): r for r in needed(state.reviews)}
    acked_at = {op.value["review_id"]: op.end for op in of(ops, "review")
                if op.type == OK and op.value and "review_id" in op.value}
    top = p["protected_max"]
    reviews = protected = 0
    hidden: list[Any] = []
    buried: list[Any] = []
    unread: list[Any] = []
    beyond = unlisted = 0
    orders: set[str] = set()
    for rid, sent in acked.items():
        row = rows.get(rid)
        if row is None:
            continue  # deleted: reviews.not-deleted
        sku, rating = sent[-1].get("sku"), _rating(row.get("rating"), sent[-1].get("rating"))
        if sku not in listings:
            unlisted += rating is not None and rating <= top
            continue
        reviews += 1
        if rating is None or rating > top:
            continue
        protected += 1
        if row.get("hidden"):
            if "hidden_reason" not in row:
                unread.append(rid)
            elif str(row["hidden_reason"] or "").strip().lower() not in HIDE_REASONS:
                hidden.append(rid)
            continue
        items = listings[sku]
        if all(it["id"] != rid for it in items):
            if not complete[sku] and _past_the_page(items, _posted(rid, None, rows, acked_at),
                                                    rows, acked_at):
                beyond += 1
            else:
                hidden.append(rid)
    for items in listings.values():
        if not items:
            continue
        ratings = np.array([_rating(it.get("rating"), (rows.get(it["id"]) or {}).get(
            "rating")) or 0 for it in items])
        posted = np.array([_posted(it["id"], it.get("posted_at"), rows, acked_at)
                           for it in items], dtype=float)
        orders.add(_order(ratings, posted))
        buried.extend(it["id"] for it in _buried(items, ratings, posted, top))
    details = []
    if beyond:
        details.append(f"{plural(beyond, 'protected review')} missing past the end of a "
                       "listing ordered by time (perhaps on a later page) not counted")
    if unlisted:
        details.append(f"{plural(unlisted, 'protected review')} of products whose listing "
                       "was not read not judged")
    record = ReviewOrderMeasures(reviews, protected, len(hidden), len(buried),
                                 _overall(orders), len(listings),
                                 tuple(f"review {i}" for i in (hidden + buried)[:5]),
                                 tuple(details))
    judged = verdict(RULE, record, p)
    if judged.status is Status.PASS and unread:
        return Verdict(RULE, Status.UNKNOWN, judged.measured, limit,
                       f"{plural(len(unread), 'hidden protected review')} whose reason the "
                       "state does not show (map hidden_reason in the target's "
                       "state.reviews)")
    return judged


def _items(value: dict[str, Any]) -> list[dict[str, Any]]:
    items = value.get("items")
    return [it for it in items if isinstance(it, dict) and it.get("id") is not None] \
        if isinstance(items, list) else []


def _rating(*values: Any) -> int | None:
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return int(v)
        if isinstance(v, str) and v.strip().isdigit():
            return int(v)
    return None


def _posted(rid: Any, shown: Any, rows: dict[Any, dict[str, Any]],
            acked_at: dict[Any, float]) -> float:
    for value in (shown, (rows.get(rid) or {}).get("created_at")):
        try:
            t = epoch(value)
        except ValueError:
            t = None
        if t is not None:
            return t
    return acked_at.get(rid, np.nan)


def _order(ratings: np.ndarray, posted: np.ndarray) -> str:
    """One listing's order: ``newest first``, ``oldest first``, ``any time order`` (one
    review, or all posted at once), ``by rating`` or ``neither by time nor rating``."""
    steps = np.diff(posted)
    newest, oldest = not np.any(steps > 0), not np.any(steps < 0)
    if newest and oldest:
        return "any time order"
    if newest or oldest:
        return "newest first" if newest else "oldest first"
    return "by rating" if not np.any(np.diff(ratings) > 0) else "neither by time nor rating"


def _overall(orders: set[str]) -> str:
    """The listings' order as the model names a policy: what breaks time order if any
    listing does, else the time order they share."""
    untimed = sorted(orders - {"newest first", "oldest first", "any time order"})
    if untimed:
        return ", ".join(untimed)
    timed = sorted(orders - {"any time order"})
    return ", ".join(timed) if timed else "newest first"


def _buried(items: list[dict[str, Any]], ratings: np.ndarray, posted: np.ndarray,
            top: float) -> list[dict[str, Any]]:
    """The protected items listed below a better one that time order would have put after
    them, against the nearer time order: newest first (the better one posted before) or
    oldest first (posted after), whichever buries fewer."""
    above = np.tri(len(items), k=-1, dtype=bool)  # [i, j]: item j is listed above item i
    better = above & (ratings[None, :] > ratings[:, None])
    protected = ratings <= top
    newest = protected & np.any(better & (posted[None, :] < posted[:, None]), axis=1)
    oldest = protected & np.any(better & (posted[None, :] > posted[:, None]), axis=1)
    nearer = newest if newest.sum() <= oldest.sum() else oldest
    return [it for it, b in zip(items, nearer, strict=True) if b]


def _past_the_page(items: list[dict[str, Any]], t: float, rows: dict[Any, dict[str, Any]],
                   acked_at: dict[Any, float]) -> bool:
    """Whether a review missing from a listing ordered by time lies past its last item, where
    a later page would hold it; a listing by rating has no such place."""
    if not items:
        return False
    times = np.array([_posted(it["id"], it.get("posted_at"), rows, acked_at) for it in items])
    steps = np.diff(times)
    if not np.any(steps > 0):
        return bool(t < times[-1])
    if not np.any(steps < 0):
        return bool(t > times[-1])
    return False
