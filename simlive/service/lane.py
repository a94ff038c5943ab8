"""The flash sale's request on its shortest path: ``POST /orders`` in front of the framework.

A hot SKU's throughput is bounded by one worker's CPU. Through FastAPI an order spent
~390 µs on the event loop (routing over every route, six dependencies, the middleware stack)
against ~90 µs for the no-op endpoint, while the order itself (two statements on the driver's
cursor, a share of a group commit) costs ~25 µs. The lane takes the requests FastAPI would
accept without comment — a cached buyer token, a well-formed ``Idempotency-Key``, a JSON
body within the size limit that ``OrderCreate`` accepts — before FastAPI's middleware stack
(:class:`~simlive.service.app.ServiceApp`), and places them with the same
:func:`~simlive.service.placing.place_order`, answering with the bytes FastAPI would send
(the same pydantic serializer; the error shape of :mod:`~simlive.service.problems`).

Everything else is handed to FastAPI untouched, the body replayed: a missing, unknown or
uncached token, another role, a bad header or body (FastAPI writes the 401/403/422 with the
field named), a chunked body, and any failure other than the service's own refusals (the
order's transaction rolled back, and the same ``Idempotency-Key`` makes the second attempt
safe). So the lane adds no answer FastAPI would not give; the tests compare the two byte for
byte, and schemathesis runs through both.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simlive.service.bodies import OrderCreate
from simlive.service.core import Service
from simlive.service.placing import place_order
from simlive.service.problems import ApiError, api_error_response
from simlive.service.routers.orders import KEY_MAX, KEY_PATTERN, order_out

_KEY = re.compile(KEY_PATTERN)
_JSON = (b"application/json", b"application/json; charset=utf-8")


class OrderLane:
    """Places ordinary buyer orders itself (see the module docstring); ``app`` is FastAPI,
    which gets every request the lane does not answer."""

    def __init__(self, app: ASGIApp, service: Service, max_bytes: int) -> None:
        self.app = app
        self.svc = service
        self.max_bytes = max_bytes

    @staticmethod
    def wants(scope: Scope) -> bool:
        return bool(scope["type"] == "http" and scope["path"] == "/orders"
                    and scope["method"] == "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = self._head(scope)
        if head is None:
            await self.app(scope, receive, send)
            return
        token, key, length = head
        caller = self.svc.cached_caller(token)
        if caller is None or caller.role != "buyer":
            await self.app(scope, receive, send)
            return
        received, body = await _read(receive, length)
        replay = _replaying(received, receive)
        if body is None:
            await self.app(scope, replay, send)
            return
        try:
            order = OrderCreate.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):
            await self.app(scope, replay, send)
            return
        try:
            row, created = await place_order(self.svc, caller, key, order)
        except ApiError as refusal:
            await api_error_response(refusal)(scope, receive, send)
            return
        except Exception:  # noqa: BLE001 - rolled back: FastAPI's handlers say what it was
            await self.app(scope, replay, send)
            return
        answer = Response(order_out(row).model_dump_json(by_alias=True),
                          status_code=201 if created else 200, media_type="application/json")
        if not created:
            answer.headers["Idempotent-Replayed"] = "true"
        await answer(scope, receive, send)

    def _head(self, scope: Scope) -> tuple[str, str, int] | None:
        """``(token, key, content length)`` when the headers are what the lane takes: one
        ``Authorization: Bearer``, one valid ``Idempotency-Key``, a JSON body of declared
        length within the limit."""
        token = key = None
        length = -1
        json_body = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                if token is not None or not value.startswith(b"Bearer "):
                    return None
                token = value[7:].decode("latin-1")
            elif name == b"idempotency-key":
                if key is not None:
                    return None
                key = value.decode("latin-1")
            elif name == b"content-type":
                if json_body:
                    return None
                json_body = value.lower() in _JSON
            elif name == b"content-length":
                if length >= 0 or not value.isdigit():
                    return None
                length = int(value)
        if (not token or key is None or not json_body or not 0 < length <= self.max_bytes
                or len(key) > KEY_MAX or _KEY.match(key) is None):
            return None
        return token, key, length


async def _read(receive: Receive, length: int) -> tuple[list[Message], bytes | None]:
    """The messages read and the whole body, or None for the body when it is not the
    declared length (the client went away, or sent more or less than it said): FastAPI then
    gets what arrived, as it arrived."""
    received: list[Message] = []
    size = 0
    while size <= length:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    if size != length:
        return received, None
    return received, b"".join(m.get("body", b"") for m in received)


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands FastAPI the messages the lane already read, then the rest."""
    pending = list(reversed(received))

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
