"""PostgreSQL for the Medusa example shop: a throwaway cluster run as an unprivileged user,
and children that die with their parent (stdlib only)."""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DB_NAME = "medusa"
PG_USER_FALLBACK = "simlive-pg"
PG_READY_TIMEOUT = 60.0


def log(msg: str) -> None:
    print(f"[shop] {msg}", file=sys.stderr, flush=True)


class ShopError(Exception):
    pass


# --- children that die with us -------------------------------------------------------------


def _deathsig(sig: int):
    """preexec_fn: the child gets ``sig`` when shop.py dies (Linux prctl PR_SET_PDEATHSIG).
    Set after Popen has switched user (a uid change clears it), so it holds for postgres."""

    def set_it() -> None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, sig)  # PR_SET_PDEATHSIG
        except Exception:
            pass

    return set_it


def _stop_group(proc: subprocess.Popen, first: int, grace: float, name: str) -> None:
    """Send ``first`` to the child's process group, wait ``grace`` s, then SIGKILL it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, first)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop within {grace:.0f}s: SIGKILL")
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers (cluster workers, PG backends)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {proc.pid}) still not reaped")


def _run(cmd: list[str], *, cwd: Path, env: dict, timeout: float, logfile: Path,
         what: str) -> float:
    """Run a one-shot command (its own process group, dies with us); seconds taken."""
    t0 = time.monotonic()
    with open(logfile, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_deathsig(signal.SIGKILL))
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc, signal.SIGKILL, 5, what)
            raise ShopError(f"{what} took more than {timeout:.0f}s (see {logfile})") from None
        except BaseException:
            _stop_group(proc, signal.SIGTERM, 5, what)
            raise
    if rc != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-25:]
        raise ShopError(f"{what} failed (exit {rc}); end of {logfile}:\n" + "\n".join(tail))
    return time.monotonic() - t0


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    raise ShopError("PostgreSQL server binaries (initdb, postgres) not found: install them "
                    "(Debian: apt-get install postgresql)")


def _pg_user() -> str | None:
    """The unprivileged OS user PostgreSQL runs as when we are root (None: run as we are)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", PG_USER_FALLBACK):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    log(f"creating the OS user {PG_USER_FALLBACK} (PostgreSQL refuses to run as root)")
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    PG_USER_FALLBACK], check=True, timeout=30)
    return PG_USER_FALLBACK


def _as_user(user: str | None) -> dict:
    if user is None:
        return {}
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _traversable(path: Path, user: str | None) -> None:
    """The PG user must reach DIR/pg: make DIR and its parents we own traversable."""
    if user is None:
        return
    for p in [path, *path.parents]:
        mode = p.stat().st_mode
        if not mode & 0o001:
            if p.stat().st_uid == os.geteuid() and p != Path("/"):
                os.chmod(p, mode | 0o001)
            else:
                raise ShopError(f"{p} is not traversable by the user {user}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """The throwaway cluster in DIR/pg, run in the foreground as our child."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "pg"
        self.bindir = _pg_bindir()
        self.user = _pg_user()
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def init(self) -> float:
        if (self.data / "PG_VERSION").exists():
            return 0.0
        t0 = time.monotonic()
        _traversable(self.base, self.user)
        self.data.mkdir(mode=0o700, exist_ok=True)
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
        with open(self.base / "pg.log", "ab") as out:
            subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                           stdout=out, stderr=subprocess.STDOUT, check=True, timeout=120,
                           cwd="/", **_as_user(self.user))
        return time.monotonic() - t0

    def running_port(self) -> int | None:
        """The port of a postmaster already serving DIR/pg (another shop.py), if any."""
        pid_file = self.data / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return port if self._accepts(port) else None

    def start(self) -> float:
        t0 = time.monotonic()
        other = self.running_port()
        if other is not None:
            log(f"PostgreSQL already running on 127.0.0.1:{other} (not ours: left running)")
            self.port = other
            return 0.0
        self.port = _free_port()
        cmd = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
               "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
               "-c", "max_connections=200"]
        out = open(self.base / "pg.log", "ab")
        try:
            self.proc = subprocess.Popen(cmd, cwd="/", stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_deathsig(signal.SIGINT),
                                         **_as_user(self.user))
        finally:
            out.close()
        deadline = time.monotonic() + PG_READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ShopError(f"PostgreSQL exited ({self.proc.returncode}); see "
                                f"{self.base / 'pg.log'}")
            if self._accepts(self.port):
                break
            time.sleep(0.2)
        else:
            raise ShopError(f"PostgreSQL not ready within {PG_READY_TIMEOUT:.0f}s")
        (self.base / "pg.port").write_text(f"{self.port}\n")
        return time.monotonic() - t0

    def _accepts(self, port: int) -> bool:
        r = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                            str(port), "-t", "2"], timeout=10)
        return r.returncode == 0

    def psql(self, sql: str, db: str = DB_NAME) -> str:
        r = subprocess.run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise ShopError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def ensure_db(self) -> None:
        if self.psql(f"select 1 from pg_database where datname = '{DB_NAME}'", "postgres") != "1":
            self.psql(f"create database {DB_NAME}", "postgres")

    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT: fast shutdown (disconnects clients); then SIGKILL the group
            _stop_group(self.proc, signal.SIGINT, 20, "PostgreSQL")
            self.proc = None


# --- the Medusa app ------------------------------------------------------------------------
