"""``simlive load``: set the shop up, run Locust headless, close, check, report.

I/O lives here: processes (the reference service with ``--serve``, Locust local or master
plus workers), files in the output folder, HTTP through the target. The checking itself is
:func:`simlive.check.checker.check`. Output folder::

    run.json             the run: effective scenario, target, what setup created (tokens
                         included: keep it private)
    history/*.jsonl      one history file per Locust process, plus setup's
    history.jsonl        all of them merged, for ``simlive check --history``
    locust_stats.csv ... Locust's CSV files, locust.html its report
    state.json           the shop's final state as read through the target
    verdicts.json        one verdict per rule, and the thresholds
    report.html          the verdicts and thresholds, one self-contained page
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simlive.check.checker import check
from simlive.check.history import Ops, pair, write_jsonl
from simlive.check.op_thresholds import judge_operations
from simlive.check.state import FinalState
from simlive.check.stored import read_history
from simlive.check.thresholds import ThresholdResult, aggregated_row, judge
from simlive.errors import ServiceError, UsageError
from simlive.load.curve import Curve, flash_windows
from simlive.load.flash import FlashSaleReport, plan_flash_sales, with_contention
from simlive.load.flash import read_reports as read_flash_reports
from simlive.load.recorder import Recorder
from simlive.load.run import LoadRun
from simlive.load.shortfall import RateRow, rate_rows, read_reports
from simlive.load.shortfall import warnings as shortfall_warnings
from simlive.report.files import write_json
from simlive.rules import Status, Verdict, exit_code
from simlive.scenario.scope import unmodelled
from simlive.shops.audit import ledger_tautology
from simlive.shops.provision import finish, provision, read_state, scaled_products, teardown
from simlive.shops.target_file import Target

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass
class LoadResult:
    verdicts: list[Verdict]
    thresholds: list[ThresholdResult]
    out: Path
    locust_rc: int = 0
    notes: list[str] = field(default_factory=list)  # the generator's shortfall, ...
    rates: list[RateRow] = field(default_factory=list)  # planned vs achieved, per operation
    flash_sales: list[FlashSaleReport] = field(default_factory=list)  # each sale's release

    @property
    def exit_code(self) -> int:
        return exit_code(self.verdicts, all(t.passed for t in self.thresholds))


def summary_line(result: LoadResult) -> str:
    """The closing line(s) of a load run, the same in every entry point."""
    from simlive.report.tables import summary

    return summary(result.verdicts, result.thresholds)


def provision_run(run: LoadRun) -> Path:
    """Set the shop up for ``run`` (recorded in history/setup-*.jsonl); writes run.json."""
    out = Path(run.out)
    run.history_dir.mkdir(parents=True, exist_ok=True)
    rec = Recorder(run.history_dir / "setup.jsonl")
    sc = run.scenario
    # each flash sale's buyers need accounts of their own where the shop mints them
    sales = plan_flash_sales(sc, scaled_products(sc, sc.load.max_stock, run.run_id))
    accounts = max([sc.load.buyer_accounts, *(f.buyers for f in sales)])
    try:
        run.provisioned = provision(run.target, run.host, run.tokens, sc, run.run_id,
                                    rec, accounts)
    finally:
        rec.close()
    # how many distinct buyers there are to release (None: each buyer opens its own session)
    cred = run.target.credential("buyer")
    released: int | None = None if cred is None or cred.source in ("start_session", "none") else \
        len(run.provisioned.tokens.get("buyer") or [])
    run.provisioned.flash_sales = [{**f.to_dict(), "accounts": released} for f in sales]
    return run.write(out / "run.json")


def close_run(run: LoadRun, settle: float, stats_row: dict[str, str] | None = None
              ) -> LoadResult:
    """End the broadcast, settle, read the final state, tear down, check, write the
    output folder's files. ``stats_row``: Locust's aggregated statistics (as in its CSV);
    by default read from the run's ``locust_stats.csv``."""
    assert run.provisioned is not None
    out = Path(run.out)
    rec = Recorder(run.history_dir / "setup.jsonl")
    try:
        finish(run.target, run.host, run.provisioned, rec, settle=settle,
               list_reviews=run.scenario.reviews.states_listing())
        rec.flush()
        state = read_state(run.target, run.host, run.provisioned)
        teardown(run.target, run.host, run.provisioned, rec)
    finally:
        rec.close()
    events = read_history(run.history_dir)
    ops = Ops(pair(events))  # paired once: the checker, the thresholds and the plots
    verdicts = check(ops, state, run.scenario.rule_overrides(), run.target.unsupported,
                     unmodelled(run.scenario))
    write_json(out / "state.json", state.to_dict())
    write_jsonl(out / "history.jsonl", events)
    th = run.scenario.load.thresholds
    row = stats_row if stats_row is not None else aggregated_row(out / "locust_stats.csv")
    thresholds = judge(row, th.p95_ms, th.max_failure_ratio, th.min_rps)
    if th.operations:
        ls = run.scenario.load
        thresholds += judge_operations(ops, th.operations,
                                       flash_windows(run.scenario, ls.run_time), ls.run_time)
    rates: list[RateRow] = []
    if run.profile:
        ls = run.scenario.load
        rates = rate_rows(run.profile, Curve(run.scenario, ls.run_time), ls.run_time, events,
                          read_reports(run.history_dir))
    sales = read_flash_reports(run.history_dir, run.scenario.load.flash_sale_spread,
                               run.provisioned.flash_sales)
    verdicts = earned(with_contention(verdicts, sales), run.target)
    notes = shortfall_warnings(rates) + [w for r in sales for w in r.warnings]
    if run.profile:
        notes += profile_reach(run, verdicts)
    result = LoadResult(verdicts, thresholds, out, notes=notes, rates=rates,
                        flash_sales=sales)
    write_json(out / "verdicts.json", {
        "run_id": run.run_id, "target": run.target.name,
        "unsupported": run.target.unsupported,
        "verdicts": [v.to_dict() for v in verdicts],
        "thresholds": [t.to_dict() for t in thresholds],
        "profile": [r.to_dict() for r in rates],
        "flash_sales": [r.to_dict() for r in sales], "warnings": result.notes,
        "exit_code": result.exit_code})
    write_report(run, result, ops)
    return result


