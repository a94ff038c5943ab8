"""Escalations: a consumer takes a ticket to the platform, the platform decides it.

A buyer escalates one of their own tickets once (a request the store left unresolved, or
refused); the platform's arbiter (the admin role) lists the escalations still undecided,
oldest first, and decides each (``aftersales.escalations-answered``: within
``decide_within``). Both steps are one conditional ``UPDATE`` plus an event row on the
ticket, so a repeated escalation or a second decision is a 409, never a second record.
"""

from __future__ import annotations

from itertools import count
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import insert, select, update

from simlive.service import sql_tables as t
from simlive.service.auth import Admin, Buyer, Svc
from simlive.service.bodies import EscalationDecide, Page, TicketEscalate, TicketOut
from simlive.service.faults import Fault
from simlive.service.problems import conflict
from simlive.service.routers.common import ERRORS, After, IdPath, Limit, page, paged
from simlive.service.routers.tickets import _get, _load, ticket_out

router = APIRouter(tags=["escalations"], responses=ERRORS)
tk, ev = t.tickets, t.ticket_events
_escalations = count()  # the escalation-lost fault: the 1st, 3rd, ... of each process


class _Forget(Exception):
    """Raised inside the transaction to roll it back (the ``escalation-lost`` fault)."""


@router.post("/tickets/{ticket_id}/escalate", responses={
    409: {"description": "already_escalated: the ticket was taken to the platform before"}})
def escalate(ticket_id: IdPath, body: TicketEscalate, caller: Buyer, svc: Svc) -> TicketOut:
    """Take one's own ticket to the platform (unresolved, or refused by the store)."""
    now = svc.now()
    lose = svc.settings.has(Fault.ESCALATION_LOST) and next(_escalations) % 2 == 0
    try:
        with svc.db.write() as conn:
            _load(conn, caller, ticket_id)
            won = conn.execute(update(tk).where(tk.c.id == ticket_id,
                                                tk.c.escalated_at.is_(None))
                               .values(escalated_at=now, escalation_reason=body.reason)
                               ).rowcount == 1
            if won:
                conn.execute(insert(ev).values(ticket_id=ticket_id, actor_id=caller.id,
                                               at=now, action="escalate", note=body.reason))
            row = _load(conn, caller, ticket_id)
            if won and lose:
                raise _Forget
    except _Forget:  # escalation-lost fault: acknowledged, then rolled back
        return ticket_out(row)
    if not won:
        raise conflict("already_escalated", f"ticket {ticket_id} was escalated at "
                                            f"{row['escalated_at'].isoformat()}")
    return ticket_out(row)


@router.get("/escalations")
def list_escalations(caller: Admin, svc: Svc, after: After = 0, limit: Limit = 100,
                     state: Literal["open", "decided"] | None = Query(
                         None, description="open: awaiting the platform's decision")
                     ) -> Page[TicketOut]:
    """Escalated tickets, oldest first: the platform's queue."""
    query = select(tk).where(tk.c.escalated_at.is_not(None))
    if state == "open":
        query = query.where(tk.c.decided_at.is_(None))
    elif state == "decided":
        query = query.where(tk.c.decided_at.is_not(None))
    with svc.db.read() as conn:
        rows: Any = conn.execute(paged(query, tk.c.id, after, limit)).mappings().all()
    return page(rows, limit, ticket_out)


@router.post("/tickets/{ticket_id}/decide", responses={
    409: {"description": "not_escalated, or already_decided"}})
def decide(ticket_id: IdPath, body: EscalationDecide, caller: Admin, svc: Svc) -> TicketOut:
    """The platform's decision on an escalated ticket, once."""
    now = svc.now()
    with svc.db.write() as conn:
        _load(conn, caller, ticket_id)
        won = conn.execute(update(tk).where(tk.c.id == ticket_id,
                                            tk.c.escalated_at.is_not(None),
                                            tk.c.decided_at.is_(None))
                           .values(decided_at=now, decision=body.decision,
                                   decision_note=body.note)).rowcount == 1
        if won:
            conn.execute(insert(ev).values(ticket_id=ticket_id, actor_id=caller.id, at=now,
                                           action="decide", note=body.decision))
    row = _get(svc, caller, ticket_id)
    if not won:
        if row["escalated_at"] is None:
            raise conflict("not_escalated", f"ticket {ticket_id} was not escalated to the "
                                            f"platform")
        raise conflict("already_decided", f"ticket {ticket_id} was decided "
                                          f"({row['decision']}) at "
                                          f"{row['decided_at'].isoformat()}")
    return ticket_out(row)
