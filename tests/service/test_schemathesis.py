"""schemathesis itself against the reference service: every check it has (server errors,
status codes and content types the OpenAPI document declares, response schemas, schema-valid
requests accepted and invalid ones refused, auth, use after free...), its coverage, fuzzing
and stateful phases (following the document's links from each create to the operations on
what it made). It must find nothing.

Every role runs on SQLite. On PostgreSQL only the roles whose endpoints run code that
differs there: the buyer places, pays and cancels orders and the merchant creates products,
restocks them and reads their ledger (the stock rows, bucket locking, the group commit's
savepoints and the ledger's snapshot read differ on PostgreSQL; the sweeper's expiry runs
behind every run). The agent's and the admin's endpoints are plain reads and transitions
through the same SQLAlchemy code on both databases, and the PostgreSQL service tests
(``service`` fixture) drive them as well; there they would add two runs of ~22 s each
for no code of their own.

Each database gets a service of its own: schemathesis creates thousands of records and, as
admin, would mint users. Token revocation is left out of the run (it would revoke the very
tokens the run uses; ``test_tokens.py`` covers it). Bounded: a fixed number of examples per
operation and phase, a fixed seed, and no cache carried from an earlier run.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simlive.service.process import ServiceProcess
from testing.postgres import TempPostgres

EXAMPLES = 8
SEED = 20261111
ROLES = ("buyer", "merchant", "agent", "admin")
PG_ROLES = ("buyer", "merchant")  # the roles whose endpoints differ on PostgreSQL
CASES = [pytest.param(db, role, id=f"{db}-{role}")
         for db, roles in (("sqlite", ROLES), ("postgres", PG_ROLES)) for role in roles]
CONFIG = Path(__file__).with_name("schemathesis.toml")
_db_names = itertools.count(1)  # a worker may set the PostgreSQL service up twice


@pytest.fixture(scope="module")
def own_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[ServiceProcess]:
    workdir = tmp_path_factory.mktemp(f"st-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'st.db'}"
    else:
        pg: TempPostgres = request.getfixturevalue("postgres")
        url = pg.create_database(f"schemathesis_{next(_db_names)}")
    svc = ServiceProcess(url, workdir, payment_timeout=2.0, sweep_interval=0.2).start()
    yield svc
    svc.stop()


@pytest.mark.slow
@pytest.mark.parametrize(("own_service", "role"), CASES, indirect=["own_service"])
def test_schemathesis_finds_nothing(own_service: ServiceProcess, role: str,
                                    tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    cmd = [str(st), "--config-file", str(CONFIG), "run", f"{own_service.base_url}/openapi.json",
           "--checks", "all",
           "--phases", "coverage,fuzzing,stateful", "--max-examples", str(EXAMPLES),
           "--seed", str(SEED), "--exclude-path", "/admin/tokens/revoke",
           "-H", f"Authorization: Bearer {own_service.token(role)}", "--no-color"]
    # run in a folder of its own: schemathesis keeps a cache (.schemathesis/) in its working
    # folder and replays what it holds, which would tie this run to earlier ones
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert " passed" in out and "failure" not in out.split("SUMMARY")[-1], out[-3000:]
