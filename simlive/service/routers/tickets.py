"""After-sales tickets: open -> replied -> in_progress -> resolved -> closed.

Each step is one conditional ``UPDATE ... WHERE state = :from`` plus an event row, so two
agents racing on one ticket cannot both move it, and a skipped or repeated step is a 409
naming the state the ticket is in. Closing is the consumer's act and records their feedback
(``aftersales.tracked-to-closure``). Refund tickets record when goods came back and when the
money went out (``aftersales.refund-deadline``); a return asked for after 24:00 local time
of the 7th day after the day of delivery is refused with the reason and the deadline
(``returns.seven-day``, calendar days as the law counts them). Staff list tickets by state
and by age, oldest first, so none is forgotten.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Query, status
from sqlalchemy import Connection, RowMapping, insert, select, update

from simlive.rules import DAY, return_deadline
from simlive.service import sql_tables as t
from simlive.service.auth import AnyRole, Buyer, Staff, Svc
from simlive.service.bodies import (
    MAX_COUNT,
    Page,
    TicketClose,
    TicketCreate,
    TicketEventOut,
    TicketKind,
    TicketMark,
    TicketNote,
    TicketOut,
    TicketResolve,
    TicketState,
)
from simlive.service.core import Caller, Service
from simlive.service.faults import Fault
from simlive.service.problems import ApiError, conflict, forbidden, not_found
from simlive.service.routers.common import ERRORS, After, IdPath, Limit, page, paged

router = APIRouter(tags=["tickets"], responses=ERRORS)
STEP_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "illegal_transition: the ticket is not in the state this step "
                         "needs (of concurrent requests for one step, one wins)"}}
MARK_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "already_recorded, wrong_kind, or goods_not_received (a return's "
                         "refund before its goods are back)"}}
tk, ev = t.tickets, t.ticket_events
NEEDS_ORDER = ("return", "replacement", "refund")
GOODS_KINDS = ("return", "replacement", "refund")
REFUND_KINDS = ("return", "refund")


def ticket_out(row: RowMapping) -> TicketOut:
    return TicketOut.model_validate({k: row[k] for k in TicketOut.model_fields})


def list_tickets(svc: Service, owner_id: int | None, state: str | None, kind: str | None,
                 older_than: int | None, after: int, limit: int) -> Page[TicketOut]:
    query = select(tk)
    if owner_id is not None:
        query = query.where(tk.c.owner_id == owner_id)
    if state is not None:
        query = query.where(tk.c.state == state)
    if kind is not None:
        query = query.where(tk.c.kind == kind)
    if older_than is not None:
        query = query.where(tk.c.created_at <= svc.now() - timedelta(seconds=older_than))
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(query, tk.c.id, after, limit)).mappings().all()
    return page(rows, limit, ticket_out)


def _load(conn: Connection, caller: Caller, ticket_id: int) -> RowMapping:
    row = conn.execute(select(tk).where(tk.c.id == ticket_id)).mappings().first()
    if row is None:
        raise not_found("ticket", ticket_id)
    if caller.role == "buyer" and row["owner_id"] != caller.id:
        raise forbidden(f"ticket {ticket_id} is not yours")
    return row


def _get(svc: Service, caller: Caller, ticket_id: int) -> RowMapping:
    with svc.db.read() as conn:
        return _load(conn, caller, ticket_id)


def _check_order(svc: Service, conn: Connection, caller: Caller, body: TicketCreate,
                 now: datetime) -> None:
    if body.order_id is None:
        if body.kind in NEEDS_ORDER:
            raise ApiError(422, "invalid", [{
                "loc": ["body", "order_id"], "msg": f"a {body.kind} ticket needs an order_id",
                "type": "missing"}])
        return
    order = conn.execute(select(t.orders).where(t.orders.c.id == body.order_id)
                         ).mappings().first()
    if order is None:
        raise not_found("order", body.order_id)
    if order["buyer_id"] != caller.id:
        raise forbidden(f"order {body.order_id} is not yours")
    if body.kind != "return":
        return
    delivered = order["delivered_at"]
    if delivered is None:
        raise conflict("not_delivered", f"order {body.order_id} has not been delivered; a "
                                         f"return can be asked for once it has")
    _check_window(svc, delivered, now)


def _check_window(svc: Service, delivered: datetime, now: datetime) -> None:
    """Refuse a return asked after 24:00 local time of the window's last calendar day
    after the day of delivery, saying when that was."""
    window, offset = svc.settings.return_window, svc.settings.return_utc_offset
    aware = delivered if delivered.tzinfo else delivered.replace(tzinfo=UTC)
    deadline = return_deadline(aware.timestamp(), window, offset)
    if now.timestamp() > deadline:
        zone = timezone(timedelta(seconds=offset))
        local = datetime.fromtimestamp(deadline, zone)
        age = (now.timestamp() - aware.timestamp()) / DAY
        raise ApiError(422, "return_window_closed",
                       f"return refused: asked {age:.1f} days after delivery "
                       f"({aware.astimezone(zone).isoformat()}); no-reason returns are "
                       f"accepted for {window / DAY:g} days after the day of delivery, "
                       f"until the end of {(local - timedelta(seconds=1)).date()} "
                       f"local time ({local.isoformat()})")


@router.post("/tickets", status_code=status.HTTP_201_CREATED, responses={
    409: {"description": "not_delivered: a return for an order not delivered yet"}})
def open_ticket(body: TicketCreate, caller: Buyer, svc: Svc) -> TicketOut:
    """Open a consultation, return, replacement, refund or complaint."""
    now = svc.now()
    lose = svc.settings.has(Fault.LOSE_TICKET) and svc.chance(svc.settings.lose_ticket_fraction)
    try:
        with svc.db.write() as conn:
            _check_order(svc, conn, caller, body, now)
            ticket_id = conn.execute(insert(tk).values(
                owner_id=caller.id, kind=body.kind, state="open", order_id=body.order_id,
                message=body.message, created_at=now, retain_until=svc.retain_until(now),
            ).returning(tk.c.id)).scalar_one()
            conn.execute(insert(ev).values(ticket_id=ticket_id, actor_id=caller.id, at=now,
                                           action="open", to_state="open", note=body.message))
            row = _load(conn, caller, ticket_id)
            if lose:
                raise _Forget
    except _Forget:  # lose-ticket fault: acknowledged, then rolled back
        pass
    return ticket_out(row)


class _Forget(Exception):
    """Raised inside the transaction to roll it back (the ``lose-ticket`` fault)."""


@router.get("/tickets")
def get_tickets(caller: AnyRole, svc: Svc, after: After = 0, limit: Limit = 100,
                state: TicketState | None = Query(None), kind: TicketKind | None = Query(None),
                older_than: int | None = Query(None, ge=0, le=MAX_COUNT,
                                               description="Only tickets at least this many "
                                                           "seconds old."),
                ) -> Page[TicketOut]:
    """Tickets, oldest first: a buyer's own, or all of them (agent, admin)."""
    if caller.role == "merchant":
        raise forbidden("tickets are handled by agents")
    owner = caller.id if caller.role == "buyer" else None
    return list_tickets(svc, owner, state, kind, older_than, after, limit)


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: IdPath, caller: AnyRole, svc: Svc) -> TicketOut:
    if caller.role == "merchant":
        raise forbidden("tickets are handled by agents")
    return ticket_out(_get(svc, caller, ticket_id))


