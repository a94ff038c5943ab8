"""fulfilment.on-time's stock readiness: linked stock the warehouse did not have before going
live ships only after the replenishment, so its orders are late."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from simlive.errors import InputFileError
from simlive.scenario.catalogue import build_catalogue
from simlive.scenario.loader import parse_scenario
from simlive.scenario.schema import Fulfilment, Sku
from simlive.sim.engine import run_replication
from simlive.sim.fulfilment import beyond_ready, plan_shipping, ready_units
from simlive.sim.replications import simulate
from tests.sim.test_fulfilment import _scenario

ROOMY = {"capacity": 10**6, "transit": {"dist": "fixed", "value": "1d"}}


def _with_warehouse(warehouse: int | None, fulfilment: dict | None = None) -> str:
    data = yaml.safe_load(_scenario(fulfilment or ROOMY))
    if warehouse is not None:
        data["products"]["skus"][0]["warehouse"] = warehouse
    return yaml.safe_dump(data)


def test_orders_beyond_the_ready_units_are_the_last_paid() -> None:
    paid = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    # 10 units in 5 orders (2 each), 6 ready: the first 3 paid are ready
    assert beyond_ready(paid, 10, 6).tolist() == [True, False, True, False, False]
    assert not beyond_ready(paid, 10, None).any()  # no warehouse figure: all ready
    assert not beyond_ready(paid, 10, 10).any()
    assert beyond_ready(paid, 10, 0).all()
    assert beyond_ready(np.zeros(0), 0, 0).size == 0


def test_restocks_count_as_ready_and_held_orders_ship_at_the_first_cut_off_after() -> None:
    sku = Sku(sku="A", price=1, stock=100, warehouse=30)
    assert ready_units(sku, 140) == 70  # 40 restocked: ready when they come
    assert ready_units(Sku(sku="B", price=1, stock=100), 100) is None
    f = Fulfilment(capacity=10**6, cut_off="16:00")
    ship = plan_shipping(np.array([2, 2]), 60.0, f, "20:00", 10 * 86400.0)
    shipped = np.array([20 * 3600.0, 20 * 3600.0])
    held = np.array([False, True])
    # replenished 3 days after 20:00: the 16:00 cut-off of the 3rd day after ships it
    assert ship.hold(shipped, held, 3 * 86400.0).tolist() == [20 * 3600.0, 92 * 3600.0]
    assert ship.hold(shipped, held, 30 * 86400.0)[1] == math.inf  # past the days kept


def test_linked_stock_beyond_the_warehouse_makes_its_last_orders_late() -> None:
    """1,000,000 linked, 5,000 ready: the orders beyond 5,000 units (in payment order) wait
    for the replenishment 3 days in and ship past 48 h and the 3-day promise."""
    s = parse_scenario(_with_warehouse(5000), "s")
    r = run_replication(s, 0)
    m = r.measures.fulfilment
    assert m is not None
    n, units = int(r.kpis["orders.paid"]), int(r.kpis["units.sold"])
    assert n > 10_000 and units > 5000
    assert m.held == n - 5000 * n // units
    assert m.late == m.shipped_late == m.delivered_late == m.held  # the ready ones: on time
    assert (m.unready_units, m.unready_sku, m.unready_sku_units, m.unready_sku_ready) == (
        995_000, "A", 995_000, 5000)
    assert r.kpis["orders.unready_units"] == 995_000
    again = run_replication(parse_scenario(_with_warehouse(5000), "s"), 0)
    assert again.measures.fulfilment == m  # no draws of its own: deterministic


def test_readiness_breaks_the_rule_and_the_evidence_names_the_sku() -> None:
    res = simulate(parse_scenario(_with_warehouse(5000), "s"), 2)
    v = next(v for v in res.verdicts if v.rule_id == "fulfilment.on-time")
    assert v.status.value == "fail"
    assert v.measured["unready_units"] == 995_000
    assert ("; 995,000 units linked beyond the warehouse's 5,000 ready: SKU A; up to "
            in v.evidence)
    assert "paid orders waited for the replenishment (3d after going live)" in v.evidence


def test_a_replenishment_before_the_first_cut_off_delays_nothing() -> None:
    """Replenished an hour in: the held orders still ship at the first cut-off (20 h)."""
    quick = dict(ROOMY, replenish="1h")
    m = run_replication(parse_scenario(_with_warehouse(5000, quick), "s"), 0).measures
    base = run_replication(parse_scenario(_with_warehouse(None, quick), "s"), 0).measures
    assert m.fulfilment is not None and base.fulfilment is not None
    assert m.fulfilment.late == base.fulfilment.late == 0
    assert m.fulfilment.held > 0 and m.fulfilment.unready_units == 995_000


def test_a_warehouse_holding_all_the_stock_changes_nothing() -> None:
    full = run_replication(parse_scenario(_with_warehouse(10**6), "s"), 0)
    none = run_replication(parse_scenario(_with_warehouse(None), "s"), 0)
    assert full.measures.fulfilment == none.measures.fulfilment
    assert full.kpis.pop("orders.unready_units") == 0
    assert "orders.unready_units" not in none.kpis
    assert full.kpis == none.kpis


def test_a_generated_catalogue_has_a_share_of_its_stock_ready() -> None:
    data = yaml.safe_load(_scenario(ROOMY))
    data["products"] = {"generate": {"count": 20, "propensity": "0.01/min",
                                     "warehouse_share": 0.25}}
    skus = build_catalogue(parse_scenario(yaml.safe_dump(data), "s")).skus
    assert [k.warehouse for k in skus] == [int(k.stock * 0.25) for k in skus]
    data["products"]["generate"]["warehouse_share"] = 1
    assert all(k.warehouse is None
               for k in build_catalogue(parse_scenario(yaml.safe_dump(data), "s")).skus)


@pytest.mark.parametrize(("where", "value"), [("warehouse", -1), ("replenish", "400d")])
def test_readiness_inputs_are_bounded(where: str, value: object) -> None:
    data = yaml.safe_load(_with_warehouse(5000))
    if where == "warehouse":
        data["products"]["skus"][0]["warehouse"] = value
    else:
        data["fulfilment"]["replenish"] = value
    with pytest.raises(InputFileError):
        parse_scenario(yaml.safe_dump(data), "s")


def test_held_orders_bring_their_returns_later_and_buyers_ask_where_they_are() -> None:
    """The returns of orders waiting for the replenishment (3 days) come after it; their
    buyers, past the 3-day promise, ask where the order is."""
    asking = dict(ROOMY, wismo=0.5)
    held = run_replication(parse_scenario(_with_warehouse(5000, asking), "s"), 0)
    ready = run_replication(parse_scenario(_with_warehouse(None, asking), "s"), 0)
    assert held.kpis["aftersales.tickets"] > ready.kpis["aftersales.tickets"]
    h, r = held.intervals, ready.intervals
    assert h is not None and r is not None
    last = [float(np.flatnonzero(i.offered)[-1] * i.length) for i in (h, r)]
    assert last[1] < 3 * 86400.0 < last[0]
