"""Targets a plan must meet: ``'aftersales.first_reply.p95_s <= 180'``.

A target is ``METRIC OP RIGHT`` where OP is ``<=``, ``<``, ``>=`` or ``>`` and RIGHT is a
number, a metric, or ``NUMBER * METRIC`` (``orders.sold_out_rejections <= 0.1 *
orders.placed``), judged on ``left - right`` per replication (paired): it holds when its
mean meets it (``assess``: one rule for every planner).

``aftersales.service_level(T)`` (any duration T) is the fraction of tickets first answered
within T; followed by ``per interval``, the target must hold in every interval of the
scenario's ``aftersales.service_level.interval`` that had tickets (``--interval`` sets it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simlive.errors import UsageError

if TYPE_CHECKING:
    from simlive.sim.service_levels import IntervalCounts

_METRIC = r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+(?:\([0-9.a-z]+\))?"
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DURATION = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:ms|s|m|min|h|d|w|y)$")
_TARGET = re.compile(rf"^\s*(?P<left>{_METRIC})\s*(?P<op><=|>=|<|>)\s*(?P<right>.+?)"
                     r"(?P<per>\s+per\s+interval)?\s*$")
_LEVEL = re.compile(r"^aftersales\.service_level\((?P<t>[^)]*)\)$")
_RIGHT = re.compile(
    rf"^(?:(?P<num>{_NUMBER})(?:\s*\*\s*(?P<m1>{_METRIC}))?|(?P<m2>{_METRIC}))$")


@dataclass(frozen=True)
class Target:
    text: str
    left: str
    op: str
    factor: float  # right = factor * right_metric, or factor alone when right_metric is None
    right_metric: str | None
    per_interval: bool = False  # must hold in every interval (service levels only)
    within: float | None = None  # the threshold (s) of a service level target

    @property
    def upper(self) -> bool:
        """True when smaller is better (``<=``, ``<``): the CI's upper end must meet it."""
        return self.op in ("<=", "<")

    def metrics(self) -> tuple[str, ...]:
        return (self.left,) if self.right_metric is None else (self.left, self.right_metric)

    def gap(self, values: Mapping[str, float | None]) -> float | None:
        """left - right for one replication; None if a metric is missing."""
        left = values.get(self.left)
        if left is None:
            return None
        if self.right_metric is None:
            return float(left) - self.factor
        right = values.get(self.right_metric)
        return None if right is None else float(left) - self.factor * float(right)

    def limit_text(self) -> str:
        if self.right_metric is None:
            return f"{self.op} {self.factor:g}"
        return f"{self.op} {self.factor:g} * {self.right_metric}"


def parse_target(text: str, known: Iterable[str]) -> Target:
    """Parse one target; a UsageError names the bad part and what would be valid."""
    import difflib

    known = list(known)
    m = _TARGET.match(text)
    if not m:
        raise UsageError(f"--target {text!r}: expected 'METRIC OP VALUE' with OP one of "
                         "<=, <, >=, > (e.g. 'aftersales.first_reply.p95_s <= 180')")
    left, within = m["left"], None
    level = _LEVEL.match(left)
    if level:
        left, within = _service_level(level["t"], text)
    else:
        _known(left, known, text, difflib)
    if m["per"] and within is None:
        raise UsageError(f"--target {text!r}: 'per interval' applies to "
                         "aftersales.service_level(T) targets only")
    right = m["right"]
    share = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*%\s*", right)
    if share:  # 80% for a share
        right = repr(float(share.group(1)) / 100)
    if _DURATION.match(right):  # 180s, 3m, 5d for metrics in seconds
        from simlive.scenario.units import Mismatch, parse_duration

        try:
            right = repr(parse_duration(right))
        except Mismatch:
            pass
    r = _RIGHT.match(right)
    if not r:
        raise UsageError(f"--target {text!r}: the right side {m['right']!r} is not a number, "
                         "a metric, or NUMBER * METRIC")
    metric = r["m1"] or r["m2"]
    if metric is not None:
        _known(metric, known, text, difflib)
    factor = float(r["num"]) if r["num"] is not None else 1.0
    if not math.isfinite(factor):
        raise UsageError(f"--target {text!r}: {r['num']!r} is not a finite number")
    if within is not None and (metric is not None or m["op"] in ("<", "<=")
                               or not 0 < factor <= 1):
        raise UsageError(f"--target {text!r}: a service level target is 'aftersales."
                         "service_level(T) >= FRACTION' with FRACTION in (0, 1], e.g. "
                         "'aftersales.service_level(20s) >= 0.8'")
    return Target(text.strip(), left, m["op"], factor, metric, bool(m["per"]), within)


