"""``simlive plan``: size a parameter (``--vary``) or staff the desks from a roster
(``--roster``) against KPI targets; the I/O around :mod:`simlive.plan`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simlive.cli.common import friendly, interval_option

if TYPE_CHECKING:
    from simlive.plan.rostering import DeskRoster
    from simlive.scenario.schema import Scenario


@click.command()
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
@friendly
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

        from simlive.plan.load_profile import load_profile
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
    interval = interval_option(interval_text)
    if roster_path is not None:

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

    plan_with_vary(sc, targets, vary, per_shift, interval, low, high, resolution,
                   replications, jobs, cluster, validate_reps, max_iterations, json_path,
                   html_path)


def plan_with_roster(sc: Scenario, targets: tuple[str, ...], roster_path: str,
                     interval: float | None, replications: int, validate: int,
                     max_iterations: int, jobs: int, cluster: str | None,
                     json_path: str | None, html_path: str | None,
                     csv_path: str | None, scenario_path: str | None = None,
                     write_path: str | None = None) -> None:
    from simlive.errors import EXIT_RULE_FAILED
    from simlive.plan.desk_staffing import Iteration, with_service_levels
    from simlive.plan.roster_file import load_roster
    from simlive.plan.rostering import plan_roster
    from simlive.plan.targets import parse_target
    from simlive.report.console import make_console
    from simlive.report.files import prepare_output
    from simlive.report.roster_plan import roster_status
    from simlive.sim.engine import PLAN_METRICS
    from simlive.sim.replications import simulate
    from simlive.sim.workers import open_workers

    roster = load_roster(roster_path)
    parsed = [parse_target(t, PLAN_METRICS) for t in targets]
    sc = with_service_levels(sc, parsed, interval)
    if sc.aftersales.desks:
        return plan_desks(sc, parsed, roster, roster_path, replications, validate,
                          max_iterations, jobs, cluster, json_path, html_path, csv_path,
                          scenario_path, write_path)
    for path, option in ((json_path, "--json"), (html_path, "--html"), (csv_path, "--csv"),
                         (write_path, "--write-scenario")):
        prepare_output(path, option)
    # each worker keeps the orders and tickets of its replications between rosters (they do
    # not depend on the agents)
    workers = open_workers(jobs, cluster, cached=True)

    def runner(s: Scenario, first: int, count: int):
        return simulate(s, count, workers=workers, first=first)

    console = make_console(stderr=True)

    def told(it: Iteration) -> None:
        where = "fresh replications" if it.seeds == "fresh" else "search replications"
        state = "[green]every target holds[/]" if not it.misses and not it.unmet else (
            f"[red]{it.misses} interval(s) miss[/]" + (f"; not met: {', '.join(it.unmet)}"
                                                      if it.unmet else ""))
        if it.broken:
            state += f"; [red]rules broken: {', '.join(b.split(' ')[0] for b in it.broken)}[/]"
        console.print(f"  iteration {it.number}: {it.heads:,} agents, cost {it.cost:,.2f}, "
                      f"on {where}: {state}")

    try:
        with _status(console, f"staffing {sc.name} from {roster_path} ({replications} search "
                            f"replications, {validate} fresh to validate)..."):
            result = plan_roster(sc, parsed, roster, runner, replications, validate,
                                 max_iterations, on_iteration=told)
    finally:
        workers.close()
    _roster_outputs(result, sc, roster_path, replications, json_path, csv_path, html_path)
    if result.uncovered:
        click.echo(f"warning: {len(result.uncovered)} interval(s) with tickets have no "
                   "template covering them (first at "
                   f"{result.uncovered[0] * result.interval:g} s)", err=True)
    _rules_line(result.rules, (result.validated_on or (0, 0))[1])
    if not result.met:
        click.echo(f"FAIL: {roster_status(result)}", err=True)
        sys.exit(EXIT_RULE_FAILED)
    if write_path and scenario_path:
        from simlive.plan.apply import apply_roster
        from simlive.plan.desk_staffing import roster_shifts

        _write_scenario(scenario_path, write_path, lambda raw: apply_roster(
            raw, {-1: roster_shifts(result.cols, result.heads)}))
    click.echo(f"plan: {roster_status(result)}")


def _roster_outputs(result, sc: Scenario, roster_path: str,  # noqa: ANN001 - a RosterPlan
                    replications: int, json_path: str | None, csv_path: str | None,
                    html_path: str | None) -> None:
    """A roster plan's tables on the terminal, and its JSON, CSV and HTML files."""
    from simlive import __version__
    from simlive.report.console import make_console
    from simlive.report.files import to_json
    from simlive.report.roster_plan import (
        intervals_csv,
        intervals_table,
        roster_dict,
        roster_figures,
        roster_html_tables,
        roster_status,
        roster_table,
    )

    out = make_console()
    out.print(roster_table(result))
    out.print(intervals_table(result))
    data = roster_dict(result, sc.name, sc.seed)
    if json_path:
        Path(json_path).write_text(to_json(data), encoding="utf-8")
    if csv_path:
        Path(csv_path).write_text(intervals_csv(result), encoding="utf-8")
    if html_path:
        from simlive.report.html import render_html

        count = (result.validated_on or (0, 0))[1]
        page = render_html({"scenario": f"{sc.name}: roster from {Path(roster_path).name}",
                            "simlive_version": __version__, "seed": sc.seed,
                            "meta": f"seed {sc.seed} · {replications} search replications, "
                                    f"{count} fresh to check",
                            "rules": [v.to_dict() for v in result.rules], "kpis": {},
                            "plan": {"met": result.met, "summary": ("plan: " if result.met
                                                                    else "FAIL: ")
                                     + roster_status(result), "replications": count,
                                     "tables": roster_html_tables(result)}},
                           None, extra_figures=roster_figures(result))
        Path(html_path).write_text(page, encoding="utf-8")


