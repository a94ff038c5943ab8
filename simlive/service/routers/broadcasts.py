"""Broadcasts: create, start, end; ending publishes the replay (``replay.available``).

The replay row is written in the same transaction as the ``ended`` state, so a broadcast can
never be seen ended without its replay (unless the ``no-replay`` fault is on). Replays carry
``retain_until``, counted from the broadcast's end (``replay.retained``); nothing here deletes
them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Query, status
from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from simlive.service import sql_tables as t
from simlive.service.auth import AnyRole, Merchant, MerchantOrAdmin, Svc
from simlive.service.bodies import (
    BroadcastCreate,
    BroadcastOut,
    CountersOut,
    LinkProduct,
    Page,
    ProductOut,
    ReplayOut,
)
from simlive.service.buckets import products_query
from simlive.service.core import Caller, Service
from simlive.service.faults import Fault
from simlive.service.problems import conflict, forbidden, not_found
from simlive.service.routers.common import ERRORS, After, IdPath, Limit, page, paged
from simlive.service.routers.products import product_out

router = APIRouter(tags=["broadcasts"], responses=ERRORS)

b, r = t.broadcasts, t.replays
_SELECT = select(b, r.c.url, r.c.published_at, r.c.retain_until.label("replay_retain_until")) \
    .outerjoin(r, r.c.broadcast_id == b.c.id)


def broadcast_out(row: RowMapping) -> BroadcastOut:
    replay = None
    if row["published_at"] is not None:
        replay = ReplayOut(broadcast_id=row["id"], url=row["url"],
                           published_at=row["published_at"],
                           retain_until=row["replay_retain_until"])
    return BroadcastOut(replay=replay, **{k: row[k] for k in (
        "id", "merchant_id", "title", "state", "created_at", "started_at", "ended_at",
        "retain_until")}, ship_within_s=row.get("ship_within_s"),
        promise_s=row.get("promise_s"))


def list_broadcasts(svc: Service, merchant_id: int | None, state: str | None, after: int,
                    limit: int) -> Page[BroadcastOut]:
    query = _SELECT
    if merchant_id is not None:
        query = query.where(b.c.merchant_id == merchant_id)
    if state is not None:
        query = query.where(b.c.state == state)
    with svc.db.read() as conn:
        rows = conn.execute(paged(query, b.c.id, after, limit)).mappings().all()
    return page(rows, limit, broadcast_out)


def _load(conn: Connection, caller: Caller, broadcast_id: int) -> RowMapping:
    row = conn.execute(_SELECT.where(b.c.id == broadcast_id)).mappings().first()
    if row is None:
        raise not_found("broadcast", broadcast_id)
    if caller.role == "merchant" and row["merchant_id"] != caller.id:
        raise forbidden(f"broadcast {broadcast_id} belongs to another merchant")
    return row


def _get(svc: Service, caller: Caller, broadcast_id: int) -> RowMapping:
    with svc.db.read() as conn:
        return _load(conn, caller, broadcast_id)


@router.post("/broadcasts", status_code=status.HTTP_201_CREATED)
def create_broadcast(body: BroadcastCreate, caller: Merchant, svc: Svc) -> BroadcastOut:
    """Schedule a broadcast hosted by the calling merchant."""
    now = svc.now()
    with svc.db.write() as conn:
        new_id = conn.execute(insert(b).values(
            merchant_id=caller.id, title=body.title, state="scheduled", created_at=now,
            retain_until=svc.retain_until(now), ship_within_s=body.ship_within_s,
            promise_s=body.promise_s).returning(b.c.id)).scalar_one()
    return broadcast_out(_get(svc, caller, new_id))


@router.get("/broadcasts")
def get_broadcasts(caller: AnyRole, svc: Svc, after: After = 0, limit: Limit = 100,
                   state: Literal["scheduled", "live", "ended"] | None = Query(None),
                   ) -> Page[BroadcastOut]:
    """Broadcasts in id order (a merchant sees only their own)."""
    mine = caller.id if caller.role == "merchant" else None
    return list_broadcasts(svc, mine, state, after, limit)


@router.get("/broadcasts/{broadcast_id}")
def get_broadcast(broadcast_id: IdPath, caller: AnyRole, svc: Svc,
                  viewer: str | None = Query(None, min_length=1, max_length=120, description=(
                      "the viewer session opening the page (counted by the broadcast's "
                      "viewer count while it is live; a buyer without one counts as one)")),
                  ) -> BroadcastOut:
    row = _get(svc, caller, broadcast_id)
    if row["state"] == "live" and (viewer is not None or caller.role == "buyer"):
        _seen(svc, broadcast_id, viewer if viewer is not None else f"buyer-{caller.id}")
    return broadcast_out(row)


# --- the counters the broadcast shows (display.counters-true) ------------------------------

VIEWER_WINDOW = 60  # seconds: a session that opened the page this recently is watching
SEEN_EVERY = timedelta(seconds=10)  # a session's last look is written at most this often
v = t.broadcast_views


def _seen(svc: Service, broadcast_id: int, viewer: str) -> None:
    """Note that ``viewer`` has the live broadcast open (its first look, or its last one
    when the one stored is older than SEEN_EVERY: a page polled every second writes rarely)."""
    now = svc.now()
    key = (v.c.broadcast_id == broadcast_id) & (v.c.viewer == viewer)
    with svc.db.read() as conn:
        last = conn.execute(select(v.c.last_seen).where(key)).scalar()
    if last is not None and now - last < SEEN_EVERY:
        return
    with svc.db.write() as conn:
        if last is not None:
            conn.execute(update(v).where(key).values(last_seen=now))
            return
        try:
            with conn.begin_nested():
                conn.execute(insert(v).values(broadcast_id=broadcast_id, viewer=viewer,
                                              first_seen=now, last_seen=now))
        except IntegrityError:  # the same session's concurrent first look
            conn.execute(update(v).where(key).values(last_seen=now))


@router.get("/broadcasts/{broadcast_id}/counters")
def get_counters(broadcast_id: IdPath, caller: AnyRole, svc: Svc) -> CountersOut:
    """The sold count (orders taken in the broadcast, whatever became of them) and the viewer
    count (sessions that opened the live page in the last VIEWER_WINDOW seconds) the
    broadcast shows. Reading them is not watching: it counts no viewer."""
    now = svc.now()
    o = t.orders
    with svc.db.read(snapshot=True) as conn:
        _load(conn, caller, broadcast_id)
        sold = conn.execute(select(func.count()).select_from(o)
                            .where(o.c.broadcast_id == broadcast_id)).scalar_one()
        viewers = conn.execute(select(func.count()).select_from(v).where(
            v.c.broadcast_id == broadcast_id,
            v.c.last_seen >= now - timedelta(seconds=VIEWER_WINDOW))).scalar_one()
    if svc.settings.has(Fault.INFLATED_COUNTERS):  # a multiplier and a base, as in the trade
        sold, viewers = 3 * sold + 1000, 3 * viewers + 500
    return CountersOut(broadcast_id=broadcast_id, sold=sold, viewers=viewers,
                       viewer_window_s=VIEWER_WINDOW, at=now)


def _transition(svc: Service, caller: Caller, broadcast_id: int, src: str, dst: str,
                stamp: str) -> RowMapping:
    now = svc.now()
    with svc.db.write() as conn:
        _load(conn, caller, broadcast_id)
        # the video is kept from the broadcast's end (replay.retained): ``now`` is ended_at
        kept = {"retain_until": svc.retain_until(now)} if dst == "ended" else {}
        won = conn.execute(update(b).where(b.c.id == broadcast_id, b.c.state == src)
                           .values(state=dst, **{stamp: now}, **kept)).rowcount == 1
        if won and dst == "ended" and not svc.settings.has(Fault.NO_REPLAY):
            conn.execute(insert(r).values(
                broadcast_id=broadcast_id, url=f"/broadcasts/{broadcast_id}/replay",
                published_at=now, **kept))
    row = _get(svc, caller, broadcast_id)
    if not won:
        raise conflict("illegal_transition",
                       f"broadcast {broadcast_id} is {row['state']}; it must be {src} to "
                       f"become {dst}")
    return row


@router.post("/broadcasts/{broadcast_id}/start",
             responses={409: {"description": "illegal_transition"}})
def start_broadcast(broadcast_id: IdPath, caller: MerchantOrAdmin, svc: Svc) -> BroadcastOut:
    """scheduled -> live."""
    return broadcast_out(_transition(svc, caller, broadcast_id, "scheduled", "live",
                                     "started_at"))


@router.post("/broadcasts/{broadcast_id}/end",
             responses={409: {"description": "illegal_transition"}})
def end_broadcast(broadcast_id: IdPath, caller: MerchantOrAdmin, svc: Svc) -> BroadcastOut:
    """live -> ended, publishing the replay in the same transaction."""
    return broadcast_out(_transition(svc, caller, broadcast_id, "live", "ended", "ended_at"))


@router.get("/broadcasts/{broadcast_id}/replay")
def get_replay(broadcast_id: IdPath, caller: AnyRole, svc: Svc) -> ReplayOut:
    """The published replay (look-back); 404 ``no_replay`` while there is none."""
    row = broadcast_out(_get(svc, caller, broadcast_id))
    if row.replay is None:
        raise not_found("replay of broadcast", broadcast_id)
    return row.replay


@router.post("/broadcasts/{broadcast_id}/products", status_code=status.HTTP_201_CREATED)
def link_product(broadcast_id: IdPath, body: LinkProduct, caller: Merchant,
                 svc: Svc) -> ProductOut:
    """Present one of the merchant's own products in the broadcast (idempotent)."""
    p = t.products
    with svc.db.write() as conn:
        _load(conn, caller, broadcast_id)
        prod = conn.execute(products_query().where(p.c.sku == body.sku)).mappings().first()
        if prod is None:
            raise not_found("product", body.sku)
        if prod["merchant_id"] != caller.id:
            raise forbidden(f"product {body.sku!r} belongs to another merchant")
        linked = conn.execute(select(t.broadcast_products.c.product_id).where(
            t.broadcast_products.c.broadcast_id == broadcast_id,
            t.broadcast_products.c.product_id == prod["id"])).first()
        if linked is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(t.broadcast_products).values(
                        broadcast_id=broadcast_id, product_id=prod["id"], linked_at=svc.now()))
            except IntegrityError:  # pragma: no cover - a concurrent link of the same pair
                pass
    return product_out(svc, prod)


@router.get("/broadcasts/{broadcast_id}/products")
def broadcast_products(broadcast_id: IdPath, caller: AnyRole, svc: Svc) -> list[ProductOut]:
    """The products presented in a broadcast, with the stock viewers are shown."""
    p, bp = t.products, t.broadcast_products
    with svc.db.read() as conn:
        _load(conn, caller, broadcast_id)
        rows = conn.execute(
            products_query().join(bp, bp.c.product_id == p.c.id)
            .where(bp.c.broadcast_id == broadcast_id).order_by(p.c.id)).mappings().all()
    return [product_out(svc, row) for row in rows]
