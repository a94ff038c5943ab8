"""Shipping with a daily capacity: the backlog, by hand, and what it does to delivery."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from simlive.scenario.loader import parse_scenario
from simlive.scenario.schema import Fulfilment
from simlive.sim.engine import run_replication
from simlive.sim.fulfilment import plan_shipping

DAY = 86400.0


def test_the_backlog_by_hand() -> None:
    """Broadcast at 20:00, cut-off 16:00: day 0's cut-off is 20 h in (72,000 s). 250 orders
    paid in the first minute, 30 more an hour after day 2's cut-off, 100 a day: days 0, 1
    and 2 ship 100, 100 and 50; the late 30 wait for day 3."""
    step = 60.0
    per_step = np.zeros(3 * 1440 + 200, dtype=np.int64)
    per_step[0] = 250
    late_step = int((72000 + 2 * DAY + 3600) // step)
    per_step[late_step] = 30
    f = Fulfilment(capacity=100, cut_off="16:00")
    plan = plan_shipping(per_step, step, f, "20:00", until=6 * DAY)
    assert plan.cutoffs[0] == 72000 and np.all(np.diff(plan.cutoffs) == DAY)
    assert list(plan.shipped[:5]) == [100, 200, 250, 280, 280]
    days = plan.ship_times(np.array([1, 100, 101, 200, 201, 250, 251, 280, 281.0]))
    c = plan.cutoffs
    assert list(days[:8]) == [c[0], c[0], c[1], c[1], c[2], c[2], c[3], c[3]]
    assert days[8] == np.inf  # never paid: never shipped


def _scenario(fulfilment: dict | None) -> str:
    data = {
        "name": "ship", "seed": 8, "duration": "2h",
        "audience": {"arrivals": [{"at": "0h", "rate": "20/s"}]},
        "products": {"skus": [{"sku": "A", "price": 10, "stock": 10**6}],
                     "schedule": [{"sku": "A", "from": "0m", "to": "2h",
                                   "propensity": "0.05/min"}]},
        "orders": {"pay_probability": 1.0},
        "aftersales": {"consultations": {"rate": 0},
                       "returns": {"fraction": 0.2, "delay": {"dist": "fixed", "value": "1h"}},
                       "replacements": {"fraction": 0}, "refunds": {"fraction": 0},
                       "complaints": {"fraction": 0}, "horizon": "60d",
                       "agents": [{"from": "0h", "to": "60d", "agents": 50}]},
    }
    if fulfilment is not None:
        data["fulfilment"] = fulfilment
    return yaml.safe_dump(data)


def test_a_small_warehouse_spreads_returns_over_weeks_and_late_buyers_ask() -> None:
    roomy = parse_scenario(_scenario({"capacity": 10**6, "transit": {"dist": "fixed",
                                                                     "value": "1d"}}), "s")
    tight = parse_scenario(_scenario({"capacity": 1000, "wismo": 0.5,
                                      "transit": {"dist": "fixed", "value": "1d"}}), "s")
    fast, slow = run_replication(roomy, 0), run_replication(tight, 0)
    paid = fast.kpis["orders.paid"]
    assert paid == slow.kpis["orders.paid"] and paid > 10_000  # the same night
    f_int, s_int = fast.intervals, slow.intervals
    assert f_int is not None and s_int is not None
    # roomy: everything ships at the first cut-off (20 h in) and returns come a day + 1 h
    # later; tight: 1,000 a day, so returns keep coming for paid / 1000 days
    def last_ticket(counts: np.ndarray, length: float) -> float:
        return float(np.flatnonzero(counts)[-1] * length)
    assert last_ticket(f_int.offered, f_int.length) < 3 * DAY
    assert last_ticket(s_int.offered, s_int.length) > (paid / 1000 - 2) * DAY
    # where-is-my-order: orders promised in 3 days but shipped up to weeks later
    extra = slow.kpis["aftersales.tickets"] - fast.kpis["aftersales.tickets"]
    assert extra == pytest.approx(wismo_by_hand(paid, 0.5), rel=0.03)


def wismo_by_hand(paid: float, w: float) -> float:
    """The n-th order paid (paid about evenly over the 2 h broadcast) ships on day
    (n - 1) // 1000 at the cut-off 20 h in, arrives a day later, and is L days past its
    3-day promise; asking on day K - 1 + U of the lateness (K geometric, U uniform), its
    buyer has asked by the delivery with chance 1 - (1 - w)^floor(L) (1 - w frac(L))."""
    n = np.arange(1, int(paid) + 1)
    paid_at = (n - 0.5) / paid * 7200
    late = (72000 + (n - 1) // 1000 * DAY + DAY - paid_at - 3 * DAY) / DAY
    whole = np.floor(np.maximum(late, 0))
    part = np.maximum(late, 0) - whole
    return float(np.where(late > 0, 1 - (1 - w) ** whole * (1 - w * part), 0).sum())


@pytest.mark.parametrize("w", [0.05, 0.3])
def test_where_is_my_order_grows_with_the_days_late(w: float) -> None:
    """Each day late a waiting buyer asks with chance w: over a 40-day backlog the asks
    follow the closed form, a few where orders are barely late, nearly all of the long
    waiters at 0.3 a day."""
    base = run_replication(parse_scenario(_scenario({
        "capacity": 1000, "transit": {"dist": "fixed", "value": "1d"}}), "s"), 0)
    got = run_replication(parse_scenario(_scenario({
        "capacity": 1000, "wismo": w, "transit": {"dist": "fixed", "value": "1d"}}), "s"), 0)
    paid = got.kpis["orders.paid"]
    extra = got.kpis["aftersales.tickets"] - base.kpis["aftersales.tickets"]
    want = wismo_by_hand(paid, w)
    assert extra == pytest.approx(want, rel=0.03)
    assert want < 0.99 * paid  # (not every order asked: the early ones were on time)
