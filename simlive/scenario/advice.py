"""Warnings for a scenario that is valid but probably not what its author meant.

``validate`` prints them on stderr and still exits 0: a desk off duty while tickets can come
is a legal scenario (a merchant may plan it), but a first scenario that inherits returns,
refunds and complaints for 30 days with agents for 2 hours is usually a mistake the verdicts
would only show after minutes of simulation.
"""

from __future__ import annotations

from simlive.rules import rule_params
from simlive.scenario.estimate import Estimate, estimate
from simlive.scenario.schema import Scenario
from simlive.scenario.units import duration_text

OVERLOAD = 2.0
"""Offered work past this many times the agents' hours is called far past what they handle."""


def _on_duty(shifts: list[tuple[float, float, int]]) -> list[tuple[float, float]]:
    """The spans with at least one agent on, merged."""
    out: list[tuple[float, float]] = []
    for a, b in sorted((a, b) for a, b, n in shifts if n > 0 and b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _gaps(spans: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts of ``lo .. hi`` no span covers."""
    out, at = [], lo
    for a, b in spans:
        if b <= at:
            continue
        if a > at:
            out.append((at, min(a, hi)))
        at = max(at, b)
        if at >= hi:
            break
    if at < hi:
        out.append((at, hi))
    return [(a, b) for a, b in out if b > a]


def _windows(s: Scenario, est: Estimate) -> list[tuple[str, float, float, bool]]:
    """When tickets can arrive, and whether only the pooled desk takes them: live chats
    while the broadcast runs (no SKU: the pooled desk), requests after paid orders until
    the after-sales horizon ends (each SKU's desk)."""
    a = s.aftersales
    out = []
    if a.consultations.rate > 0 or a.consultations.per_viewer > 0:
        out.append(("live chats", 0.0, s.duration, True))
    fractions = (a.returns.fraction + a.replacements.fraction + a.refunds.fraction
                 + a.complaints.fraction + sum(k.return_rate or 0 for k in s.products.skus))
    if est.orders > 0 and fractions > 0:
        out.append(("returns, refunds and complaints", 0.0, s.duration + a.horizon, False))
    return out


def advisories(s: Scenario) -> list[str]:
    """What a person should look at before trusting this scenario's verdicts: a stretch
    where tickets come and nobody is on duty (live chats at any moment of the broadcast;
    requests after orders once the desk has started, when it stops before the after-sales
    horizon ends or is off longer than the latest first reply the rule allows), and work
    far past the agents."""
    est = estimate(s)
    a = s.aftersales
    longest = rule_params(s.rule_overrides())["aftersales.first-reply"]["max_reply"]
    pooled = ("the desk (aftersales.agents)", [(x.start, x.end, x.agents) for x in a.agents])
    desks = [(f"desk {d.name} (aftersales.desks)", [(x.start, x.end, x.agents)
                                                    for x in d.agents]) for d in a.desks]
    out = []
    for what, lo, hi, pooled_only in _windows(s, est):
        for name, shifts in [pooled] + ([] if pooled_only else desks):
            duty = _on_duty(shifts)
            # requests: a desk that starts late is planned (a presale ships days later);
            # one that stops before the horizon, or is off longer than a reply may wait, not
            gaps = [(g0, g1) for g0, g1 in _gaps(duty, lo, hi)
                    if pooled_only or (duty and g0 >= duty[0][0]
                                       and (g1 >= hi or g1 - g0 > longest))
                    or not duty]
            if gaps:
                spans = ", ".join(f"{duration_text(g0)} to {duration_text(g1)}"
                                  for g0, g1 in gaps[:3]) + (
                    f" and {len(gaps) - 3} more" if len(gaps) > 3 else "")
                out.append(f"{what} can arrive from {duration_text(lo)} to {duration_text(hi)}"
                           f" but {name} has nobody on duty {spans}: those tickets wait "
                           "unanswered (aftersales.first-reply); set the fractions to 0 for "
                           "requests you do not model, or add shifts")
    end = s.duration + a.horizon
    supply = sum(max(0.0, min(x.end, end) - x.start) * x.agents for x in a.agents) \
        * (1 - a.shrinkage) * a.chat_concurrency / a.stretch
    chats = a.consultations.rate * s.duration + a.consultations.per_viewer * est.viewers \
        * s.audience.dwell.mean_value
    work = chats * a.handling["consultation"].mean_value + max(0.0, est.tickets - chats) \
        * max(a.handling[k].mean_value for k in ("return", "replacement", "refund",
                                                 "complaint"))
    if not a.desks and work > OVERLOAD * supply:
        out.append(f"about {est.tickets:,.0f} tickets bring {work / 3600:,.0f} agent-hours of "
                   f"handling, {work / max(supply, 1e-9):,.1f} x the {supply / 3600:,.0f} "
                   "agent-hours on duty (after shrinkage, with chat concurrency): most will "
                   "wait or leave; check the rates' units (0.02/h, not 0.02) and the shifts")
    return out
