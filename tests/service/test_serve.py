"""``simlive serve`` as a user runs it: the banner, the tokens file, workers, bad options."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from simlive.cli import cli
from simlive.service.process import ServiceProcess, http_client
from testing.postgres import TempPostgres
from testing.shop import Shop


def test_banner_names_address_database_and_tokens(sqlite_service: ServiceProcess) -> None:
    log = sqlite_service.log()
    assert f"simlive service listening on {sqlite_service.base_url}" in log
    assert f"database: sqlite:///{sqlite_service.workdir / 'simlive.db'}" in log
    assert f"{sqlite_service.base_url}/docs" in log
    for role in ("buyer", "merchant", "agent", "admin"):
        assert sqlite_service.token(role) in log


def test_tokens_file_is_reused_across_restarts(tmp_path: Path) -> None:
    tokens = {"buyer": ["buyer-token-1", "buyer-token-2"], "merchant": "merchant-token",
              "agent": ["agent-token-1"], "admin": ["admin-token-1"]}
    (tmp_path / "tokens.json").write_text(json.dumps(tokens))
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    ids = []
    for _ in range(2):
        with ServiceProcess(url, tmp_path) as svc:
            assert "read from" in svc.log()
            with http_client(svc.base_url, "buyer-token-2") as c:
                me = c.get("/me").json()
            assert me["role"] == "buyer" and me["name"] == "buyer-2"
            ids.append(me["id"])
    assert ids[0] == ids[1]


def test_bad_options_exit_2(tmp_path: Path) -> None:
    bad_tokens = tmp_path / "t.json"
    bad_tokens.write_text('{"superuser": ["abcdefghij"]}')
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--tokens", str(bad_tokens), "--db",
                                 f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "key(='superuser') must be one of buyer, merchant, agent, admin" in result.output
    result = runner.invoke(cli, ["serve", "--db", "mysql://x@127.0.0.1/shop"])
    assert result.exit_code == 2
    assert "must be a sqlite:/// or postgresql:// URL" in result.output


def test_two_workers_on_postgres_keep_the_stock(postgres: TempPostgres, tmp_path: Path) -> None:
    url = postgres.create_database("two_workers")
    with ServiceProcess(url, tmp_path, workers=2) as svc:
        shop = Shop(svc)
        sku = shop.product(stock=30)
        tokens = shop.mint("buyer", 16)
        barrier = threading.Barrier(len(tokens))

        def buyer(token: str) -> int:
            got = 0
            with http_client(svc.base_url, token) as c:
                barrier.wait(timeout=30)
                for _ in range(10):
                    if shop.order(sku, 1, c).status_code != 201:
                        break
                    got += 1
            return got

        with ThreadPoolExecutor(len(tokens)) as pool:
            assert sum(pool.map(buyer, tokens)) == 30
        ledger = shop.ledger(sku)
        assert (ledger["reserved"], ledger["remaining"], ledger["balanced"]) == (30, 0, True)
        shop.close()


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_workers_stop_when_the_serving_process_is_killed(tmp_path: Path) -> None:
    """SIGKILL runs no code in the supervisor: its workers must notice on their own, stop
    serving and free the port (they went on answering before)."""
    svc = ServiceProcess(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2).start()
    try:
        workers = _children(svc.proc.pid)  # type: ignore[union-attr]
        assert len(workers) >= 2
        os.kill(svc.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
        svc.proc.wait(timeout=10)  # type: ignore[union-attr]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], svc.log()
        with pytest.raises(httpx.TransportError):
            with http_client(svc.base_url, timeout=2) as c:
                c.get("/health")
    finally:  # whatever is left of the group (the parent is gone: kill() would not)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(svc.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
