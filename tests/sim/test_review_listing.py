"""The default review listing in the model (``reviews.order-honest``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simlive.errors import InputFileError
from simlive.judge.rulebook import broken_by_rule
from simlive.rules import rule_params
from simlive.scenario import load_scenario
from simlive.scenario.schema import Scenario
from simlive.scenario.scope import unmodelled
from simlive.scenario.units import STORED
from simlive.sim.engine import run_replication
from simlive.sim.review_listing import buried_by_rating

ROOT = Path(__file__).resolve().parents[2]
RULE = "reviews.order-honest"


def boutique(**reviews: object) -> Scenario:
    s = load_scenario(ROOT / "scenarios" / "boutique.yaml")
    return s.model_copy(update={"reviews": s.reviews.model_copy(update=reviews)})


def test_a_listing_by_rating_buries_protected_reviews_and_one_by_time_none() -> None:
    params = rule_params()
    by_rating = run_replication(boutique(listing="good-first"), 0).measures.review_order
    newest = run_replication(boutique(listing="newest"), 0).measures.review_order
    assert by_rating.order == "by rating" and newest.order == "newest first"
    assert by_rating.buried > 0 and by_rating.hidden == 0
    assert (newest.buried, newest.hidden) == (0, 0)
    # the same reviews and ratings: only the order differs
    assert (by_rating.reviews, by_rating.protected) == (newest.reviews, newest.protected)
    assert 0 < newest.protected < newest.reviews
    assert broken_by_rule(run_replication(boutique(listing="good-first"), 0).measures,
                          params)[RULE] is True


def test_hidden_neutral_reviews_count_and_protected_max_decides_which_are_protected() -> None:
    s = boutique(listing="oldest", hide_neutral=1.0, neutral_fraction=0.3)
    m = run_replication(s, 1).measures.review_order
    assert m.hidden > 0 and m.buried == 0
    strict = s.model_copy(update={"compliance": type(s.compliance).model_validate(
        {RULE: {"protected_max": 2}})})
    only_bad = run_replication(strict, 1).measures.review_order
    assert only_bad.hidden == 0 and only_bad.protected < m.protected


def test_the_listing_is_judged_only_when_stated_and_survives_a_round_trip() -> None:
    plain = load_scenario(ROOT / "scenarios" / "flash-sale.yaml")  # states no listing
    assert RULE in unmodelled(plain) and "listing" in unmodelled(plain)[RULE]
    assert run_replication(plain, 0).measures.review_order is None
    stated = boutique(listing="newest")
    assert RULE not in unmodelled(stated)
    # dumped and validated again (Locust processes, run.json, a plan's variants)
    for s, judged in ((plain, False), (stated, True)):
        again = Scenario.model_validate(s.model_dump(mode="json", by_alias=True),
                                        context=STORED)
        assert (RULE not in unmodelled(again)) is judged


def test_the_same_seed_gives_the_same_listing() -> None:
    s = boutique(listing="good-first", hide_neutral=0.5)
    assert run_replication(s, 2).measures.review_order == \
        run_replication(s, 2).measures.review_order
    assert run_replication(s, 2).measures.review_order != \
        run_replication(s, 3).measures.review_order


def test_buried_counts_against_the_nearer_time_order_per_product() -> None:
    # product 0 posted 5, 3, 1: listed by rating that is oldest first, nothing buried
    # (newest first would have put the 3 and the 1 above the 5). Product 1 posted 2, 4, 3,
    # 5, listed 5, 4, 3, 2: against newest first the 3 is below the older 4 (1 buried);
    # against oldest first the 2 and the 3 are below later ones (2): the nearer order wins
    sku = np.array([0, 0, 0, 1, 1, 1, 1])
    rating = np.array([5, 3, 1, 2, 4, 3, 5])
    assert buried_by_rating(sku, rating, rating <= 3, 2) == 1
    assert buried_by_rating(sku, rating, rating <= 2, 2) == 0
    assert buried_by_rating(sku[:3], rating[:3], rating[:3] <= 3, 1) == 0


def test_a_rating_mix_beyond_one_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "flash-sale.yaml").read_text()  # no reviews block of its own
    bad = tmp_path / "mix.yaml"
    bad.write_text(text + "\nreviews: {bad_fraction: 0.7, neutral_fraction: 0.4, "
                   "listing: newest}\n")
    with pytest.raises(InputFileError) as e:
        load_scenario(bad)
    assert "bad_fraction + neutral_fraction <= 1" in str(e.value)
    assert "0.7 + 0.4" in str(e.value)
