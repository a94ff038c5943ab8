"""Orders: place (idempotent), pay, cancel, deliver, and the receipt.

The rules themselves live in :mod:`simlive.service.stock`; this module maps HTTP onto them
and checks who may see what: a buyer only their own orders, a merchant only orders of their
own products, agents and admins all of them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from sqlalchemy import RowMapping, or_, select, update

from simlive.service import sql_tables as t
from simlive.service.auth import AnyRole, Buyer, MerchantOrAdmin, Svc
from simlive.service.bodies import (
    Deliver,
    OrderCreate,
    OrderOut,
    OrderState,
    Page,
    ReceiptOut,
)
from simlive.service.core import Caller, Service
from simlive.service.placing import place_order
from simlive.service.problems import conflict, forbidden, not_found
from simlive.service.routers.common import ERRORS, After, IdPath, Limit, page, paged
from simlive.service.stock import (
    OrderRow,
    cancel_order,
    expire_due,
    find_order,
    order_select,
    pay_order,
    refresh,
)

router = APIRouter(tags=["orders"], responses=ERRORS)
o = t.orders

KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces (the lane checks the same)
KEY_MAX = 128
IdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", min_length=1, max_length=KEY_MAX, pattern=KEY_PATTERN,
    description="Client-chosen key: a retry with the same key and body returns the same "
                "order; the same key with another body is refused (409).")]


def order_out(row: OrderRow) -> OrderOut:
    # an order built in place on the hot path has no fulfilment columns yet
    return OrderOut.model_validate({k: row[k] for k in OrderOut.model_fields if k in row})


def _visible(caller: Caller, row: RowMapping) -> bool:
    if caller.role == "buyer":
        return bool(row["buyer_id"] == caller.id)
    if caller.role == "merchant":
        return bool(row["merchant_id"] == caller.id)
    return True


def load_order(svc: Service, caller: Caller, order_id: int) -> RowMapping:
    """The order (expired first if overdue); 404 unknown, 403 not the caller's."""
    with svc.db.read() as conn:
        row = find_order(conn, order_id)
    if row is None:
        raise not_found("order", order_id)
    if not _visible(caller, row):
        raise forbidden(f"order {order_id} is not yours")
    return refresh(svc, row)


def list_orders(svc: Service, caller: Caller, state: str | None, after: int,
                limit: int) -> Page[OrderOut]:
    expire_due(svc)
    query = order_select()
    if caller.role == "buyer":
        query = query.where(o.c.buyer_id == caller.id)
    elif caller.role == "merchant":
        query = query.where(t.products.c.merchant_id == caller.id)
    if state is not None:
        query = query.where(o.c.state == state)
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(query, o.c.id, after, limit)).mappings().all()
    return page(rows, limit, order_out)


@router.post("/orders", status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "a retry: the order first made with this key"},
                        409: {"description": "sold_out, buyer_limit, idempotency_mismatch or "
                                              "not_presented"}})
async def create_order(body: OrderCreate, key: IdempotencyKey, caller: Buyer, svc: Svc,
                       response: Response) -> OrderOut:
    """Reserve ``quantity`` units; pay within the payment timeout or the order expires."""
    row, created = await place_order(svc, caller, key, body)
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(row)


@router.get("/orders")
def get_orders(caller: AnyRole, svc: Svc, after: After = 0, limit: Limit = 100,
               state: OrderState | None = Query(None)) -> Page[OrderOut]:
    """Orders in id order: a buyer's own, a merchant's products', or all (agent, admin)."""
    return list_orders(svc, caller, state, after, limit)


@router.get("/orders/{order_id}")
def get_order(order_id: IdPath, caller: AnyRole, svc: Svc) -> OrderOut:
    return order_out(load_order(svc, caller, order_id))


def _own(caller: Caller, row: RowMapping) -> None:
    if row["buyer_id"] != caller.id:
        raise forbidden(f"order {row['id']} is not yours")


@router.post("/orders/{order_id}/pay", responses={409: {"description": "expired/cancelled"}})
def pay(order_id: IdPath, caller: Buyer, svc: Svc) -> OrderOut:
    """reserved -> paid and a receipt is issued; paying a paid order again changes nothing."""
    row = load_order(svc, caller, order_id)
    _own(caller, row)
    return order_out(pay_order(svc, row))


@router.post("/orders/{order_id}/cancel", responses={409: {"description": "not reserved"}})
def cancel(order_id: IdPath, caller: Buyer, svc: Svc) -> OrderOut:
    """reserved -> cancelled by the buyer; the units go back to stock exactly once."""
    row = load_order(svc, caller, order_id)
    _own(caller, row)
    return order_out(cancel_order(svc, row))


@router.post("/orders/{order_id}/deliver", responses={409: {"description": "not paid"}})
def deliver(order_id: IdPath, body: Deliver, caller: MerchantOrAdmin, svc: Svc) -> OrderOut:
    """Record delivery (starts the 7-day return window). Only an admin may give a past
    ``delivered_at`` or change a recorded one."""
    load_order(svc, caller, order_id)
    if body.delivered_at is not None and caller.role != "admin":
        raise forbidden("only an admin may set delivered_at")
    # the update itself checks the state it changes, so of N concurrent deliveries one wins
    # and the others see what it recorded (a check before the update would let them all in)
    guard = [o.c.id == order_id, o.c.state == "paid"]
    if caller.role != "admin":
        guard.append(o.c.delivered_at.is_(None))
        # an order with a promise (fulfilment.on-time) ships before it is delivered
        guard.append(or_(o.c.ship_by.is_(None), o.c.shipped_at.is_not(None)))
    delivered = body.delivered_at or svc.now()
    with svc.db.write() as conn:
        # the transaction is complete: its records are kept from now (replay.retained)
        won = conn.execute(update(o).where(*guard).values(
            delivered_at=delivered, retain_until=svc.retain_from(o.c.retain_until, delivered))
        ).rowcount == 1
        if won:
            r = t.receipts
            conn.execute(update(r).where(r.c.order_id == order_id).values(
                retain_until=svc.retain_from(r.c.retain_until, delivered)))
    row = load_order(svc, caller, order_id)
    if won:
        return order_out(row)
    if row["state"] != "paid":
        raise conflict("order_not_paid", f"order {order_id} is {row['state']}; only a paid "
                                         f"order can be delivered")
    if row["delivered_at"] is None:
        raise conflict("not_shipped", f"order {order_id} has not been shipped; an order "
                                      f"with a delivery promise ships before delivery")
    raise conflict("already_delivered", f"order {order_id} was delivered at "
                                        f"{row['delivered_at'].isoformat()}")


@router.get("/orders/{order_id}/receipt",
            responses={404: {"description": "unknown order, or no receipt (not paid)"}})
def receipt(order_id: IdPath, caller: AnyRole, svc: Svc) -> ReceiptOut:
    """The consumer's evidence of a paid order (``evidence.receipt``)."""
    order = load_order(svc, caller, order_id)
    with svc.db.read() as conn:
        row = conn.execute(select(t.receipts).where(t.receipts.c.order_id == order_id)
                           ).mappings().first()
    if row is None:
        raise not_found("receipt of order", order_id)
    return receipt_out(row, order)


def receipt_out(row: RowMapping, order: OrderRow) -> ReceiptOut:
    return ReceiptOut(receipt_no=row["receipt_no"], order_id=order["id"],
                      buyer_id=order["buyer_id"], sku=order["sku"],
                      quantity=order["quantity"], amount_cents=row["amount_cents"],
                      paid_at=order["paid_at"], issued_at=row["issued_at"],
                      retain_until=row["retain_until"])
