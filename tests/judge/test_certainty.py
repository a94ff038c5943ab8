"""Every claim of judge/certainty.py checked against simulated broadcasts.

A rule the scenario's policies decide outright is judged on one replication, so a wrong
claim would be a wrong verdict. Each bundled scenario, and variants that flip each policy,
are simulated over several seeds: a rule said never to break never does, a rule said to
break always does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simlive.judge.certainty import certainties
from simlive.judge.rulebook import broken_by_rule
from simlive.rules import rule_params
from simlive.scenario import load_scenario
from simlive.scenario.schema import ReturnExclusion
from simlive.sim.engine import run_replication

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["boutique", "flash-sale", "noncompliant"]
VARIANTS = {
    "as bundled": {},
    "reserve at payment": {"orders": {"reserve_on": "payment"}},
    "release twice": {"orders": {"release": "twice", "payment_timeout": 30.0,
                                 "pay_probability": 0.3}},
    "slow display": {"orders": {"display_refresh": 30.0}},
    "no recording": {"replay": {"record": False}},
    "replay fixed 1m": {"replay": {"publish_delay": {"dist": "fixed", "value": 60.0}}},
    "replay always fails": {"replay": {"failure_probability": 1.0}},
    "records kept 1y": {"replay": {"records_retention": 365 * 86400.0}},
    "receipts fail": {"orders": {"receipt_failure": 0.2}},
    "hide every bad review": {"reviews": {"hide_bad": "all", "bad_fraction": 0.5}},
    "returns 3d": {"aftersales": {"accept_returns_within": 3 * 86400.0}},
    # 7 x 24 h from delivery refuses what the law still allows on the 7th day's evening
    "returns in hours": {"aftersales": {"accept_returns_counted": "hours"}},
    "returns 8d in hours": {"aftersales": {"accept_returns_counted": "hours",
                                           "accept_returns_within": 8 * 86400.0}},
    "goods not intact": {"aftersales": {"returns_not_intact": 0.3}},
    "reviews newest first": {"reviews": {"listing": "newest"}},
    "reviews good first": {"reviews": {"listing": "good-first"}},
    "neutral reviews hidden": {"reviews": {"listing": "oldest", "hide_neutral": 0.5}},
}


def _variant(name: str, change: dict):
    s = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    update = {}
    for part, fields in change.items():
        current = getattr(s, part)
        if part == "replay" and "publish_delay" in fields:
            from pydantic import TypeAdapter

            from simlive.scenario.dists import Distribution
            fields = dict(fields, publish_delay=TypeAdapter(Distribution).validate_python(
                fields["publish_delay"]))
        update[part] = current.model_copy(update=fields)
    return s.model_copy(update=update)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_rule_the_model_decides_goes_the_same_way_in_every_broadcast(name, variant):
    s = _variant(name, VARIANTS[variant])
    params = rule_params(s.rule_overrides())
    claims = {rid: c for rid, c in certainties(s, params).items() if c is not None}
    assert claims, "every scenario has rules its policies decide"
    for rep in range(3):
        broken = broken_by_rule(run_replication(s, rep).measures, params)
        for rid, always in claims.items():
            assert broken[rid] is always, (name, variant, rep, rid)


def test_each_policy_flip_moves_its_rule_out_of_never():
    """The variants do reach the model: each takes its rule out of 'cannot break'."""
    base = load_scenario(ROOT / "scenarios" / "boutique.yaml")
    params = rule_params()
    assert {rid for rid, c in certainties(base, params).items() if c is False} >= {
        "stock.no-oversell", "stock.ledger-balances", "stock.display-matches",
        "replay.retained", "evidence.receipt", "reviews.not-deleted", "returns.seven-day"}
    moved = {
        "reserve at payment": "stock.no-oversell", "release twice": "stock.ledger-balances",
        "slow display": "stock.display-matches", "records kept 1y": "replay.retained",
        "receipts fail": "evidence.receipt", "hide every bad review": "reviews.not-deleted",
        "returns 3d": "returns.seven-day", "no recording": "replay.available",
        "returns in hours": "returns.seven-day",
        "reviews good first": "reviews.order-honest",
        "neutral reviews hidden": "reviews.order-honest",
    }
    for variant, rid in moved.items():
        c = certainties(_variant("boutique", VARIANTS[variant]), params).get(rid)
        assert c is not False, (variant, rid)
    for variant in ("returns 8d in hours", "goods not intact"):  # lawful either way
        c = certainties(_variant("boutique", VARIANTS[variant]), params)
        assert c["returns.seven-day"] is False, variant
    newest = certainties(_variant("boutique", VARIANTS["reviews newest first"]), params)
    assert newest["reviews.order-honest"] is False


def test_excluded_goods_not_all_confirmed_may_break_returns():
    base = load_scenario(ROOT / "scenarios" / "boutique.yaml")
    params = rule_params()
    for share, never in ((1.0, True), (0.9, False)):
        sku = base.products.skus[0].model_copy(update={"return_excluded": ReturnExclusion(
            reason="unsealed-health-quality", confirmed_at_purchase=share)})
        s = base.model_copy(update={"products": base.products.model_copy(
            update={"skus": [sku, *base.products.skus[1:]]})})
        assert (certainties(s, params).get("returns.seven-day") is False) is never
