"""Bearer-token roles: who is calling, and whether their role may call this endpoint.

Four roles (buyer, merchant, agent, admin). Each endpoint declares the roles it admits with
:func:`require`; ownership (a buyer's own orders, a merchant's own products) is checked by
the endpoint itself once it has loaded the record, because only then is the owner known. The
order of refusals is fixed so clients can rely on it: 401 (no or unknown token) before 403
(wrong role) before 404 (unknown id) before 403 (not the owner).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from simlive.service.core import Caller, Service, get_service
from simlive.service.problems import ApiError

bearer = HTTPBearer(auto_error=False, description="A token printed by `simlive serve`, "
                    "read from its --tokens file, or minted by POST /admin/users.")

MAX_TOKEN_LENGTH = 256


async def authenticate(
    svc: Annotated[Service, Depends(get_service)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The caller, or 401 with ``WWW-Authenticate: Bearer``.

    ``async`` so that the common case (a token this process has seen) costs no thread hop;
    only a first sighting reads the database, in the thread pool.
    """
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None or not creds.credentials:
        raise ApiError(401, "unauthenticated", "missing bearer token", challenge)
    token = creds.credentials
    caller = None
    if len(token) <= MAX_TOKEN_LENGTH:
        caller = svc.cached_caller(token) or await run_in_threadpool(svc.lookup_token, token)
    if caller is None:
        raise ApiError(401, "unauthenticated", "unknown bearer token", challenge)
    return caller


def require(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only ``roles`` (403 for any other authenticated role)."""
    allowed = frozenset(roles)

    async def dependency(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.role not in allowed:
            raise ApiError(403, "forbidden",
                           f"role {caller.role!r} may not do this; allowed: "
                           f"{', '.join(sorted(allowed))}")
        return caller

    dependency.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dependency


AnyRole = Annotated[Caller, Depends(require("buyer", "merchant", "agent", "admin"))]
Buyer = Annotated[Caller, Depends(require("buyer"))]
Merchant = Annotated[Caller, Depends(require("merchant"))]
MerchantOrAdmin = Annotated[Caller, Depends(require("merchant", "admin"))]
Staff = Annotated[Caller, Depends(require("agent", "admin"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Svc = Annotated[Service, Depends(get_service)]
