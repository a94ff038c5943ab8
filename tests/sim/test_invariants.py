"""Model invariants on generated scenarios, and each policy knob breaking the rule it should.

The generated scenarios are small (minutes of broadcast, a few SKUs) but random in every
dimension the schema allows: traffic keyframes, stock, limits, schedules, flash sales,
restocks, payment, timeouts, shifts (with gaps and zero-agent shifts) and patience.
"""

from __future__ import annotations

from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlive.rules import RULE_IDS, Status
from simlive.scenario import parse_scenario
from simlive.sim import engine
from simlive.sim.replications import simulate, summarise


def minutes(draw, lo: int, hi: int) -> int:
    return draw(st.integers(lo, hi))


@st.composite
def scenarios(draw):
    dur = draw(st.integers(5, 40))  # minutes
    n_key = draw(st.integers(1, 4))
    ats = sorted(draw(st.lists(st.integers(0, dur), min_size=n_key, max_size=n_key)))
    arrivals = [{"at": f"{a}m", "rate": f"{draw(st.integers(0, 300))}/min"} for a in ats]
    n_sku = draw(st.integers(1, 3))
    skus, schedule, flash, restocks = [], [], [], []
    for j in range(n_sku):
        sku = f"SKU-{j}"
        skus.append({"sku": sku, "price": draw(st.integers(1, 500)),
                     "stock": draw(st.integers(0, 150)), "limit": draw(st.integers(1, 5))})
        slots = []
        for _ in range(draw(st.integers(0, 2))):
            lo = draw(st.integers(0, dur - 1))
            hi = draw(st.integers(lo + 1, dur))
            slots.append((lo, hi))
            schedule.append({"sku": sku, "from": f"{lo}m", "to": f"{hi}m",
                             "propensity": f"{draw(st.sampled_from([0.001, 0.01, 0.05, 0.3]))}"
                                           "/min"})
        if slots and draw(st.booleans()):  # a flash sale lies inside a slot of its SKU
            lo, hi = draw(st.sampled_from(slots))
            at = draw(st.integers(lo, hi - 1))  # and ends inside it
            flash.append({"sku": sku, "at": f"{at}m",
                          "duration": f"{draw(st.integers(1, min(5, hi - at)))}m", "price": 1,
                          "quantity": draw(st.one_of(st.none(), st.integers(0, 100))),
                          "boost": draw(st.sampled_from([0, 1, 5, 40]))})
        for _ in range(draw(st.integers(0, 2))):
            restocks.append({"sku": sku, "at": f"{draw(st.integers(0, dur - 1))}m",
                             "quantity": draw(st.integers(1, 50))})
    # shifts: consecutive pieces of the first 3 days, some skipped (gaps), some with 0 agents
    cuts = sorted(set(draw(st.lists(st.integers(0, 72), min_size=2, max_size=5))))
    shifts = [{"from": f"{a}h", "to": f"{b}h", "agents": draw(st.integers(0, 4))}
              for a, b in zip(cuts, cuts[1:], strict=False) if draw(st.booleans())]
    if not shifts:
        shifts = [{"from": "0h", "to": "1h", "agents": 0}]
    patience = draw(st.sampled_from([None, "30s", "5m"]))
    return {
        "name": "generated",
        "seed": draw(st.integers(0, 2**32 - 1)),
        "duration": f"{dur}m",
        "audience": {"arrivals": arrivals,
                     "interpolation": draw(st.sampled_from(["linear", "step"])),
                     "dwell": {"dist": "exponential", "mean": f"{draw(st.integers(1, 20))}m"}},
        "products": {"skus": skus, "schedule": schedule, "flash_sales": flash,
                     "restocks": restocks},
        "orders": {
            "units": draw(st.sampled_from([{1: 1.0}, {1: 0.5, 3: 0.5}, {2: 0.2, 7: 0.8}])),
            "pay_probability": draw(st.sampled_from([0.0, 0.3, 0.9, 1.0])),
            "pay_delay": {"dist": "exponential", "mean": f"{draw(st.integers(1, 300))}s"},
            "payment_timeout": f"{draw(st.integers(1, 30))}m",
            "display_refresh": f"{draw(st.sampled_from([0, 1, 2, 5, 10]))}s",
            "reserve_on": "order",
        },
        "aftersales": {
            "consultations": {"rate": f"{draw(st.sampled_from([0, 0.5, 3]))}/min",
                              "per_viewer": f"{draw(st.sampled_from([0, 0.5]))}/h"},
            "returns": {"fraction": draw(st.sampled_from([0, 0.2, 1.0]))},
            "refunds": {"fraction": draw(st.sampled_from([0, 0.1]))},
            "agents": shifts,
            "patience": None if patience is None else {"dist": "exponential",
                                                       "mean": patience},
            "horizon": f"{draw(st.integers(1, 40))}d",
        },
        "simulation": {"desk_engine": draw(st.sampled_from(["fast", "simpy"]))},
    }


