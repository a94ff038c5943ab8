"""The load profile from `simlive plan --emit-load-profile` becomes the load test's target."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simlive.cli import cli
from simlive.errors import UsageError
from simlive.load.planned_rates import profile_rate, profile_rates

ROOT = Path(__file__).resolve().parents[2]


def test_profile_emitted_by_plan_is_read_back(tmp_path: Path) -> None:
    out = tmp_path / "profile.yaml"
    res = CliRunner().invoke(cli, ["plan", str(ROOT / "scenarios" / "boutique.yaml"),
                                   "--emit-load-profile", str(out)])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(out.read_text())
    peak, ops = doc["peak"], doc["operations"]
    assert profile_rates(out) == pytest.approx(ops)  # one rate per operation, as planned
    assert ops["order"] == pytest.approx(peak["orders_per_s"])
    assert ops["read_stock"] == pytest.approx(peak["stock_reads_per_s"])
    assert ops["open_ticket"] * 5 == pytest.approx(peak["ticket_operations_per_s"], rel=1e-3)
    assert profile_rate(out) == pytest.approx(sum(ops.values())) and sum(ops.values()) > 0
    # a profile written before operations: existed is read from its peak figures
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump({"peak": peak}))
    assert profile_rates(old) == pytest.approx({
        "order": peak["order_writes_per_s"] / 2, "read_stock": peak["stock_reads_per_s"],
        "open_ticket": peak["ticket_operations_per_s"] / 5})


@pytest.mark.parametrize(("text", "message"), [
    ("peak: 3", "expected a 'peak' mapping"),
    ("peak: {order_writes_per_s: 1, stock_reads_per_s: -2, ticket_operations_per_s: 0}",
     "peak.stock_reads_per_s: expected a number >= 0 (per second, at most 1,000,000); "
     "found -2"),
    ("peak: {order_writes_per_s: 0, stock_reads_per_s: 0, ticket_operations_per_s: 0}",
     "add up to 0"),
    ("[unclosed", "cannot read it"),
    ("operations: {order: 5, checkout: 2}", "operations.checkout: expected one of order, "
     "read_stock, open_ticket, review, browse"),
    ("operations: {order: .inf}", "operations.order: expected a number >= 0"),
])
def test_bad_profiles_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        profile_rate(path)
    res = CliRunner().invoke(cli, ["load", str(ROOT / "scenarios" / "flash-sale.yaml"),
                                   "--serve", "--profile", str(path),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert message in res.stderr


FLAT = Path(__file__).with_name("flat.yaml")


def load_with_profile(tmp_path: Path, profile: str, scenario: str | None = None,
                      *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    prof = tmp_path / "profile.yaml"
    prof.write_text(profile)
    path = FLAT
    if scenario is not None:
        path = tmp_path / "scenario.yaml"
        path.write_text(scenario)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "simlive.cli", "load", str(path), "--serve",
                           "--profile", str(prof), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=150,
                          stdin=subprocess.DEVNULL)
    return done, json.loads((out / "verdicts.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2], ids=["local", "2-workers"])
def test_locust_holds_each_operations_planned_rate(tmp_path: Path, workers: int) -> None:
    """Through real Locust processes (the run object carries the profile to each): every
    operation's achieved rate within 10 % of its plan, each at its own rate."""
    done, result = load_with_profile(tmp_path, "operations: {order: 15, read_stock: 60, "
                                     "open_ticket: 3}\n", None, "--workers", str(workers))
    assert done.returncode in (0, 1), done.stderr[-3000:]
    rows = {r["operation"]: r for r in result["profile"]}
    assert set(rows) == {"order", "read_stock", "open_ticket"}
    for op, peak in (("order", 15), ("read_stock", 60), ("open_ticket", 3)):
        r = rows[op]
        assert r["target_rate"] == pytest.approx(peak, rel=0.01)  # a flat curve
        assert r["achieved_rate"] == pytest.approx(r["target_rate"], rel=0.10), r
        assert r["kept_up"] and r["dropped"] == 0
    # nothing about the generator; the rules the profile cannot reach are said, not left
    # as an unexplained exit 1 (no review is driven, so reviews.not-deleted is unknown)
    reach = [w for w in result["warnings"] if "--profile drives only" in w]
    assert [w for w in result["warnings"] if w not in reach] == []
    assert any(w.startswith("reviews.not-deleted is unknown: --profile drives only "
                            "open_ticket, order, read_stock") and "not review" in w
               for w in reach), reach
    assert all(f"warning: {w}" in done.stderr for w in reach)
    assert "Load profile: planned vs achieved" in done.stdout


@pytest.mark.slow
def test_a_generator_that_cannot_keep_up_says_so(tmp_path: Path) -> None:
    scenario = FLAT.read_text().replace("  request_timeout: 3s\n",
                                        "  request_timeout: 3s\n  max_inflight: 2\n")
    # 4 s of the 8: two requests in flight against 3,000/s fall behind at once
    done, result = load_with_profile(tmp_path, "operations: {read_stock: 3000}\n", scenario,
                                     "--run-time", "4s")
    (row,) = result["profile"]
    assert not row["kept_up"] and row["dropped"] > 0
    assert row["achieved_rate"] < 0.9 * row["target_rate"]
    (warning,) = [w for w in result["warnings"] if "--profile drives only" not in w]
    assert warning.startswith("the generator could not keep up with read_stock: ")
    assert f"warning: {warning}" in done.stderr
