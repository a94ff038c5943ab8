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
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# the example's own modules, beside this script (run as a script, its folder is on sys.path)
from pgcluster import Postgres, ShopError, _deathsig, _run, _stop_group, log
from seed import ADMIN_EMAIL, ADMIN_PASSWORD, seed

HERE = Path(__file__).resolve().parent
APP_FILES = ("package.json", "package-lock.json", "medusa-config.ts", "tsconfig.json")

NPM_TIMEOUT = 1200.0
MIGRATE_TIMEOUT = 600.0
USER_TIMEOUT = 180.0


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