def build(doc: dict):
    return parse_scenario(yaml.safe_dump(doc, sort_keys=False), "generated.yaml")


def run_capturing(s, replication: int = 0):
    """run_replication, keeping the AftersalesOutcome it computed on the way."""
    seen = []
    real = engine.run_aftersales

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(out)
        return out

    with mock.patch.object(engine, "run_aftersales", spy):
        result = engine.run_replication(s, replication, keep_series=True)
    assert len(seen) == 1
    return result, seen[0]


@settings(max_examples=35, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_invariants_hold_on_generated_scenarios(doc):
    s = build(doc)
    r, after = run_capturing(s)
    m, k = r.measures, r.kpis

    # stock: never negative, never oversold, the ledger balances at every step
    assert m.stock.min_remaining >= 0
    assert m.stock.oversold_units == 0
    assert m.stock.ledger_max_error == 0
    # refreshed every step, the display shows the real stock (longer refresh intervals:
    # see test_display_within_the_allowed_lag and the startup bug below)
    if s.orders.display_refresh <= s.simulation.step:
        assert m.stock.display_mismatch_s == 0
    # orders: every placed order is paid, expired or refused for lack of stock
    assert k["orders.placed"] == k["orders.paid"] + k["orders.expired"] + \
        k["orders.sold_out_rejections"]
    supply = sum(sku["stock"] for sku in doc["products"]["skus"]) + sum(
        r_["quantity"] for r_ in doc["products"]["restocks"]) + sum(
        f["quantity"] or 0 for f in doc["products"]["flash_sales"])
    assert 0 <= k["units.sold"] <= supply
    if doc["orders"]["pay_probability"] == 0:
        assert k["orders.paid"] == 0

    # tickets: every one is closed, reported open, or lost; never anything else
    assert after.tickets == after.closed + after.open + after.lost
    assert after.lost == 0  # lose_fraction is 0
    assert sum(after.by_kind.values()) == after.tickets == m.desk.tickets
    assert m.desk.open == after.open == k["aftersales.open_at_horizon"]
    for name in ("aftersales.wait.p_delayed", "aftersales.abandoned_fraction"):
        assert 0.0 <= k[name] <= 1.0
    assert k["aftersales.wait.mean_s"] >= 0
    if doc["aftersales"]["patience"] is None:
        assert k["aftersales.abandoned_fraction"] == 0.0

    # every rule gets a verdict, and none crashes into "unknown"
    verdicts = summarise(s, [r]).verdicts
    assert [v.rule_id for v in verdicts] == list(RULE_IDS)
    assert all(v.status is not Status.UNKNOWN for v in verdicts), \
        [v.evidence for v in verdicts if v.status is Status.UNKNOWN]
    status = {v.rule_id: v.status for v in verdicts}
    assert status["stock.no-oversell"] is Status.PASS
    assert status["stock.ledger-balances"] is Status.PASS
    assert status["reviews.not-deleted"] is Status.PASS
    assert status["evidence.receipt"] is Status.PASS


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_paying_later_than_ordering_oversells_under_heavy_demand(doc):
    """reserve_on: payment checks stock at order time but takes it only when paid."""
    doc["products"]["schedule"] = [{"sku": "SKU-0", "from": "0m", "to": doc["duration"],
                                    "propensity": "1/min"}]
    doc["products"]["flash_sales"] = []
    doc["audience"]["arrivals"] = [{"at": "0m", "rate": "600/min"}]
    doc["products"]["skus"][0]["stock"] = max(1, min(doc["products"]["skus"][0]["stock"], 20))
    # every buyer pays exactly 20 s after ordering: by then ~100 more orders passed the
    # stock check, so the oversell does not hang on one lucky draw
    doc["orders"].update({"units": {1: 1.0}, "pay_probability": 1.0, "reserve_on": "payment",
                          "pay_delay": {"dist": "fixed", "value": "20s"},
                          "payment_timeout": "30m"})
    r = engine.run_replication(build(doc), 0)
    assert r.measures.stock.oversold_units > 0
    assert r.measures.stock.min_remaining < 0
    assert "SKU-0" in r.measures.stock.oversold_skus


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_releasing_twice_breaks_the_ledger(doc):
    doc["products"]["schedule"] = [{"sku": "SKU-0", "from": "0m", "to": doc["duration"],
                                    "propensity": "0.3/min"}]
    # only SKU-0 is presented now: the other SKUs' flash sales would lie outside any slot
    doc["products"]["flash_sales"] = [f for f in doc["products"]["flash_sales"]
                                      if f["sku"] == "SKU-0"]
    doc["audience"]["arrivals"] = [{"at": "0m", "rate": "300/min"}]
    doc["products"]["skus"][0]["stock"] = 10_000
    # unpaid orders expire within any generated broadcast (a generated payment timeout
    # longer than the broadcast left no expiry to release twice: found by hypothesis)
    doc["orders"].update({"pay_probability": 0.3, "release": "twice", "payment_timeout": "1m"})
    r = engine.run_replication(build(doc), 0)
    assert r.kpis["orders.expired"] > 0
    assert r.measures.stock.ledger_max_error > 0


# --- the displayed stock ------------------------------------------------------------------

DISPLAY = """\
name: display
seed: {seed}
duration: 10m
audience:
  arrivals: [{{at: 0m, rate: 50/s}}]
products:
  skus: [{{sku: HOT, price: 10, stock: 3000}}]
  schedule: [{{sku: HOT, from: {start}, to: 10m, propensity: 0.5/min}}]
  restocks: [{{sku: HOT, at: 4m, quantity: 500}}]
  flash_sales: [{{sku: HOT, at: {flash}, duration: 2m, price: 9, quantity: 100}}]
orders:
  display_refresh: {refresh}
aftersales:
  agents: [{{from: 0h, to: 31d, agents: 5}}]
compliance:
  stock.display-matches: {{max_lag: {lag}}}
"""


@pytest.mark.parametrize("refresh", ["0s", "1s", "2s", "5s", "10s"])
@pytest.mark.parametrize("seed", [1, 2])
def test_display_within_the_allowed_lag(refresh, seed):
    """A display refreshed at least every max_lag (10 s) is never wrong beyond it, through a
    sell-out, a restock and a flash sale."""
    s = parse_scenario(DISPLAY.format(seed=seed, start="1m", flash="6m", refresh=refresh,
                                         lag="10s"))
    r = engine.run_replication(s, 0)
    assert r.kpis["orders.sold_out_rejections"] > 0  # the stock ran out at some point
    assert r.measures.stock.display_mismatch_s == 0


@pytest.mark.parametrize("refresh", ["20s", "1m"])
def test_display_refreshed_too_rarely_is_caught(refresh):
    s = parse_scenario(DISPLAY.format(seed=1, start="1m", flash="6m", refresh=refresh,
                                         lag="10s"))
    r = engine.run_replication(s, 0)
    assert r.measures.stock.display_mismatch_s > 0
    assert r.measures.stock.display_worst_sku == "HOT"


def test_display_refreshed_every_5s_passes_with_a_flash_sale_at_the_start():
    s = parse_scenario(DISPLAY.format(seed=1, start="0m", flash="0m", refresh="5s",
                                         lag="10s"))
    r = engine.run_replication(s, 0)
    assert r.measures.stock.display_mismatch_s == 0


def test_default_lag_catches_a_display_cached_for_5s():
    """The rule's default max_lag (2 s) is tighter than a 5 s cache: the one the reference
    service's stale-display fault uses."""
    text = DISPLAY.format(seed=1, start="1m", flash="6m", refresh="5s", lag="2s")
    assert engine.run_replication(parse_scenario(text), 0).measures.stock.display_mismatch_s > 0
    default = text.replace("compliance:\n  stock.display-matches: {max_lag: 2s}\n", "")
    assert "compliance" not in default
    assert engine.run_replication(parse_scenario(default), 0).measures.stock.display_mismatch_s > 0


# --- each policy knob breaks exactly its rule ----------------------------------------------

BASE = {
    "name": "knobs",
    "seed": 5,
    "duration": "30m",
    "audience": {"arrivals": [{"at": "0m", "rate": "100/min"}],
                 "dwell": {"dist": "exponential", "mean": "6m"}},
    "products": {
        "skus": [{"sku": "HOT", "price": 50, "stock": 60, "limit": 1},
                 {"sku": "CALM", "price": 20, "stock": 5000, "limit": 3}],
        "schedule": [{"sku": "HOT", "from": "0m", "to": "10m", "propensity": "0.05/min"},
                     {"sku": "CALM", "from": "10m", "to": "30m", "propensity": "0.01/min"}],
    },
    "orders": {"pay_probability": 0.7, "payment_timeout": "2m"},
    "aftersales": {
        "consultations": {"rate": "1/min"},
        "returns": {"fraction": 0.3, "delay": {"dist": "uniform", "low": "1d", "high": "6d"}},
        "agents": [{"from": "0m", "to": "30m", "agents": 6},
                   {"from": "30m", "to": "31d", "agents": 3}],
        "horizon": "30d",
    },
    "reviews": {"fraction": 0.5, "bad_fraction": 0.5},
}

KNOBS = [
    ("reserve-on-payment", ("orders", "reserve_on"), "payment", {"stock.no-oversell"}),
    # units released twice are phantom stock, and the hot SKU sells them: it oversells too
    ("release-twice", ("orders", "release"), "twice",
     {"stock.ledger-balances", "stock.no-oversell"}),
    ("stale-display", ("orders", "display_refresh"), "2m", {"stock.display-matches"}),
    ("phantom-stock", ("products", "skus"),
     [{"sku": "HOT", "price": 50, "stock": 60, "displayed_stock": 90, "limit": 1},
      {"sku": "CALM", "price": 20, "stock": 5000, "limit": 3}], {"stock.display-matches"}),
    ("delete-reviews", ("reviews", "delete_bad"), 0.5, {"reviews.not-deleted"}),
    ("no-receipts", ("orders", "receipt_failure"), 0.2, {"evidence.receipt"}),
    # a lost ticket never gets its first reply either
    ("lose-tickets", ("aftersales", "lose_fraction"), 0.1,
     {"aftersales.tracked-to-closure", "aftersales.first-reply"}),
    ("short-return-window", ("aftersales", "accept_returns_within"), "3d",
     {"returns.seven-day"}),
    ("slow-refunds", ("aftersales", "refund_delay"), {"dist": "fixed", "value": "8d"},
     {"aftersales.refund-deadline"}),
    ("replay-fails", ("replay", "failure_probability"), 1.0, {"replay.available"}),
    ("no-recording", ("replay", "record"), False, {"replay.available", "replay.retained"}),
    ("short-retention", ("replay", "records_retention"), "1y", {"replay.retained"}),
    ("slow-desk", ("aftersales", "agents"), [{"from": "0m", "to": "30m", "agents": 1},
                                             {"from": "30m", "to": "31d", "agents": 3}],
     {"aftersales.first-reply"}),
]


def _with(key: tuple[str, str], value) -> dict:
    import copy

    doc = copy.deepcopy(BASE)
    doc.setdefault(key[0], {})[key[1]] = value
    return doc


def _failing(doc: dict) -> set[str]:
    result = simulate(build(doc), 3)
    assert all(v.status is not Status.UNKNOWN for v in result.verdicts)
    return {v.rule_id for v in result.verdicts if v.status is Status.FAIL}


def test_base_of_the_knobs_passes_every_rule():
    assert _failing(BASE) == set()


@pytest.mark.parametrize(("key", "value", "broken"), [k[1:] for k in KNOBS],
                         ids=[k[0] for k in KNOBS])
def test_knob_breaks_exactly_its_rule(key, value, broken):
    assert _failing(_with(key, value)) == broken
