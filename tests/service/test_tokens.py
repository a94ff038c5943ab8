"""Tokens can be taken back: out of the tokens file at a restart, at once by an admin (in
every worker, under load), or by their expiry."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from simlive.cli import cli
from simlive.service.process import ServiceProcess, http_client
from testing.shop import Shop


def _me(svc: ServiceProcess, token: str) -> httpx.Response:
    with http_client(svc.base_url, token) as c:
        return c.get("/me")


def test_a_token_taken_out_of_the_file_stops_working(tmp_path: Path) -> None:
    svc = ServiceProcess(f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    svc.tokens_file.write_text(json.dumps({
        "admin": ["admin-token-one"], "buyer": ["buyer-token-1", "buyer-token-2"],
        "merchant": ["merchant-token"], "agent": ["agent-token-1"]}))
    with svc:
        admin = _me(svc, "admin-token-one").json()
        second = _me(svc, "buyer-token-2").json()
        shop = Shop(svc)
        try:
            minted = shop.mint("buyer")[0]
        finally:
            shop.close()
    # the admin's token changes, the second buyer leaves
    svc.tokens_file.write_text(json.dumps({
        "admin": ["admin-token-two"], "buyer": ["buyer-token-1"],
        "merchant": ["merchant-token"], "agent": ["agent-token-1"]}))
    with svc:
        assert _me(svc, "admin-token-one").status_code == 401
        assert _me(svc, "buyer-token-2").status_code == 401
        assert _me(svc, "admin-token-two").json() == admin  # the same user, a new token
        assert _me(svc, "buyer-token-1").status_code == 200
        assert _me(svc, minted).status_code == 200  # minted users are not the file's
        with http_client(svc.base_url, "admin-token-two") as c:
            users = c.get("/admin/users", params={"limit": 1000}).json()["items"]
        assert [u["name"] for u in users].count("admin-1") == 1
        assert second["id"] in {u["id"] for u in users}  # kept, with its records
    # back in the file: works again
    svc.tokens_file.write_text(json.dumps({
        "admin": ["admin-token-two"], "buyer": ["buyer-token-1", "buyer-token-2"],
        "merchant": ["merchant-token"], "agent": ["agent-token-1"]}))
    with svc:
        assert _me(svc, "buyer-token-2").json() == second


def test_the_old_name_of_the_buyer_role_is_still_read(tmp_path: Path) -> None:
    """Token files and scripts written when buyers were called viewers keep working: the
    key ``viewer`` and ``{"role": "viewer"}`` make buyers, who may order; nothing else is
    taken for a role."""
    svc = ServiceProcess(f"sqlite:///{tmp_path / 's.db'}", tmp_path)
    svc.tokens_file.write_text(json.dumps({"admin": ["admin-token-one"],
                                           "viewer": ["older-file-token"]}))
    with svc:
        assert _me(svc, "older-file-token").json()["role"] == "buyer"
        with http_client(svc.base_url, "admin-token-one") as c:
            made = c.post("/admin/users", json={"role": "viewer"})
            assert made.status_code == 201 and made.json()["users"][0]["role"] == "buyer"
            bad = c.post("/admin/users", json={"role": "shopper"})
            assert bad.status_code == 422 and "role" in bad.text
        with http_client(svc.base_url, made.json()["users"][0]["token"]) as c:
            assert c.post("/tickets", json={"kind": "consultation",
                                            "message": "hello"}).status_code == 201


def _revoke_under_load(svc: ServiceProcess, threads: int = 6) -> None:
    shop = Shop(svc)
    try:
        victim = shop.mint("buyer")[0]
        revoked_at: list[float] = []
        seen: list[tuple[float, float, int]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def hammer() -> None:
            with http_client(svc.base_url, victim, timeout=30) as c:
                for _ in range(2000):  # bounded in count and in time
                    if stop.is_set():
                        return
                    sent = time.monotonic()
                    code = c.get("/me").status_code
                    with lock:
                        seen.append((sent, time.monotonic(), code))

        workers = [threading.Thread(target=hammer) for _ in range(threads)]
        for w in workers:
            w.start()
        time.sleep(0.5)
        asked = time.monotonic()
        r = shop.admin.post("/admin/tokens/revoke", json={"token": victim})
        revoked_at.append(time.monotonic())
        assert r.status_code == 200, r.text
        time.sleep(0.5)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        # answered before the revoke was asked, or sent after it was acknowledged; a request
        # in flight across the call may get either answer
        before = [c for _, back, c in seen if back < asked]
        after = [c for sent, _, c in seen if sent > revoked_at[0]]
        assert before and set(before) == {200}
        assert after and set(after) == {401}, after.count(200)
        again = shop.admin.post("/admin/tokens/revoke", json={"token": victim}).json()
        assert again["already"] is True
        audit = [a for a in shop.all("/admin/audit") if a["action"] == "token.revoke"]
        assert r.json()["user_id"] in {a["target_id"] for a in audit}
    finally:
        shop.close()


def test_an_admin_revokes_a_token_at_once_under_load(service: ServiceProcess) -> None:
    _revoke_under_load(service)


def test_revocation_reaches_every_worker(tmp_path: Path) -> None:
    with ServiceProcess(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2) as svc:
        _revoke_under_load(svc)


def test_tokens_expire(shop: Shop, tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    made = shop.admin.post("/admin/users", json={"role": "buyer", "expires_at": soon})
    assert made.status_code == 201, made.text
    token = made.json()["users"][0]["token"]
    assert _me(shop.svc, token).status_code == 200  # cached from here on
    time.sleep(2.5)
    assert _me(shop.svc, token).status_code == 401
    # and in a tokens file
    svc = ServiceProcess(f"sqlite:///{tmp_path / 'e.db'}", tmp_path / "e")
    svc.tokens_file.write_text(json.dumps({
        "admin": ["admin-token-one"],
        "buyer": [{"token": "gone-already", "expires": "2026-01-01T00:00:00Z"},
                   {"token": "good-for-long", "expires": "2199-01-01T00:00:00+08:00"}]}))
    with svc:
        assert _me(svc, "gone-already").status_code == 401
        assert _me(svc, "good-for-long").status_code == 200


@pytest.mark.parametrize(("entry", "message"), [
    ({"token": "short"}, "must be a token or a list of tokens"),
    ({"token": "long-enough", "expires": "tomorrow"}, "expires(='tomorrow') must be an ISO"),
    ({"token": "long-enough", "expires": "2026-12-01T00:00:00"}, "with a zone"),
    ({"token": "long-enough", "when": "x"}, "must be a token or a list of tokens"),
])
def test_bad_token_entries_are_named(tmp_path: Path, entry: dict, message: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"buyer": [entry]}))
    res = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                   "--tokens", str(path)])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_a_database_of_the_previous_version_gains_the_columns(tmp_path: Path) -> None:
    """The users table of an older database lacks origin, revoked_at and expires_at: the
    service adds them at start, keeps every user, and its tokens go on working."""
    import sqlite3

    from simlive.service.core import hash_token

    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name "
                    "VARCHAR(120) NOT NULL, role VARCHAR(16) NOT NULL, token_hash VARCHAR(64) "
                    "NOT NULL UNIQUE, created_at VARCHAR NOT NULL)")
        for name, role, token in (("admin-1", "admin", "old-admin-token"),
                                  ("shopper", "viewer", "old-viewer-token")):
            con.execute("INSERT INTO users (name, role, token_hash, created_at) VALUES "
                        "(?, ?, ?, '2026-11-01 00:00:00.000000')",
                        (name, role, hash_token(token)))
    svc = ServiceProcess(f"sqlite:///{db}", tmp_path)
    svc.tokens_file.write_text(json.dumps({"admin": ["old-admin-token"]}))
    with svc:
        assert _me(svc, "old-admin-token").json()["name"] == "admin-1"
        shopper = _me(svc, "old-viewer-token").json()
        assert shopper["name"] == "shopper"
        # stored under the buyer role's old name, the user keeps a buyer's rights
        assert shopper["role"] == "buyer"
        with http_client(svc.base_url, "old-viewer-token") as c:
            assert c.get("/orders").status_code == 200
            assert c.post("/tickets", json={"kind": "consultation",
                                            "message": "still mine?"}).status_code == 201
    with sqlite3.connect(db) as con:
        cols = {r[1] for r in con.execute("PRAGMA table_info(users)")}
        assert {"origin", "revoked_at", "expires_at"} <= cols
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 2


def test_a_revocation_answers_only_once_every_live_worker_has_seen_it(tmp_path: Path) -> None:
    """Two workers of one database in this process: the second looks at revocations only
    every 0.5 s. The revoke call waits for its acknowledgement: when it answers, the second
    worker's cache no longer knows the token (a fixed pause would have answered first)."""
    import asyncio

    from simlive.service.app import RevocationWatch, create_app
    from simlive.service.core import Service
    from simlive.service.settings import Settings, TokenSpec

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'acks.db'}",
                        tokens=(TokenSpec("v-token", "buyer", "v"),
                                TokenSpec("a-token", "admin", "a")))
    app = create_app(settings)
    other = Service(settings.with_(tokens=()))
    assert other.lookup_token("v-token") is not None  # cached there
    watch = RevocationWatch(other)
    watch.interval = 0.5
    watch.start()

    async def revoke() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.post("/admin/tokens/revoke", json={"token": "v-token"},
                             headers={"Authorization": "Bearer a-token"})
            return r.status_code

    try:
        started = time.monotonic()
        assert asyncio.run(revoke()) == 200
        assert other.cached_caller("v-token") is None
        assert time.monotonic() - started < 3.0
    finally:
        watch.stop()
        other.db.dispose()
        app.state.service.db.dispose()