def write_report(run: LoadRun, result: LoadResult, ops: Ops) -> None:
    from simlive import __version__
    from simlive.check.op_thresholds import load_start
    from simlive.report.html import render_html
    from simlive.report.load_plots import load_figures, load_series

    start = load_start(ops) or 0.0
    # an operation the load interrupted when it stopped is neither drawn nor a failure
    # (its outcome stays unknown for the checker), as the thresholds leave it out
    samples = [(op.start - start, op.end - start, op.type == "info" or (
        op.type == "fail" and not (op.value or {}).get("expected")))
        for op in ops if op.process != "setup" and op.end != float("inf")
        and not (op.value or {}).get("interrupted")]
    ls = run.scenario.load
    figures = load_figures(load_series(samples, ls.run_time),
                           flash_windows(run.scenario, ls.run_time))

    page = render_html({"scenario": f"{run.scenario.name}: load test of {run.target.name}",
                        "simlive_version": __version__,
                        "meta": f"load test, run {run.run_id}, seed {run.seed}, "
                                f"{run.scenario.load.run_time:g} s, host {run.host}",
                        "rules": [v.to_dict() for v in result.verdicts],
                        "thresholds": [t.to_dict() for t in result.thresholds],
                        "rates": [r.to_dict() for r in result.rates],
                        "flash_sales": [r.to_dict() for r in result.flash_sales],
                        "warnings": result.notes}, None, extra_figures=figures)
    (Path(run.out) / "report.html").write_text(page, encoding="utf-8")


def _locust_cmd(run_file: Path, host: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", host,
            "--simlive-run", str(run_file), "--stop-timeout", "5", *extra]


