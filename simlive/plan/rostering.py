"""Rostering every desk of a scenario: one roster problem per desk, simulated together.

Tickets are routed by their SKU before any agent is on, and each desk's queue draws its
own handling and patience whatever the agents, so one desk's roster does not move another
desk's service levels: each desk is a problem of its own (``staffing``'s steps 1 to 4,
with its own concurrency, shrinkage and occupancy cap). They share the simulations: each
iteration solves the desks still open, runs the search replications once for all of them,
and checks the desks that held there on one set of fresh replications. A desk is done
when its roster held on fresh replications, or when it cannot be staffed (``why``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simlive.errors import UsageError
from simlive.plan.cover import solve_cover
from simlive.plan.desk_staffing import (
    Iteration,
    Judged,
    RosterPlan,
    Runner,
    first_of_runs,
    judge,
    looks,
    requirements,
    roster_shifts,
    unstaffed,
)
from simlive.plan.roster_file import RosterFile, columns
from simlive.plan.targets import Target
from simlive.rules import Status, Verdict
from simlive.scenario.aftersales import Shift
from simlive.scenario.desks import (
    DeskSettings,
    all_settings,
    flatten,
    pooled,
    route,
    with_desk_shifts,
)
from simlive.scenario.schema import Scenario
from simlive.scenario.units import AGENTS_MAX, duration_text
from simlive.sim.engine import ReplicationResult
from simlive.sim.per_desk import DESK_KPIS


@dataclass
class DeskRoster:
    """One desk's plan (``plan``) and where its shifts go in the scenario."""

    name: str
    source: int  # index in the (flattened) aftersales.desks; -1 the pooled desk
    settings: DeskSettings
    plan: RosterPlan
    req: np.ndarray
    step: np.ndarray
    shifts: list[tuple[float, float, int]] = field(default_factory=list)
    done: bool = False
    # each interval's service level when it was last raised, and how many raises in a row
    # left it no better: more agents that change nothing are not a plan
    raised_at: dict[int, float] = field(default_factory=dict)
    flat: dict[int, int] = field(default_factory=dict)


def desk_view(reps: list[ReplicationResult], d: int | None) -> list[ReplicationResult]:
    """Each replication as desk ``d`` alone sees it (its KPIs and intervals); None: whole."""
    if d is None:
        return reps
    return [ReplicationResult(r.replication, r.desks[d].kpis, r.measures,
                              intervals=r.desks[d].intervals) for r in reps]


def shift_rows(shifts: list[tuple[float, float, int]]) -> list[Shift]:
    rows = [Shift.model_validate({"from": a, "to": b, "agents": n}) for a, b, n in shifts]
    if not rows:  # a desk needs a shift: one with nobody on it
        rows = [Shift.model_validate({"from": 0.0, "to": 1.0, "agents": 0})]
    return rows


def _scenario(s: Scenario, desks: list[DeskRoster]) -> Scenario:
    return with_desk_shifts(s, {d.source: shift_rows(d.shifts) for d in desks})


def for_planning(s: Scenario) -> Scenario:
    """The scenario a desk plan runs: ``each: store`` desks written out (each its own
    roster), every desk reporting the pooled desk's service levels (the targets')."""
    from simlive.scenario.catalogue import build_catalogue

    s = flatten(s, build_catalogue(s).skus)
    a = s.aftersales
    desks = [d.model_copy(update={"service_level": None}) for d in a.desks]
    return s.model_copy(update={"aftersales": a.model_copy(update={"desks": desks})})


@dataclass
class _Rounds:
    """What every round of ``plan_rosters`` reads, in one place: its steps take this rather
    than the same eight arguments each."""

    s: Scenario
    targets: list[Target]
    roster: RosterFile
    runner: Runner
    replications: int
    validate: int
    multi: bool  # desks of their own: each judged on its own view of the replications
    fresh_at: int  # the next replication never used: validation never reuses a seed


