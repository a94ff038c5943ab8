"""Textbook queueing formulas, written once for the tests that check simlive against them.

These are the closed forms straight from their definitions (factorials, no recursion), an
oracle independent of ``simlive.plan.erlang``'s numerically careful implementation.
"""

from __future__ import annotations

import math


def erlang_c_wait(a: float, c: int) -> float:
    """M/M/c: P(wait > 0) with offered load ``a`` erlangs on ``c`` servers (1 if unstable)."""
    if c <= a:
        return 1.0
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def erlang_c(lam: float, mu: float, c: int) -> dict[str, float]:
    """M/M/c at arrival rate ``lam``, service rate ``mu``: P(wait > 0) (``p_delayed``), the
    mean wait C / (c mu - lam), and nobody abandons."""
    assert lam / mu < c, "unstable"
    p_wait = erlang_c_wait(lam / mu, c)
    return {"p_delayed": p_wait, "wait": p_wait / (c * mu - lam), "abandoned": 0.0}


def p_wait_longer(lam: float, mean_service: float, c: int, t: float) -> float:
    """M/M/c: P(wait > t) = C(c, a) exp(-(c mu - lam) t); 1 when unstable."""
    if c <= lam * mean_service:
        return 1.0
    return erlang_c_wait(lam * mean_service, c) * math.exp(-(c / mean_service - lam) * t)


def service_level(lam: float, mean_service: float, c: int, t: float) -> float:
    """M/M/c: P(wait <= t), the share answered within ``t``."""
    return 1.0 - p_wait_longer(lam, mean_service, c, t)