def _service_level(raw: str, text: str) -> tuple[str, float]:
    """The KPI name and threshold of ``aftersales.service_level(RAW)``."""
    from simlive.scenario.units import Mismatch, parse_duration
    from simlive.sim.service_levels import service_level_name

    try:
        within = parse_duration(raw)
    except Mismatch:
        within = 0.0
    if not 0 < within <= 86400:
        raise UsageError(f"--target {text!r}: aftersales.service_level(T) needs a duration T "
                         f"between 1s and 1d (e.g. 20s), found {raw!r}")
    return service_level_name(within), within


def _known(name: str, known: Sequence[str], text: str, difflib) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(f"--target {text!r}: unknown metric '{name}'{hint}")


@dataclass(frozen=True)
class Assessment:
    target: Target
    mean: float | None  # mean of left - right
    bound: float | None  # the CI end that must meet zero
    met: bool


def assess(target: Target, runs: Sequence[Mapping[str, float | None]],
           level: float = 0.95) -> Assessment:
    """Does the target hold over these replications' metric values: does its mean meet it?

    One rule for every planner (``--vary``, ``--per-shift``, ``--roster``): a target holds
    when its mean over the replications meets it (the expected value, as Erlang C and a
    workforce planner count it), on the search's replications and again on fresh ones.
    Asking the CI's far end to meet it bought certainty with agents (an M/M/c case: 265
    where Erlang C's least is 263). ``bound`` is the CI's far end, for the record.

    A metric that no replication produced (a shift with no chats has no chat p95) does not
    block a plan: there is nothing to fail. A value of infinity (a chat never answered) fails.
    """
    from simlive.judge.stats import mean_ci

    gaps = [g for g in (target.gap(r) for r in runs) if g is not None]
    if not gaps:
        return Assessment(target, None, None, True)
    if not all(math.isfinite(g) for g in gaps):
        bad = math.inf if target.upper else -math.inf
        return Assessment(target, bad, bad, False)
    mean, ci = mean_ci(gaps, level)
    bound = mean if ci is None else (ci[1] if target.upper else ci[0])
    strict = target.op in ("<", ">")
    if target.upper:
        met = mean < 0 if strict else mean <= 0
    else:
        met = mean > 0 if strict else mean >= 0
    return Assessment(target, mean, bound, met)


@dataclass(frozen=True)
class IntervalLevel:
    index: int
    mean: float
    ci95: tuple[float, float] | None
    held: bool  # the mean over the replications meets the target
    sure: bool  # so do the CIs' lower ends over all the intervals judged (Bonferroni)
    missed: bool  # missed with confidence: the interval's CI's upper end is below it


def interval_levels(target: Target, counts: Sequence[IntervalCounts],
                    level: float = 0.95) -> list[IntervalLevel]:
    """A service level target judged in every interval that had tickets in some
    replication, over the replications that had some there.

    An interval holds when its mean service level over the replications meets the target:
    the expected service level, as a workforce planner reads an interval. Asking each
    interval's CI to lie above the target would staff hundreds of intervals for noise (an
    interval with two chats is at 0, 50 or 100 %); letting an interval pass while its CI
    merely reaches the target passed a spike interval at 75 % (its replications vary
    widely). ``sure``: the roster holds in every interval with confidence ``level``, the
    CIs' lower ends at 1 - (1 - level) / m over the m intervals (Bonferroni); a check may
    stop early on it. ``missed``: the interval's own ``level`` CI lies below the target, and
    so does the Clopper-Pearson interval of its tickets pooled over the replications (a
    check on fresh replications fails on that alone: an interval whose true level is at
    the target has its mean below it on half of all samples). The rows report each
    interval's own ``level`` interval."""
    from simlive.judge.sequential import clopper_pearson
    from simlive.judge.stats import mean_ci

    assert target.within is not None, target.text  # a service level target

    def meets(x: float) -> bool:
        return x > target.factor if target.op == ">" else x >= target.factor - 1e-12

    levels = [c.service_level(target.within) for c in counts]
    offered = np.sum([c.offered for c in counts], axis=0)
    answered = np.sum([c.answered[target.within] for c in counts], axis=0)
    judged = np.flatnonzero(offered > 0)
    family = 1 - (1 - level) / max(1, judged.size)
    out = []
    for i in judged:
        values = [float(v[i]) for v in levels if not math.isnan(v[i])]
        mean, ci = mean_ci(values, level)
        wide = mean_ci(values, family)[1]
        if ci is not None:  # a fraction's interval stays within 0 .. 1
            ci = (max(0.0, ci[0]), min(1.0, ci[1]))
        # missed with confidence: by the replications' spread, and by the tickets counted
        # (a t interval over two replications of one chat each says nothing)
        missed = ci is not None and not meets(ci[1]) and not meets(
            clopper_pearson(int(answered[i]), int(offered[i]), level)[1])
        out.append(IntervalLevel(int(i), mean, ci, meets(mean),
                                 meets(mean if wide is None else wide[0]), missed))
    return out