def run_locust(run: LoadRun, run_file: Path, workers: int, port: int,
               on_progress: Callable[[float], None] | None = None) -> int:
    """Locust headless: one process, or a master and ``workers`` worker processes on
    127.0.0.1. Bounded: killed if it runs 60 s past the run time and the time its flash
    sales may take beyond it (:attr:`LoadRun.overtime`)."""
    out = Path(run.out)
    run_time = run.scenario.load.run_time + run.overtime
    report = ["--headless", "--csv", str(out / "locust"), "--html", str(out / "locust.html"),
              "-t", f"{int(run_time) + 10}s"]
    procs: list[subprocess.Popen[bytes]] = []
    if workers <= 0:
        procs.append(subprocess.Popen(_locust_cmd(run_file, run.host, report)))
    else:
        master = report + ["--master", "--expect-workers", str(workers),
                           "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
        procs.append(subprocess.Popen(_locust_cmd(run_file, run.host, master)))
        for _ in range(workers):
            procs.append(subprocess.Popen(_locust_cmd(
                run_file, run.host,
                ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)])))
    deadline = time.monotonic() + run_time + 60
    start = time.monotonic()
    try:
        while procs[0].poll() is None and time.monotonic() < deadline:
            if on_progress is not None:
                on_progress(time.monotonic() - start)
            time.sleep(0.1)
    finally:
        for p in procs:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()) if p is procs[0] else 15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return procs[0].returncode


def run_load(run: LoadRun, *, serve: bool, faults: tuple[str, ...] = (), workers: int = 0,
             settle: float | None = None,
             on_progress: Callable[[float], None] | None = None) -> LoadResult:
    """The whole load test; ``run`` carries the effective scenario and the target."""
    from simlive.service.process import ServiceProcess, free_port

    ls = run.scenario.load
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in run.history_dir.glob("*.jsonl"):
        old.unlink()
    service = None
    tmp = None
    if serve:
        tmp = tempfile.TemporaryDirectory(prefix="simlive-load-")
        service = ServiceProcess(f"sqlite:///{tmp.name}/load.db", Path(tmp.name),
                                 faults=faults, payment_timeout=ls.payment_timeout,
                                 sweep_interval=0.5).start()
        run.host = service.base_url
        run.tokens = {**run.tokens, "admin": [service.token("admin")]}
        settle = ls.payment_timeout + 1.0 if settle is None else settle
    if not run.host:
        raise UsageError("give --host (the shop's base URL) or --serve")
    try:
        run_file = provision_run(run)
        rc = run_locust(run, run_file, workers, free_port(), on_progress)
        result = close_run(run, settle or 0.0)
    finally:
        if service is not None:
            service.stop()
        if tmp is not None:
            tmp.cleanup()
    result.locust_rc = rc
    if rc not in (0, 1, 3):  # 1: a rule failed or requests failed; 3: thresholds
        raise ServiceError(f"locust exited with {rc}; see its output above")
    return result


def stored_run(history: str | Path) -> LoadRun | None:
    """The run a stored history belongs to: the ``run.json`` ``simlive load`` wrote beside
    ``history.jsonl`` (or above the ``history/`` folder), if it is there."""
    p = Path(history)
    for folder in (p.parent, p, p.parent.parent) if p.is_file() else (p, p.parent):
        if (folder / "run.json").is_file():
            try:
                return LoadRun.read(folder / "run.json")
            except UsageError:
                return None
    return None


def earned(verdicts: list[Verdict], target: Target) -> list[Verdict]:
    """A pass the target's mapping could not have failed is unknown, with the reason."""
    why = ledger_tautology(target)
    if why is None:
        return verdicts
    return [Verdict(v.rule_id, Status.UNKNOWN, v.measured, v.limit,
                    f"not earned: {why}; {v.evidence}")
            if v.rule_id == "stock.ledger-balances" and v.status is Status.PASS else v
            for v in verdicts]


