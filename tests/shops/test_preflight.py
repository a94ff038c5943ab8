"""`simlive target check` (preflight) and `simlive load --dry-run` on the reference service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from simlive.service.process import ServiceProcess, free_port

SCENARIO = Path(__file__).parents[1] / "load" / "flash.yaml"


def simlive(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simlive.cli", *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_preflight_of_the_reference_target(tmp_path: Path, table_rows: Any) -> None:
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc") as svc:
        done = simlive("target", "check", "reference", "--host", svc.base_url,
                       "--admin-token", svc.token("admin"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr
    r = table_rows(done.stdout)
    for op in ("create_users (buyer)", "create_product HOT", "read_stock", "order 1 of 2",
               "pay", "read_receipt", "cancel", "deliver", "open_ticket", "reply",
               "goods_received", "refund_paid", "close_ticket", "review", "end_broadcast",
               "read_replay", "settle", "state", "read_counters"):
        assert r[op].endswith("| ok"), r[op]
    assert "409" in r["order (sold out)"] and "ok (refused)" in r["order (sold out)"]
    assert "405" in r["delete_review"] and "ok (refused)" in r["delete_review"]
    assert "unsupported" in r["teardown"]


def test_preflight_names_each_operation_that_does_not_work(tmp_path: Path,
                                                           table_rows: Any) -> None:
    target = tmp_path / "t.yaml"
    text = (Path(__file__).parents[2] / "simlive" / "shops" / "reference.yaml").read_text()
    target.write_text(text.replace("url: /orders/{{ order_id }}/pay", "url: /orders/pay/"
                                   "{{ order_id }}"), encoding="utf-8")
    with ServiceProcess("sqlite:///" + str(tmp_path / "s.db"), tmp_path / "svc",
                        faults=("delete-review",)) as svc:
        done = simlive("target", "check", str(target), "--host", svc.base_url,
                       "--admin-token", svc.token("admin"))
    assert done.returncode == 2
    assert "error: 2 operation(s) do not work: pay, delete_review" in done.stderr
    r = table_rows(done.stdout)
    assert "fail: HTTP 404" in r["pay"]
    assert "skipped: no order_id from an earlier step" in r["read_receipt"]
    assert "expected a refusal; read as ok: the shop accepted it" in r["delete_review"]


def test_dry_run_prints_the_journey_and_sends_nothing() -> None:
    port = free_port()  # nothing listens there: a request would fail the run
    done = simlive("load", str(SCENARIO), "--host", f"http://127.0.0.1:{port}", "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "the preflight journey (each operation once, as the load runs them), nothing sent" in out
    assert "released together on step 1 (POST /orders" in out
    assert "POST /orders" in out and '{"sku":"HOT-1.' in out  # rendered bodies
    assert "POST /orders/<order_id>/pay" in out
    assert "Authorization: Bearer <buyer-token>" in out  # credentials masked
    assert "request(s) would be sent, each with the header X-Simlive-Run: <run id>" in out
    # the users the shape reaches at the peak: the scenario's plus the fixed-count ones
    from simlive.load.roles import fixed_counts
    from simlive.scenario import load_scenario
    from simlive.shops.files import load_target

    ls = load_scenario(SCENARIO).load
    fixed = sum(fixed_counts(dict(ls.weights), ls.peak_users,
                             load_target("reference").supports,
                             platform=load_scenario(SCENARIO).aftersales.escalation is not None
                             ).values())
    assert f"({ls.peak_users} users at the peak plus {fixed} with a fixed count" in out
    assert f"{ls.peak_users + fixed} in all" in out and fixed > 0
    assert "note: a real run would stop here: the target's admin credentials" in done.stderr