def _rules_line(verdicts: list, count: int) -> None:
    """The scenario's compliance rules as the plan's check judged them, on stderr."""
    if not verdicts:
        return
    from simlive.rules import Status

    failed = [v.rule_id for v in verdicts if v.status is Status.FAIL]
    open_ = [v.rule_id for v in verdicts if v.status is Status.UNDECIDED]
    text = (f"rules broken on the {count} fresh replications: {', '.join(failed)}" if failed
            else f"no rule broken on the {count} fresh replications" + (
                f"; undecided at that many: {', '.join(open_)} (run the written scenario "
                "with --until-decided)" if open_ else ""))
    click.echo(text, err=True)


def _write_scenario(scenario_path: str, write_path: str, apply) -> None:  # noqa: ANN001
    """The scenario file with the plan applied, written to ``write_path``."""
    import yaml

    from simlive.scenario.loader import read_text

    raw = yaml.safe_load(read_text(scenario_path))
    head = (f"# {Path(scenario_path).name} with the roster simlive plan chose "
            "(aftersales shifts replaced); comments of the original are not kept\n")
    Path(write_path).write_text(head + yaml.safe_dump(apply(raw), sort_keys=False,
                                                      allow_unicode=True, width=100),
                                encoding="utf-8")
    click.echo(f"scenario with the plan written to {write_path}", err=True)