def stored_verdicts(history: str | Path, state: FinalState, scenario: Any,
                    unsupported: list[str], run: LoadRun | None = None,
                    target: Target | None = None) -> list[Verdict]:
    """Verdicts of a stored history against a final state (``simlive check``), as the
    load run gave them: with its run (``run.json``), the scenario's rule parameters and
    the flash sales' reports count as they did when the run closed."""
    events = read_history(history)
    if scenario is None and run is not None:
        scenario = run.scenario
    params = scenario.rule_overrides() if scenario is not None else None
    verdicts = check(events, state, params, unsupported,
                     unmodelled(scenario) if scenario is not None else None)
    if run is not None:
        spread = run.scenario.load.flash_sale_spread
        planned = run.provisioned.flash_sales if run.provisioned is not None else []
        verdicts = with_contention(verdicts, read_flash_reports(run.history_dir, spread,
                                                                planned))
    return earned(verdicts, target) if target is not None else verdicts


def threshold_table(results: list[ThresholdResult]) -> Any:
    from rich.table import Table

    table = Table(title="Performance thresholds", title_justify="left")
    for col in ("threshold", "status", "measured", "limit"):
        table.add_column(col)
    for r in results:
        style = "bold green" if r.passed else "bold red"
        m = "-" if r.measured is None else f"{r.measured:.4g}"
        table.add_row(r.name, f"[{style}]{'pass' if r.passed else 'fail'}[/]", m,
                      f"{r.limit:g}")
    return table


def rate_table(rows: list[RateRow]) -> Any:
    from rich.table import Table

    table = Table(title="Load profile: planned vs achieved", title_justify="left")
    for col in ("operation", "peak /s", "planned /s", "achieved /s", "planned", "achieved",
                "dropped", "held?"):
        table.add_column(col, justify="left" if col == "operation" else "right")
    for r in rows:
        style = "bold green" if r.kept_up else "bold red"
        table.add_row(r.operation, f"{r.peak_rate:g}", f"{r.target_rate:.1f}",
                      f"{r.achieved_rate:.1f}", f"{r.target:.0f}", str(r.achieved),
                      str(r.dropped), f"[{style}]{'yes' if r.kept_up else 'NO'}[/]")
    return table


# what runs beside a profile's arrival drivers: the agents, the stock monitor, setup and
# closing, and flash-sale buyers
_BESIDE_PROFILE = {"list_tickets", "reply", "start_ticket", "goods_received", "refund_paid",
                   "resolve", "true_stock", "order", "pay", "end_broadcast", "read_replay"}


def profile_reach(run: LoadRun, verdicts: list[Verdict]) -> list[str]:
    """A profile drives only its operations: say which rules that leaves unknown and why,
    rather than an unexplained exit 1."""
    from simlive.check.needs import NEEDS

    driven = set(run.profile or {}) | _BESIDE_PROFILE
    out = []
    for v in verdicts:
        if v.status is not Status.UNKNOWN:
            continue
        missing = [o for o in NEEDS[v.rule_id].ops + NEEDS[v.rule_id].instead
                   if o not in driven and run.target.supports(o)]
        if missing:
            out.append(f"{v.rule_id} is unknown: --profile drives only "
                       f"{', '.join(sorted(run.profile or {}))} (with the agents and the stock "
                       f"monitor), not {', '.join(missing)}; add them to the profile or run "
                       "without --profile to judge it")
    return out


def flash_table(reports: list[FlashSaleReport]) -> Any:
    from rich.table import Table

    table = Table(title="Flash sales: buyers released together", title_justify="left")
    for col in ("sale", "SKU", "units", "buyers", "released",
                "send spread from the release, p50/p99/max ms",
                "checkouts in flight at once (client)", "answers"):
        table.add_column(col, justify="left" if col in ("SKU", "answers") else "right",
                         overflow="fold")
    for r in reports:
        s = r.spread_ms
        spread = f"{s['p50']:.0f} / {s['p99']:.0f} / {s['max']:.0f}" if s else "-"
        style = "bold green" if r.contended and not r.warnings else "bold red"
        table.add_row(str(r.index + 1), r.sku, str(r.units or "-"), str(r.planned),
                      str(r.released), spread, f"[{style}]{r.max_in_flight}[/]",
                      ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())))
    return table
