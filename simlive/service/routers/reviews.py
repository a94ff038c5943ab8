"""Reviews: append-only (``reviews.not-deleted``), listed newest first
(``reviews.order-honest``).

There is no DELETE route, so ``DELETE /reviews/{id}`` is a 405 for every role. Hiding
off-topic content is an admin action that keeps the review (its text stays readable by admins)
and writes an audit record in the same transaction. Only the ``delete-review`` fault adds a
DELETE route, which removes the row and leaves no trace.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import RowMapping, delete, insert, literal, select, tuple_, update

from simlive.service import sql_tables as t
from simlive.service.auth import Admin, AnyRole, Buyer, Svc
from simlive.service.bodies import Page, ReviewCreate, ReviewHide, ReviewOut, Sku
from simlive.service.core import Caller, Service
from simlive.service.faults import Fault
from simlive.service.problems import conflict, forbidden, not_found
from simlive.service.routers.common import ERRORS, After, IdPath, Limit, page, paged

router = APIRouter(tags=["reviews"], responses=ERRORS)
rv = t.reviews


def review_out(row: RowMapping, caller_is_admin: bool) -> ReviewOut:
    data = {k: row[k] for k in ReviewOut.model_fields}
    if row["hidden"] and not caller_is_admin:
        data["text"] = None
    return ReviewOut.model_validate(data)


def list_reviews(svc: Service, caller: Caller, sku: str | None, include_hidden: bool,
                 after: int, limit: int) -> Page[ReviewOut]:
    """Every review in id order for an admin including hidden ones (the record); otherwise
    the default listing (``default_listing``)."""
    is_admin = caller.role == "admin"
    query = select(rv)
    if sku is not None:
        query = query.where(rv.c.sku == sku)
    with svc.db.read() as conn:
        if include_hidden and is_admin:
            rows: Any = conn.execute(paged(query, rv.c.id, after, limit)).mappings().all()
        else:
            rows = default_listing(svc, conn, query.where(rv.c.hidden.is_(False)), after,
                                   limit)
    return page(rows, limit, lambda row: review_out(row, is_admin))


def default_listing(svc: Service, conn: Any, query: Any, after: int, limit: int) -> Any:
    """The visible reviews as buyers see them (``reviews.order-honest``): newest first,
    whatever their rating; ``after`` is the last id of the page before (the next page
    continues below it). The ``good-reviews-first`` fault ranks them by rating, best first.
    One extra row tells whether there is a next page."""
    keys = [rv.c.created_at, rv.c.id]
    if svc.settings.has(Fault.GOOD_REVIEWS_FIRST):
        keys.insert(0, rv.c.rating)
    if after:
        last = conn.execute(select(*keys).where(rv.c.id == after)).first()
        if last is not None:
            query = query.where(tuple_(*keys) < tuple_(*(literal(v, k.type)
                                                         for k, v in zip(keys, last,
                                                                         strict=True))))
    return conn.execute(query.order_by(*(k.desc() for k in keys)).limit(limit + 1)
                        ).mappings().all()


def _load(svc: Service, review_id: int) -> RowMapping:
    with svc.db.read() as conn:
        row = conn.execute(select(rv).where(rv.c.id == review_id)).mappings().first()
    if row is None:
        raise not_found("review", review_id)
    return row


@router.post("/reviews", status_code=status.HTTP_201_CREATED)
def create_review(body: ReviewCreate, caller: Buyer, svc: Svc) -> ReviewOut:
    """Review a product. Reviews can never be edited or deleted."""
    with svc.db.write() as conn:
        product_id = conn.execute(select(t.products.c.id).where(t.products.c.sku == body.sku)
                                  ).scalar()
        if product_id is None:
            raise not_found("product", body.sku)
        review_id = conn.execute(insert(rv).values(
            author_id=caller.id, product_id=product_id, sku=body.sku, rating=body.rating,
            text=body.text, created_at=svc.now(), hidden=False).returning(rv.c.id)
        ).scalar_one()
    return review_out(_load(svc, review_id), False)


@router.get("/reviews")
def get_reviews(caller: AnyRole, svc: Svc, after: After = 0, limit: Limit = 100,
                sku: Sku | None = Query(None),
                include_hidden: bool = Query(False, description="Admin only.")
                ) -> Page[ReviewOut]:
    """A product's default listing: visible reviews newest first, whatever their rating
    (``after``: the last id of the previous page). Admins may include hidden ones, then
    every review in id order."""
    return list_reviews(svc, caller, sku, include_hidden, after, limit)


@router.get("/reviews/{review_id}")
def get_review(review_id: IdPath, caller: AnyRole, svc: Svc) -> ReviewOut:
    """One review; a hidden one keeps its place but shows its text to admins only."""
    return review_out(_load(svc, review_id), caller.role == "admin")


@router.post("/admin/reviews/{review_id}/hide", tags=["admin"],
             responses={409: {"description": "already_hidden"}})
def hide_review(review_id: IdPath, body: ReviewHide, caller: Admin, svc: Svc) -> ReviewOut:
    """Hide off-topic content: the review is kept and an audit record says who and why."""
    now = svc.now()
    with svc.db.write() as conn:
        won = conn.execute(update(rv).where(rv.c.id == review_id, rv.c.hidden.is_(False))
                           .values(hidden=True, hidden_at=now, hidden_reason=body.reason,
                                   hidden_by=caller.id)).rowcount == 1
        if won:
            conn.execute(insert(t.audit).values(
                at=now, actor_id=caller.id, action="review.hide", target_type="review",
                target_id=review_id, detail=body.reason))
    row = _load(svc, review_id)
    if not won:
        raise conflict("already_hidden", f"review {review_id} was hidden at "
                                          f"{row['hidden_at'].isoformat()}")
    return review_out(row, True)


faulty_router = APIRouter(tags=["reviews"], responses=ERRORS)


@faulty_router.delete("/reviews/{review_id}", status_code=status.HTTP_204_NO_CONTENT,
                      description="Only with the delete-review fault: breaks "
                                  "reviews.not-deleted.")
def delete_review(review_id: IdPath, caller: AnyRole, svc: Svc) -> Response:
    """``delete-review`` fault: the review is really deleted, with no audit record."""
    row = _load(svc, review_id)
    if caller.role != "admin" and row["author_id"] != caller.id:
        raise forbidden(f"review {review_id} is not yours")
    with svc.db.write() as conn:
        conn.execute(delete(rv).where(rv.c.id == review_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
