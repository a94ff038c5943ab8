"""The locustfile: users, shape and the hooks that wire a :class:`LoadRun` into Locust.

Used two ways. ``simlive load`` sets the run up itself and passes ``--simlive-run
run.json``; every Locust process (local, or each worker) reads that one object and opens
its history file. Run directly (``locust -f loadtests/locustfile.py --scenario FILE
--target FILE --host URL --token-file FILE``), the master (or local runner) sets the shop up
when a test starts, hands the whole run to the workers as a message, and when the test
stops ends the broadcast, checks every rule, prints the verdicts and sets Locust's exit code
from them (0 pass, 1 a rule fails or is unknown, 3 a threshold fails; 2 bad input or a
setup that failed). Every swarm is a new run with its own id, products and history folder.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from simlive.errors import EXIT_BAD_INPUT, SimliveError
from simlive.load.arrivals import ArrivalDriver
from simlive.load.context import Context
from simlive.load.crowd import ANSWERED, FLASH_MESSAGE, READY, on_flash
from simlive.load.curve import Curve
from simlive.load.recorder import Recorder
from simlive.load.relay import DONE, FILE, HISTORY, STOP, Relay, on_stop, worker_sink
from simlive.load.release import Readiness
from simlive.load.run import LoadRun
from simlive.load.shape import ScenarioShape
from simlive.load.users import (
    AftersalesUser,
    AgentUser,
    BuyerUser,
    MonitorUser,
    PlatformUser,
    ReviewerUser,
    ViewerUser,
    apply_settings,
)
from simlive.shops.provision import new_run_id

__all__ = ["AftersalesUser", "AgentUser", "ArrivalDriver", "BuyerUser", "MonitorUser",
           "ReviewerUser", "ScenarioShape", "ViewerUser"]
__all__ += ["PlatformUser"]  # the platform's arbiter (aftersales.escalation)

RUN_MESSAGE = "simlive_run"
log = logging.getLogger("simlive")
logging.getLogger("httpx").setLevel(logging.WARNING)  # no INFO line per setup request


class _SharpSpikes(logging.Filter):
    """The shape spawns fast on purpose (a flash sale is a spike); Locust's warning about a
    spawn rate above 100 would repeat at every tick of the curve."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Your selected spawn rate is very high")


logging.getLogger("locust.runners").addFilter(_SharpSpikes())


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    # the web UI holds the admin token (its runs provision the shop): loopback unless
    # --web-host (or LOCUST_WEB_HOST) says otherwise, not Locust's all interfaces
    parser.set_defaults(web_host="127.0.0.1")
    parser.add_argument("--scenario", default="", help="simlive scenario YAML (users, "
                        "weights, shape, thresholds)")
    parser.add_argument("--target", default="reference", help="simlive target file (how "
                        "operations map onto the shop's HTTP API); default: the reference "
                        "service")
    parser.add_argument("--token-file", default="", help="JSON tokens by role for the target")
    parser.add_argument("--admin-token", default=os.environ.get("SIMLIVE_ADMIN_TOKEN", ""),
                        help="admin token (or SIMLIVE_ADMIN_TOKEN); same as the token "
                        "file's 'admin'")
    parser.add_argument("--simlive-out", default="simlive-load", help="output folder; each "
                        "swarm writes <folder>/<run id>/ (history, state, verdicts)")
    parser.add_argument("--simlive-run", default="", help="run.json written by `simlive "
                        "load` (setup done; internal)")


def _tag(environment: Any) -> str:
    kind = "w" if isinstance(environment.runner, WorkerRunner) else "local"
    return f"{kind}{os.getpid()}"


def _refuse(environment: Any, message: str) -> None:
    """A clear message and exit code 2, no traceback; stops the test (headless: quits)."""
    sys.stderr.write(f"simlive: error: {message}\n")
    environment.process_exit_code = EXIT_BAD_INPUT
    runner = environment.runner
    if runner is None:
        sys.exit(EXIT_BAD_INPUT)
    if environment.parsed_options is not None and environment.parsed_options.headless:
        runner.quit()
    else:
        runner.stop()


