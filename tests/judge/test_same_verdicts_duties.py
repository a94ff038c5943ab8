"""The six duties added with the whole rulebook, judged alike by both measurers: products
shown, shipping against the promise, price claims, escalations to the platform, the review
listing's order and the counters shown (the first eleven rules: test_same_verdicts.py).

Each case builds one small broadcast by hand and feeds it to the simulator's record function
and to the checker's rule over a history and a final state holding the same events.
"""

from __future__ import annotations

import numpy as np
import pytest

from simlive.check.history import FAIL, OK, Op
from simlive.check.price_history import claims_hold
from simlive.check.state import FinalState
from simlive.judge.rulebook import verdict
from simlive.rules import DAY, HOUR, Status, rule_params
from simlive.scenario import parse_scenario
from simlive.sim.orders import SkuOutcome
from simlive.sim.price_claims import price_claims
from testing.alike import HORIZON, T0, same

INF = np.inf


PAGES = """\
name: pages
duration: 1h
audience: {arrivals: [{at: 0m, rate: 1/s}]}
products:
  skus: [{sku: A, price: 10, stock: 5}, {sku: B, price: 20, stock: 5}]
  schedule: [{sku: A, from: 0m, to: 10m, propensity: 0/s},
             {sku: B, from: 10m, to: 20m, propensity: 0/s}]
aftersales: {agents: [{from: 0h, to: 31d, agents: 1}]}
presentation: {missing_fields: %s}
"""


@pytest.mark.parametrize("lacks", [[], ["seller", "returnability"]])
def test_product_pages_are_judged_alike(lacks: list[str]) -> None:
    """The shop cannot see the time on air: its evidence adds that it judged the pages
    alone; status, the page figures, the limit and the rest of the evidence agree."""
    from simlive.check.display_rules import display_complete
    from simlive.scenario import parse_scenario
    from simlive.sim.presented import presentation_measures

    s = parse_scenario(PAGES % ({"A": lacks} if lacks else "{}"))
    p = rule_params(None)["display.complete"]
    sim = verdict("display.complete", presentation_measures(
        s, p["min_presentation"], np.zeros(2, dtype=np.int64), np.random.default_rng(0)), p)
    pages = {"A": {"price_cents": 1000, "seller": None if lacks else "S",
                   "returnable": None if lacks else True, "reason": None},
             "B": {"price_cents": 2000, "seller": "S", "returnable": True, "reason": None}}
    ops = [Op("setup", "read_product", {"sku": k, "price": v["price_cents"] / 100,
                                        "returnable": True}, OK, v, T0, T0 + 0.01)
           for k, v in pages.items()]
    shop = display_complete(ops, FinalState(), p)
    assert (shop.status, shop.limit) == (sim.status, sim.limit)
    assert {k: v for k, v in sim.measured.items() if k in shop.measured} == shop.measured
    assert shop.evidence.startswith(sim.evidence.split("; each presented")[0] + "; "
                                    "presentation time cannot be seen on a shop")
@pytest.mark.parametrize(("third", "status"), [((40 * HOUR, 2.5 * DAY), Status.PASS),
                                               ((50 * HOUR, 4 * DAY), Status.FAIL)])
def test_shipping_and_delivery_are_judged_alike(third: tuple[float, float],
                                                status: Status) -> None:
    """Three orders shipped and delivered (the third within 48 h and the 3-day promise, or
    past both), one paid a day before the end and not shipped yet (pending): the model's
    arrays and the shop's orders, judged by the deadlines the load stated at setup."""
    from simlive.check.fulfilment_rules import on_time
    from simlive.sim.on_time import orders_record

    p = rule_params()["fulfilment.on-time"]
    promise = 3 * DAY
    paid = [0.0, 100.0, 200.0, HORIZON - DAY]
    shipped = [HOUR, 30 * HOUR, 200.0 + third[0], None]
    delivered = [DAY, 2 * DAY, 200.0 + third[1], None]
    sim = verdict("fulfilment.on-time", orders_record(
        np.array(paid), np.array([INF if t is None else t for t in shipped]),
        np.array([INF if t is None else t for t in delivered]), p["ship_within"], promise,
        HORIZON), p)

    def at(x: float | None) -> float | None:
        return None if x is None else T0 + x

    orders = [{"id": i + 1, "state": "paid", "paid_at": at(paid[i]),
               "shipped_at": at(shipped[i]), "delivered_at": at(delivered[i])}
              for i in range(4)]
    setup = Op("setup", "create_broadcast", {"title": "t", "ship_within": p["ship_within"],
                                             "promise": promise}, OK, {}, T0, T0)
    shop = on_time([setup], FinalState(orders=orders, fetched_at=T0 + HORIZON), p)
    assert sim.status is status
    same(sim, shop, ("; e.g. ['order 3 (shipped late)']" if status is Status.FAIL else "")
         + "; the promise stated at setup: ship within 2d, deliver within 3d of payment "
           "(the scenario's, compressed into the load's run time)")