@router.get("/tickets/{ticket_id}/events")
def get_ticket_events(ticket_id: IdPath, caller: AnyRole, svc: Svc) -> list[TicketEventOut]:
    """Every step of the ticket, in order, with who took it and when."""
    if caller.role == "merchant":
        raise forbidden("tickets are handled by agents")
    with svc.db.read() as conn:
        _load(conn, caller, ticket_id)
        rows = conn.execute(select(ev).where(ev.c.ticket_id == ticket_id).order_by(ev.c.id)
                            ).mappings().all()
    return [TicketEventOut.model_validate(dict(r)) for r in rows]


def _step(svc: Service, caller: Caller, ticket_id: int, action: str, src: str, dst: str,
          note: str | None, **values: Any) -> TicketOut:
    now = svc.now()
    with svc.db.write() as conn:
        _load(conn, caller, ticket_id)
        won = conn.execute(update(tk).where(tk.c.id == ticket_id, tk.c.state == src)
                           .values(state=dst, **{k: (now if v is None else v)
                                                 for k, v in values.items()})).rowcount == 1
        if won:
            conn.execute(insert(ev).values(ticket_id=ticket_id, actor_id=caller.id, at=now,
                                           action=action, from_state=src, to_state=dst,
                                           note=note))
    row = _get(svc, caller, ticket_id)
    if not won:
        raise conflict("illegal_transition", f"ticket {ticket_id} is {row['state']}; "
                                             f"{action} needs it {src}")
    return ticket_out(row)


