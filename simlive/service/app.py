"""The app factory: :func:`create_app` for tests and one-process serving,
:func:`app_from_env` for uvicorn workers (``uvicorn.run(..., factory=True)``).

Building the app opens the database, creates the schema if asked, makes sure the configured
token users exist, and starts (in the lifespan) the sweeper that expires unpaid orders. Active
faults are logged loudly at start by every worker, so nobody mistakes a broken service for a
correct one.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from simlive import __version__
from simlive.service.bodies import Health
from simlive.service.core import ACK_EVERY, REVOCATION_POLL, Service
from simlive.service.faults import BREAKS, Fault
from simlive.service.lane import OrderLane
from simlive.service.problems import BodyLimit, install_handlers
from simlive.service.routers import (
    admin,
    broadcasts,
    orders,
    prices,
    products,
    reviews,
    shipping,
    tickets,
)
from simlive.service.routers.escalations import router as escalations_router
from simlive.service.settings import Settings
from simlive.service.stock import expire_due

log = logging.getLogger("simlive.service")

DESCRIPTION = """\
The reference live-commerce service of **simlive**: a real system under test that keeps every
compliance rule of the simlive design under concurrency (unless started with `--fault`).

Authenticate with `Authorization: Bearer <token>`; roles are buyer, merchant, agent and
admin. Errors are `{"detail": ..., "code": ...}`; a 422's `detail` lists each bad field.
Listings page by id: pass `next_after` back as `after`.
"""


class Ticker:
    """A daemon thread calling ``tick`` every ``interval`` seconds until stopped; a tick
    that fails is logged and tried again at the next one."""

    name = "simlive-ticker"

    def __init__(self, svc: Service, interval: float) -> None:
        self.svc = svc
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the database is busy: again next tick
                log.exception("%s failed", self.name)


class Sweeper(Ticker):
    """Expires overdue orders every ``interval`` seconds.

    Reads expire overdue orders too, so the sweeper only bounds how long an untouched
    reservation can hold stock; its transitions are the same conditional updates, so any
    number of sweepers (one per worker) are safe together.
    """

    name = "simlive-sweeper"

    def tick(self) -> None:
        expire_due(self.svc)


class RevocationWatch(Ticker):
    """Drops this worker's token cache whenever a token is revoked anywhere (the newest row
    of ``token_revocations`` changed), every ``REVOCATION_POLL`` seconds: one indexed read,
    instead of a database read on every request. Then it says so in ``worker_acks`` (and
    at least every ``ACK_EVERY`` seconds that it is alive), which a revocation waits for."""

    name = "simlive-revocations"

    def __init__(self, svc: Service) -> None:
        super().__init__(svc, REVOCATION_POLL)
        self.seen = svc.newest_revocation()
        svc.ack(self.seen)
        self.acked = time.monotonic()

    def tick(self) -> None:
        newest = self.svc.newest_revocation()
        if newest != self.seen:
            self.svc.forget_callers()
            self.seen = newest
        elif time.monotonic() - self.acked < ACK_EVERY:
            return
        self.svc.ack(self.seen)
        self.acked = time.monotonic()


def announce_faults(faults: frozenset[Fault]) -> None:
    for fault in sorted(faults):
        log.warning("FAULT %s is ON: this service breaks %s on purpose", fault.value,
                    BREAKS[fault])


class ServiceApp(FastAPI):
    """FastAPI with the order lane in front: an ordinary ``POST /orders`` is placed before
    the middleware stack (each layer costs a hot SKU's orders a few µs), everything else and
    every order the lane does not take goes through FastAPI as usual."""

    lane: OrderLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.lane is not None and OrderLane.wants(scope):
            await self.lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def through_fastapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready FastAPI app for ``settings`` (defaults: ./simlive.db, no faults)."""
    settings = settings or Settings()
    svc = Service(settings)
    if settings.create_schema:
        svc.db.create_schema()
    svc.ensure_users(settings.tokens)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        announce_faults(settings.faults)
        sweeper = Sweeper(svc, settings.sweep_interval)
        sweeper.start()
        revocations = RevocationWatch(svc)
        revocations.start()
        try:
            yield
        finally:
            revocations.stop()
            sweeper.stop()
            svc.db.dispose()

    app = ServiceApp(title="simlive reference live-commerce service", version=__version__,
                     description=DESCRIPTION, lifespan=lifespan)
    app.state.service = svc
    install_handlers(app)

    @app.get("/health", tags=["health"])
    async def health() -> Health:
        """Liveness, touching no database: the benchmark's no-op baseline."""
        return Health(status="ok")

    for module in (admin, broadcasts, products, orders, tickets, reviews):
        app.include_router(module.router)
    app.include_router(escalations_router)
    app.include_router(admin.public)
    app.include_router(shipping.router)  # fulfilment.on-time
    app.include_router(prices.router)  # pricing.claims-hold
    if settings.has(Fault.DELETE_REVIEW):
        app.include_router(reviews.faulty_router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.lane = OrderLane(app.through_fastapi, svc, settings.max_body_bytes)
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_links(plain_openapi())
        return app.openapi_schema

    # FastAPI's documented way to extend the schema; mypy forbids assigning to a method
    app.openapi = openapi  # type: ignore[method-assign]
    return app


# what each create operation returns that other operations take in their path
CREATES = {"/orders": ("order_id", "id"), "/tickets": ("ticket_id", "id"),
           "/broadcasts": ("broadcast_id", "id"), "/products": ("sku", "sku"),
           "/reviews": ("review_id", "id")}


def with_links(spec: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from each create operation to every operation on what it created (an
    order's id to pay, cancel, deliver, receipt...), so a client generator or a stateful
    tester (schemathesis) can follow them."""
    paths = spec.get("paths", {})
    for creator, (param, field_) in CREATES.items():
        created = paths.get(creator, {}).get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links = {}
        for path, ops in paths.items():
            # a replay exists once the broadcast ended, a receipt once the order is paid:
            # not right after the create, so no link says they do
            if f"{{{param}}}" not in path or path.endswith(("/replay", "/receipt")):
                continue
            for method, op in ops.items():
                if (method, path) == ("post", "/broadcasts/{broadcast_id}/products"):
                    continue  # it needs a product too, which the broadcast cannot supply
                links[op["operationId"]] = {
                    "operationId": op["operationId"],
                    "parameters": {param: f"$response.body#/{field_}"}}
        created["links"] = dict(sorted(links.items()))
    return spec


def app_from_env() -> FastAPI:
    """The app for a uvicorn worker process, configured by ``SIMLIVE_SERVICE_SETTINGS``."""
    supervisor = os.environ.get("SIMLIVE_SUPERVISOR_PID", "")
    if supervisor.isdigit() and int(supervisor) != os.getpid():
        watch_parent(int(supervisor))
    return create_app(Settings.from_env())


def watch_parent(supervisor: int, every: float = 0.5) -> None:
    """A worker of ``simlive serve --workers N`` stops when the serving process is gone.

    uvicorn's supervisor stops its workers when it is stopped, but a supervisor that is
    killed (SIGKILL, the OOM killer) runs no code: its workers went on serving the port.
    Linux tells the worker at once (``PR_SET_PDEATHSIG``); elsewhere, and for a parent gone
    before that was set, a thread sees the parent change and stops the worker as SIGTERM
    would (a graceful shutdown)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread does it
            pass

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(every)
        log.error("the serving process %d is gone: this worker stops", supervisor)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="simlive-parent-watch", daemon=True).start()