def plan_rosters(s: Scenario, targets: list[Target], roster: RosterFile, runner: Runner,
                 replications: int, validate: int, max_iterations: int = 30,
                 on_iteration: Callable[[str, Iteration], None] | None = None
                 ) -> list[DeskRoster]:
    """A roster per desk (the pooled desk first); ``s`` reports the targets' service levels
    (``for_planning`` when it has desks)."""
    specs, sources = _desks_to_staff(s, targets)
    p = _Rounds(s, targets, roster, runner, replications, validate,
                multi=bool(s.aftersales.desks), fresh_at=replications)
    desks = _first_requirements(p, specs, sources)
    goal = next((t.factor for t in targets if t.per_interval), None)
    for number in range(1, max_iterations + 1):
        open_ = [d for d in desks if not d.done]
        if not open_:
            break
        for desk in open_:
            _cover(desk, roster, number)
        open_ = [d for d in open_ if not d.done]
        if not open_:
            break
        got, held = _judge_round(p, desks, open_)
        for desk in open_:
            j = got[id(desk)]
            seeds = "fresh" if desk in held else "search"
            _record(desk, number, seeds, j, on_iteration)
            _decide(desk, j, seeds, goal)
    for desk in desks:
        if not desk.done and not desk.plan.why:
            desk.plan.why = f"not every target held after {max_iterations} iterations"
    return desks


def _desks_to_staff(s: Scenario, targets: list[Target]) -> tuple[list[DeskSettings], list[int]]:
    """Each desk's settings and its place in the scenario, after refusing targets a roster
    cannot be planned for (before anything is simulated)."""
    if not any(t.within is not None for t in targets):
        raise UsageError("--roster plans for service levels: give a target such as "
                         "--target 'aftersales.service_level(20s) >= 0.8 per interval'")
    if not s.aftersales.desks:
        return [pooled(s)], [-1]
    bad = [m for t in targets for m in t.metrics()
           if m not in DESK_KPIS and not m.startswith("aftersales.service_level(")]
    if bad:
        raise UsageError(f"with aftersales.desks every desk is staffed to the targets on "
                         f"its own tickets: {bad[0]} is not a desk's KPI (one of "
                         f"{', '.join(DESK_KPIS)} or aftersales.service_level(T))")
    from simlive.scenario.catalogue import build_catalogue

    routing = route(s, build_catalogue(s).skus)
    return all_settings(s, routing), list(routing.source)


def _first_requirements(p: _Rounds, specs: list[DeskSettings], sources: list[int]
                        ) -> list[DeskRoster]:
    """Each desk's Erlang C requirement per interval from one run with nobody on: the
    tickets and their work per interval do not depend on the agents."""
    s = p.s
    length = s.aftersales.service_level.interval
    empty = with_desk_shifts(s, {src: shift_rows([]) for src in sources})
    base = p.runner(empty, 0, p.replications).replications
    desks: list[DeskRoster] = []
    for d, (spec, src) in enumerate(zip(specs, sources, strict=True)):
        counts = [r.interval_counts() for r in desk_view(base, d if p.multi else None)]
        cols = columns(p.roster, length, counts[0].offered.size)
        plan = RosterPlan(p.targets, length, p.roster, cols, p.replications, p.validate,
                          heads=np.zeros(cols.cost.size, dtype=np.int64))
        plan.erlang = requirements(counts, p.targets, s, spec)
        desks.append(DeskRoster(spec.name, src, spec, plan, plan.erlang.copy(),
                                np.zeros(plan.erlang.size, dtype=np.int64)))  # next raises
    return desks


