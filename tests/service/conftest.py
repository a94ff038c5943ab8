"""Fixtures: the real service on 127.0.0.1 (SQLite and PostgreSQL) and a throwaway PostgreSQL.

Every service here is ``simlive serve`` in a subprocess on an ephemeral port (see
:mod:`simlive.service.process`), shared per session and stopped at teardown:

- ``postgres``: a :class:`TempPostgres` cluster (fails, never skips, without the binaries);
- ``sqlite_service`` / ``pg_service``: correct services, payment timeout 2 s;
- ``service``: parametrized over both of them;
- ``pg_lanes_service``: PostgreSQL with ``--stock-buckets 4 --write-lanes 4``;
- ``faulty_sqlite_service``: every fault on; ``faulty_pg_service``: the race faults on;
- ``shop_of(service)`` / ``shop``: a :class:`~testing.shop.Shop` (a client per
  role and helpers that set up data).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simlive.service.faults import FAULT_NAMES
from simlive.service.process import ServiceProcess
from testing.postgres import TempPostgres, find_pg_bin
from testing.shop import Shop

PAYMENT_TIMEOUT = 2.0
FAULTY_PAYMENT_TIMEOUT = 1.0
_db_names = itertools.count(1)


def _sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'simlive.db'}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    if find_pg_bin() is None:
        pytest.fail("PostgreSQL binaries (initdb, postgres) are missing: the PostgreSQL tests "
                    "need them (apt-get install postgresql; CI installs them)")
    with TempPostgres() as pg:
        yield pg


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, db_url: str | None = None,
           **kwargs: Any) -> ServiceProcess:
    workdir = tmp_path_factory.mktemp(name)
    return ServiceProcess(db_url or _sqlite_url(workdir), workdir, **kwargs).start()


@pytest.fixture(scope="session")
def sqlite_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = _serve(tmp_path_factory, "sqlite", payment_timeout=PAYMENT_TIMEOUT,
                 sweep_interval=0.2)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def pg_service(postgres: TempPostgres,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    url = postgres.create_database(f"simlive_{next(_db_names)}")
    svc = _serve(tmp_path_factory, "pg", url, payment_timeout=PAYMENT_TIMEOUT,
                 sweep_interval=0.2)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def pg_lanes_service(postgres: TempPostgres,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """New products' stock over 4 buckets, and 4 writer lanes committing side by side."""
    url = postgres.create_database(f"simlive_{next(_db_names)}")
    svc = _serve(tmp_path_factory, "pg-lanes", url, payment_timeout=PAYMENT_TIMEOUT,
                 sweep_interval=0.2, extra_args=("--stock-buckets", "4", "--write-lanes", "4"))
    yield svc
    svc.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest) -> ServiceProcess:
    name = "sqlite_service" if request.param == "sqlite" else "pg_service"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def faulty_sqlite_service(tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[ServiceProcess]:
    """Every fault on; the sweeper is slowed so reads race to expire orders."""
    svc = _serve(tmp_path_factory, "faulty-sqlite", faults=FAULT_NAMES,
                 payment_timeout=FAULTY_PAYMENT_TIMEOUT, sweep_interval=3600)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def faulty_pg_service(postgres: TempPostgres,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    url = postgres.create_database(f"simlive_{next(_db_names)}")
    svc = _serve(tmp_path_factory, "faulty-pg", url, faults=("oversell", "double-restock"),
                 payment_timeout=FAULTY_PAYMENT_TIMEOUT, sweep_interval=3600)
    yield svc
    svc.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def faulty_service(request: pytest.FixtureRequest) -> ServiceProcess:
    name = "faulty_sqlite_service" if request.param == "sqlite" else "faulty_pg_service"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def shop_of() -> Iterator[Callable[[ServiceProcess], Shop]]:
    shops: dict[str, Shop] = {}

    def get(svc: ServiceProcess) -> Shop:
        if svc.base_url not in shops:
            shops[svc.base_url] = Shop(svc)
        return shops[svc.base_url]

    yield get
    for shop in shops.values():
        shop.close()


@pytest.fixture
def shop(service: ServiceProcess, shop_of: Callable[[ServiceProcess], Shop]) -> Shop:
    """A :class:`Shop` on ``service`` (so tests using it run on SQLite and PostgreSQL)."""
    return shop_of(service)
