"""Distributions a scenario can name: ``{dist: exponential, mean: 30s}`` and friends.

Each is a pydantic model with a ``sample(rng, n)`` that draws ``n`` values with a numpy
``Generator`` passed in (never a global one) and a ``mean`` for the analytic planner.
Lognormal and gamma take a mean and a standard deviation, which is what people measure,
rather than the textbook shape parameters.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simlive.scenario.units import Mismatch, Number, Seconds, durations

CV_MAX = 1000.0
"""sd / mean at most: a gamma's shape (mean / sd)^2 then stays above 1e-6."""
CV_MIN = 1e-6
"""sd / mean at least: a gamma's shape stays below 1e12; a constant is ``dist: fixed``."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean_value(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: Seconds = Field(gt=0)

    @property
    def mean_value(self) -> float:
        return self.mean

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)


class _MeanSd(_Dist):
    mean: Seconds = Field(gt=0)
    sd: Seconds = Field(gt=0)

    @model_validator(mode="after")
    def _spread(self) -> _MeanSd:
        cv = self.sd / self.mean
        if cv > CV_MAX:
            raise Mismatch(f"sd at most {CV_MAX:g} x the mean ({durations([self.mean])})",
                           f"sd {durations([self.sd])}", as_is=True)
        if cv < CV_MIN:
            raise Mismatch(f"sd at least the mean ({durations([self.mean])}) / "
                           f"{1 / CV_MIN:,.0f}; for a constant use dist: fixed",
                           f"sd {durations([self.sd])}", as_is=True)
        return self

    @property
    def mean_value(self) -> float:
        return self.mean


class Lognormal(_MeanSd):
    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class Gamma(_MeanSd):
    dist: Literal["gamma"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.mean / shape, n)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Seconds
    high: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise Mismatch(f"high >= low (low is {durations([self.low])})",
                           f"high {durations([self.high])}", as_is=True)
        return self

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: Seconds

    @property
    def mean_value(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=float)


class Empirical(_Dist):
    """Resampling observed values, optionally weighted (e.g. from last year's logs)."""

    dist: Literal["empirical"]
    values: list[Seconds] = Field(min_length=1)
    weights: list[Annotated[Number, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise Mismatch(
                    f"as many weights as values ({len(self.values)})",
                    f"{len(self.weights)} weights",
                )
            if sum(self.weights) <= 0:
                raise Mismatch("non-negative weights with a positive sum", self.weights)
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        w = w / w.max()  # huge weights would sum to inf
        return w / w.sum()

    @property
    def mean_value(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Uniform | Fixed | Empirical,
    Field(discriminator="dist"),
]

