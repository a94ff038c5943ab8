"""``simlive load``: prepare the service, run Locust headless, close, check, report.

I/O lives here: processes (the reference service with ``--serve``, Locust local or master
plus workers), files in the output folder, HTTP through the adapter. The checking itself is
:func:`simlive.check.checker.check`. Output folder::

    plan.json            what setup created (tokens included: keep it private)
    history/*.jsonl      one history file per Locust process, plus setup's
    history.jsonl        all of them merged, for ``simlive check --history``
    locust_stats.csv ... Locust's CSV files, locust.html its report
    state.json           the service's final state as read by the checker
    verdicts.json        one verdict per rule, and the thresholds
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simlive.check.adapter import ReferenceServiceAdapter
from simlive.check.checker import check
from simlive.check.history import merge, write_jsonl
from simlive.check.state import FinalState
from simlive.check.thresholds import ThresholdResult, aggregated_row, judge
from simlive.errors import (
    EXIT_OK,
    EXIT_RULE_FAILED,
    EXIT_THRESHOLD_FAILED,
    ServiceError,
    UsageError,
)
from simlive.load.recorder import Recorder
from simlive.load.setup import finish, prepare
from simlive.report.files import write_json
from simlive.rules import Status, Verdict
from simlive.scenario.schema import Scenario

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass
class LoadResult:
    verdicts: list[Verdict]
    thresholds: list[ThresholdResult]
    out: Path
    locust_rc: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if any(v.status is not Status.PASS for v in self.verdicts):
            return EXIT_RULE_FAILED
        if any(not t.passed for t in self.thresholds):
            return EXIT_THRESHOLD_FAILED
        return EXIT_OK


def check_directory(base_url: str, admin_token: str, history: str | Path,
                    scenario: Scenario | None, out: str | Path | None,
                    state: FinalState | None = None) -> tuple[list[Verdict], FinalState]:
    """Merge a history (a file, or a folder of files), read the final state, check."""
    h = Path(history)
    # a folder: one file per process; a merged history.jsonl written there is skipped
    files = sorted(f for f in h.glob("*.jsonl") if f.name != "history.jsonl") \
        if h.is_dir() else [h]
    if not files or not all(f.exists() for f in files):
        raise UsageError(f"--history(={str(history)!r}) holds no .jsonl history file")
    events = merge(files)
    if state is None:
        adapter = ReferenceServiceAdapter(base_url, admin_token)
        try:
            state = adapter.fetch_final_state()
        finally:
            adapter.close()
    params = scenario.rule_overrides() if scenario is not None else None
    verdicts = check(events, state, params)
    if out is not None:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        write_json(o / "state.json", state.to_dict())
        if h.is_dir():
            write_jsonl(o / "history.jsonl", events)
    return verdicts, state


def _locust_cmd(base_url: str, plan: Path, hist: Path, scenario: str, run_time: float,
                peak: int, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", base_url,
            "--plan", str(plan), "--history-dir", str(hist), "--scenario", scenario,
            "--scenario-run-time", str(run_time), "--peak-users", str(peak),
            "--stop-timeout", "5", *extra]


def run_locust(base_url: str, plan: Path, hist: Path, out: Path, scenario: str,
               run_time: float, peak: int, workers: int, port: int,
               on_progress: Callable[[float], None] | None = None) -> int:
    """Locust headless: one process, or a master and ``workers`` worker processes on
    127.0.0.1. Bounded: killed if it runs 60 s past ``run_time``."""
    report = ["--headless", "--csv", str(out / "locust"), "--html", str(out / "locust.html"),
              "-t", f"{int(run_time) + 10}s"]
    procs: list[subprocess.Popen[bytes]] = []
    if workers <= 0:
        procs.append(subprocess.Popen(_locust_cmd(base_url, plan, hist, scenario, run_time,
                                                  peak, report)))
    else:
        master = report + ["--master", "--expect-workers", str(workers),
                           "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
        procs.append(subprocess.Popen(_locust_cmd(base_url, plan, hist, scenario, run_time,
                                                  peak, master)))
        for _ in range(workers):
            procs.append(subprocess.Popen(_locust_cmd(
                base_url, plan, hist, scenario, run_time, peak,
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


def run_load(scenario: Scenario, scenario_path: str, out: Path, *, host: str | None,
             admin_token: str | None, serve: bool, faults: tuple[str, ...] = (),
             workers: int = 0, settle: float | None = None,
             on_progress: Callable[[float], None] | None = None) -> LoadResult:
    """The whole load test; ``scenario`` already carries CLI overrides in ``load``."""
    from simlive.service.harness import ServiceProcess, free_port

    ls = scenario.load
    out.mkdir(parents=True, exist_ok=True)
    hist = out / "history"
    hist.mkdir(exist_ok=True)
    for old in hist.glob("*.jsonl"):
        old.unlink()
    service = None
    tmp = None
    if serve:
        tmp = tempfile.TemporaryDirectory(prefix="simlive-load-")
        service = ServiceProcess(f"sqlite:///{tmp.name}/load.db", Path(tmp.name),
                                 faults=faults, payment_timeout=ls.payment_timeout,
                                 sweep_interval=0.5).start()
        host, admin_token = service.base_url, service.token("admin")
        settle = ls.payment_timeout + 1.0 if settle is None else settle
    if not host or not admin_token:
        raise UsageError("--host and --admin-token (or SIMLIVE_ADMIN_TOKEN) are needed "
                         "without --serve")
    try:
        setup_rec = Recorder(hist / "setup.jsonl")
        plan = prepare(host, admin_token, scenario, random.Random(scenario.seed), setup_rec,
                       scenario_path)
        plan_path = out / "plan.json"
        plan_path.write_text(plan.to_json(), encoding="utf-8")
        rc = run_locust(host, plan_path, hist, out, scenario_path, ls.run_time,
                        ls.peak_users, workers, free_port(), on_progress)
        try:
            finish(plan, admin_token, setup_rec, settle=settle or 0.0)
        finally:
            setup_rec.close()
        verdicts, _ = check_directory(host, admin_token, hist, scenario, out)
    finally:
        if service is not None:
            service.stop()
        if tmp is not None:
            tmp.cleanup()
    th = ls.thresholds
    thresholds = judge(aggregated_row(out / "locust_stats.csv"), th.p95_ms,
                       th.max_failure_ratio, th.min_rps)
    result = LoadResult(verdicts, thresholds, out, rc)
    if rc not in (0, 1):  # 1: locust's own "some requests failed"
        raise ServiceError(f"locust exited with {rc}; see its output above")
    write_json(out / "verdicts.json", {
        "verdicts": [v.to_dict() for v in verdicts],
        "thresholds": [t.to_dict() for t in thresholds], "exit_code": result.exit_code})
    return result


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


def load_state(path: str | Path) -> FinalState:
    return FinalState.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
