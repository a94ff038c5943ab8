"""The locustfile: users, shape and the hooks that wire the scenario, plan and history in.

Used two ways. ``simlive load`` prepares the service itself and passes ``--plan``; every
Locust process (local, or each worker) then only opens its history file. Run directly
(``locust -f loadtests/locustfile.py --host URL --scenario FILE --admin-token TOKEN``), the
master (or local runner) prepares the service when the test starts, hands the plan to the
workers as a custom message, and at the end closes the broadcast, checks and prints verdicts.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from simlive.load.context import Context
from simlive.load.curve import Curve
from simlive.load.recorder import Recorder, history_file
from simlive.load.setup import Plan, finish, prepare
from simlive.load.shape import ScenarioShape
from simlive.load.users import (
    AftersalesUser,
    AgentUser,
    BuyerUser,
    MonitorUser,
    ReviewerUser,
    ViewerUser,
    apply_settings,
)

__all__ = ["AftersalesUser", "AgentUser", "BuyerUser", "MonitorUser", "ReviewerUser",
           "ScenarioShape", "ViewerUser"]

PLAN_MESSAGE = "simlive_plan"


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--scenario", default="", help="simlive scenario YAML (users, "
                        "weights, shape, thresholds)")
    parser.add_argument("--plan", default="", help="plan.json written by `simlive load` "
                        "(skip setup)")
    parser.add_argument("--history-dir", default="simlive-history",
                        help="where each process writes its history (JSON lines)")
    parser.add_argument("--admin-token", default=os.environ.get("SIMLIVE_ADMIN_TOKEN", ""),
                        help="admin bearer token for setup (or SIMLIVE_ADMIN_TOKEN)")
    parser.add_argument("--peak-users", type=int, default=0, help="override load.peak_users")
    parser.add_argument("--scenario-run-time", type=float, default=0.0,
                        help="override load.run_time (seconds)")


def _tag(environment: Any) -> str:
    return f"w{os.getpid()}" if isinstance(environment.runner, WorkerRunner) \
        else f"local{os.getpid()}"


def _open_context(environment: Any, plan: Plan) -> None:
    opts = environment.parsed_options
    tag = _tag(environment)
    rec = Recorder(history_file(opts.history_dir, tag))
    environment.simlive = Context(plan=plan, recorder=rec, tag=tag)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    if opts is None:
        return
    environment.simlive_raw = not opts.plan
    if opts.scenario:
        from simlive.scenario import load_scenario

        sc = load_scenario(opts.scenario)
        ls = sc.load
        run_time = opts.scenario_run_time or ls.run_time
        peak = opts.peak_users or ls.peak_users
        floor = apply_settings(dict(ls.weights), ls.mode, ls.user_rate, peak)
        ScenarioShape.configure(Curve(sc, run_time), peak, ls.mode, ls.arrival_rate,
                                ls.user_rate, floor=floor, spawn_rate=ls.spawn_rate)
        environment.simlive_scenario = sc
    if opts.plan and not isinstance(environment.runner, MasterRunner):
        _open_context(environment, Plan.read(opts.plan))
    if isinstance(environment.runner, WorkerRunner):
        def on_plan(msg: Any, **_kw: Any) -> None:
            if not hasattr(environment, "simlive"):
                _open_context(environment, Plan(**msg.data))
        environment.runner.register_message(PLAN_MESSAGE, on_plan)


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or not getattr(environment, "simlive_raw", False):
        return
    if getattr(environment, "simlive_plan", None) is None:
        sc = getattr(environment, "simlive_scenario", None)
        opts = environment.parsed_options
        if sc is None or not opts.admin_token:
            sys.stderr.write("simlive: --scenario and --admin-token are needed to set up\n")
            runner.quit()
            return
        setup_rec = Recorder(history_file(opts.history_dir, "setup"))
        plan = prepare(environment.host.rstrip("/"), opts.admin_token, sc,
                       random.Random(sc.seed), setup_rec, opts.scenario)
        setup_rec.close()
        environment.simlive_plan = plan
        Path(opts.history_dir).mkdir(parents=True, exist_ok=True)
        (Path(opts.history_dir) / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    plan = environment.simlive_plan
    if isinstance(runner, MasterRunner):
        runner.send_message(PLAN_MESSAGE, plan.__dict__)
    elif not hasattr(environment, "simlive"):
        _open_context(environment, plan)


@events.test_stop.add_listener
def _stop(environment: Any, **_: Any) -> None:
    ctx = getattr(environment, "simlive", None)
    if ctx is not None:
        ctx.recorder.flush()


@events.quitting.add_listener
def _quit(environment: Any, **_: Any) -> None:
    ctx = getattr(environment, "simlive", None)
    if ctx is not None:
        ctx.recorder.close()
    plan = getattr(environment, "simlive_plan", None)
    if plan is None or isinstance(environment.runner, WorkerRunner):
        return
    from simlive.load.runner import check_directory

    opts = environment.parsed_options
    sc = environment.simlive_scenario
    rec = Recorder(history_file(opts.history_dir, "setup"))
    try:
        finish(plan, opts.admin_token, rec, settle=sc.load.payment_timeout + 1.0)
    finally:
        rec.close()
    verdicts, _ = check_directory(plan.base_url, opts.admin_token, opts.history_dir, sc,
                                  opts.history_dir)
    from rich.console import Console

    from simlive.report.tables import verdict_table

    Console(highlight=False).print(verdict_table(verdicts))
