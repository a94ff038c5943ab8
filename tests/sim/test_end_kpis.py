"""What an operations team asks first: the ticket backlog when the broadcast ends, and the
share of orders paid."""

from __future__ import annotations

import yaml

from simlive.scenario.loader import parse_scenario
from simlive.sim.engine import run_replication


def _scenario(agents_from: str):
    return parse_scenario(yaml.safe_dump({
        "name": "end", "seed": 2, "duration": "1h",
        "audience": {"arrivals": [{"at": "0h", "rate": "5/s"}]},
        "products": {"skus": [{"sku": "A", "price": 10, "stock": 10**6}],
                     "schedule": [{"sku": "A", "from": "0m", "to": "60m",
                                   "propensity": "0.05/min"}]},
        "orders": {"pay_probability": 0.7},
        "aftersales": {"consultations": {"rate": "0.2/s"}, "patience": None,  # they wait
                       "returns": {"fraction": 0}, "replacements": {"fraction": 0},
                       "refunds": {"fraction": 0}, "complaints": {"fraction": 0},
                       "agents": [{"from": agents_from, "to": "30d", "agents": 50}]},
    }), "end.yaml")


def test_backlog_at_the_end_counts_what_waits_for_a_first_reply() -> None:
    nobody = run_replication(_scenario("61m"), 0).kpis  # no agent until after the end
    assert nobody["aftersales.backlog_at_end"] == nobody["aftersales.tickets"] > 500
    staffed = run_replication(_scenario("0h"), 0).kpis  # 50 agents for 0.2 chats/s
    assert staffed["aftersales.backlog_at_end"] <= 5


def test_paid_fraction_is_paid_over_placed() -> None:
    k = run_replication(_scenario("0h"), 0).kpis
    assert k["orders.paid_fraction"] == k["orders.paid"] / k["orders.placed"]
    assert 0.6 < k["orders.paid_fraction"] < 0.75
