"""How the service says no: one error shape, and the guards that keep clients from a 500.

Every error body is JSON ``{"detail": ..., "code": ...}``; a 422 keeps FastAPI's list of
``{"loc", "msg", "type"}`` entries in ``detail`` so that each bad field is named. Anything a
client can send must end in a 4xx: bodies over the size limit are cut off with 413 by
:class:`BodyLimit` before they are read whole, and a database that is busy or gone answers 503
(retry later), not 500. A 500 is left only for real bugs, which the tests hunt for.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("simlive.service")


class ApiError(Exception):
    """A refusal with an HTTP status, a stable machine-readable ``code`` and a sentence (or,
    for a request that is invalid, FastAPI's list of what is wrong where)."""

    def __init__(self, status: int, code: str, detail: str | list[dict[str, Any]],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def not_found(what: str, key: Any) -> ApiError:
    return ApiError(404, "not_found", f"{what} {key!r} does not exist")


def conflict(code: str, detail: str) -> ApiError:
    return ApiError(409, code, detail)


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def api_error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail, "code": exc.code}, exc.status,
                        headers=exc.headers)


def install_handlers(app: FastAPI) -> None:
    """Map every error a request can raise onto the one JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return api_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's answer to a body the JSON parser gave up on for another reason than
            # a syntax error (invalid UTF-8, nesting too deep for Python, an integer of
            # thousands of digits): bad input like any other, 422 naming the body
            why = type(exc.__cause__).__name__
            return JSONResponse({"detail": [{"loc": ["body"], "type": "json_invalid",
                                             "msg": f"the body is not JSON this service can "
                                                    f"read ({why})"}],
                                 "code": "invalid"}, 422)
        if exc.status_code == 405:
            return _not_allowed(request)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error")
        return JSONResponse({"detail": exc.detail, "code": code}, exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors, "code": "invalid"}, 422)

    @app.exception_handler(DataError)
    async def _bad_data(_request: Request, exc: DataError) -> JSONResponse:
        # Validation should have caught it; a value the database rejects is still bad input.
        log.warning("database rejected a value: %s", exc.orig)
        return JSONResponse({"detail": "a value was rejected by the database",
                             "code": "invalid"}, 422)

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.orig)
        return JSONResponse({"detail": "the database is busy or unavailable; retry",
                             "code": "unavailable"}, 503, headers={"Retry-After": "1"})


def _not_allowed(request: Request) -> Response:
    """405 with ``Allow`` naming every method some route serves at this path (Starlette
    names only the first route's: ``GET /orders`` and ``POST /orders`` are two routes);
    OPTIONS answers 204 with that ``Allow``."""
    from starlette.routing import Match

    methods = {"OPTIONS"}
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.add(method)
    allow = ", ".join(sorted(methods))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return JSONResponse({"detail": f"{request.method} is not allowed here; allowed: {allow}",
                         "code": "method_not_allowed"}, 405, headers={"Allow": allow})


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    A declared ``Content-Length`` over the limit is refused before reading; a chunked body is
    counted as it arrives and the app's answer is replaced by 413 once it passes the limit,
    so a client can never make the service buffer more than the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        state = {"seen": 0, "over": False, "started": False}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_bytes:
                    state["over"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await self._refuse(send)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if state["over"] and not state["started"]:
                await self._refuse(send)
                return
            raise

    async def _refuse(self, send: Send) -> None:
        body = (b'{"detail":"request body is larger than %d bytes","code":"too_large"}'
                % self.max_bytes)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
