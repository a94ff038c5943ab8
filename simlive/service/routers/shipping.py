"""Shipping a paid order (``fulfilment.on-time``): the warehouse hands it to the carrier.

Delivery (``POST /orders/{id}/deliver``) then needs the order shipped when it carries a
promise. Under the ``lost-shipment`` fault some shipments are acknowledged and never
recorded: the order stays unshipped past its deadlines.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import update

from simlive.service import sql_tables as t
from simlive.service.auth import MerchantOrAdmin, Svc
from simlive.service.bodies import OrderOut
from simlive.service.faults import Fault
from simlive.service.problems import conflict
from simlive.service.routers.common import ERRORS, IdPath
from simlive.service.routers.orders import load_order, order_out

router = APIRouter(tags=["orders"], responses=ERRORS)
o = t.orders

LOST_SHIPMENT_FRACTION = 1 / 3
"""``lost-shipment``: the share of shipments acknowledged but never recorded."""


@router.post("/orders/{order_id}/ship",
             responses={409: {"description": "order_not_paid | already_delivered"}})
def ship(order_id: IdPath, caller: MerchantOrAdmin, svc: Svc) -> OrderOut:
    """paid -> shipped now (``shipped_at``); shipping a shipped order again changes nothing.
    An order delivered without a shipment on record cannot be shipped after the fact."""
    row = load_order(svc, caller, order_id)
    now = svc.now()
    if svc.settings.has(Fault.LOST_SHIPMENT) and row["state"] == "paid" and \
            row["shipped_at"] is None and row["delivered_at"] is None and \
            svc.chance(LOST_SHIPMENT_FRACTION):
        return order_out({**row, "shipped_at": now})  # acknowledged, never written
    with svc.db.write() as conn:
        conn.execute(update(o).where(o.c.id == order_id, o.c.state == "paid",
                                     o.c.shipped_at.is_(None), o.c.delivered_at.is_(None))
                     .values(shipped_at=now))
    row = load_order(svc, caller, order_id)
    if row["state"] != "paid":
        raise conflict("order_not_paid", f"order {order_id} is {row['state']}; only a paid "
                                         f"order can be shipped")
    if row["shipped_at"] is None:
        raise conflict("already_delivered", f"order {order_id} was delivered at "
                                            f"{row['delivered_at'].isoformat()} with no "
                                            f"shipment on record")
    return order_out(row)
