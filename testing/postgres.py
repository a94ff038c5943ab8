"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests and the benchmarks.

:class:`TempPostgres` runs the machine's own ``initdb``, then ``postgres`` itself as its
child (not through ``pg_ctl start``, whose server outlives ``pg_ctl``): in a process group
of its own, and sent SIGQUIT (immediate shutdown) by the kernel when the process that
started it dies, so a test run killed by a timeout leaves no cluster behind. As root (CI) it
runs both as the ``postgres`` user, because initdb and postgres refuse root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from simlive.service.process import die_with_parent, free_port
from testing import HarnessError

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/14/bin")
READY_TIMEOUT = 60.0


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``, or None."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    for d in PG_BIN_DIRS:
        if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    return None


class TempPostgres:
    """A private PostgreSQL cluster in a temp dir on 127.0.0.1 and an ephemeral port.

    ``fsync`` is off by default (tests need speed, not power-cut safety); the benchmark turns
    it on. Stop it with :meth:`stop` or by leaving the ``with`` block.
    """

    def __init__(self, fsync: bool = False, base_dir: Path | None = None) -> None:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise HarnessError("PostgreSQL binaries (initdb, postgres) not found on PATH or "
                               f"in {', '.join(PG_BIN_DIRS)}; install postgresql "
                               "(apt-get install postgresql)")
        self.bin = bin_dir
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="simlive-pg-", dir=base_dir))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "postgres"
        self.as_root = os.geteuid() == 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _initdb(self) -> None:
        cmd = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
               "--no-sync", "-E", "UTF8", "--locale=C"]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, timeout=60, cwd=self.dir,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise HarnessError(f"initdb failed ({done.returncode}):\n"
                               f"{done.stdout.decode(errors='replace')}\n"
                               f"{done.stderr.decode(errors='replace')}")

    def start(self) -> Self:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        else:
            self.user = os.environ.get("USER") or "postgres"
        self._initdb()
        on = "on" if self.fsync else "off"
        cmd = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
               "-c", "listen_addresses=127.0.0.1", "-k", str(self.dir),
               "-c", "max_connections=200", "-c", f"fsync={on}",
               "-c", f"synchronous_commit={on}", "-c", f"full_page_writes={on}"]
        with open(self.dir / "pg.log", "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.dir,
                start_new_session=True, preexec_fn=die_with_parent(signal.SIGQUIT),
                **({"user": "postgres", "group": "postgres", "extra_groups": []}
                   if self.as_root else {}))
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise HarnessError(f"postgres exited with {self.proc.returncode}:\n"
                                   f"{self.log()}")
            try:
                psycopg.connect(self.admin_url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise HarnessError(f"postgres did not accept connections within "
                                       f"{READY_TIMEOUT:g}s:\n{self.log()}") from None
                time.sleep(0.05)

    def log(self) -> str:
        try:
            return (self.dir / "pg.log").read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL for ``simlive serve --db``."""
        import psycopg

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name comes from our own code
        return self.admin_url(name)

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT to the server), then SIGKILL to its process group if
        anything is left after 20 s; the cluster's folder goes."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # backends a crash left behind
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
            self.proc = None
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
