"""Erlang C and Erlang A: the analytic first guess for how many agents a queue needs.

The planner starts its simulation search from these, interval by interval, using the arrival
rates the scenario implies. Erlang C assumes customers wait forever; Erlang A (Palm's M/M/c+M)
adds exponential patience, which is what live chat looks like. Both are computed in a
numerically stable way (log-space Poisson terms; the birth-death chain for Erlang A) so they
hold for the thousands of agents of a Double 11 desk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _check(rate: float, mean_service: float, agents: int) -> None:
    if rate < 0:
        raise ValueError(f"rate(={rate}) must be >= 0")
    if mean_service <= 0:
        raise ValueError(f"mean_service(={mean_service}) must be > 0")
    if agents < 0:
        raise ValueError(f"agents(={agents}) must be >= 0")


def erlang_c(rate: float, mean_service: float, agents: int) -> float:
    """P(wait > 0) in an M/M/c queue; 1.0 when the queue is unstable (load >= agents)."""
    _check(rate, mean_service, agents)
    a = rate * mean_service
    if a == 0:
        return 0.0
    if agents <= a:
        return 1.0
    # Erlang B by the stable recursion, then C from B
    b = 1.0
    for k in range(1, agents + 1):
        b = a * b / (k + a * b)
    rho = a / agents
    return b / (1 - rho + rho * b)


@dataclass(frozen=True)
class QueueFigures:
    p_wait: float  # P(an arriving customer waits at all)
    mean_wait: float  # mean time in queue (seconds), over all customers
    abandon: float  # fraction who leave before service (0 for Erlang C)

    def p_wait_longer(self, t: float, rate: float, mean_service: float,
                      agents: int) -> float:
        """P(wait > t) for Erlang C: P(wait > 0) * exp(-(c mu - lambda) t)."""
        mu = 1.0 / mean_service
        return self.p_wait * math.exp(-(agents * mu - rate) * t)


def erlang_c_figures(rate: float, mean_service: float, agents: int) -> QueueFigures:
    pw = erlang_c(rate, mean_service, agents)
    mu = 1.0 / mean_service
    if pw >= 1.0 and agents * mu <= rate:
        return QueueFigures(1.0, math.inf, 0.0)
    wait = pw / (agents * mu - rate) if rate else 0.0
    return QueueFigures(pw, wait, 0.0)


def erlang_a(rate: float, mean_service: float, agents: int, mean_patience: float,
             tail: float = 1e-12) -> QueueFigures:
    """M/M/c+M by its birth-death chain (always stable), truncated where mass < ``tail``.

    States n = customers present; birth rate lambda, death min(n, c) mu + max(n - c, 0) theta.
    PASTA gives P(wait > 0) = P(N >= c); Little gives mean wait = E[Q] / lambda and the
    abandonment fraction = theta E[Q] / lambda.
    """
    _check(rate, mean_service, agents)
    if mean_patience <= 0:
        raise ValueError(f"mean_patience(={mean_patience}) must be > 0")
    if rate == 0:
        return QueueFigures(0.0, 0.0, 0.0)
    mu, theta = 1.0 / mean_service, 1.0 / mean_patience
    logp = [0.0]
    n = 0
    while True:
        death = min(n + 1, agents) * mu + max(n + 1 - agents, 0) * theta
        logp.append(logp[-1] + math.log(rate) - math.log(death))
        n += 1
        if n > agents and logp[-1] - max(logp) < math.log(tail) and death > rate:
            break
        if n > 10_000_000:  # pragma: no cover - guards a nonsensical input
            raise ValueError("erlang_a: chain did not converge")
    top = max(logp)
    w = [math.exp(v - top) for v in logp]
    z = math.fsum(w)
    p_wait = math.fsum(w[agents:]) / z
    eq = math.fsum((k - agents) * w[k] for k in range(agents + 1, len(w))) / z
    return QueueFigures(p_wait, eq / rate, theta * eq / rate)


def least_agents(rate: float, mean_service: float, ok, start: int = 0,
                 limit: int = 1_000_000) -> int:
    """The least c >= start with ok(c) true, assuming ok is monotone in c (more agents help)."""
    lo = max(start, 0)
    hi = max(lo, int(math.ceil(rate * mean_service)) + 1)
    while not ok(hi):
        hi *= 2
        if hi > limit:
            raise ValueError(f"no agent count up to {limit} meets the target")
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
