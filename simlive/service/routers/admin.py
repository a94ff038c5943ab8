"""Users, configuration and the full listings a checker reads after a load test.

Every table the rules are decided on can be walked page by page here, hidden reviews and
replays included, with the same ``{"items", "next_after"}`` shape. ``POST /admin/users``
mints bearer tokens (up to 1000 a call) so a load test can run many distinct viewers.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query, status
from sqlalchemy import insert, select

from simlive.service import sql_tables as t
from simlive.service.auth import Admin, AnyRole, Svc
from simlive.service.bodies import (
    AuditOut,
    BroadcastOut,
    ConfigOut,
    FaultOut,
    LedgerOut,
    OrderOut,
    OrderState,
    Page,
    ReceiptOut,
    ReplayOut,
    ReviewOut,
    TicketEventOut,
    TicketOut,
    TicketState,
    TokenRevoke,
    TokenRevoked,
    UserCreate,
    UserOut,
    UsersCreated,
    UserWithToken,
)
from simlive.service.core import REVOCATION_POLL, REVOKE_WAIT, hash_token, new_token
from simlive.service.db import display_url
from simlive.service.faults import BREAKS
from simlive.service.problems import ApiError, not_found
from simlive.service.routers.broadcasts import list_broadcasts
from simlive.service.routers.common import ERRORS, After, Limit, page, paged
from simlive.service.routers.orders import list_orders, receipt_out
from simlive.service.routers.reviews import list_reviews
from simlive.service.routers.tickets import list_tickets
from simlive.service.stock import expire_due, ledger

router = APIRouter(tags=["admin"], responses=ERRORS)
public = APIRouter(tags=["users"], responses=ERRORS)


@public.get("/me")
def me(caller: AnyRole) -> UserOut:
    """Who the token belongs to."""
    return UserOut(id=caller.id, name=caller.name, role=caller.role)


@router.post("/admin/users", status_code=status.HTTP_201_CREATED)
def create_users(body: UserCreate, caller: Admin, svc: Svc) -> UsersCreated:
    """Mint ``count`` users of one role; their tokens are shown once and stored hashed."""
    now = svc.now()
    made = []
    with svc.db.write() as conn:
        for i in range(body.count):
            token = new_token(body.role)
            base = body.name or body.role
            name = base if body.count == 1 and body.name else f"{base}-{i + 1}"
            user_id = conn.execute(insert(t.users).values(
                name=name, role=body.role, token_hash=hash_token(token), created_at=now,
                origin="minted", expires_at=body.expires_at
            ).returning(t.users.c.id)).scalar_one()
            made.append(UserWithToken(id=user_id, name=name, role=body.role, token=token))
    return UsersCreated(users=made)


@router.post("/admin/tokens/revoke")
def revoke_token(body: TokenRevoke, caller: Admin, svc: Svc) -> TokenRevoked:
    """Revoke a user's token now (by the token, or by the user's id): the next request with
    it is 401 in every worker by the time this answers. Recorded in the audit log."""
    u = t.users
    now = svc.now()
    where = u.c.token_hash == hash_token(body.token) if body.token is not None \
        else u.c.id == body.user_id
    with svc.db.write() as conn:
        row = conn.execute(select(u.c.id, u.c.revoked_at).where(where)).first()
        if row is None:
            raise ApiError(404, "not_found", "no user has that token") if body.token \
                else not_found("user", body.user_id)
        changed = svc.revoke(conn, [row.id], now)
        if changed:
            conn.execute(insert(t.audit).values(
                at=now, actor_id=caller.id, action="token.revoke", target_type="user",
                target_id=row.id, detail=None))
    svc.forget_callers()
    # answer once every worker alive lately has dropped its cache (each looks every
    # REVOCATION_POLL and says so in worker_acks): under load a fixed pause was not enough
    revocation = svc.newest_revocation()
    deadline = time.monotonic() + REVOKE_WAIT
    while svc.unseen_by(revocation) and time.monotonic() < deadline:
        time.sleep(REVOCATION_POLL / 5)
    return TokenRevoked(user_id=row.id, revoked_at=now if changed else row.revoked_at,
                        already=not changed)


@router.get("/admin/users")
def users(caller: Admin, svc: Svc, after: After = 0, limit: Limit = 100) -> Page[UserOut]:
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(select(t.users.c.id, t.users.c.name, t.users.c.role),
                                       t.users.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda r: UserOut(id=r["id"], name=r["name"], role=r["role"]))


@router.get("/admin/config")
def config(caller: Admin, svc: Svc) -> ConfigOut:
    """The running settings, including which faults are on and the rule each breaks."""
    s = svc.settings
    return ConfigOut(
        faults=[FaultOut(name=f.value, breaks=BREAKS[f]) for f in sorted(s.faults)],
        payment_timeout=s.payment_timeout, sweep_interval=s.sweep_interval,
        retention=s.retention, return_window=s.return_window,
        return_utc_offset=s.return_utc_offset,
        stale_display_seconds=s.stale_display_seconds,
        lose_ticket_fraction=s.lose_ticket_fraction, max_body_bytes=s.max_body_bytes,
        stock_buckets=s.stock_buckets, write_lanes=svc.db.lanes, database=display_url(s.db_url))


@router.post("/admin/sweep")
def sweep(caller: Admin, svc: Svc) -> dict[str, int]:
    """Expire every overdue order now (the background sweeper does it every second)."""
    return {"expired": expire_due(svc, limit=100_000)}


@router.get("/admin/orders")
def all_orders(caller: Admin, svc: Svc, after: After = 0, limit: Limit = 100,
               state: OrderState | None = Query(None)) -> Page[OrderOut]:
    return list_orders(svc, caller, state, after, limit)


@router.get("/admin/receipts")
def all_receipts(caller: Admin, svc: Svc, after: After = 0,
                 limit: Limit = 100) -> Page[ReceiptOut]:
    rc, o = t.receipts, t.orders
    query = select(rc, o.c.buyer_id, o.c.sku, o.c.quantity, o.c.paid_at) \
        .join(o, o.c.id == rc.c.order_id)
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(query, rc.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda r: receipt_out(r, {**r, "id": r["order_id"]}))


@router.get("/admin/tickets")
def all_tickets(caller: Admin, svc: Svc, after: After = 0, limit: Limit = 100,
                state: TicketState | None = Query(None)) -> Page[TicketOut]:
    return list_tickets(svc, None, state, None, None, after, limit)


@router.get("/admin/ticket-events")
def all_ticket_events(caller: Admin, svc: Svc, after: After = 0,
                      limit: Limit = 100) -> Page[TicketEventOut]:
    ev = t.ticket_events
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(select(ev), ev.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda r: TicketEventOut.model_validate(dict(r)))


@router.get("/admin/reviews")
def all_reviews(caller: Admin, svc: Svc, after: After = 0,
                limit: Limit = 100) -> Page[ReviewOut]:
    """Every review, hidden ones included with their text."""
    return list_reviews(svc, caller, None, True, after, limit)


@router.get("/admin/broadcasts")
def all_broadcasts(caller: Admin, svc: Svc, after: After = 0,
                   limit: Limit = 100) -> Page[BroadcastOut]:
    return list_broadcasts(svc, None, None, after, limit)


@router.get("/admin/replays")
def all_replays(caller: Admin, svc: Svc, after: After = 0,
                limit: Limit = 100) -> Page[ReplayOut]:
    r = t.replays
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(select(r), r.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda row: ReplayOut.model_validate(dict(row)))


@router.get("/admin/ledger")
def all_ledger(caller: Admin, svc: Svc) -> list[LedgerOut]:
    """The stock ledger of every SKU (``stock.ledger-balances``, ``stock.no-oversell``)."""
    return ledger(svc)


@router.get("/admin/audit")
def all_audit(caller: Admin, svc: Svc, after: After = 0,
              limit: Limit = 100) -> Page[AuditOut]:
    a = t.audit
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(select(a), a.c.id, after, limit)).mappings().all()
    return page(rows, limit, lambda row: AuditOut.model_validate(dict(row)))