@router.post("/tickets/{ticket_id}/reply", responses=STEP_409)
def reply(ticket_id: IdPath, body: TicketNote, caller: Staff, svc: Svc) -> TicketOut:
    """open -> replied: the first reply (``aftersales.first-reply``)."""
    return _step(svc, caller, ticket_id, "reply", "open", "replied", body.message,
                 first_reply_at=None)


@router.post("/tickets/{ticket_id}/start", responses=STEP_409)
def start(ticket_id: IdPath, caller: Staff, svc: Svc) -> TicketOut:
    """replied -> in_progress."""
    return _step(svc, caller, ticket_id, "start", "replied", "in_progress", None,
                 in_progress_at=None)


@router.post("/tickets/{ticket_id}/resolve", responses=STEP_409)
def resolve(ticket_id: IdPath, body: TicketResolve, caller: Staff, svc: Svc) -> TicketOut:
    """in_progress -> resolved, with what was done."""
    return _step(svc, caller, ticket_id, "resolve", "in_progress", "resolved",
                 body.resolution, resolved_at=None, resolution=body.resolution)


@router.post("/tickets/{ticket_id}/close", responses=STEP_409)
def close(ticket_id: IdPath, body: TicketClose, caller: Buyer, svc: Svc) -> TicketOut:
    """resolved -> closed by the consumer, recording their feedback."""
    return _step(svc, caller, ticket_id, "close", "resolved", "closed", body.feedback,
                 closed_at=None, feedback=body.feedback, satisfaction=body.satisfaction)


def _mark(svc: Service, caller: Caller, ticket_id: int, column: str, kinds: tuple[str, ...],
          at: datetime | None) -> TicketOut:
    now = svc.now()
    with svc.db.write() as conn:
        row = _load(conn, caller, ticket_id)
        if row["kind"] not in kinds:
            raise conflict("wrong_kind", f"ticket {ticket_id} is a {row['kind']}; {column} "
                                         f"applies to {', '.join(kinds)}")
        if column == "refund_paid_at" and row["kind"] == "return" \
                and row["goods_received_at"] is None:
            raise conflict("goods_not_received", f"ticket {ticket_id}: record the returned "
                                                 f"goods before paying the refund")
        won = conn.execute(update(tk).where(tk.c.id == ticket_id, tk.c.state != "closed",
                                            tk.c[column].is_(None))
                           .values({column: at or now})).rowcount == 1
        if won:
            conn.execute(insert(ev).values(ticket_id=ticket_id, actor_id=caller.id, at=now,
                                           action=column.removesuffix("_at"), note=None))
    row = _get(svc, caller, ticket_id)
    if not won:
        raise conflict("already_recorded", f"ticket {ticket_id} is {row['state']} with "
                                           f"{column}={row[column]}")
    return ticket_out(row)


@router.post("/tickets/{ticket_id}/goods-received", responses=MARK_409)
def goods_received(ticket_id: IdPath, body: TicketMark, caller: Staff, svc: Svc) -> TicketOut:
    """Record when the returned goods arrived (return, replacement, refund tickets)."""
    return _mark(svc, caller, ticket_id, "goods_received_at", GOODS_KINDS, body.at)


@router.post("/tickets/{ticket_id}/refund-paid", responses=MARK_409)
def refund_paid(ticket_id: IdPath, body: TicketMark, caller: Staff, svc: Svc) -> TicketOut:
    """Record when the money was paid back (return and refund tickets)."""
    return _mark(svc, caller, ticket_id, "refund_paid_at", REFUND_KINDS, body.at)