def plan_desks(sc: Scenario, parsed: list, roster, roster_path: str, replications: int,
               validate: int, max_iterations: int, jobs: int, cluster: str | None,
               json_path: str | None, html_path: str | None, csv_path: str | None,
               scenario_path: str | None = None, write_path: str | None = None) -> None:
    """``plan --roster`` for a scenario with ``aftersales.desks``: a roster per desk."""
    from simlive.errors import EXIT_RULE_FAILED
    from simlive.plan.desk_staffing import Iteration
    from simlive.plan.rostering import for_planning, plan_rosters
    from simlive.report.console import make_console
    from simlive.report.files import prepare_output, to_json
    from simlive.report.roster_plan import desk_rosters_csv, desk_rosters_dict, desks_table
    from simlive.sim.replications import simulate
    from simlive.sim.workers import open_workers

    for path, option in ((json_path, "--json"), (html_path, "--html"), (csv_path, "--csv"),
                         (write_path, "--write-scenario")):
        prepare_output(path, option)
    original = sc
    sc = for_planning(sc)
    workers = open_workers(jobs, cluster, cached=True)

    def runner(s: Scenario, first: int, count: int):
        return simulate(s, count, workers=workers, first=first)

    console = make_console(stderr=True)

    def told(name: str, it: Iteration) -> None:
        where = "fresh" if it.seeds == "fresh" else "search"
        state = "[green]holds[/]" if not it.misses and not it.unmet else (
            f"[red]{it.misses} interval(s) miss[/]")
        console.print(f"  iteration {it.number}, {name}: {it.heads:,} agents on {where} "
                      f"replications: {state}")

    try:
        with _status(console, f"staffing the {len(sc.aftersales.desks) + 1} desks of {sc.name} "
                            f"from {roster_path} ({replications} search replications, "
                            f"{validate} fresh to validate)..."):
            desks = plan_rosters(sc, parsed, roster, runner, replications, validate,
                                 max_iterations, on_iteration=told)
    finally:
        workers.close()
    make_console().print(desks_table(desks))
    if json_path:
        Path(json_path).write_text(to_json(desk_rosters_dict(desks, sc.name, sc.seed)),
                                   encoding="utf-8")
    if csv_path:
        Path(csv_path).write_text(desk_rosters_csv(desks), encoding="utf-8")
    if html_path:
        _desks_html(desks, sc, roster_path, replications, html_path)
    _rules_line(next((d.plan.rules for d in desks if d.plan.rules), []),
                max(((d.plan.validated_on or (0, 0))[1] for d in desks), default=0))
    missed = [d for d in desks if not d.plan.met]
    if missed:
        click.echo(f"FAIL: no roster met every target for {len(missed)} desk(s): "
                   + "; ".join(f"{d.name}: {d.plan.why}" for d in missed[:5]), err=True)
        sys.exit(EXIT_RULE_FAILED)
    if write_path and scenario_path:
        from simlive.plan.apply import apply_roster, flat_desks
        from simlive.scenario.catalogue import build_catalogue
        from simlive.scenario.desks import route

        routing = route(original, build_catalogue(original).skus)

        def apply(raw: dict) -> dict:
            flat = flat_desks(raw.get("aftersales", {}).get("desks", []), routing.names,
                              routing.source)
            return apply_roster(raw, {d.source: d.shifts for d in desks}, flat)

        _write_scenario(scenario_path, write_path, apply)
    heads = sum(int(d.plan.heads.sum()) for d in desks)
    hours = sum(d.plan.agent_hours for d in desks)
    click.echo(f"plan: {len(desks)} desks, {heads:,} agents, {hours:,.1f} agent-hours, cost "
               f"{sum(d.plan.cost for d in desks):,.2f}; every desk's roster held on fresh "
               "replications")


def _desks_html(desks: list[DeskRoster], sc: Scenario, roster_path: str,
                replications: int, html_path: str) -> None:
    """Every desk's roster plan as one HTML report."""
    from simlive import __version__
    from simlive.report.html import render_html
    from simlive.report.roster_plan import desks_html_table, roster_figures, roster_html_tables

    figures = [(f"{d.name}: {title}", svg) for d in desks
               for title, svg in roster_figures(d.plan)]
    met = all(d.plan.met for d in desks)
    rules = next((d.plan.rules for d in desks if d.plan.rules), [])
    count = max(((d.plan.validated_on or (0, 0))[1] for d in desks), default=0)
    tables = [desks_html_table(desks)] + [t for d in desks
                                          for t in roster_html_tables(d.plan, f"{d.name}: ")]
    summary = (f"plan: every desk's roster held on fresh replications ({len(desks)} "
               "desks)" if met else "FAIL: no roster met every target for "
               f"{sum(not d.plan.met for d in desks)} desk(s)")
    page = render_html({"scenario": f"{sc.name}: desk rosters from {Path(roster_path).name}",
                        "simlive_version": __version__, "seed": sc.seed,
                        "meta": f"seed {sc.seed} · {replications} search replications",
                        "rules": [v.to_dict() for v in rules], "kpis": {},
                        "plan": {"met": met, "summary": summary, "replications": count,
                                 "tables": tables}},
                       None, extra_figures=figures)
    Path(html_path).write_text(page, encoding="utf-8")


