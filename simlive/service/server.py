"""``simlive serve``: prepare the database and tokens once, print them, run uvicorn.

The listening socket is bound here, before uvicorn starts, so that ``--port 0`` prints the
port really chosen and every worker process shares the one socket. The schema and the token
users are created once in this parent process; workers only open the database. Settings reach
the workers through one environment variable (see :mod:`simlive.service.settings`).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from simlive.errors import UsageError
from simlive.service.faults import BREAKS, parse_faults
from simlive.service.settings import OLD_ROLE_NAMES, ROLES, Settings, TokenSpec, role_named

LISTEN_PREFIX = "simlive service listening on "


def read_tokens(path: Path) -> tuple[TokenSpec, ...]:
    """Tokens from a JSON file: ``{"buyer": ["tok", ...], "admin": "tok", ...}``.

    Each role maps to one token or a list; a token may be ``{"token": "tok", "expires":
    "2026-12-01T00:00:00Z"}`` to stop working then. Users are named ``<role>-<n>`` in file
    order; the file is the list of configured users (one taken out is revoked at start).
    ``viewer``, the name older versions gave buyers, is read as ``buyer``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--tokens(={str(path)!r}) cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--tokens(={str(path)!r}) must hold a JSON object of role -> tokens")
    specs = []
    for key, value in data.items():
        role = role_named(key)
        if role not in ROLES:
            raise UsageError(f"--tokens(={str(path)!r}): key(={key!r}) must be one of "
                             f"{', '.join(ROLES)} (or {', '.join(OLD_ROLE_NAMES)}, an old "
                             f"name)")
        entries = [value] if isinstance(value, str | dict) else value
        if not isinstance(entries, list):
            entries = [None]
        for i, entry in enumerate(entries):
            tok, expires = _token_entry(path, role, entry)
            specs.append(TokenSpec(tok, role, f"{role}-{i + 1}", expires))
    return tuple(specs)


def _token_entry(path: Path, role: str, entry: object) -> tuple[str, datetime | None]:
    """One token of the file, and when it expires (None: never)."""
    expires = None
    if isinstance(entry, dict) and set(entry) <= {"token", "expires"}:
        when = entry.get("expires")
        if when is not None:
            try:
                expires = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
            except ValueError:
                expires = None
            if expires is None or expires.tzinfo is None:
                raise UsageError(f"--tokens(={str(path)!r}): {role!r}: expires(={when!r}) "
                                 f"must be an ISO 8601 time with a zone, such as "
                                 f"2026-12-01T00:00:00Z")
        entry = entry.get("token")
    if not (isinstance(entry, str) and 8 <= len(entry) <= 256 and entry.isprintable()
            and " " not in entry):
        raise UsageError(f"--tokens(={str(path)!r}): {role!r} must be a token or a list of "
                         f"tokens (8 to 256 printable characters, no spaces; or "
                         f'{{"token": ..., "expires": ...}})')
    return entry, expires


def make_tokens() -> tuple[TokenSpec, ...]:
    """One fresh demo user per role."""
    from simlive.service.core import new_token

    return tuple(TokenSpec(new_token(role), role, f"{role}-1") for role in ROLES)


def write_tokens(path: Path, specs: Sequence[TokenSpec]) -> None:
    data: dict[str, list[str]] = {}
    for spec in specs:
        data.setdefault(spec.role, []).append(spec.token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when it is given;
    # without it every response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--host/--port(={host}:{port}) cannot be bound: {exc.strerror}") \
            from None
    sock.set_inheritable(True)
    return sock


def serve(db: str = "sqlite:///simlive.db", host: str = "127.0.0.1", port: int = 8000,
          workers: int = 1, faults: Sequence[str] = (), tokens_file: str | None = None,
          payment_timeout: float = 900.0, sweep_interval: float = 1.0,
          max_body_bytes: int = 64 * 1024, stock_buckets: int = 1, write_lanes: int = 1,
          echo: Callable[..., None] | None = None) -> None:
    """Run the service until interrupted. Raises UsageError (exit 2) for bad options.

    ``tokens_file``: read if it exists; otherwise the generated demo tokens are written there
    (mode 0600), so a test or load test can pick them up.
    """
    import click

    say = echo or click.echo
    fault_set = parse_faults(faults)
    if tokens_file and Path(tokens_file).exists():
        tokens = read_tokens(Path(tokens_file))
        origin = f"read from {tokens_file}"
    else:
        tokens = make_tokens()
        origin = "generated"
        if tokens_file:
            write_tokens(Path(tokens_file), tokens)
            origin = f"generated, written to {tokens_file}"
    settings = Settings(db_url=db, faults=fault_set, payment_timeout=payment_timeout,
                        sweep_interval=sweep_interval, max_body_bytes=max_body_bytes,
                        stock_buckets=stock_buckets, write_lanes=write_lanes,
                        tokens=tokens, create_schema=False)

    from simlive.service.core import Service
    from simlive.service.db import display_url

    prep = Service(settings)
    try:
        prep.db.create_schema()
        prep.ensure_users(tokens)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which DB and why
        raise UsageError(f"--db(={display_url(db)}) cannot be used: {exc}") from None
    finally:
        prep.db.dispose()

    sock = bind(host, port)
    real_host, real_port = sock.getsockname()[:2]
    shown_host = f"[{real_host}]" if ":" in real_host else real_host
    base = f"http://{shown_host}:{real_port}"
    say(f"{LISTEN_PREFIX}{base}  (workers: {workers})")
    say(f"database: {display_url(db)}")
    say(f"API docs: {base}/docs   OpenAPI: {base}/openapi.json")
    say(f"payment timeout: {payment_timeout:g}s")
    if stock_buckets > 1:
        say(f"stock buckets: new products split their stock over {stock_buckets} rows")
    say(f"bearer tokens ({origin}):")
    for spec in tokens:
        say(f"  {spec.role:<9} {spec.name:<12} {spec.token}")
    for fault in sorted(fault_set):
        say(click.style(f"!!! FAULT {fault.value} is ON: breaks {BREAKS[fault]} on purpose",
                        fg="red", bold=True), err=True)
    sys.stdout.flush()
    _run_uvicorn(settings, sock, workers)


SUPERVISOR_ENV = "SIMLIVE_SUPERVISOR_PID"


def _run_uvicorn(settings: Settings, sock: socket.socket, workers: int) -> None:
    import uvicorn

    # The parent already created the token users; workers need not carry the tokens.
    os.environ.update(settings.with_(tokens=()).to_env())
    # workers leave when this process does, even when it is killed (app.watch_parent)
    os.environ[SUPERVISOR_ENV] = str(os.getpid()) if workers > 1 else ""
    config = uvicorn.Config("simlive.service.app:app_from_env", factory=True, workers=workers,
                            access_log=False, log_level="warning", timeout_graceful_shutdown=5)
    if workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
    else:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
