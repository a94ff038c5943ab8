#!/usr/bin/env python
"""A real django-oscar 4.x shop with django-oscar-api, served on 127.0.0.1 for simlive.

Self-contained: stdlib + Django/Oscar only (nothing from simlive).

    python examples/oscar/shop.py serve --dir DIR --port PORT --tokens TOKENS.json \
        [--db postgresql://user:pass@127.0.0.1:5432/name] [--buyers 200] \
        [--untracked | --guarded] [--workers 2] [--threads 16] [--server gunicorn|runserver]

    python examples/oscar/shop.py build --dir DIR [--db ...] [--buyers 200] [--untracked]

`serve` = `build` + start a multi-threaded server + print `ready http://127.0.0.1:PORT`
once it answers; it stops the server (and all its workers) on SIGTERM/SIGINT.

What `build` does (idempotent: a second run on the same DIR reuses the DB and users):
  * writes DIR/simshop_settings.py, DIR/simshop_urls.py, DIR/simshop_wsgi.py (regenerated
    every time, from the CLI options);
  * SQLite by default: DIR/shop.sqlite3, journal_mode=WAL, synchronous=NORMAL,
    busy timeout 30 s, and Django's `transaction_mode=IMMEDIATE` (every atomic block takes
    the write lock at BEGIN, so concurrent writers queue on the busy timeout instead of
    failing with "database is locked" when a read transaction tries to upgrade);
  * `migrate`; then a catalogue: partner "simlive", product class slug "live"
    (track_stock=True; False with --untracked), 6 products SEED-1..SEED-6 with one stock
    record of 100 units each; country NL (shipping country);
  * users: "admin" (staff+superuser, password "admin") and buyer0001..buyerNNNN (password
    "buyer"), each with a DRF token; writes the tokens file
    {"admin": ["<key>"], "buyer": ["<key>", ...]}.
  * --untracked sets the "live" product class to track_stock=False, on every run (so the
    same DIR can be served in either configuration). Oscar then reports every product of
    that class as available in any quantity, never allocates, and sells past num_in_stock.
  * --guarded: stock Oscar/oscarapi checks stock only at add-to-basket and allocates at
    checkout unconditionally, so interleaved baskets oversell even in the tracked
    configuration. --guarded installs an oscarapi override of the checkout serializer that
    re-checks the stock record under a lock and answers 406 instead (no oversell).
See NOTES.md beside this file for the HTTP flows.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from project import SETTINGS_MODULE, write_project  # beside this file (the script's folder)

PRODUCT_CLASS_SLUG = "live"
PARTNER_NAME = "simlive"

def log(msg: str) -> None:
    print(f"[shop] {msg}", file=sys.stderr, flush=True)


def django_setup(base_dir: Path) -> None:
    sys.path.insert(0, str(base_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django

    django.setup()


def seed(n_buyers: int, untracked: bool) -> dict:
    """Catalogue + users + tokens; idempotent. Returns the tokens dict."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from oscar.core.loading import get_model
    from rest_framework.authtoken.models import Token

    Partner = get_model("partner", "Partner")
    StockRecord = get_model("partner", "StockRecord")
    ProductClass = get_model("catalogue", "ProductClass")
    Product = get_model("catalogue", "Product")
    Country = get_model("address", "Country")
    User = get_user_model()

    with transaction.atomic():
        Country.objects.get_or_create(
            iso_3166_1_a2="NL",
            defaults=dict(
                iso_3166_1_a3="NLD",
                iso_3166_1_numeric="528",
                printable_name="Netherlands",
                name="Kingdom of the Netherlands",
                is_shipping_country=True,
            ),
        )
        partner, _ = Partner.objects.get_or_create(name=PARTNER_NAME)
        pclass, _ = ProductClass.objects.get_or_create(
            slug=PRODUCT_CLASS_SLUG,
            defaults=dict(name="Live", requires_shipping=True, track_stock=not untracked),
        )
        if pclass.track_stock != (not untracked):
            pclass.track_stock = not untracked
            pclass.save()
        for i in range(1, 7):
            upc = f"SEED-{i}"
            if Product.objects.filter(upc=upc).exists():
                continue
            p = Product.objects.create(
                upc=upc,
                title=f"Seed product {i}",
                product_class=pclass,
                structure=Product.STANDALONE,
            )
            StockRecord.objects.create(
                product=p,
                partner=partner,
                partner_sku=upc,
                price=Decimal("10.00") + i,
                price_currency="EUR",
                num_in_stock=100,
            )

        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = User.objects.create(
                username="admin",
                email="admin@example.com",
                is_staff=True,
                is_superuser=True,
                password=make_password("admin"),
            )
        names = [f"buyer{i:04d}" for i in range(1, n_buyers + 1)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        pw = make_password("buyer")  # one hash shared by all buyers: fast
        User.objects.bulk_create(
            [
                User(username=n, email=f"{n}@example.com", password=pw)
                for n in names
                if n not in existing
            ]
        )
        users = list(User.objects.filter(username__in=names + ["admin"]))
        have = set(Token.objects.filter(user__in=users).values_list("user_id", flat=True))
        Token.objects.bulk_create(
            [Token(user=u, key=secrets.token_hex(20)) for u in users if u.pk not in have]
        )
        keys = dict(Token.objects.filter(user__in=users).values_list("user__username", "key"))
    return {"admin": [keys["admin"]], "buyer": [keys[n] for n in names]}


def build(args) -> dict:
    base_dir = Path(args.dir).resolve()
    t0 = time.monotonic()
    write_project(base_dir, args.db, guarded=args.guarded)
    django_setup(base_dir)
    from django.core.management import call_command
    from django.db import connections

    t1 = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    t2 = time.monotonic()
    tokens = seed(args.buyers, args.untracked)
    connections.close_all()
    t3 = time.monotonic()
    mode = "untracked" if args.untracked else ("tracked+guarded" if args.guarded else "tracked")
    log(
        f"build: setup {t1 - t0:.1f}s, migrate {t2 - t1:.1f}s, seed {t3 - t2:.1f}s "
        f"({mode}, {args.buyers} buyers)"
    )
    if args.tokens:
        tp = Path(args.tokens)
        tp.parent.mkdir(parents=True, exist_ok=True)
        tmp = tp.with_suffix(tp.suffix + ".tmp")
        tmp.write_text(json.dumps(tokens, indent=1))
        os.replace(tmp, tp)
    return tokens


def _set_pdeathsig() -> None:
    """Child: get SIGTERM if the shop.py parent dies (Linux; best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def serve(args) -> int:
    t0 = time.monotonic()
    build(args)
    base_dir = Path(args.dir).resolve()
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    env["PYTHONPATH"] = os.pathsep.join([str(base_dir)] + sys.path[1:])
    server = args.server
    if server == "gunicorn":
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            log("gunicorn not installed: falling back to Django's threaded runserver")
            server = "runserver"
    if server == "gunicorn":
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(base_dir),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
            "simshop_wsgi:application",
        ]
    else:
        cmd = [
            sys.executable,
            "-c",
            "import sys; from django.core.management import execute_from_command_line;"
            " execute_from_command_line(sys.argv)",
            "runserver",
            f"127.0.0.1:{args.port}",
            "--noreload",
        ]
    proc = subprocess.Popen(
        cmd, cwd=str(base_dir), env=env, start_new_session=True, preexec_fn=_set_pdeathsig
    )

    stopping = {"sig": None}

    def on_signal(signum, _frame):
        stopping["sig"] = signum
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    base = f"http://127.0.0.1:{args.port}"
    try:
        if not _wait_ready(base + "/api/", proc, args.ready_timeout):
            if stopping["sig"] is None:
                log("server did not become ready")
                return 1
        else:
            log(f"{server} up; build+start {time.monotonic() - t0:.1f}s")
            print(f"ready {base}", flush=True)
        while True:
            try:
                rc = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                continue
        return 0 if stopping["sig"] is not None else rc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server and its whole process group (workers included)."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (workers)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "build"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
        p.add_argument("--tokens", required=(name == "serve"))
        p.add_argument("--db", default=None, help="postgresql://user:pass@host:port/db")
        p.add_argument("--buyers", type=int, default=200)
        p.add_argument(
            "--untracked",
            action="store_true",
            help="product class 'live' does not track stock (oversells)",
        )
        p.add_argument(
            "--guarded",
            action="store_true",
            help="checkout re-checks stock under a lock (refuses, no oversell)",
        )
        if name == "serve":
            p.add_argument("--port", type=int, required=True)
            p.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn")
            p.add_argument("--workers", type=int, default=2)
            p.add_argument("--threads", type=int, default=16)
            p.add_argument("--ready-timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    if args.cmd == "build":
        build(args)
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