@pytest.mark.parametrize(("reference", "status"), [(9.9, Status.PASS), (199.0, Status.FAIL)])
def test_a_reference_price_is_judged_alike(reference: float, status: Status) -> None:
    """HOT (list 199) sold at 9.9 from 100 s to 150 s; at 200 s the shop shows (the host
    claims) a discount from ``reference``: above 9.9 is a claim the week's lowest price does
    not support, on both sides."""
    p = rule_params()["pricing.claims-hold"]
    s = parse_scenario(f"""\
name: claims
duration: 1h
audience: {{arrivals: [{{at: 0m, rate: 1/s}}]}}
products: {{skus: [{{sku: HOT, price: 199, stock: 10}}]}}
aftersales: {{agents: [{{from: 0h, to: 1h, agents: 1}}]}}
pricing:
  skus:
    - sku: HOT
      timeline: [{{at: -1h, price: 199, until: 100s}}, {{at: 100s, price: 9.9, until: 150s}}]
      claims: [{{kind: discount, at: 200s, reference_price: {reference}}}]
""")
    record = price_claims(s, [SkuOutcome("HOT")], 1.0, p["window"], p["protection"])
    sim = verdict("pricing.claims-hold", record, p)
    history = [
        Op("b1", "order", {"sku": "HOT", "quantity": 1, "key": "k1"}, OK, {"order_id": 1},
           T0 + 100.0, T0 + 100.1),
        Op("b1", "pay", {"order_id": 1}, OK, {"order_id": 1}, T0 + 101.0, T0 + 101.1),
        Op("b2", "read_price", {"sku": "HOT"}, OK,
           {"price": 199.0, "reference_price": reference}, T0 + 200.0, T0 + 200.1),
    ]
    orders = [{"id": 1, "sku": "HOT", "quantity": 1, "amount_cents": 990, "state": "paid"}]
    shop = claims_hold(history, FinalState(orders=orders, tickets=[], receipts=[],
                                          fetched_at=T0 + HORIZON), p)
    assert sim.status is status
    same(sim, shop, "; 1 price reading, each reference compared with the lowest unit price "
         "paid in the 7d before it where there was one; 1 acknowledged order, each "
         "compared with the price shown just before it; the history shows no "
         "price-protection request")
@pytest.mark.parametrize(("decision_time", "status"), [(1 * DAY, Status.PASS),
                                                       (6 * DAY, Status.FAIL)])
