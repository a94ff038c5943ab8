"""How sure a verdict over replications is: exact intervals and Wald's sequential test.

A broadcast is random, so "does this rule hold?" is a question about a probability: in what
fraction of broadcasts does the rule break? Over ``n`` replications the rule broke in ``k``.
:func:`clopper_pearson` gives the exact (conservative) interval of that fraction;
:class:`Sprt` decides "P(broken) <= risk" against "P(broken) > risk" with stated error
bounds, one replication at a time, as statistical model checking does (Younes & Simmons):
inside an indifference region ``risk - delta .. risk + delta`` either answer is acceptable;
outside it, a wrong ``fail`` happens with probability at most ``alpha`` and a wrong ``pass``
at most ``beta``. Pure functions of counts; scipy.special is imported only for an interval
that needs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval of a binomial proportion (``k`` of ``n``)."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"k(={k}) must be within 0..n(={n}) and n >= 1")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence(={confidence}) must be in (0, 1)")
    tail = (1 - confidence) / 2
    if k in (0, n):
        # Beta(1, n) and Beta(n, 1) have closed-form quantiles: no scipy for the commonest
        # case (a rule that never or always broke, e.g. over a single replication).
        edge = -math.expm1(math.log(tail) / n)  # 1 - tail ** (1 / n)
        return (0.0, edge) if k == 0 else (1 - edge, 1.0)
    # The beta quantile straight from scipy.special: the same numbers as scipy.stats.beta.ppf,
    # without scipy.stats' 0.5 s import.
    from scipy.special import betaincinv

    return (float(betaincinv(k, n - k + 1, tail)), float(betaincinv(k + 1, n - k, 1 - tail)))


@dataclass(frozen=True)
class Sprt:
    """Wald's sequential probability ratio test of P(broken) <= risk.

    Tests H0: p = risk - delta (pass) against H1: p = risk + delta (fail); ``decide`` returns
    ``"pass"``, ``"fail"`` or None (keep going).
    """

    risk: float
    delta: float
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.risk < 1:
            raise ValueError(f"risk(={self.risk}) must be in (0, 1)")
        if not 0 < self.delta or self.risk - self.delta <= 0 or self.risk + self.delta >= 1:
            raise ValueError(f"delta(={self.delta}) must keep risk +- delta(={self.risk}) "
                             "inside (0, 1)")
        for name in ("alpha", "beta"):
            v = getattr(self, name)
            if not 0 < v < 0.5:
                raise ValueError(f"{name}(={v}) must be in (0, 0.5)")

    @property
    def p0(self) -> float:
        return self.risk - self.delta

    @property
    def p1(self) -> float:
        return self.risk + self.delta

    @property
    def steps(self) -> tuple[float, float]:
        """What one replication adds to the log likelihood ratio: broken, not broken."""
        return math.log(self.p1 / self.p0), math.log((1 - self.p1) / (1 - self.p0))

    @property
    def bounds(self) -> tuple[float, float]:
        """The log likelihood ratio's pass boundary (below it) and fail boundary (above)."""
        return math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha)

    def llr(self, k: int, n: int) -> float:
        """log of the likelihood ratio H1 : H0 after ``k`` broken in ``n``."""
        up, down = self.steps
        return k * up + (n - k) * down

    def decide(self, k: int, n: int) -> str | None:
        llr = self.llr(k, n)
        ln_b, ln_a = self.bounds
        if llr >= ln_a:
            return "fail"
        if llr <= ln_b:
            return "pass"
        return None

    def more_needed(self, k: int, n: int) -> int | None:
        """About how many more replications the test would need from here, if the fraction
        broken stayed at k/n (None: it sits in the indifference region)."""
        up, down = self.steps
        p = k / n
        drift = p * up + (1 - p) * down
        if abs(drift) < 1e-9:
            return None
        ln_b, ln_a = self.bounds
        more = math.ceil(((ln_a if drift > 0 else ln_b) - self.llr(k, n)) / drift)
        return max(1, more) if more < 10**7 else None

    def expected_replications(self, p: float) -> float:
        """Wald's average sample number when the true fraction is ``p``: how many
        replications the test likely needs (for "how many more would decide it")."""
        ln_b, ln_a = self.bounds
        up, down = self.steps
        drift = p * up + (1 - p) * down
        if abs(drift) < 1e-12:
            return -ln_a * ln_b / (p * up ** 2 + (1 - p) * down ** 2)
        # the operating characteristic L(p) = P(pass): h != 0 with E[exp(h * step)] = 1
        lo, hi = (1e-9, 200.0) if drift < 0 else (-200.0, -1e-9)
        for _ in range(200):
            h = (lo + hi) / 2
            g = p * math.exp(h * up) + (1 - p) * math.exp(h * down) - 1
            if (g > 0) == (drift < 0):
                hi = h
            else:
                lo = h
        big_a, big_b = math.exp(h * ln_a), math.exp(h * ln_b)
        accept_pass = (big_a - 1) / (big_a - big_b)
        return (accept_pass * ln_b + (1 - accept_pass) * ln_a) / drift