def _cover(desk: DeskRoster, roster: RosterFile, number: int) -> None:
    """The least-cost shifts over the desk's requirement; a desk no shifts can cover is
    done, with the reason."""
    plan = desk.plan
    # after the first roster, keep its heads: intervals that held keep what they had
    cover = solve_cover(desk.req, plan.cols, roster, at_least=plan.heads) \
        if number > 1 else None
    cover = cover or solve_cover(desk.req, plan.cols, roster)
    if cover is None:
        plan.why = ("the templates' max_heads cannot cover the requirement "
                    f"(most needed in one interval: {int(desk.req.max())})")
        desk.done = True
        return
    plan.uncovered = cover.uncovered
    desk.shifts = roster_shifts(plan.cols, cover.heads)
    plan.heads, plan.cost, plan.requirement = cover.heads, cover.cost, desk.req.copy()


def _judge_round(p: _Rounds, desks: list[DeskRoster], open_: list[DeskRoster]
                 ) -> tuple[dict[int, Judged], list[DeskRoster]]:
    """Every open desk judged on one set of search replications, and the ones that held
    there again on fresh ones: all desks share the simulations. Returns each desk's
    judgement (by ``id``) and the desks that held on the search replications."""
    trial = _scenario(p.s, desks)
    search = p.runner(trial, 0, p.replications).replications
    index = {id(d): i for i, d in enumerate(desks)}
    got = {id(d): _judged(p.targets, search, index[id(d)] if p.multi else None, d)
           for d in open_}
    held = [d for d in open_ if got[id(d)].held]
    if held:
        checked, used, verdicts = _validate(
            p.runner, trial, p.targets, p.fresh_at, p.validate,
            [(index[id(d)] if p.multi else None, d) for d in held])
        broken = [f"{v.rule_id} ({v.evidence})" for v in verdicts
                  if v.status is Status.FAIL]
        for desk, j in zip(held, checked, strict=True):
            j.broken = broken
            got[id(desk)] = j
            desk.plan.validated_on = (p.fresh_at, used)
            desk.plan.rules = verdicts
        p.fresh_at += used
    return got, held


def _decide(desk: DeskRoster, j: Judged, seeds: str, goal: float | None) -> None:
    """Done when the roster held on fresh seeds or cannot be mended; else the intervals
    that missed are raised for the next round."""
    if j.held:
        desk.plan.met = seeds == "fresh"
        desk.done = desk.plan.met
        return
    if j.broken and not j.misses and not j.unmet:
        # every target held; a compliance rule did not, and no interval says where
        # more agents would help: the roster is not offered as held
        desk.plan.why = ("every target held on fresh replications, but the roster "
                         "breaks " + "; ".join(j.broken))
        desk.done = True
        return
    _raise(desk, j, goal)


def _record(desk: DeskRoster, number: int, seeds: str, j: Judged,
            on_iteration: Callable[[str, Iteration], None] | None) -> None:
    plan = desk.plan
    plan.intervals = j.rows
    plan.missed = list(j.misses)
    it = Iteration(number, seeds, int(plan.heads.sum()), plan.cost, j.unmet, j.misses,
                   j.broken)
    plan.iterations.append(it)
    if on_iteration is not None:
        on_iteration(desk.name, it)


def _judged(targets: list[Target], reps: list[ReplicationResult], d: int | None,
            desk: DeskRoster, level: float = 0.95, confident: bool = False) -> Judged:
    """``judge`` on desk ``d``'s view, with intervals that had tickets and nobody on the
    desk as misses."""
    view = desk_view(reps, d)
    return unstaffed(judge(targets, view, level, confident), desk.plan.scheduled, view)


