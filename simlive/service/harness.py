"""Start the real service, and a throwaway PostgreSQL, for tests, benchmarks and load tests.

Both start real processes on 127.0.0.1 and are context managers that always stop what they
started. :class:`ServiceProcess` runs ``simlive serve`` in a subprocess (so a test can
SIGKILL it), on an ephemeral port it reads back from the banner. :class:`TempPostgres` runs
the machine's own ``initdb`` and ``pg_ctl``; as root (CI) it runs them as the ``postgres``
user, because initdb refuses root. No FastAPI here: a load-test process imports this without
the web stack.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from simlive.service.server import LISTEN_PREFIX

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/14/bin")


class HarnessError(RuntimeError):
    """A helper process did not start; the message carries its log."""


_TLS: ssl.SSLContext | None = None


def http_client(base_url: str, token: str | None = None, timeout: float = 30.0,
                **kwargs: Any) -> httpx.Client:
    """An httpx client for the service, authenticated with ``token`` if given.

    All clients share one TLS context: building one per client (httpx's default) costs
    ~20 ms of CPU, which a test or load generator making 50 clients would otherwise pay.
    """
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, verify=_TLS,
                        **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """``simlive serve`` in a subprocess; ``base_url`` and ``tokens`` once started.

    ``tokens`` maps role -> list of tokens (from the tokens file, created on first start and
    reused on restart, so a restarted service keeps the same users).
    """

    def __init__(self, db_url: str, workdir: Path, faults: tuple[str, ...] = (),
                 payment_timeout: float = 900.0, sweep_interval: float = 1.0,
                 workers: int = 1, extra_args: tuple[str, ...] = (),
                 start_timeout: float = 30.0) -> None:
        self.db_url = db_url
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.faults = faults
        self.payment_timeout = payment_timeout
        self.sweep_interval = sweep_interval
        self.workers = workers
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.tokens_file = self.workdir / "tokens.json"
        self.log_file = self.workdir / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.tokens: dict[str, list[str]] = {}

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "simlive.cli", "serve", "--db", self.db_url,
               "--host", "127.0.0.1", "--port", "0", "--workers", str(self.workers),
               "--tokens", str(self.tokens_file),
               "--payment-timeout", str(self.payment_timeout),
               "--sweep-interval", str(self.sweep_interval)]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + list(self.extra_args)

    def start(self) -> Self:
        with self.log_file.open("ab") as log:
            mark = log.tell()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = self.log_file.read_bytes()[mark:].decode("utf-8", "replace")
            for line in text.splitlines():
                if line.startswith(LISTEN_PREFIX):
                    self.base_url = line[len(LISTEN_PREFIX):].split()[0]
            if self.base_url and self._healthy():
                self.tokens = json.loads(self.tokens_file.read_text())
                return self
            if self.proc.poll() is not None:
                raise HarnessError(f"simlive serve exited with {self.proc.returncode}:\n"
                                   f"{self.log()}")
            time.sleep(0.05)
        self.kill()
        raise HarnessError(f"simlive serve did not answer within {self.start_timeout}s:\n"
                           f"{self.log()}")

    def _healthy(self) -> bool:
        try:
            with http_client(self.base_url, timeout=1.0) as c:
                return c.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def token(self, role: str, index: int = 0) -> str:
        return self.tokens[role][index]

    def client(self, role: str | None = None, index: int = 0, **kwargs: Any) -> httpx.Client:
        """An httpx client on the service, authenticated as ``role`` if given."""
        return http_client(self.base_url, self.token(role, index) if role else None, **kwargs)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash: no shutdown code runs)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for d in PG_BIN_DIRS:
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


class TempPostgres:
    """A private PostgreSQL cluster in a temp dir on 127.0.0.1 and an ephemeral port.

    ``fsync`` is off by default (tests need speed, not power-cut safety); the benchmark turns
    it on. Stop it with :meth:`stop` or by leaving the ``with`` block.
    """

    def __init__(self, fsync: bool = False, base_dir: Path | None = None) -> None:
        self.bin = find_pg_bin()
        if self.bin is None:
            raise HarnessError("PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in "
                               f"{', '.join(PG_BIN_DIRS)}; install postgresql "
                               "(apt-get install postgresql)")
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="simlive-pg-", dir=base_dir))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "postgres"
        self.as_root = os.geteuid() == 0
        self._started = False

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=self.dir,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise HarnessError(f"{' '.join(args[:2])} failed ({done.returncode}):\n"
                               f"{done.stdout.decode(errors='replace')}\n"
                               f"{done.stderr.decode(errors='replace')}")

    def start(self) -> Self:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        else:
            self.user = os.environ.get("USER") or "postgres"
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                  self.user, "--no-sync", "-E", "UTF8", "--locale=C")
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                f"-c max_connections=200 -c fsync={'on' if self.fsync else 'off'} "
                f"-c synchronous_commit={'on' if self.fsync else 'off'} "
                f"-c full_page_writes={'on' if self.fsync else 'off'}")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.dir / "pg.log"), "-o", opts, "-w", "-t", "60", "start", timeout=90)
        self._started = True
        return self

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL for ``simlive serve --db``."""
        import psycopg

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name comes from our own code
        return self.admin_url(name)

    def stop(self) -> None:
        if self._started:
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop")
            except (HarnessError, subprocess.TimeoutExpired):
                pass
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class Shop:
    """Clients on one service, one per demo role, and helpers that set up data.

    Raises :class:`HarnessError` when the service refuses a set-up step, with its answer.
    """

    def __init__(self, svc: ServiceProcess) -> None:
        self.svc = svc
        self.admin = svc.client("admin")
        self.merchant = svc.client("merchant")
        self.agent = svc.client("agent")
        self.viewer = svc.client("viewer")
        self.anonymous = svc.client()
        self._clients = [self.admin, self.merchant, self.agent, self.viewer, self.anonymous]

    @staticmethod
    def _expect(r: httpx.Response, status: int) -> Any:
        if r.status_code != status:
            raise HarnessError(f"{r.request.method} {r.request.url.path} answered "
                               f"{r.status_code}, expected {status}: {r.text}")
        return r.json()

    def client(self, token: str | None = None) -> httpx.Client:
        """A client (closed with the shop) for ``token``, or anonymous."""
        c = http_client(self.svc.base_url, token)
        self._clients.append(c)
        return c

    def mint(self, role: str, count: int = 1) -> list[str]:
        """Tokens of ``count`` new users of ``role``."""
        body = self._expect(self.admin.post("/admin/users", json={"role": role,
                                                                  "count": count}), 201)
        return [u["token"] for u in body["users"]]

    def product(self, stock: int = 100, max_per_buyer: int | None = None,
                merchant: httpx.Client | None = None, price_cents: int = 1999,
                stock_buckets: int | None = None) -> str:
        """A new product with a unique SKU; its SKU."""
        sku = f"T-{uuid.uuid4().hex[:16]}"
        body: dict[str, Any] = {"sku": sku, "name": f"test product {sku}",
                                "price_cents": price_cents, "stock": stock,
                                "max_per_buyer": max_per_buyer}
        if stock_buckets is not None:
            body["stock_buckets"] = stock_buckets
        self._expect((merchant or self.merchant).post("/products", json=body), 201)
        return sku

    def order(self, sku: str, quantity: int = 1, client: httpx.Client | None = None,
              key: str | None = None) -> httpx.Response:
        """``POST /orders`` (a fresh idempotency key unless ``key``); the raw response."""
        return (client or self.viewer).post(
            "/orders", json={"sku": sku, "quantity": quantity},
            headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def paid_order(self, sku: str, client: httpx.Client | None = None) -> dict[str, Any]:
        c = client or self.viewer
        order = self._expect(self.order(sku, 1, c), 201)
        return self._expect(c.post(f"/orders/{order['id']}/pay"), 200)  # type: ignore[no-any-return]

    def ledger(self, sku: str) -> dict[str, Any]:
        return self._expect(self.admin.get(f"/products/{sku}/ledger"), 200)  # type: ignore[no-any-return]

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a listing, following ``next_after``, as admin."""
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            body = self._expect(self.admin.get(path, params={"after": after, "limit": 1000,
                                                             **params}), 200)
            items += body["items"]
            if body["next_after"] is None:
                return items
            after = body["next_after"]

    def close(self) -> None:
        for c in self._clients:
            c.close()
