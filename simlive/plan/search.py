"""Searching for the least value of a parameter that meets every target, by simulation.

Every candidate is simulated with the same replications (the same seeds), so two candidates
differ only by the parameter: common random numbers make the comparison a paired one and the
search is not fooled by noise. The search assumes more of the parameter never hurts (more
agents, more stock): it brackets the answer from a first guess (analytic where one exists),
then bisects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlive.plan.erlang import erlang_a, erlang_c_figures, least_agents
from simlive.plan.targets import Assessment, Target, assess
from simlive.plan.vary import Knob
from simlive.scenario.schema import Scenario
from simlive.sim.replications import SimulationResult, simulate
from simlive.sim.stats import summarise_metric

Runner = Callable[[Scenario], SimulationResult]


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
            from simlive.plan.staffing import erlang_c_slots

            guesses.append(erlang_c_slots(lam, handling, t.within, t.factor))
            continue
        if not t.upper or t.right_metric is not None:
            continue
        limit = t.factor
        if t.left == "aftersales.first_reply.p95_s" or t.left == "aftersales.first_reply.max_s":
            share = 0.05 if t.left.endswith("p95_s") else 1.0 / max(tickets, 1.0)

            def ok(c: int, limit: float = limit, share: float = share) -> bool:
                fig = erlang_c_figures(lam, handling, c)
                return fig.mean_wait != float("inf") and \
                    fig.p_wait_longer(limit, lam, handling, c) <= share
        elif t.left in ("aftersales.wait.mean_s", "aftersales.wait.p_delayed",
                        "aftersales.abandoned_fraction"):
            key = {"aftersales.wait.mean_s": "mean_wait", "aftersales.wait.p_delayed": "p_wait",
                   "aftersales.abandoned_fraction": "abandon"}[t.left]

            def ok(c: int, limit: float = limit, key: str = key) -> bool:
                fig = (erlang_a(lam, handling, c, patience) if patience else
                       erlang_c_figures(lam, handling, c))
                return getattr(fig, key) <= limit
        else:
            continue
        guesses.append(least_agents(lam, handling, ok))
    return max(guesses) if guesses else None


def plan_scalar(planner: Planner) -> PlanResult:
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
    return result


def plan_per_shift(planner: Planner) -> PlanResult:
    knob = planner.knob
    result = PlanResult(knob.path, planner.targets, per_shift=True)
    shifts = planner.scenario.aftersales.agents
    guess = _agents_guess(planner) or [None] * len(shifts)
    current = [g if g is not None else sh.agents for g, sh in zip(guess, shifts, strict=True)]
    order = sorted(range(len(shifts)), key=lambda i: shifts[i].start)
    answers: list[int | None] = [None] * len(shifts)
    notes: list[str] = [""] * len(shifts)
    for k in order:
        def make(v: int, k: int = k) -> list[int]:
            vec = list(current)
            vec[k] = v
            return vec

        start = min(max(current[k], planner.low), planner.high)
        probe = planner._evaluate(make(start), k, result.candidates)
        if not probe.measured:
            # no target measures anything in this shift (e.g. chat targets after the
            # broadcast): nothing to size it by, so it stays as the scenario has it
            answers[k] = current[k] = shifts[k].agents
            notes[k] = "no target measures this shift; kept as in the scenario"
            continue
        answer, cand = planner.least(start, make, k, result.candidates,
                                     near=guess[k] is not None, seen={start: probe})
        answers[k] = answer
        if answer is None:
            result.unmet += [f"shift {k} ({a.target.text})" for a in
                             (cand.assessments if cand else []) if not a.met]
            break
        current[k] = answer
    for k, sh in enumerate(shifts):
        result.shifts.append({"shift": k, "from_s": sh.start, "to_s": sh.end,
                              "scenario": sh.agents, "analytic": guess[k],
                              "simulated": answers[k], "note": notes[k]})
    result.answer = None if any(a is None for a in answers) else [int(a) for a in answers]
    return result


def _agents_guess(planner: Planner) -> list[int | None] | None:
    """Per-shift Erlang guesses from the ticket rates a baseline simulation produces: each
    shift must hold its busiest interval (of ``aftersales.service_level.interval``), the
    rate being the tickets that arrive in that interval over its length (not the shift's
    length, which dilutes a 2 h broadcast's chats over a 30-day shift)."""
    base = planner.runner(planner.scenario)
    rep = base.replications[0]
    patience = planner.scenario.aftersales.patience
    counts = rep.intervals
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


def make_runner(replications: int, jobs: int) -> Runner:
    """Simulate a candidate. In one process, orders and tickets are simulated once per
    replication and reused while only the agents change (they cannot depend on them)."""
    cache: dict = {}

    def run(s: Scenario) -> SimulationResult:
        return simulate(s, replications, jobs, cache=cache if jobs == 1 else None)

    return run