def _configure(environment: Any, run: LoadRun) -> None:
    """Shape and user settings from the run (the effective scenario, not the YAML)."""
    ls = run.scenario.load
    # with a profile, the plan's rates per operation replace the roles; agents still work
    # the tickets the arrivals open
    weights: dict[str, float] = dict(ls.weights.items())
    floor = apply_settings(weights, ls.mode, ls.user_rate, ls.peak_users,
                           run.target.supports, run.request_timeout,
                           only=("agent",) if run.profile else None,
                           platform=run.scenario.aftersales.escalation is not None)
    mode: str = ls.mode
    ArrivalDriver.weight = 0  # by its fixed count only: none without a profile
    if run.profile:
        floor += ArrivalDriver.configure(run.profile, run.workers, ls.max_inflight,
                                        run.request_timeout)
        mode = "profile"
    ScenarioShape.configure(Curve(run.scenario, ls.run_time), ls.peak_users, mode,
                            ls.arrival_rate, ls.user_rate, floor=floor,
                            spawn_rate=ls.spawn_rate)


def _open(environment: Any, run: LoadRun) -> None:
    from simlive.shops.hooks import load_hooks

    old = getattr(environment, "simlive", None)
    if old is not None:
        old.recorder.close()
    tag = _tag(environment)
    runner = environment.runner
    # a worker sends its history to the master (which may be on another machine)
    sink = worker_sink(runner, tag) if isinstance(runner, WorkerRunner) else None
    rec = Recorder(run.history_dir / f"{tag}.jsonl", sink=sink)
    environment.simlive = Context(run=run, recorder=rec, tag=tag,
                                  hooks=load_hooks(run.target.hooks))


def _direct_run(environment: Any) -> LoadRun:
    """The run of ``locust -f`` used directly: scenario, target and options, no setup yet."""
    from simlive.scenario import load_scenario
    from simlive.shops.files import load_target, read_tokens, target_path

    opts = environment.parsed_options
    if not opts.scenario:
        raise SimliveError("--scenario is needed (a simlive scenario YAML)")
    sc = load_scenario(opts.scenario)
    target = load_target(opts.target)
    changes: dict[str, Any] = {}
    if opts.run_time:  # -t/--run-time: the compressed broadcast's length
        changes["run_time"] = float(opts.run_time)
    if getattr(opts, "num_users", None):
        changes["peak_users"] = int(opts.num_users)
    if changes:
        sc = sc.model_copy(update={"load": sc.load.model_copy(update=changes)})
    tokens = read_tokens(opts.token_file or None, opts.admin_token or None)
    return LoadRun(scenario=sc, target=target, host=(environment.host or "").rstrip("/"),
                   run_id="", out=opts.simlive_out, target_name=str(target_path(opts.target)),
                   tokens=tokens)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    _send_counts.environment = environment
    _receive_counts.environment = environment
    opts = environment.parsed_options
    if opts is None:
        return
    try:
        if opts.simlive_run:
            run = LoadRun.read(opts.simlive_run)
            environment.simlive_direct = False
        else:
            run = _direct_run(environment)
            environment.simlive_direct = True
    except SimliveError as exc:
        sys.stderr.write(f"simlive: error: {exc}\n")
        sys.exit(exc.exit_code)
    environment.simlive_run = run
    _configure(environment, run)
    if getattr(environment, "web_ui", None) is not None and environment.simlive_direct:
        from simlive.load.webui import install

        environment.simlive_tab = install(environment)
    if run.provisioned is not None and not isinstance(environment.runner, MasterRunner):
        _open(environment, run)
    runner = environment.runner
    if runner is not None and not isinstance(runner, MasterRunner):
        runner.register_message(FLASH_MESSAGE, on_flash)
    if runner is not None and not isinstance(runner, WorkerRunner):  # the coordinator's
        environment.simlive_ready = Readiness()
        runner.register_message(READY, environment.simlive_ready.on_ready)
        runner.register_message(ANSWERED, environment.simlive_ready.on_answered)
    if isinstance(runner, MasterRunner):  # the workers' histories come here
        relay = environment.simlive_relay = Relay()
        runner.register_message(HISTORY, relay.on_history)
        runner.register_message(FILE, relay.on_file)
        runner.register_message(DONE, relay.on_done)
        if run.provisioned is not None:
            relay.start(run.history_dir)
    if isinstance(runner, WorkerRunner):
        runner.register_message(STOP, on_stop)
        def on_run(msg: Any, **_kw: Any) -> None:
            got = LoadRun.from_dict(msg.data)
            environment.simlive_run = got
            _open(environment, got)
        environment.runner.register_message(RUN_MESSAGE, on_run)


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return
    if not getattr(environment, "simlive_direct", False):
        _release(environment, environment.simlive_run)
        return
    from simlive.load.runner import provision_run

    base: LoadRun = environment.simlive_run
    host = (environment.host or "").rstrip("/")
    if not host:
        _refuse(environment, "no host: give --host (or the Host field of the web UI)")
        return
    run_id = new_run_id()
    scenario = base.scenario
    typed = getattr(environment.parsed_options, "run_time", None)
    if typed and float(typed) != scenario.load.run_time:
        # the web UI's run time (written into the options at each swarm) is the compressed
        # broadcast's length, as -t is headless: the shape follows it
        scenario = scenario.model_copy(update={"load": scenario.load.model_copy(
            update={"run_time": float(typed)})})
    run = LoadRun(scenario=scenario, target=base.target, host=host, run_id=run_id,
                  out=str(Path(environment.parsed_options.simlive_out) / run_id),
                  target_name=base.target_name, tokens=base.tokens)
    try:
        provision_run(run)
    except SimliveError as exc:
        _refuse(environment, f"setup of run {run_id} on {host} failed: {exc}")
        return
    environment.simlive_current = run
    if scenario is not base.scenario:
        _configure(environment, run)
    tab = getattr(environment, "simlive_tab", None)
    if tab is not None:
        tab.result, tab.run, tab.counts, tab.worker_counts = None, run, {}, {}
    log.info("simlive: run %s set up on %s; output in %s", run_id, host, run.out)
    if isinstance(runner, MasterRunner):
        environment.simlive_relay.start(run.history_dir)
        runner.send_message(RUN_MESSAGE, run.to_dict())
    else:
        _open(environment, run)
    _release(environment, run)


