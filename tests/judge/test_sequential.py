"""Exact intervals and Wald's sequential test: the error bounds checked by simulation on a
Bernoulli 'rule' whose breaking probability is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from simlive.judge.sequential import Sprt, clopper_pearson


@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (7, 250),
                                  (0, 500), (500, 500), (1, 2)])
def test_clopper_pearson_is_the_exact_interval(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    if k == 0:
        assert clopper_pearson(k, n)[1] == pytest.approx(1 - 0.025 ** (1 / n))


def run_trials(test: Sprt, p: float, trials: int, seed: int,
               cap: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """(decision per trial: +1 fail, -1 pass, 0 none within ``cap``; replications used)."""
    rng = np.random.default_rng(seed)
    broke = rng.random((trials, cap)) < p
    k = np.cumsum(broke, axis=1)
    n = np.arange(1, cap + 1)
    llr = k * math.log(test.p1 / test.p0) + (n - k) * math.log((1 - test.p1) / (1 - test.p0))
    fail = llr >= math.log((1 - test.beta) / test.alpha)
    passed = llr <= math.log(test.beta / (1 - test.alpha))
    first_fail = np.where(fail.any(1), fail.argmax(1), cap)
    first_pass = np.where(passed.any(1), passed.argmax(1), cap)
    decision = np.where(first_fail < first_pass, 1, np.where(first_pass < first_fail, -1, 0))
    return decision, np.minimum(first_fail, first_pass) + 1


@pytest.mark.parametrize("risk, alpha, beta", [(0.05, 0.05, 0.05), (0.01, 0.05, 0.1)])
def test_wrong_verdicts_stay_within_alpha_and_beta(risk: float, alpha: float,
                                                   beta: float) -> None:
    test = Sprt(risk, risk / 2, alpha, beta)
    trials = 1500
    # p = risk / 2 is outside the indifference region on the good side: a fail is wrong
    decision, used = run_trials(test, risk / 2, trials, seed=1)
    assert (decision == 0).sum() == 0
    wrong = (decision == 1).mean()
    assert wrong <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials), wrong
    assert used.mean() == pytest.approx(test.expected_replications(risk / 2), rel=0.2)
    # p = 2 risk, outside on the bad side: a pass is wrong
    decision, used = run_trials(test, 2 * risk, trials, seed=2)
    wrong = (decision == -1).mean()
    assert wrong <= beta + 3 * math.sqrt(beta * (1 - beta) / trials), wrong
    assert used.mean() == pytest.approx(test.expected_replications(2 * risk), rel=0.2)


def test_single_replications_decide_nothing_and_bad_parameters_are_named() -> None:
    test = Sprt(0.05, 0.025)
    assert test.decide(0, 1) is None and test.decide(1, 1) is None
    assert test.decide(0, 60) == "pass" and test.decide(5, 20) == "fail"
    with pytest.raises(ValueError, match=r"delta\(=0.06\) must keep risk"):
        Sprt(0.05, 0.06)
    with pytest.raises(ValueError, match=r"alpha\(=0.5\) must be in"):
        Sprt(0.05, 0.02, alpha=0.5)
    with pytest.raises(ValueError, match=r"k\(=3\) must be within 0..n\(=2\)"):
        clopper_pearson(3, 2)
