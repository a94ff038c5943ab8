"""Searching for the least value of a parameter that meets every target, by simulation.

Every candidate is simulated with the same replications (the same seeds), so two candidates
differ only by the parameter: common random numbers make the comparison a paired one and the
search is not fooled by noise. The search assumes more of the parameter never hurts (more
agents, more stock): it brackets the answer from a first guess (analytic where one exists),
then bisects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from simlive.judge.stats import summarise_metric
from simlive.plan.erlang import erlang_a, erlang_c_figures, least_agents
from simlive.plan.targets import Assessment, Target, assess
from simlive.plan.vary import Knob
from simlive.scenario.schema import Scenario
from simlive.sim.replications import SimulationResult, simulate
from simlive.sim.workers import Workers


class Runner(Protocol):
    """Simulates a candidate: on the search's replications, or on ``count`` from
    ``first``."""

    replications: int

    def __call__(self, s: Scenario, first: int = 0,
                 count: int | None = None) -> SimulationResult: ...


@dataclass
class Candidate:
    value: int
    values: list[int]  # the whole vector set on the scenario (per shift), for the record
    met: bool
    assessments: list[Assessment]
    metrics: dict[str, dict[str, Any]]
    shift: int | None = None  # the shift being searched, in a per-shift plan

    @property
    def measured(self) -> bool:
        """Some target had a value to judge (no chat in a shift gives no chat p95)."""
        return any(a.mean is not None for a in self.assessments)


@dataclass
class PlanResult:
    knob: str
    targets: list[Target]
    per_shift: bool
    candidates: list[Candidate] = field(default_factory=list)
    answer: int | list[int] | None = None
    shifts: list[dict[str, Any]] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)  # why no plan, when answer is None
    validations: list[dict[str, Any]] = field(default_factory=list)  # checks, in order

    @property
    def validated_on(self) -> tuple[int, int] | None:
        """The fresh replications of the last check: first, count."""
        last = self.validations[-1] if self.validations else None
        return None if last is None else (last["first"], last["replications"])


def _metric_summary(runs: list[dict[str, Any]], names: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        mean, ci = summarise_metric([r.get(name) for r in runs])
        out[name] = {"mean": mean, "ci95": None if ci is None else list(ci)}
    return out


def runs_of(result: SimulationResult, shift: int | None) -> list[dict[str, Any]]:
    """Per-replication metric values: global KPIs, overlaid with one shift's desk KPIs."""
    out = []
    for rep in result.replications:
        values = dict(rep.kpis)
        if shift is not None:
            values.update(rep.by_shift[shift])
        out.append(values)
    return out


