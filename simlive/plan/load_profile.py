"""The load a service must hold, as the scenario implies it: the file ``simlive load`` reads.

The simulator knows the broadcast's peaks (orders per second at the flash sale, viewers
present, how often their screens re-read the displayed stock, ticket operations); the load
test needs exactly those as its target. Written as YAML, with where it came from.
"""

from __future__ import annotations

from typing import Any

from simlive import __version__
from simlive.scenario.schema import Scenario
from simlive.sim.replications import SimulationResult

TICKET_OPERATIONS = 5  # open, reply, start, resolve, close: the API calls of one ticket


def load_profile(scenario: Scenario, result: SimulationResult) -> dict[str, Any]:
    series = result.series
    peak_viewers = max(series["viewers"]) if series["viewers"] else 0.0
    refresh = max(scenario.orders.display_refresh, 1.0)
    peak_tickets = max(series.get("tickets_per_s") or [0.0])
    peak_orders = max(series["orders_per_s"]) if series["orders_per_s"] else 0.0
    # every order is placed, then paid or left to expire: two writes, one read of the stock
    return {
        "simlive_version": __version__,
        "scenario": scenario.name,
        "seed": scenario.seed,
        "series_step_s": series["time_s"][1] - series["time_s"][0] if len(
            series["time_s"]) > 1 else scenario.duration,
        "peak": {
            "orders_per_s": round(float(peak_orders), 3),
            "order_writes_per_s": round(float(peak_orders) * 2, 3),
            "concurrent_viewers": round(float(peak_viewers), 1),
            "stock_reads_per_s": round(float(peak_viewers) / refresh, 3),
            "ticket_operations_per_s": round(float(peak_tickets) * TICKET_OPERATIONS, 4),
        },
        "operations": {  # what simlive load --profile holds, per operation, per second
            "order": round(float(peak_orders), 3),
            "read_stock": round(float(peak_viewers) / refresh, 3),
            "open_ticket": round(float(peak_tickets), 4),
        },
        "notes": ("peaks are averages over series_step_s of replication 0; stock reads "
                  "assume each viewer's screen re-reads the displayed stock every "
                  f"{refresh:g} s (orders.display_refresh, at least 1 s)"),
    }
