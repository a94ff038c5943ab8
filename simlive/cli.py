"""The ``simlive`` command line: maps options onto the features, and errors onto exit codes.

Nothing imports this module. Each command imports its feature lazily so that ``--help`` and
``validate`` stay fast; every ``SimliveError`` becomes its message on stderr and its exit
code, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from simlive import __version__
from simlive.errors import SimliveError


def _friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SimliveError into its message and exit code (click's own errors pass through)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SimliveError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simlive")
def cli() -> None:
    """Simulate and load-test live e-commerce broadcasts against compliance rules."""


# --- simulate ------------------------------------------------------------------------------


def _write_junit(path: str | None, title: str, verdicts: list[Any],
                 thresholds: list[Any] | None = None) -> None:
    if path:
        from pathlib import Path

        from simlive.report.junit import junit_xml

        Path(path).write_bytes(junit_xml(title, verdicts, thresholds or []))


def _junit_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--junit", "junit_path", type=click.Path(dir_okay=False), default=None,
                        help="Write the verdicts (and thresholds) as JUnit XML for CI: a test "
                             "case per rule, failed or skipped (unknown).")(func)




def _console(stderr: bool = False):
    """A rich console sized for where it prints (``report.console.make_console``)."""
    from simlive.report.console import make_console

    return make_console(stderr)


class _Share(click.ParamType):
    """A probability on the command line: ``5%`` or ``0.05``."""

    name = "share"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"expected a share such as 5% or 0.05; found {value!r}", param, ctx)
        if not self.low <= share <= self.high:
            self.fail(f"expected {self.low:.1%} .. {self.high:.0%}; found {value!r}", param, ctx)
        return share


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), default=None,
              help="Independent replications (default 1). Each rule's verdict is about the "
                   "probability that it breaks in a broadcast; see --until-decided.")
@click.option("--until-decided", is_flag=True,
              help="Add replications (--jobs at a time) until Wald's sequential test has "
                   "decided every rule, or --max-replications.")
@click.option("--max-replications", type=click.IntRange(1, 10_000), default=500,
              show_default=True, help="The most replications --until-decided may run.")
@click.option("--risk", type=_Share(0.001, 0.5), default=None,
              help="The P(broken) every rule may run, e.g. 1% (default: the scenario's "
                   "compliance.risk, 5%).")
@click.option("--alpha", type=_Share(0.001, 0.25), default=None,
              help="--until-decided: the chance of a wrong fail (default 5%).")
@click.option("--beta", type=_Share(0.001, 0.25), default=None,
              help="--until-decided: the chance of a wrong pass (default 5%).")
@click.option("--indifference", type=_Share(0.05, 0.9), default=None,
              help="--until-decided: half-width of the indifference region around the "
                   "risk, as a share of the risk (default 50%).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes for replications; results do not depend on it.")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Run the replications on a Dask distributed cluster (e.g. "
                   "tcp://scheduler:8786; its workers need this simlive version). Same "
                   "results as on this machine.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="Override the scenario's seed.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the result as JSON to this file ('-' for stdout; the tables then "
                   "go to stderr).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False), default=None,
              help="Write time series (viewers, orders/s, stock per SKU, backlog) here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report with plots to this file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no tables.")
@_junit_option
@_friendly
def run(scenario: str, replications: int | None, until_decided: bool, max_replications: int,
        risk: float | None, alpha: float | None, beta: float | None,
        indifference: float | None, jobs: int, cluster: str | None, seed: int | None,
        json_path: str | None, csv_dir: str | None, html_path: str | None, quiet: bool,
        junit_path: str | None) -> None:
    """Simulate a broadcast and judge every compliance rule.

    A rule passes when P(broken) <= risk is established over the replications, fails when
    P(broken) > risk is, and is undecided otherwise. Exit 0 when every rule passes, 1 when
    any fails, 4 when none fails but some are undecided, 2 for bad input.
    """
    from simlive.errors import UsageError
    from simlive.report.files import (
        prepare_output,
        to_json,
        write_series_csv,
        write_sold_out_csv,
    )
    from simlive.report.progress import simulate_with_progress
    from simlive.report.tables import (
        VerdictView,
        desk_table,
        kpi_table,
        shift_table,
        sold_out_table,
        summary,
    )
    from simlive.rules import exit_code
    from simlive.scenario import load_scenario
    from simlive.sim.replications import confidence_of
    from simlive.sim.workers import open_workers

    if until_decided and replications is not None:
        raise UsageError("--replications and --until-decided: choose one "
                         "(--max-replications bounds --until-decided)")
    for path, option in ((json_path, "--json"), (html_path, "--html"),
                         (junit_path, "--junit")):
        prepare_output(path, option)
    prepare_output(csv_dir, "--csv", directory=True)
    sc = load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    conf = confidence_of(sc, risk, alpha, beta, indifference)
    count = max_replications if until_decided else replications or 1
    console = _console(stderr=json_path == "-")
    workers = open_workers(min(jobs, count), cluster)
    try:
        result = simulate_with_progress(sc, count, jobs, until_decided, conf, quiet,
                                        workers, _console(stderr=True))
    finally:
        workers.close()
    data = result.to_dict()
    if json_path == "-":
        click.echo(to_json(data), nl=False)
    elif json_path:
        from pathlib import Path

        Path(json_path).write_text(to_json(data), encoding="utf-8")
    if csv_dir:
        write_series_csv(csv_dir, result.series)
        write_sold_out_csv(csv_dir, data["sold_out"])
    if html_path:
        from pathlib import Path

        from simlive.report.html import render_html

        Path(html_path).write_text(render_html(data, result.series), encoding="utf-8")
    n = len(result.replications)
    how = (f"until decided (at most {count})" if until_decided else "fixed")
    title = f"{sc.name}: {n} replication{'s' if n > 1 else ''} ({how}), seed {sc.seed}"
    if not quiet:
        console.print(kpi_table(data["kpis"], title=f"KPIs ({title})"))
        if len(sc.aftersales.agents) > 1:
            console.print(shift_table(data["shifts"]))
        if data.get("desks"):
            console.print(desk_table(data["desks"]))
        if data["sold_out"]:
            console.print(sold_out_table(data["sold_out"], n))
        console.print(VerdictView(result.verdicts))
    _write_junit(junit_path, f"{sc.name} (simulated, seed {sc.seed}, {n} replication(s))",
                 result.verdicts)
    click.echo(summary(result.verdicts), err=True)
    code = exit_code(result.verdicts)
    if code:
        sys.exit(code)


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_friendly
def validate(scenarios: tuple[str, ...]) -> None:
    """Check scenario files; print every problem with its line. Exit 0 or 2.

    Warnings (on stderr, exit 0) point at what is valid but rarely meant: tickets that can
    arrive while nobody is on duty, or far more work than the agents on duty can handle."""
    from simlive.errors import ScenarioError
    from simlive.scenario import load_scenario

    problems: list[str] = []
    for path in scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            problems.append(str(exc))
            continue
        click.echo(f"{path}: ok ({sc.name}, {sc.duration / 3600:g} h)")
        from simlive.scenario.advice import advisories

        for text in advisories(sc):
            click.echo(f"{path}: warning: {text}", err=True)
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(2)


@cli.command()
@click.option("--target", "target", is_flag=True,
              help="The target file's schema instead of the scenario's.")
def schema(target: bool) -> None:
    """Print the scenario file's (or --target: the target file's) JSON Schema."""
    import json

    if target:
        from simlive.target.schema import Target as model
        title = "simlive target"
    else:
        from simlive.scenario.schema import Scenario as model
        title = "simlive scenario"
    doc = model.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = title
    click.echo(json.dumps(doc, indent=2, sort_keys=True))


# --- plan ----------------------------------------------------------------------------------


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--target", "targets", multiple=True, metavar="EXPR",
              help="A KPI condition, e.g. 'aftersales.first_reply.p95_s <= 180' (repeatable).")
@click.option("--vary", default=None, metavar="PATH",
              help="The parameter to size: aftersales.agents, products.SKU.stock, or a path.")
@click.option("--per-shift", is_flag=True,
              help="With --vary aftersales.agents: the least agents for each shift.")
@click.option("--min", "low", type=click.IntRange(0), default=0, show_default=True,
              help="Least value to consider.")
@click.option("--max", "high", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="Greatest value to consider.")
@click.option("--resolution", type=click.IntRange(1), default=1, show_default=True,
              help="Stop when the answer is known to within this many units (e.g. 100 "
                   "for stock).")
@click.option("-r", "--replications", default=5, show_default=True,
              type=click.IntRange(1, 10_000), help="Replications per candidate.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes for each candidate's replications.")
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Run each candidate's replications on a Dask distributed cluster (e.g. "
                   "tcp://scheduler:8786). Same plan as on this machine.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the plan (every candidate and the answer) as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write an HTML report with each target metric against the parameter.")
@click.option("--emit-load-profile", "profile_path", type=click.Path(dir_okay=False),
              default=None, help="Write the peak load the scenario implies, for simlive load.")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False), default=None,
              help="Staff the desk from this roster file's shift templates (Erlang C per "
                   "interval, an integer program, checked by simulation on fresh seeds).")
@click.option("--interval", "interval_text", default=None, metavar="DURATION",
              help="Length of the intervals service levels are judged and staffed per "
                   "(default: the scenario's aftersales.service_level.interval, 30m).")
@click.option("--validate", "validate_reps", default=20, show_default=True,
              type=click.IntRange(2, 10_000),
              help="With --roster or --per-shift: fresh replications the answer is checked "
                   "on before it is printed.")
@click.option("--max-iterations", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="With --roster or --per-shift: rounds of raising the intervals (shifts) "
                   "that miss.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="With --roster: write the per-interval table as CSV.")
@click.option("--write-scenario", "write_path", type=click.Path(dir_okay=False), default=None,
              help="With --roster: write the scenario with the planned shifts in place (the "
                   "pooled desk's and each desk's), ready for simlive run --until-decided.")
@_friendly
def plan(scenario: str, targets: tuple[str, ...], vary: str | None, per_shift: bool, low: int,
         high: int, resolution: int, replications: int, jobs: int, cluster: str | None,
         json_path: str | None, html_path: str | None, profile_path: str | None,
         roster_path: str | None,
         interval_text: str | None, validate_reps: int, max_iterations: int,
         csv_path: str | None, write_path: str | None) -> None:
    """Find the least value of a parameter that meets every target with confidence, or
    (--roster) the least-cost roster of shift templates that does.

    A target holds when the far end of its 95% CI over the replications meets the limit;
    'aftersales.service_level(20s) >= 0.8 per interval' must hold in every interval.
    Exit 0 when a plan meets every target, 1 when none within --min..--max does, 2 for bad
    input.
    """
    from pathlib import Path

    from simlive.errors import UsageError
    from simlive.scenario import load_scenario

    sc = load_scenario(scenario)
    if profile_path:
        import yaml

        from simlive.plan.profile import load_profile
        from simlive.sim.replications import simulate

        profile = load_profile(sc, simulate(sc, 1, 1))
        Path(profile_path).write_text(yaml.safe_dump(profile, sort_keys=False),
                                      encoding="utf-8")
        click.echo(f"load profile written to {profile_path}: "
                   + ", ".join(f"{k} {v:g}" for k, v in profile["peak"].items()))
        if not targets and vary is None:
            return
    if not targets:
        raise UsageError("plan: give at least one --target (e.g. "
                         "--target 'aftersales.first_reply.p95_s <= 180')")
    interval = _interval(interval_text)
    if roster_path is not None:
        from simlive.cli_plan import plan_with_roster

        if vary is not None or per_shift:
            raise UsageError("--roster decides the agents itself: leave out --vary and "
                             "--per-shift")
        plan_with_roster(sc, targets, roster_path, interval, replications, validate_reps,
                         max_iterations, jobs, cluster, json_path, html_path, csv_path,
                         scenario, write_path)
        return
    if write_path is not None:
        raise UsageError("--write-scenario writes a roster plan's shifts: it needs --roster")
    if vary is None:
        raise UsageError("plan: give the parameter to size with --vary (e.g. "
                         "--vary aftersales.agents)")
    if per_shift and vary != "aftersales.agents":
        raise UsageError(f"--per-shift sizes agents per shift; it needs --vary "
                         f"aftersales.agents, not {vary}")
    if high < low:
        raise UsageError(f"--max(={high}) must be >= --min(={low})")
    from simlive.cli_plan import plan_with_vary

    plan_with_vary(sc, targets, vary, per_shift, interval, low, high, resolution,
                   replications, jobs, cluster, validate_reps, max_iterations, json_path,
                   html_path)

def _interval(text: str | None) -> float | None:
    from simlive.errors import UsageError
    from simlive.scenario.units import Mismatch, parse_duration

    if text is None:
        return None
    try:
        value = parse_duration(text)
    except Mismatch:
        value = -1.0
    if not 60 <= value <= 86400:
        raise UsageError(f"--interval {text!r}: expected a duration from 1m to 1d, e.g. 30m")
    return value


# --- serve (the reference service) -------------------------------------------------------
# Owned by simlive.service; the options map one to one onto simlive.service.server.serve().


def _fault_names(_ctx: click.Context, _param: click.Parameter,
                 value: tuple[str, ...]) -> tuple[str, ...]:
    from simlive.service.faults import FAULT_NAMES, explain_unknown

    for name in value:
        if name.strip().lower() not in FAULT_NAMES:
            raise click.BadParameter(explain_unknown(name))
    return value


@cli.command()
@click.option("--db", default="sqlite:///simlive.db", show_default=True,
              help="Database URL: a SQLite file, or postgresql://user@host/db.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind (0 picks a free one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="uvicorn worker processes.")
@click.option("--fault", "faults", multiple=True, metavar="NAME", callback=_fault_names,
              help="Break a rule on purpose (repeatable): oversell, stale-display, "
                   "lose-ticket, delete-review, no-replay, no-receipt, double-restock.")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), default=None,
              help="JSON file of bearer tokens by role; created with fresh tokens if missing "
                   "(default: generated and printed).")
@click.option("--payment-timeout", default=900.0, show_default=True,
              type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Unpaid orders expire after this and their stock returns.")
@click.option("--sweep-interval", default=1.0, show_default=True,
              type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="How often overdue orders are expired in the background.")
@click.option("--max-body", "max_body_bytes", default=65536, show_default=True,
              type=click.IntRange(min=1024), metavar="BYTES",
              help="Larger request bodies are refused with 413.")
@click.option("--stock-buckets", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Split each new product's stock over this many rows, so that workers "
                   "(and lanes) take one SKU's units side by side (PostgreSQL); a product "
                   "may set its own.")
@click.option("--write-lanes", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Writer threads per worker, each committing its own batches of orders.")
@_friendly
def serve(db: str, host: str, port: int, workers: int, faults: tuple[str, ...],
          tokens_file: str | None, payment_timeout: float, sweep_interval: float,
          max_body_bytes: int, stock_buckets: int, write_lanes: int) -> None:
    """Run the reference live-commerce service (the system under test)."""
    from simlive.service.server import serve as run_service

    run_service(db=db, host=host, port=port, workers=workers, faults=list(faults),
                tokens_file=tokens_file, payment_timeout=payment_timeout,
                sweep_interval=sweep_interval, max_body_bytes=max_body_bytes,
                stock_buckets=stock_buckets, write_lanes=write_lanes)


# --- load, check, target: testing a shop (simlive.cli_shop registers them on the group) --

from simlive import cli_shop  # noqa: E402, F401 - registers load, check and target


def main() -> None:
    cli(prog_name="simlive")


if __name__ == "__main__":  # pragma: no cover
    # run as a script, this file is __main__; the commands of simlive.cli_shop register on
    # the group of the module proper, so run that one
    from simlive.cli import main as _main

    _main()
