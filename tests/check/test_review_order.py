"""reviews.order-honest on hand-made histories: the default listing read after the load."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from simlive.check.checker import check
from simlive.rules import Status, Verdict
from testing.synthetic import clean_run

RULE = "reviews.order-honest"
RATINGS = [5, 1, 4, 3, 5]  # reviews 1..5, posted in id order


def run(listed: list[int] | None, hidden: dict[int, str | None] | None = None,
        deleted: int | None = None, more: bool = False) -> Verdict:
    """The clean run with its five reviews rated ``RATINGS``; the listing read after the
    load shows ``listed`` (ids, in order; None: no listing read)."""
    events, state = clean_run(random.Random(1))
    rated = iter(RATINGS)
    out: list[dict[str, Any]] = []
    for e in events:
        if e["f"] == "review" and e["type"] == "invoke":
            e = dict(e, args=dict(e["args"], rating=next(rated)))
        if e["f"] == "list_reviews":
            if listed is None:
                continue
            if e["type"] != "invoke":
                e = dict(e, value={"items": [{"id": i, "rating": RATINGS[i - 1]}
                                             for i in listed], "next": 99 if more else None})
        out.append(e)
    hidden = hidden or {}
    reviews = [dict(r, rating=RATINGS[r["id"] - 1], hidden=r["id"] in hidden,
                    hidden_reason=hidden.get(r["id"])) for r in state.reviews
               if r["id"] != deleted]
    return next(v for v in check(out, dataclasses.replace(state, reviews=reviews))
                if v.rule_id == RULE)


def test_a_listing_newest_first_passes() -> None:
    v = run([5, 4, 3, 2, 1])
    assert v.status is Status.PASS, v.evidence
    assert v.evidence == ("all 2 reviews rated 3 or lower (of 5) in the default listing, "
                          "none below a better one out of time order (listing newest first)")


def test_a_listing_by_rating_buries_the_protected_reviews() -> None:
    v = run([1 + i for i in sorted(range(5), key=lambda i: -RATINGS[i])])  # 5 5 4 3 1
    assert v.status is Status.FAIL
    # listed 1(5), 5(5), 3(4), 4(3), 2(1): newest first would put the 3 above the older
    # 5 and 4, the 1 above the older 5; oldest first would put the 1 above the later 5, 4
    # and 3, and the 3 above the later 5: either way both are buried
    assert v.measured == {"hidden": 0, "buried": 2, "protected": 2}
    assert "(listing by rating; limit 0)" in v.evidence
    assert "e.g. ['review 4', 'review 2']" in v.evidence


def test_a_protected_review_left_out_is_hidden_unless_for_an_allowed_reason() -> None:
    left_out = run([5, 4, 3, 1])
    assert left_out.status is Status.FAIL and left_out.measured["hidden"] == 1
    assert "1 left out of the default listing without an allowed reason" in left_out.evidence
    assert run([5, 4, 3, 1], hidden={2: "spam"}).status is Status.PASS
    assert run([5, 4, 3, 1], hidden={2: "too negative"}).measured["hidden"] == 1
    # deleted: reviews.not-deleted counts it, not this rule
    assert run([5, 4, 3, 1], deleted=2).status is Status.PASS


def test_a_review_past_a_page_that_has_a_next_is_not_counted_but_named() -> None:
    v = run([5, 4, 3], more=True)  # the oldest two may be on the next page
    assert v.status is Status.PASS
    assert "1 protected review missing past the end of a listing" in v.evidence
    assert run([5, 4, 3]).measured["hidden"] == 1  # no next page: it is hidden


def test_no_listing_read_is_unknown() -> None:
    v = run(None)
    assert v.status is Status.UNKNOWN and "list_reviews" in v.evidence
