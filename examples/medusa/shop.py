#!/usr/bin/env python
"""A real Medusa 2.x shop (REST API, guest checkout), served on 127.0.0.1 for simlive.

Self-contained: Python stdlib only (nothing from simlive); needs node >= 20.19 with npm,
and PostgreSQL's server binaries (initdb, postgres; on Debian `apt-get install postgresql`).

    python examples/medusa/shop.py build --dir DIR
    python examples/medusa/shop.py serve --dir DIR --port PORT --tokens TOKENS.json \
        [--cluster N] [--locking memory|postgres] [--pool-max N]

`build` (idempotent; every step is skipped when already done):
  * copies app/ (package.json, package-lock.json, medusa-config.ts, tsconfig.json) into
    DIR/app and runs `npm ci` there (again only when the lock file changed);
  * a throwaway PostgreSQL cluster in DIR/pg (initdb, trust auth, TCP on 127.0.0.1 only, on
    a free port chosen at each start), run as an unprivileged user when we are root:
    PostgreSQL refuses to run as root (the `postgres` user if it exists, else one created
    with useradd);
  * database `medusa`, `medusa db:migrate`, the admin user admin@test.local / secret;
  * then stops PostgreSQL again.

`serve` = `build` + PostgreSQL + `medusa start -H 127.0.0.1 -p PORT [--cluster N]`, waits
for GET /health, then seeds what a guest checkout needs over the admin API (idempotent,
found again by name on the next run): region "simlive NL" (eur, country nl, provider
pp_system_default), tax region nl, stock location "simlive warehouse" linked to the default
sales channel and to the fulfillment provider manual_manual, a shipping fulfillment set with
a service zone for nl, the shipping option "simlive standard" (flat 5 eur), and the
publishable API key "simlive" linked to the default sales channel. It writes TOKENS.json
{"admin": ["admin@test.local:secret"], "buyer": ["<publishable key>"]} and prints exactly
one stdout line `ready http://127.0.0.1:PORT`; its own log lines go to stderr.

SIGTERM/SIGINT stop Medusa (its process group: SIGTERM, then SIGKILL) and PostgreSQL (fast
shutdown, then SIGKILL). Both children also get PR_SET_PDEATHSIG, so a SIGKILLed shop.py
takes them down too. `--cluster N` runs N node processes (Node's cluster module); with the
default `--locking memory` Medusa's locks are per process. `--locking postgres` switches
Medusa to its PostgreSQL locking provider (advisory locks), see NOTES.md.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_FILES = ("package.json", "package-lock.json", "medusa-config.ts", "tsconfig.json")
ADMIN_EMAIL = "admin@test.local"
ADMIN_PASSWORD = "secret"
DB_NAME = "medusa"
COUNTRY = "nl"
CURRENCY = "eur"
REGION_NAME = "simlive NL"
LOCATION_NAME = "simlive warehouse"
OPTION_NAME = "simlive standard"
KEY_TITLE = "simlive"
PG_USER_FALLBACK = "simlive-pg"

NPM_TIMEOUT = 1200.0
MIGRATE_TIMEOUT = 600.0
USER_TIMEOUT = 180.0
PG_READY_TIMEOUT = 60.0
HTTP_TIMEOUT = 30.0


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


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _medusa_env(pg: Postgres, args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": pg.url, "MEDUSA_DISABLE_TELEMETRY": "true",
                "SIMLIVE_MEDUSA_LOCKING": getattr(args, "locking", "memory"),
                "npm_config_update_notifier": "false", "npm_config_fund": "false",
                "npm_config_audit": "false"})
    if getattr(args, "pool_max", None):
        env["SIMLIVE_MEDUSA_DB_POOL_MAX"] = str(args.pool_max)
    else:
        env.pop("SIMLIVE_MEDUSA_DB_POOL_MAX", None)
    return env


def install_app(base: Path) -> float:
    """DIR/app from app/; npm ci when the lock file is new or changed. Seconds for npm ci."""
    app = base / "app"
    app.mkdir(parents=True, exist_ok=True)
    for name in APP_FILES:
        src = HERE / "app" / name
        if not (app / name).exists() or (app / name).read_bytes() != src.read_bytes():
            shutil.copyfile(src, app / name)
    stamp = app / ".simlive-npm-ci"
    want = _digest(app / "package.json", app / "package-lock.json")
    if stamp.exists() and stamp.read_text().strip() == want and \
            (app / "node_modules" / ".bin" / "medusa").exists():
        return 0.0
    npm = shutil.which("npm")
    if npm is None:
        raise ShopError("npm not found (Medusa needs node >= 20.19 with npm)")
    log("npm ci (about a minute with a warm npm cache, two without)")
    took = _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=app,
                env=dict(os.environ, npm_config_update_notifier="false"), timeout=NPM_TIMEOUT,
                logfile=base / "npm.log", what="npm ci")
    stamp.write_text(want + "\n")
    return took


def _medusa(base: Path) -> str:
    return str(base / "app" / "node_modules" / ".bin" / "medusa")


def migrate_and_admin(base: Path, pg: Postgres, args: argparse.Namespace) -> dict[str, float]:
    """`medusa db:migrate` when the app or the locking module changed since the last one,
    and the admin user when missing. Seconds per step (0 when skipped)."""
    env = _medusa_env(pg, args)
    app = base / "app"
    stamp = app / ".simlive-migrated"
    want = _digest(app / "package-lock.json", app / "medusa-config.ts") + "-" + env[
        "SIMLIVE_MEDUSA_LOCKING"]
    done = set(stamp.read_text().split()) if stamp.exists() else set()
    times = {"migrate": 0.0, "admin user": 0.0}
    if want not in done:
        log("medusa db:migrate")
        times["migrate"] = _run([_medusa(base), "db:migrate"], cwd=app, env=env,
                                timeout=MIGRATE_TIMEOUT, logfile=base / "migrate.log",
                                what="medusa db:migrate")
        stamp.write_text("\n".join(sorted(done | {want})) + "\n")
    have = pg.psql("select count(*) from provider_identity where provider = 'emailpass' "
                   f"and entity_id = '{ADMIN_EMAIL}'")
    if have == "0":
        log(f"medusa user {ADMIN_EMAIL}")
        times["admin user"] = _run([_medusa(base), "user", "-e", ADMIN_EMAIL, "-p",
                                    ADMIN_PASSWORD], cwd=app, env=env, timeout=USER_TIMEOUT,
                                   logfile=base / "migrate.log", what="medusa user")
    return times


def build(args: argparse.Namespace, keep_pg: bool = False) -> Postgres:
    base = Path(args.dir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    npm_s = install_app(base)
    pg = Postgres(base)
    try:
        init_s = pg.init()
        start_s = pg.start()
        pg.ensure_db()
        times = migrate_and_admin(base, pg, args)
    except BaseException:
        pg.stop()
        raise
    log(f"build: npm ci {npm_s:.1f}s, initdb {init_s:.1f}s, postgres start {start_s:.1f}s, "
        f"migrate {times['migrate']:.1f}s, admin user {times['admin user']:.1f}s "
        f"(0 = already done); total {time.monotonic() - t0:.1f}s")
    if not keep_pg:
        pg.stop()
    return pg


# --- the admin API -------------------------------------------------------------------------


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("accept", "application/json")
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
                raw = r.read()
        except urllib.error.HTTPError as exc:
            text = exc.read()[:400].decode("utf-8", "replace")
            raise ShopError(f"{method} {path} -> HTTP {exc.code}: {text}") from None
        return json.loads(raw) if raw else {}


def seed(base_url: str) -> dict[str, str]:
    """What a guest checkout needs, found by name or created; returns the ids."""
    api = Api(base_url)
    api.token = api.call("POST", "/auth/user/emailpass",
                         {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    store = api.call("GET", "/admin/stores")["stores"][0]
    sc = store["default_sales_channel_id"]
    sp = api.call("GET", "/admin/shipping-profiles?type=default")["shipping_profiles"][0]["id"]

    regions = api.call("GET", "/admin/regions?limit=200&fields=id,name")["regions"]
    region = next((r["id"] for r in regions if r["name"] == REGION_NAME), None)
    if region is None:
        region = api.call("POST", "/admin/regions", {
            "name": REGION_NAME, "currency_code": CURRENCY, "countries": [COUNTRY],
            "payment_providers": ["pp_system_default"]})["region"]["id"]
    if not api.call("GET", f"/admin/tax-regions?country_code={COUNTRY}")["tax_regions"]:
        api.call("POST", "/admin/tax-regions", {"country_code": COUNTRY,
                                                "provider_id": "tp_system"})

    locs = api.call("GET", "/admin/stock-locations?limit=200&fields=id,name")["stock_locations"]
    loc = next((x["id"] for x in locs if x["name"] == LOCATION_NAME), None)
    if loc is None:
        loc = api.call("POST", "/admin/stock-locations", {
            "name": LOCATION_NAME,
            "address": {"address_1": "Damrak 1", "city": "Amsterdam",
                        "country_code": COUNTRY}})["stock_location"]["id"]
    api.call("POST", f"/admin/stock-locations/{loc}/sales-channels", {"add": [sc]})
    api.call("POST", f"/admin/stock-locations/{loc}/fulfillment-providers",
             {"add": ["manual_manual"]})
    fields = "?fields=id,*fulfillment_sets,*fulfillment_sets.service_zones"
    sets = api.call("GET", f"/admin/stock-locations/{loc}{fields}")["stock_location"][
        "fulfillment_sets"] or []
    fset = next((f for f in sets if f["type"] == "shipping"), None)
    if fset is None:
        sets = api.call("POST", f"/admin/stock-locations/{loc}/fulfillment-sets{fields}",
                        {"name": "simlive delivery", "type": "shipping"})["stock_location"][
            "fulfillment_sets"]
        fset = next(f for f in sets if f["type"] == "shipping")
    zones = fset.get("service_zones") or []
    if zones:
        zone = zones[0]["id"]
    else:
        zone = api.call("POST", f"/admin/fulfillment-sets/{fset['id']}/service-zones", {
            "name": "simlive nl", "geo_zones": [{"type": "country", "country_code": COUNTRY}]}
        )["fulfillment_set"]["service_zones"][0]["id"]

    options = api.call("GET", "/admin/shipping-options?limit=200&fields=id,name,"
                              "service_zone_id")["shipping_options"]
    option = next((o["id"] for o in options
                   if o["name"] == OPTION_NAME and o["service_zone_id"] == zone), None)
    if option is None:
        option = api.call("POST", "/admin/shipping-options", {
            "name": OPTION_NAME, "service_zone_id": zone, "shipping_profile_id": sp,
            "provider_id": "manual_manual", "price_type": "flat",
            "type": {"label": "Standard", "code": "standard", "description": "simlive"},
            "prices": [{"currency_code": CURRENCY, "amount": 5}],
            "rules": [{"attribute": "enabled_in_store", "operator": "eq", "value": "true"},
                      {"attribute": "is_return", "operator": "eq", "value": "false"}],
        })["shipping_option"]["id"]

    keys = api.call("GET", "/admin/api-keys?type=publishable&limit=200")["api_keys"]
    key = next((k for k in keys if k["title"] == KEY_TITLE and not k.get("revoked_at")), None)
    if key is None:
        key = api.call("POST", "/admin/api-keys", {"title": KEY_TITLE,
                                                   "type": "publishable"})["api_key"]
    api.call("POST", f"/admin/api-keys/{key['id']}/sales-channels", {"add": [sc]})
    return {"sales_channel_id": sc, "shipping_profile_id": sp, "region_id": region,
            "stock_location_id": loc, "fulfillment_set_id": fset["id"],
            "service_zone_id": zone, "shipping_option_id": option,
            "publishable_key": key["token"]}


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- serve ---------------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    base = Path(args.dir).resolve()
    url = f"http://127.0.0.1:{args.port}"
    if _healthy(url):
        raise ShopError(f"something already answers on {url}")
    stopping: dict[str, int | None] = {"sig": None}

    def on_signal(signum, _frame):
        stopping["sig"] = signum
        raise KeyboardInterrupt  # unwinds whatever we wait on; cleanup in finally

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pg: Postgres | None = None
    medusa: subprocess.Popen | None = None
    try:
        pg = build(args, keep_pg=True)
        t1 = time.monotonic()
        cmd = [_medusa(base), "start", "-H", "127.0.0.1", "-p", str(args.port)]
        if args.cluster:
            cmd += ["--cluster", str(args.cluster)]
        with open(base / "medusa.log", "ab") as out:
            out.write(f"\n$ {' '.join(cmd)}\n".encode())
            out.flush()
            medusa = subprocess.Popen(cmd, cwd=str(base / "app"), env=_medusa_env(pg, args),
                                      stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True,
                                      preexec_fn=_deathsig(signal.SIGKILL))
        deadline = time.monotonic() + args.ready_timeout
        while not _healthy(url):
            if medusa.poll() is not None:
                raise ShopError(f"medusa exited ({medusa.returncode}); see {base / 'medusa.log'}")
            if time.monotonic() > deadline:
                raise ShopError(f"medusa not healthy within {args.ready_timeout:.0f}s")
            time.sleep(0.25)
        t2 = time.monotonic()
        ids = seed(url)
        t3 = time.monotonic()
        tokens = {"admin": [f"{ADMIN_EMAIL}:{ADMIN_PASSWORD}"],
                  "buyer": [ids.pop("publishable_key")]}
        tp = Path(args.tokens)
        tp.parent.mkdir(parents=True, exist_ok=True)
        tmp = tp.with_name(tp.name + ".tmp")
        tmp.write_text(json.dumps(tokens, indent=1) + "\n")
        os.replace(tmp, tp)
        (base / "ids.json").write_text(json.dumps({**ids, "base_url": url,
                                                   "pg_port": pg.port}, indent=1) + "\n")
        mode = f"--cluster {args.cluster}" if args.cluster else "1 process"
        log(f"medusa up ({mode}, locking {args.locking}): start {t2 - t1:.1f}s, seed "
            f"{t3 - t2:.1f}s, total {t3 - t0:.1f}s; PostgreSQL on 127.0.0.1:{pg.port}")
        print(f"ready {url}", flush=True)
        while True:
            if medusa.poll() is not None:
                log(f"medusa exited ({medusa.returncode})")
                return 1
            if not pg.alive():
                log("PostgreSQL exited")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0 if stopping["sig"] is not None else 130
    except ShopError as exc:
        log(str(exc))
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean shutdown
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if medusa is not None:
            # the cluster primary waits for busy workers on SIGTERM: bounded, then SIGKILL
            _stop_group(medusa, signal.SIGTERM, 10, "medusa")
        if pg is not None:
            pg.stop()
        log("stopped")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("build", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="where the app, PostgreSQL and logs live")
        p.add_argument("--locking", choices=("memory", "postgres"), default="memory",
                       help="Medusa's locking provider (postgres: shared by all processes)")
        p.add_argument("--pool-max", type=int, default=None,
                       help="knex pool size per node process (default: Medusa's)")
        if name == "serve":
            p.add_argument("--port", type=int, required=True)
            p.add_argument("--tokens", required=True)
            p.add_argument("--cluster", type=int, default=None,
                           help="N node processes (medusa start --cluster N)")
            p.add_argument("--ready-timeout", type=float, default=180.0)
    args = ap.parse_args(argv)
    if args.cmd == "build":
        try:
            build(args)
        except ShopError as exc:
            log(str(exc))
            return 1
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
