"""Prices: what a buyer is shown (the price and the struck-through reference price), and
the merchant setting the price in force (a flash sale's).

The reference ('was') price is the lowest of the list price and the lowest unit price paid
in the service's ``price_window`` (7 days) before the reading: a discount is never shown
from a price the goods did not sell at (``pricing.claims-hold``, SAMR 2020 art. 20). The
``inflated-reference`` fault shows the list price instead.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy import RowMapping, func, select, update

from simlive.service import sql_tables as t
from simlive.service.auth import AnyRole, Merchant, Svc
from simlive.service.bodies import PriceOut, PriceSet
from simlive.service.core import Service
from simlive.service.faults import Fault
from simlive.service.problems import forbidden, not_found
from simlive.service.routers.common import ERRORS, SkuPath

router = APIRouter(tags=["prices"], responses=ERRORS)
p, o = t.products, t.orders


def _product(svc: Service, sku: str) -> RowMapping:
    with svc.db.read() as conn:
        row = conn.execute(select(p.c.id, p.c.sku, p.c.merchant_id, p.c.price_cents,
                                  p.c.sale_price_cents).where(p.c.sku == sku)
                           ).mappings().first()
    if row is None:
        raise not_found("product", sku)
    return row


def price_out(svc: Service, row: RowMapping) -> PriceOut:
    listed = int(row["price_cents"])
    price = int(row["sale_price_cents"] or listed)
    reference = listed
    if not svc.settings.has(Fault.INFLATED_REFERENCE):
        since = svc.now() - timedelta(seconds=svc.settings.price_window)
        with svc.db.read() as conn:
            lowest = conn.execute(
                select(func.min(o.c.amount_cents / o.c.quantity))
                .where(o.c.product_id == row["id"], o.c.paid_at.is_not(None),
                       o.c.paid_at >= since)).scalar()
        if lowest is not None:
            reference = min(listed, int(lowest))
    return PriceOut(sku=row["sku"], price=price / 100, reference_price=reference / 100,
                    price_cents=price, reference_price_cents=reference,
                    list_price_cents=listed)


@router.get("/products/{sku}/price")
def get_price(sku: SkuPath, caller: AnyRole, svc: Svc) -> PriceOut:
    """The price a buyer is shown now and the reference ('was') price struck through."""
    return price_out(svc, _product(svc, sku))


@router.put("/products/{sku}/price")
def set_price(sku: SkuPath, body: PriceSet, caller: Merchant, svc: Svc) -> PriceOut:
    """Charge ``price_cents`` from now on (a flash sale's price); the list price again when
    set back to it."""
    row = _product(svc, sku)
    if row["merchant_id"] != caller.id:
        raise forbidden(f"product {sku!r} belongs to another merchant")
    sale = None if body.price_cents == row["price_cents"] else body.price_cents
    with svc.db.write() as conn:
        conn.execute(update(p).where(p.c.id == row["id"]).values(sale_price_cents=sale))
    return price_out(svc, _product(svc, sku))