def test_escalations_are_judged_alike(decision_time: float, status: Status) -> None:
    """A complaint never resolved (escalated 3 days on), a return refused on day 2
    (escalated then), one resolved in time, one escalated on day 17 (still undecided at the
    end when decisions take 6 days) and one too late to escalate; every escalation decided
    ``decision_time`` after it reached the platform."""
    from simlive.check.escalation_rules import escalations_answered
    from simlive.scenario.aftersales import Escalation
    from simlive.sim.platform_desk import RequestTimes, simulate_escalations

    rid = "aftersales.escalations-answered"
    p = rule_params()[rid]
    esc = Escalation(after="3d", unresolved=1.0, refused=1.0, decisions_per_day=100,
                     decision_time={"dist": "fixed", "value": decision_time})
    arrival = [100.0, 1 * DAY, DAY // 2, 14 * DAY, 18 * DAY]
    resolved = [INF, 2 * DAY, 1 * DAY, INF, INF]
    refused = [False, True, False, False, False]
    sim_out = simulate_escalations(esc, RequestTimes(np.array(arrival), np.array(resolved),
                                                     np.array(refused)),
                                   HORIZON, p["decide_within"], np.random.default_rng(0))
    sim = verdict(rid, sim_out.measures, p)
    escalated = {1: 3 * DAY + 100.0, 2: 2 * DAY, 4: 17 * DAY}
    rows, history = [], []
    for i, created in enumerate(arrival, start=1):
        at = escalated.get(i)
        decided = None if at is None or at + decision_time > HORIZON else at + decision_time
        rows.append({"id": i, "kind": "complaint", "state": "replied",
                     "created_at": T0 + created,
                     "escalated_at": None if at is None else T0 + at,
                     "decided_at": None if decided is None else T0 + decided})
        if at is not None:
            history.append(Op("buyer-1", "escalate", {"ticket_id": i, "reason": "no answer"},
                              OK, {"ticket_id": i}, T0 + at, T0 + at + 0.01))
    shop = escalations_answered(history, FinalState(tickets=rows, fetched_at=T0 + HORIZON), p)
    assert sim.status is status
    assert sim.measured["pending"] == (1 if status is Status.FAIL else 0)
    same(sim, shop, ", e.g. ['ticket 1', 'ticket 2']" if status is Status.FAIL else "")
@pytest.mark.parametrize("by_rating", [False, True])
def test_the_review_listing_is_judged_alike(by_rating: bool) -> None:
    """HOT-1 gets reviews rated 5, 2, 4, 3, 1 and COLD-1 3, 4, in that posting order; the
    shop lists them newest first, or best first with COLD-1's neutral review hidden
    without an allowed reason."""
    from simlive.check.review_order import order_honest
    from simlive.judge.measures import ReviewOrderMeasures
    from simlive.sim.review_listing import buried_by_rating

    p = rule_params()["reviews.order-honest"]
    sent = [("HOT-1", 5), ("HOT-1", 2), ("HOT-1", 4), ("HOT-1", 3), ("HOT-1", 1),
            ("COLD-1", 3), ("COLD-1", 4)]
    hidden = {6} if by_rating else set()  # COLD-1's 3
    history = [Op("buyer-1", "review", {"sku": sku, "rating": r, "text": f"r{i}"}, OK,
                  {"review_id": i + 1}, T0 + i, T0 + i + 0.1)
               for i, (sku, r) in enumerate(sent)]
    rows = [{"id": i + 1, "sku": sku, "rating": r, "text": f"r{i}", "created_at": T0 + i,
             "hidden": i + 1 in hidden,
             "hidden_reason": "too negative" if i + 1 in hidden else None}
            for i, (sku, r) in enumerate(sent)]
    for sku in ("HOT-1", "COLD-1"):
        shown = [r for r in rows if r["sku"] == sku and not r["hidden"]]
        shown.sort(key=lambda r: (r["rating"], r["created_at"]) if by_rating
                   else (r["created_at"],), reverse=True)
        items = [{"id": r["id"], "rating": r["rating"], "posted_at": r["created_at"]}
                 for r in shown]
        history.append(Op("setup", "list_reviews", {"sku": sku}, OK,
                          {"items": items, "next": None}, T0 + 60, T0 + 60.1))
    shop = order_honest(history, FinalState(reviews=rows, fetched_at=T0 + HORIZON), p)
    # the model's count over the same reviews: grouped by SKU, in posting order
    listed = [(0 if sku == "HOT-1" else 1, r) for i, (sku, r) in enumerate(sent)
              if i + 1 not in hidden]
    sku_of = np.array([s for s, _ in sorted(listed, key=lambda x: x[0])])
    rating = np.array([r for _, r in sorted(listed, key=lambda x: x[0])])
    buried = buried_by_rating(sku_of, rating, rating <= p["protected_max"], 2) \
        if by_rating else 0
    sim = verdict("reviews.order-honest", ReviewOrderMeasures(
        7, 4, len(hidden), buried, "by rating" if by_rating else "newest first", 2), p)
    assert sim.status is (Status.FAIL if by_rating else Status.PASS)
    if by_rating:
        # HOT-1 listed 5, 4, 3, 2, 1: the 2 under the later 4 and 3 (oldest first would
        # list them below it), the 3 and the 1 under nothing later: 1 buried; newest
        # first would bury the 2, 3 and 1 (3): the nearer order counts 1
        assert (sim.measured["hidden"], sim.measured["buried"]) == (1, 1)
    same(sim, shop, ", e.g. ['review 6', 'review 2']" if by_rating else "")
@pytest.mark.parametrize(("factor", "offset", "tolerance", "status"), [
    (1.0, 0.0, 0.0, Status.PASS), (1.2, 0.0, 0.25, Status.PASS),
    (3.0, 100.0, 0.0, Status.FAIL)])
def test_shown_counters_are_judged_alike(factor: float, offset: float, tolerance: float,
                                         status: Status) -> None:
    """Ten seconds: an order accepted and two viewers arriving (none leaving) each second,
    both counters shown each second as ``factor x truth + offset``. The model compares
    them with the truth, the checker with the history's bounds, here the same figures."""
    from simlive.check.counter_rules import counters_true
    from simlive.scenario.counters import Counter, Counters
    from simlive.sim.shown_counters import counter_measures

    p = dict(rule_params()["display.counters-true"], max_overstatement=tolerance)
    sold, viewers = np.arange(1, 11), 2.0 * np.arange(1, 11)
    c = Counter(factor=factor, offset=offset)
    record, _ = counter_measures(Counters(sold=c, viewers=c), sold, viewers, 1.0,
                                 p["max_lag"], tolerance)
    sim = verdict("display.counters-true", record, p)
    history = []
    for t in range(10):
        history.append(Op(f"buyer-{t}", "order", {"sku": "HOT-1"}, OK, {"order_id": t},
                          T0 + t + 0.1, T0 + t + 0.15))
        history += [Op(f"viewer-{t}-{i}", "watch", {}, OK, {}, T0 + t + 0.2, T0 + t + 0.25)
                    for i in range(2)]
        history.append(Op("viewer-0-0", "read_counters", {}, OK,
                          {"sold": factor * sold[t] + offset,
                           "viewers": factor * viewers[t] + offset}, T0 + t + 0.5,
                          T0 + t + 0.55))
    history.append(Op("buyer-x", "order", {"sku": "HOT-1"}, FAIL, None, T0 + 0.3, T0 + 0.35))
    shop = counters_true(history, FinalState(fetched_at=T0 + 11), p)
    assert (shop.status, shop.measured, shop.limit) == (sim.status, sim.measured, sim.limit)
    assert sim.status is status
    if status is Status.FAIL:  # the same worst reading: sold shown 103 against 1
        assert "worst: sold shown 103" in sim.evidence and "at most 1 orders" in sim.evidence
        assert "worst: sold shown 103" in shop.evidence and "bounds from the history" in \
            shop.evidence
