"""Whether each paid order ships and arrives on time (``fulfilment.on-time``).

With a ``fulfilment`` block the warehouse's backlog sets when each paid order ships
(:mod:`simlive.sim.fulfilment`) and the transit when it arrives. An order is late when it
ships more than the rule's ``ship_within`` after its payment, or arrives after the store's
promise (``fulfilment.promise`` after payment). The model looks as far as the after-sales
horizon: an order still unshipped or undelivered there is late if its deadline has passed,
and pending (not judged) if not. Every paid order is drawn (its payment time in its step,
its place in the queue, its transit), SKU by SKU, from the replication's own stream.

Stock readiness: a SKU whose ``warehouse`` figure is below its linked stock has units
linked beyond the goods ready; its orders beyond the ready units (in payment order) wait
for ``fulfilment.replenish`` (:func:`simlive.sim.fulfilment.beyond_ready`), so they ship
late and may miss the promise. The record counts those units, names the SKU with the
most, and counts the orders held.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simlive.judge.measures import FulfilmentMeasures
from simlive.scenario.schema import Scenario, Sku
from simlive.sim.fulfilment import beyond_ready, ready_units
from simlive.sim.orders import SkuOutcome
from simlive.sim.tickets import _paid_times as paid_times
from simlive.sim.tickets import shipping_of


def on_time(s: Scenario, outcomes: list[SkuOutcome], step: float, ship_within: float,
            rng: np.random.Generator, skus: tuple[Sku, ...] | None = None
            ) -> FulfilmentMeasures:
    """The replication's record; ``ship_within``: the rule's, in seconds; ``skus``: the
    catalogue, if already built."""
    f = s.fulfilment
    assert f is not None, "on_time needs a fulfilment block (scenario.scope)"
    if skus is None:
        from simlive.scenario.catalogue import build_catalogue

        skus = build_catalogue(s).skus
    by_id = {k.sku: k for k in skus}
    horizon = s.duration + s.aftersales.horizon
    shipping = shipping_of(s, outcomes, step)
    records = []
    held = 0
    for o in outcomes:
        paid = paid_times(o, 1.0, step, rng)
        if paid.size == 0:
            continue
        shipped = shipping.ship_times(shipping.positions(paid, rng))  # inf: never
        sku = by_id.get(o.sku)
        if sku is not None and sku.warehouse is not None:
            wait = beyond_ready(paid, o.paid_units, ready_units(sku, o.supply))
            shipped = shipping.hold(shipped, wait, f.replenish)
            held += int(wait.sum())
        delivered = shipped + f.transit.sample(rng, paid.size)
        records.append(orders_record(paid, shipped, delivered, ship_within, f.promise,
                                     horizon))
    out = FulfilmentMeasures(
        sum(r.judged for r in records), sum(r.shipped_late for r in records),
        sum(r.delivered_late for r in records), sum(r.late for r in records),
        max((r.worst_late for r in records if r.worst_late is not None), default=None),
        sum(r.pending for r in records))
    return with_readiness(out, skus, held, f.replenish)


def with_readiness(m: FulfilmentMeasures, skus: tuple[Sku, ...], held: int,
                   replenish: float) -> FulfilmentMeasures:
    """``m`` with the units linked beyond the warehouse figures (unchanged with none)."""
    beyond = [(k.stock - k.warehouse, k) for k in skus
              if k.warehouse is not None and k.stock > k.warehouse]
    if not beyond and not held:
        return m
    units, worst = max(beyond, key=lambda b: b[0], default=(0, None))
    return dataclasses.replace(
        m, unready_units=sum(b[0] for b in beyond),
        unready_sku=None if worst is None else worst.sku, unready_sku_units=units,
        unready_sku_ready=0 if worst is None or worst.warehouse is None else worst.warehouse,
        held=held, replenish=replenish)


def orders_record(paid: np.ndarray, shipped: np.ndarray, delivered: np.ndarray,
                  ship_within: float, promise: float, horizon: float) -> FulfilmentMeasures:
    """Orders paid, shipped and delivered at these times (inf: not by the horizon): late
    when shipped more than ``ship_within`` after payment or delivered more than
    ``promise`` after it, or still undone at the horizon past either; pending when undone
    and within both."""
    # an order not shipped (delivered) by the horizon is measured at the horizon
    past_ship = np.minimum(shipped, horizon) - (paid + ship_within)
    past_promise = np.minimum(delivered, horizon) - (paid + promise)
    ship_late, deliver_late = past_ship > 0, past_promise > 0
    late = ship_late | deliver_late
    done = delivered <= horizon
    worst = float(np.maximum(past_ship[late], past_promise[late]).max()) if late.any() \
        else None
    return FulfilmentMeasures(int((late | done).sum()), int(ship_late.sum()),
                              int(deliver_late.sum()), int(late.sum()), worst,
                              int((~late & ~done).sum()))
