"""Products and stock: listing, the displayed stock, restocking and the per-SKU ledger.

The stock a viewer is shown (``displayed_stock``) is read from the same column the
reservation decrements, so it is the sellable stock at the moment of reading
(``stock.display-matches``); only the ``stale-display`` fault puts a cache in between.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import RowMapping, insert, update
from sqlalchemy.exc import IntegrityError

from simlive.service import buckets
from simlive.service import sql_tables as t
from simlive.service.auth import AnyRole, Merchant, MerchantOrAdmin, Svc
from simlive.service.bodies import LedgerOut, Page, ProductCreate, ProductOut, Restock
from simlive.service.buckets import products_query
from simlive.service.core import Caller, Service
from simlive.service.faults import Fault
from simlive.service.problems import conflict, forbidden, not_found
from simlive.service.routers.common import ERRORS, After, Limit, SkuPath, page, paged
from simlive.service.stock import displayed, ledger

router = APIRouter(tags=["products"], responses=ERRORS)
p = t.products


def product_out(svc: Service, row: RowMapping) -> ProductOut:
    return ProductOut(
        sku=row["sku"], name=row["name"], merchant_id=row["merchant_id"],
        price_cents=row["price_cents"], displayed_stock=displayed(svc, row["sku"],
                                                                  row["remaining"]),
        max_per_buyer=row["max_per_buyer"], stock_buckets=row["stock_buckets"] or 1,
        created_at=row["created_at"], **page_fields(svc, row))


def page_fields(svc: Service, row: RowMapping) -> dict[str, Any]:
    """What the page says of the seller and of no-reason returns (``display.complete``);
    the ``incomplete-listing`` fault leaves both out."""
    if svc.settings.has(Fault.INCOMPLETE_LISTING):
        return {}
    reason = row["not_returnable"]
    return {"seller": row["seller"], "returnable": not reason, "not_returnable": reason}


def load_product(svc: Service, caller: Caller, sku: str) -> RowMapping:
    """The product, 404 if unknown, 403 if a merchant asks about another's product."""
    with svc.db.read() as conn:
        row = conn.execute(products_query().where(p.c.sku == sku)).mappings().first()
    if row is None:
        raise not_found("product", sku)
    if caller.role == "merchant" and row["merchant_id"] != caller.id:
        raise forbidden(f"product {sku!r} belongs to another merchant")
    return row


@router.post("/products", status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "sku_taken"}})
def create_product(body: ProductCreate, caller: Merchant, svc: Svc) -> ProductOut:
    """List a SKU with its initial stock; 409 ``sku_taken`` if the SKU exists."""
    k = body.stock_buckets or svc.settings.stock_buckets
    try:
        with svc.db.write() as conn:
            product_id = conn.execute(insert(p).values(
                sku=body.sku, merchant_id=caller.id, name=body.name,
                price_cents=body.price_cents, initial_stock=body.stock, restocked=0,
                remaining=body.stock if k == 1 else 0, returned=0,
                max_per_buyer=body.max_per_buyer, stock_buckets=k, created_at=svc.now(),
                seller=body.seller or caller.name, not_returnable=body.not_returnable or None)
                .returning(p.c.id)).scalar_one()
            if k > 1:
                buckets.create(conn, product_id, body.stock, k)
    except IntegrityError:
        raise conflict("sku_taken", f"product {body.sku!r} already exists") from None
    return product_out(svc, load_product(svc, caller, body.sku))


@router.get("/products")
def list_products(caller: AnyRole, svc: Svc, after: After = 0,
                  limit: Limit = 100) -> Page[ProductOut]:
    """Products in id order (a merchant sees only their own)."""
    query = products_query()
    if caller.role == "merchant":
        query = query.where(p.c.merchant_id == caller.id)
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(query, p.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda row: product_out(svc, row))


@router.get("/products/{sku}")
def get_product(sku: SkuPath, caller: AnyRole, svc: Svc) -> ProductOut:
    """One product with the stock viewers are shown."""
    return product_out(svc, load_product(svc, caller, sku))


@router.post("/products/{sku}/restock")
def restock(sku: SkuPath, body: Restock, caller: Merchant, svc: Svc) -> ProductOut:
    """Add units to a product's stock (recorded in the ledger as ``restocked``)."""
    row = load_product(svc, caller, sku)
    k = row["stock_buckets"] or 1
    with svc.db.write() as conn:
        conn.execute(update(p).where(p.c.id == row["id"]).values(
            remaining=p.c.remaining + (body.quantity if k == 1 else 0),
            restocked=p.c.restocked + body.quantity))
        if k > 1:
            buckets.restock(conn, row["id"], k, body.quantity)
        conn.execute(insert(t.restocks).values(product_id=row["id"], actor_id=caller.id,
                                               quantity=body.quantity, at=svc.now()))
    return product_out(svc, load_product(svc, caller, sku))


@router.get("/products/{sku}/ledger")
def product_ledger(sku: SkuPath, caller: MerchantOrAdmin, svc: Svc) -> LedgerOut:
    """Where every unit of the SKU is (``stock.ledger-balances``)."""
    load_product(svc, caller, sku)
    return ledger(svc, sku=sku)[0]