class Planner:
    def __init__(self, scenario: Scenario, knob: Knob, targets: list[Target], runner: Runner,
                 low: int, high: int, resolution: int = 1,
                 on_candidate: Callable[[Candidate], None] | None = None) -> None:
        """``on_candidate`` is told of each candidate as it is judged (for progress)."""
        self.resolution = max(1, resolution)
        self.on_candidate = on_candidate
        self.scenario = scenario
        self.knob = knob
        self.targets = targets
        self.runner = runner
        self.replications = runner.replications
        self.low = low
        self.high = high
        self.names = {m for t in targets for m in t.metrics()}

    def _evaluate(self, values: list[int], shift: int | None, log: list[Candidate]) -> Candidate:
        result = self.runner(self.knob.apply(values))
        runs = runs_of(result, shift)
        assessments = [assess(t, runs) for t in self.targets]
        cand = Candidate(values[shift] if shift is not None else values[0], list(values),
                         all(a.met for a in assessments), assessments,
                         _metric_summary(runs, self.names), shift)
        log.append(cand)
        if self.on_candidate is not None:
            self.on_candidate(cand)
        return cand

    def least(self, start: int, make: Callable[[int], list[int]], shift: int | None,
              log: list[Candidate], near: bool = True,
              seen: dict[int, Candidate] | None = None) -> tuple[int | None, Candidate | None]:
        """The least value in [low, high] meeting every target, bracketing from ``start``.

        ``near``: the start is a good guess (analytic), so gallop from steps of one; else the
        first step doubles the value. Bisection stops at ``resolution``. ``seen``: candidates
        already judged, by value.
        """
        seen = {} if seen is None else seen

        def ok(v: int) -> bool:
            if v not in seen:
                seen[v] = self._evaluate(make(v), shift, log)
            return seen[v].met

        v = min(max(start, self.low), self.high)
        step = 1 if near else max(1, v // 2)
        if ok(v):  # gallop down from a first guess that is usually close
            good, bad = v, None
            while bad is None:
                nxt = max(self.low, good - step)
                if nxt == good:
                    return good, seen[good]
                if ok(nxt):
                    good, step = nxt, step * 2
                    if good == self.low:
                        return good, seen[good]
                else:
                    bad = nxt
        else:  # gallop up
            bad, good = v, None
            while good is None:
                nxt = min(self.high, bad + step)
                if nxt == bad:
                    return None, seen[bad]
                if ok(nxt):
                    good = nxt
                else:
                    bad, step = nxt, step * 2
        assert good is not None and bad is not None  # the value is bracketed
        while good - bad > self.resolution:
            mid = (good + bad) // 2
            if ok(mid):
                good = mid
            else:
                bad = mid
        return good, seen[good]


def analytic_agents(targets: list[Target], lam: float, handling: float,
                    patience: float | None, tickets: float) -> int | None:
    """Erlang C / A first guess for one interval; None when no target maps to a formula."""
    if lam <= 0 or handling <= 0:
        return 0
    guesses = []
    for t in targets:
        if t.within is not None:  # a service level: Erlang C's P(wait <= T)
            from simlive.plan.desk_staffing import erlang_c_slots

            guesses.append(erlang_c_slots(lam, handling, t.within, t.factor))
            continue
        if not t.upper or t.right_metric is not None:
            continue
        limit = t.factor
        ok: Callable[[int], bool]
        if t.left == "aftersales.first_reply.p95_s" or t.left == "aftersales.first_reply.max_s":
            share = 0.05 if t.left.endswith("p95_s") else 1.0 / max(tickets, 1.0)

            def waits_longer_rarely(c: int, limit: float = limit, share: float = share) -> bool:
                fig = erlang_c_figures(lam, handling, c)
                return fig.mean_wait != float("inf") and \
                    fig.p_wait_longer(limit, lam, handling, c) <= share
            ok = waits_longer_rarely
        elif t.left in ("aftersales.wait.mean_s", "aftersales.wait.p_delayed",
                        "aftersales.abandoned_fraction"):
            key = {"aftersales.wait.mean_s": "mean_wait", "aftersales.wait.p_delayed": "p_wait",
                   "aftersales.abandoned_fraction": "abandon"}[t.left]

            def figure_within(c: int, limit: float = limit, key: str = key) -> bool:
                fig = (erlang_a(lam, handling, c, patience) if patience else
                       erlang_c_figures(lam, handling, c))
                return getattr(fig, key) <= limit
            ok = figure_within
        else:
            continue
        guesses.append(least_agents(lam, handling, ok))
    return max(guesses) if guesses else None


def plan_scalar(planner: Planner, validate: int = 20, max_iterations: int = 30) -> PlanResult:
    """The least value whose mean meets every target on the search's replications, then
    checked on ``validate`` fresh ones by the same rule (``assess``): a target missed there
    raises the value (by the resolution, then doubling) and checks it on fresh ones
    again, up to ``max_iterations`` times."""
    knob = planner.knob
    result = PlanResult(knob.path, planner.targets, per_shift=False)
    start, near = knob.base_value, False
    if knob.path == "aftersales.agents":
        guess = [g for g in _agents_guess(planner) or [] if g is not None]
        if guess:
            start, near = max(guess), True
    answer, cand = planner.least(start, lambda v: [v] * len(knob.targets), None,
                                 result.candidates, near)
    result.answer = answer
    if answer is None and cand is not None:
        result.unmet = [a.target.text for a in cand.assessments if not a.met]
    result.candidates.sort(key=lambda c: c.value)
    if answer is not None and validate:
        result.answer = _validate_scalar(planner, result, answer, validate, max_iterations)
    return result


def _validate_scalar(planner: Planner, result: PlanResult, value: int, validate: int,
                     max_iterations: int) -> int | None:
    """``value`` checked on fresh replications, raised while a target misses there; None
    (and ``result.unmet``) when it still misses."""
    n = len(planner.knob.targets)
    step = planner.resolution  # an answer at the target misses half its checks: small steps
    first = planner.replications
    bad: list[str] = []
    for _ in range(max_iterations):
        fresh = planner.runner(planner.knob.apply([value] * n), first, validate)
        runs = runs_of(fresh, None)
        bad = [a.target.text for a in (assess(t, runs)
                                       for t in planner.targets) if not a.met]
        result.validations.append({"first": first, "replications": validate,
                                   "value": value, "missed": bad})
        first += validate
        if not bad:
            return value
        if value >= planner.high:
            break
        value = min(planner.high, value + step)
        step *= 2
    result.unmet = [f"{t} on fresh replications" for t in bad]
    return None


PASSES = 6  # rounds over the shifts before a per-shift plan gives up settling


def plan_per_shift(planner: Planner, validate: int = 20, max_iterations: int = 30,
                   rounds: int = PASSES) -> PlanResult:
    """The least agents of each shift, decided jointly, then checked on fresh replications.

    A backlog left by one shift is answered by the next, so each shift's KPIs depend on its
    neighbours' agents. The shifts are sized in time order, then again, each against the
    others' latest values, until a round changes none (every shift's least value was then
    judged with the final vector). The answer is simulated on ``validate`` replications the
    search never used; a shift that misses there gets more agents (5 %, at least one, then
    doubling) and is checked on fresh ones again, up to ``max_iterations`` times.
    """
    knob = planner.knob
    result = PlanResult(knob.path, planner.targets, per_shift=True)
    shifts = planner.scenario.aftersales.agents
    guess = _agents_guess(planner) or [None] * len(shifts)
    current = [g if g is not None else sh.agents for g, sh in zip(guess, shifts, strict=True)]
    order = sorted(range(len(shifts)), key=lambda i: shifts[i].start)
    notes: list[str] = [""] * len(shifts)
    kept = set()  # shifts no target measures
    settled = False
    for round_ in range(1, rounds + 1):
        changed = False
        for k in order:
            if k in kept:
                continue
            answer = _least_for_shift(planner, result, current, k, guess[k] is not None
                                      or round_ > 1)
            if answer is None:
                if not result.candidates[-1].measured:
                    # no target measures anything in this shift (e.g. chat targets after the
                    # broadcast): nothing to size it by, so it stays as the scenario has it
                    kept.add(k)
                    current[k] = shifts[k].agents
                    notes[k] = "no target measures this shift; kept as in the scenario"
                    continue
                result.unmet = [f"shift {k} ({a.target.text})"
                                for a in result.candidates[-1].assessments if not a.met]
                _shift_rows(result, shifts, guess, [None] * len(shifts), notes)
                return result
            changed |= answer != current[k]
            current[k] = answer
        if not changed or rounds == 1:  # one round: the old greedy plan (for comparison)
            settled = True
            break
    if not settled:
        result.unmet = [f"the shifts did not settle in {rounds} rounds (each shift's least "
                        "agents kept changing with its neighbours')"]
        _shift_rows(result, shifts, guess, [None] * len(shifts), notes)
        return result
    measured = [k for k in order if k not in kept]
    _validate(planner, result, current, measured, validate, max_iterations)
    _shift_rows(result, shifts, guess, current, notes)
    result.answer = None if result.unmet else [int(a) for a in current]
    return result


def _least_for_shift(planner: Planner, result: PlanResult, current: list[int], k: int,
                     near: bool) -> int | None:
    """Shift ``k``'s least agents with the others at ``current`` (None: none in range, or
    the shift has nothing to measure: see the last candidate)."""
    def make(v: int) -> list[int]:
        vec = list(current)
        vec[k] = v
        return vec

    start = min(max(current[k], planner.low), planner.high)
    probe = planner._evaluate(make(start), k, result.candidates)
    if not probe.measured:
        return None
    answer, _ = planner.least(start, make, k, result.candidates, near=near,
                              seen={start: probe})
    return answer


def _validate(planner: Planner, result: PlanResult, current: list[int], measured: list[int],
              validate: int, max_iterations: int) -> None:
    """Check ``current`` on fresh replications, raising the shifts that miss there."""
    step = {k: max(1, math.ceil(0.05 * current[k])) for k in measured}
    first = planner.replications
    for _ in range(max_iterations):
        fresh = planner.runner(planner.knob.apply(current), first, validate)
        missed = {}
        for k in measured:
            runs = runs_of(fresh, k)
            bad = [a.target.text for a in (assess(t, runs)
                                           for t in planner.targets) if not a.met]
            if bad:
                missed[k] = bad
        result.validations.append({"first": first, "replications": validate,
                                   "agents": list(current),
                                   "missed": {str(k): v for k, v in missed.items()}})
        first += validate
        if not missed:
            return
        for k in missed:
            current[k] = min(planner.high, current[k] + step[k])
            step[k] *= 2
    result.unmet = [f"shift {k} on fresh replications ({t})"
                    for k, texts in missed.items() for t in texts]


def _shift_rows(result: PlanResult, shifts: list, guess: Sequence[int | None],
                answers: Sequence[int | None], notes: list[str]) -> None:
    for k, sh in enumerate(shifts):
        result.shifts.append({"shift": k, "from_s": sh.start, "to_s": sh.end,
                              "scenario": sh.agents, "analytic": guess[k],
                              "simulated": answers[k], "note": notes[k]})


def _agents_guess(planner: Planner) -> list[int | None] | None:
    """Per-shift Erlang guesses from the ticket rates a baseline simulation produces: each
    shift must hold its busiest interval (of ``aftersales.service_level.interval``), the
    rate being the tickets that arrive in that interval over its length (not the shift's
    length, which dilutes a 2 h broadcast's chats over a 30-day shift)."""
    base = planner.runner(planner.scenario)
    rep = base.replications[0]
    patience = planner.scenario.aftersales.patience
    counts = rep.interval_counts()
    out: list[int | None] = []
    for sh, stats in zip(planner.scenario.aftersales.agents, rep.by_shift, strict=True):
        mostly_chat = (stats.get("chat.fraction") or 0.0) >= 0.5
        first = int(sh.start // counts.length)
        last = min(int(np.ceil(sh.end / counts.length)), counts.offered.size)
        guesses = []
        for i in range(first, last):
            offered = float(counts.offered[i])
            if offered <= 0:
                continue
            guesses.append(analytic_agents(
                planner.targets, offered / counts.length, float(counts.work[i]) / offered,
                patience.mean_value if (patience and mostly_chat) else None, offered))
        known = [g for g in guesses if g is not None]
        out.append(max(known) if known else (0 if not guesses else None))
    return out


def make_runner(replications: int, workers: Workers) -> Runner:
    """Simulate a candidate on ``workers`` (opened with ``cached``: orders and tickets are
    simulated once per replication and reused while only the agents change)."""
    return _Runner(replications, workers)


class _Runner:
    def __init__(self, replications: int, workers: Workers) -> None:
        self.replications, self.workers = replications, workers

    def __call__(self, s: Scenario, first: int = 0,
                 count: int | None = None) -> SimulationResult:
        return simulate(s, count or self.replications, first=first, workers=self.workers)
