"""``simlive load`` and ``simlive check``: load-test a shop, or re-check a stored run.

Exit 0 pass, 1 a rule fails or is unknown, 3 a performance threshold fails, 2 bad input.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from simlive.cli.common import (
    by_party_option,
    console_for,
    fault_names,
    friendly,
    junit_option,
    print_verdicts,
    target_options,
    write_junit,
)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--serve", is_flag=True, help="Start the reference service on a temp SQLite db.")
@click.option("--host", default=None, help="Base URL of the shop under test.")
@target_options
@click.option("--users", type=click.IntRange(1, 1_000_000), default=None,
              help="Peak Locust users (overrides load.peak_users).")
@click.option("--run-time", default=None, metavar="DURATION",
              help="Real time the broadcast is compressed into, e.g. 60s (load.run_time).")
@click.option("--workers", type=click.IntRange(0, 256), default=0, show_default=True,
              help="Locust worker processes under a local master (0: one local process).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="simlive-load",
              show_default=True, help="Folder for Locust's CSV/HTML, history and verdicts.")
@click.option("--fault", "faults", multiple=True, metavar="NAME", callback=fault_names,
              help="With --serve: start the service with this fault (repeatable).")
@click.option("--settle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Wait after ending the broadcast before checking (default with --serve: "
                   "the payment timeout; else 0).")
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False, exists=True),
              default=None, help="A load profile from 'simlive plan --emit-load-profile': "
                                 "hold each operation's planned rate (open model).")
@click.option("--dry-run", is_flag=True,
              help="Print the preflight's journey (setup, each operation once as the "
                   "load runs them, the flash sale's commit step) with whole bodies, "
                   "without sending anything.")
@junit_option
@by_party_option
@friendly
def load(scenario: str, serve: bool, host: str | None, target_file: str,
         token_file: str | None, admin_token: str | None, users: int | None,
         run_time: str | None, workers: int, out_dir: str, faults: tuple[str, ...],
         settle: float | None, profile_path: str | None, dry_run: bool,
         junit_path: str | None, by_party: bool) -> None:
    """Load-test a shop with Locust along the scenario, then check every rule."""
    from pathlib import Path

    from simlive.errors import UsageError
    from simlive.load.run import LoadRun
    from simlive.scenario import load_scenario
    from simlive.scenario.units import Mismatch, parse_duration
    from simlive.shops.files import load_target, read_tokens, target_path
    from simlive.shops.provision import new_run_id

    if not dry_run:  # a dry run sends nothing: the target file and the scenario suffice
        from simlive.extras import require

        require("load", "simlive load")
    if not dry_run and serve == bool(host):
        raise UsageError("give exactly one of --serve or --host")
    if faults and not serve:
        raise UsageError("--fault needs --serve (it breaks the reference service)")
    if serve and target_file != "reference":
        raise UsageError("--serve starts the reference service; it goes with the reference "
                         "target only (leave --target out)")
    sc = load_scenario(scenario)
    target = load_target(target_file)
    changes: dict[str, Any] = {}
    if users is not None:
        changes["peak_users"] = users
    if run_time is not None:
        try:
            changes["run_time"] = parse_duration(run_time)
        except Mismatch as exc:
            raise UsageError(f"--run-time: {exc}") from None
        if changes["run_time"] <= 0:
            raise UsageError(f"--run-time(={run_time!r}) must be > 0")
    profile = None
    if profile_path is not None:
        from simlive.load.planned_rates import profile_rates

        profile = profile_rates(Path(profile_path))
    if changes:
        sc = sc.model_copy(update={"load": sc.load.model_copy(update=changes)})
    tokens = read_tokens(token_file, admin_token)
    run = LoadRun(scenario=sc, target=target, host=(host or "").rstrip("/"),
                  run_id=new_run_id(), out=out_dir, target_name=str(target_path(target_file)),
                  tokens=tokens, profile=profile, workers=workers)
    if dry_run:
        _dry_run(run)
        return
    from simlive.load.runner import run_load

    result = run_load(run, serve=serve, faults=faults, workers=workers, settle=settle)
    click.echo(f"reports in {out_dir}/ (report.html, locust.html, locust_*.csv, "
               f"history.jsonl, verdicts.json)")
    if result.rates:
        from simlive.load.runner import rate_table

        console_for().print(rate_table(result.rates))
    if result.flash_sales:
        from simlive.load.runner import flash_table

        console_for().print(flash_table(result.flash_sales))
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    write_junit(junit_path, f"{sc.name} (load test of {target.name}, run {run.run_id})",
                 result.verdicts, result.thresholds)
    sys.exit(print_verdicts(result.verdicts, result.thresholds, by_party))


def _dry_run(run: Any) -> None:
    """Print each request the preflight journey would send; send nothing."""
    from rich.table import Table

    from simlive.shops.preflight import dry_run, scenario_products

    sent, stop = dry_run(run.target, run.run_id, run.tokens,
                         scenario_products(run.scenario, run.run_id))
    table = Table(title=f"Dry run of {run.target.name}: the preflight journey (each operation "
                        "once, as the load runs them), nothing sent",
                  title_justify="left")
    for col in ("operation", "request", "headers"):
        table.add_column(col, overflow="fold")
    marker = run.target.marker.header
    for req in sent:
        shown = {k: v for k, v in req.headers.items() if k != marker}
        table.add_row(req.name.split(" ")[0], req.describe(full=True),
                      ", ".join(f"{k}: {v}" for k, v in shown.items()) or "-")
    console_for().print(table)
    op = run.target.operation("pay" if run.target.sale == "pay" else "order")
    if op is not None and run.scenario.products.flash_sales:
        n = op.commit_index + 1
        click.echo(f"each flash sale's buyers run {run.target.sale}'s steps before step {n} "
                   f"ahead and are released together on step {n} ({op.steps[n - 1].method} "
                   f"{op.steps[n - 1].url}; commit: in the target file)")
    from simlive.load.roles import fixed_counts

    ls = run.scenario.load
    fixed = sum(fixed_counts(dict(ls.weights), ls.peak_users, run.target.supports,
                             platform=run.scenario.aftersales.escalation is not None).values())
    click.echo(f"{len(sent)} request(s) would be sent, each with the header "
               f"{marker}: <run id>; the load repeats the load-phase ones along the "
               f"scenario's shape ({ls.peak_users} users at the peak plus {fixed} with a "
               f"fixed count (after-sales, agents, reviewers, the stock monitor, the platform): "
               f"{ls.peak_users + fixed} in all, over {ls.run_time:g} s)")
    if stop:
        click.echo(f"note: a real run would stop here: {stop}", err=True)


@click.command()
@click.option("--history", "history", required=True, type=click.Path(exists=True),
              help="A history (.jsonl) or a folder of them (one per Locust process).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, exists=True),
              default=None, help="A stored state.json (offline re-check).")
@click.option("--host", default=None, help="Base URL of the shop to read the state from.")
@target_options
@click.option("--scenario", type=click.Path(dir_okay=False), default=None,
              help="Scenario whose compliance block sets the rule parameters.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the verdicts as JSON to this file.")
@junit_option
@by_party_option
@friendly
def check(history: str, state_file: str | None, host: str | None, target_file: str,
          token_file: str | None, admin_token: str | None, scenario: str | None,
          json_path: str | None, junit_path: str | None, by_party: bool) -> None:
    """Check a stored load-test history against a shop's final state."""
    from simlive.check.stored import load_state
    from simlive.errors import UsageError
    from simlive.load.runner import stored_run, stored_verdicts
    from simlive.report.files import write_json
    from simlive.scenario import load_scenario
    from simlive.shops.files import load_target, read_tokens
    from simlive.shops.provision import Provisioned, read_state, static_tokens

    if bool(state_file) == bool(host):
        raise UsageError("give --state (a stored state.json) or --host (read it now)")
    tgt = load_target(target_file)
    sc = load_scenario(scenario) if scenario else None
    run = stored_run(history)  # the load run's own ids, products and flash sales
    if state_file:
        state = load_state(state_file)
    else:
        tokens = static_tokens(tgt, read_tokens(token_file, admin_token))
        prov = run.provisioned if run is not None and run.provisioned is not None else None
        if prov is None:
            raise UsageError(f"no run.json beside {history}: reading the state from --host "
                             "needs the run's id and products (keep the folder simlive load "
                             "wrote, or give --state)")
        fresh = {r: t for r, t in tokens.items()  # a login's token is the run's own
                 if getattr(tgt.credential(r), "source", None) != "login"}
        prov = Provisioned(prov.run_id, prov.broadcast_id, prov.products,
                           {**prov.tokens, **fresh}, prov.flash_sales, prov.logins)
        state = read_state(tgt, host or "", prov)
    verdicts = stored_verdicts(history, state, sc, tgt.unsupported, run, tgt)
    if json_path:
        write_json(json_path, {"verdicts": [v.to_dict() for v in verdicts]})
    write_junit(junit_path, f"stored run {history} ({tgt.name})", verdicts)
    sys.exit(print_verdicts(verdicts, by_party=by_party))