def plan_with_vary(sc: Scenario, targets: tuple[str, ...], vary: str, per_shift: bool,
                   interval: float | None, low: int, high: int, resolution: int,
                   replications: int, jobs: int, cluster: str | None, validate_reps: int,
                   max_iterations: int, json_path: str | None, html_path: str | None) -> None:
    """``simlive plan --vary``: the least value of one parameter (per shift with
    ``per_shift``), with its tables, JSON and HTML."""
    from simlive.errors import EXIT_RULE_FAILED, UsageError
    from simlive.plan.desk_staffing import with_service_levels
    from simlive.plan.search import Planner, make_runner, plan_per_shift, plan_scalar
    from simlive.plan.targets import parse_target
    from simlive.plan.vary import Knob
    from simlive.report.console import make_console as _console
    from simlive.report.files import to_json
    from simlive.report.plan import candidates_table, plan_dict, plan_figures, shifts_table
    from simlive.sim.engine import PLAN_METRICS

    known = list(PLAN_METRICS)
    parsed = [parse_target(t, known) for t in targets]
    if per_shift and any(t.per_interval for t in parsed):
        raise UsageError("--per-shift judges each shift on its own tickets; 'per interval' "
                         "targets need every interval at once: use --roster, or --vary "
                         "without --per-shift")
    sc = with_service_levels(sc, parsed, interval)
    knob = Knob(sc, vary)
    console = _console()
    progress = _console(stderr=True)

    def tried(c) -> None:
        where = f"shift {c.shift}: " if c.shift is not None else ""
        verdict = "[green]meets every target[/]" if c.met else "[red]misses[/] " + ", ".join(
            a.target.text for a in c.assessments if not a.met)
        if not c.measured:  # kept as in the scenario, whatever was probed
            verdict = "[yellow]no target measures this shift[/]"
        progress.print(f"  {where}{vary} = {c.value}: {verdict}")

    from simlive.sim.workers import open_workers

    workers = open_workers(min(jobs, replications), cluster, cached=True)
    try:
        planner = Planner(sc, knob, parsed, make_runner(replications, workers), low, high,
                          resolution, on_candidate=tried)
        with _status(progress, f"planning {vary} for {sc.name} ({replications} replications "
                             f"per candidate)..."):
            result = plan_per_shift(planner, validate_reps, max_iterations) if per_shift \
                else plan_scalar(planner, validate_reps, max_iterations)
    finally:
        workers.close()
    console.print(candidates_table(result))
    if per_shift:
        console.print(shifts_table(result))
    if result.validated_on:
        first, count = result.validated_on
        tries = len(result.validations)
        what = "shifts" if per_shift else "the value"
        console.print(f"checked on {count} fresh replications ({first}..{first + count - 1})"
                      + (f", after {tries - 1} raise(s) of {what} that missed on fresh ones"
                         if tries > 1 else ""))
    data = plan_dict(result, sc.name, sc.seed, replications)
    if json_path:
        Path(json_path).write_text(to_json(data), encoding="utf-8")
    if html_path:
        from simlive.report.html import render_html

        page = render_html({"scenario": f"{sc.name}: plan for {vary}",
                            "simlive_version": data["simlive_version"], "seed": sc.seed,
                            "replications": replications, "rules": [], "kpis": {}},
                           None, extra_figures=plan_figures(result))
        Path(html_path).write_text(page, encoding="utf-8")
    if result.answer is None:
        click.echo(f"no value of {vary} within {low}..{high} meets every target; "
                   f"not met: {'; '.join(result.unmet)}", err=True)
        sys.exit(EXIT_RULE_FAILED)
    click.echo(f"plan: {vary} = {result.answer} meets every target "
               f"({', '.join(t.text for t in parsed)})")


def _status(console, text: str):  # noqa: ANN001, ANN202
    """A spinner on a terminal; piped (a log), the same words as a line, so a long plan
    shows what it is doing before its first iteration ends."""
    import sys

    if not sys.stderr.isatty():
        console.print(text)
    return console.status(text)