def _release(environment: Any, run: LoadRun) -> None:
    """The flash sales' coordinator, in the local runner or the master (one per load)."""
    import gevent

    from simlive.load.release import coordinate

    old = getattr(environment, "simlive_release", None)
    if old is not None:
        old.kill(block=False)
    environment.simlive_ready.clear()
    environment.simlive_release = gevent.spawn(coordinate, environment, run, time.time(),
                                               environment.simlive_ready)


@events.test_stop.add_listener
def _stop(environment: Any, **_: Any) -> None:
    ctx = getattr(environment, "simlive", None)
    if ctx is not None:
        ctx.recorder.flush()
    relay = getattr(environment, "simlive_relay", None)
    if relay is not None and isinstance(environment.runner, MasterRunner):
        # every worker stopped and its history here before the broadcast ends
        relay.collect(environment.runner, environment.stop_timeout + 30.0)
        relay.close()
    run = getattr(environment, "simlive_current", None)
    if run is None or isinstance(environment.runner, WorkerRunner):
        return
    environment.simlive_current = None
    from rich.console import Console

    from simlive.load.runner import close_run, summary_line, threshold_table
    from simlive.report.tables import VerdictView

    total = environment.runner.stats.total
    row = {"95%": str(total.get_response_time_percentile(0.95) or ""),
           "Request Count": str(total.num_requests), "Failure Count": str(total.num_failures),
           "Requests/s": str(total.total_rps)}
    try:
        result = close_run(run, settle=run.scenario.load.payment_timeout + 1.0,
                           stats_row=row)
    except SimliveError as exc:
        _refuse(environment, f"closing run {run.run_id} failed: {exc}")
        return
    console = Console(highlight=False, width=160)
    console.print(VerdictView(result.verdicts))
    if result.thresholds:
        console.print(threshold_table(result.thresholds))
    sys.stderr.write(f"simlive: run {run.run_id}: {summary_line(result)} (exit code "
                     f"{result.exit_code}; {run.out})\n")
    environment.process_exit_code = result.exit_code
    tab = getattr(environment, "simlive_tab", None)
    if tab is not None:
        tab.result, tab.run = result, run


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    """Workers: the operations recorded so far, for the master's compliance tab."""
    ctx = getattr(_send_counts, "environment", None)
    ctx = getattr(ctx, "simlive", None) if ctx is not None else None
    if ctx is not None:
        data["simlive_counts"] = ctx.recorder.counts


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    env = getattr(_receive_counts, "environment", None)
    tab = getattr(env, "simlive_tab", None) if env is not None else None
    if tab is not None and "simlive_counts" in data:
        tab.worker_counts[client_id] = data["simlive_counts"]
        tab.counts = {}
        for counts in tab.worker_counts.values():
            tab.merge(counts)


@events.quitting.add_listener
def _quit(environment: Any, **_: Any) -> None:
    ctx = getattr(environment, "simlive", None)
    if ctx is not None:
        ctx.recorder.close()