def _raise(desk: DeskRoster, j: Judged, goal: float | None) -> None:
    """Raise the first interval of each run of misses: by the shortfall, then doubling."""
    plan = desk.plan
    raise_at = [i for i in first_of_runs(j.misses) if plan.cols.cover[i].any()]
    if not raise_at:
        if j.misses:
            at = ", ".join(_when(i, plan.interval) for i in j.misses[:5])
            plan.why = (f"{len(j.misses)} interval(s) miss and no template of the roster "
                        f"file covers them: {at}")
        else:
            plan.why = ("not met: " + "; ".join(j.unmet) + " (no interval misses its "
                        "service level, so there is no interval to staff up)")
        desk.done = True
        return
    scheduled = plan.cols.cover @ plan.heads  # it missed with these: it needs more
    achieved = {v.index: v.mean for v in j.rows}
    if _beyond_agents(desk, raise_at, achieved):
        return
    for i in raise_at:
        if not desk.step[i]:
            gap = goal - achieved[i] if goal is not None and i in achieved else 0.025
            desk.step[i] = max(1, math.ceil(scheduled[i] * min(0.25, max(0.005, gap))))
        desk.req[i] = max(desk.req[i], scheduled[i]) + desk.step[i]
        desk.step[i] *= 2
    over = [i for i in raise_at if desk.req[i] > AGENTS_MAX]
    if over:
        desk.plan.why = (f"interval {_when(over[0], plan.interval)} would need more than "
                         f"{AGENTS_MAX:,} agents on the desk at once, the most a shift holds")
        desk.done = True


FLAT_RAISES = 4
"""Raises in a row that leave an interval's service level no better before the plan gives
up on it: the first raises are small, so one or two may not show."""


def _beyond_agents(desk: DeskRoster, raise_at: list[int], achieved: dict[int, float]
                   ) -> bool:
    """Whether an interval's service level stayed put through ``FLAT_RAISES`` raises, each
    at least doubling the step: its tickets are out of the agents' reach (they arrive as the
    shifts covering them end, or leave sooner than the threshold), and doubling the agents
    again only grows the desk towards the shift bound. Says so in the plan."""
    for i in raise_at:
        level = achieved.get(i, math.nan)
        before = desk.raised_at.get(i)
        better = before is None or not (level <= before + 1e-9)
        desk.flat[i] = 0 if better else desk.flat.get(i, 0) + 1
        if better:
            desk.raised_at[i] = level
        if desk.flat[i] >= FLAT_RAISES:
            desk.plan.why = (f"interval {_when(i, desk.plan.interval)} stays at "
                             f"{level:.0%} answered in time through {FLAT_RAISES} raises of "
                             f"its agents: more agents do not reach its tickets (they arrive "
                             f"as the shifts covering the interval end, or leave first)")
            desk.done = True
            return True
    return False


def _when(i: int, interval: float) -> str:
    return f"{i} (from {duration_text(i * interval)})"


def _validate(runner: Runner, trial: Scenario, targets: list[Target], first: int,
              validate: int, which: list[tuple[int | None, DeskRoster]]
              ) -> tuple[list[Judged], int, list[Verdict]]:
    """Judge each desk of ``which`` on fresh replications from ``first`` at each of
    ``looks`` (every desk of ``which`` on the same replications): stop early when
    every one holds for sure. Also the scenario's compliance rules over those replications,
    as ``simlive run`` judges them (Wald's test at the replications taken)."""
    from simlive.sim.replications import summarise

    steps = looks(validate)
    level = 1 - 0.05 / len(steps)
    reps: list[ReplicationResult] = []
    for n in steps:
        reps += runner(trial, first + len(reps), n - len(reps)).replications
        if n < steps[-1] and all(_judged(targets, reps, d, desk, level).sure
                                 for d, desk in which):
            break
    judged = [_judged(targets, reps, d, desk, confident=True) for d, desk in which]
    return judged, len(reps), summarise(trial, reps).verdicts


def plan_roster(s: Scenario, targets: list[Target], roster: RosterFile, runner: Runner,
                replications: int, validate: int, max_iterations: int = 30,
                on_iteration: Callable[[Iteration], None] | None = None) -> RosterPlan:
    """``staffing``'s steps 1 to 4 for the one desk of a scenario without
    ``aftersales.desks`` (``plan_rosters`` with one desk); ``s`` reports the targets'
    service levels."""
    told = None if on_iteration is None else (lambda _name, it: on_iteration(it))
    return plan_rosters(s, targets, roster, runner, replications, validate, max_iterations,
                        told)[0].plan
