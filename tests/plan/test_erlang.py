"""Erlang C and A against textbook values and against each other."""

from __future__ import annotations

import math

import pytest
from queueing import erlang_c_wait

from simlive.plan.erlang import erlang_a, erlang_c, erlang_c_figures, least_agents


@pytest.mark.parametrize(("a", "c"), [(2.0, 3), (8.0, 10), (0.5, 1), (19.5, 25), (50, 60)])
def test_erlang_c_matches_the_closed_form(a: float, c: int) -> None:
    assert erlang_c(a / 60, 60.0, c) == pytest.approx(erlang_c_wait(a, c), rel=1e-9)


def test_erlang_c_known_value_and_unstable_queue() -> None:
    # a classic call-centre example: 10 erlangs on 12 agents waits with probability ~0.449
    assert erlang_c(10 / 180, 180.0, 12) == pytest.approx(0.4494, abs=5e-4)
    assert erlang_c(1.0, 5.0, 5) == 1.0
    assert erlang_c_figures(1.0, 5.0, 4).mean_wait == math.inf


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    c_fig = erlang_c_figures(0.1, 60.0, 8)
    a_fig = erlang_a(0.1, 60.0, 8, mean_patience=1e9)
    assert a_fig.p_wait == pytest.approx(c_fig.p_wait, rel=1e-4)
    assert a_fig.mean_wait == pytest.approx(c_fig.mean_wait, rel=1e-3)
    assert a_fig.abandon < 1e-6


def test_erlang_a_is_stable_beyond_capacity_and_abandons() -> None:
    fig = erlang_a(1.0, 60.0, 30, mean_patience=120.0)  # 60 erlangs offered to 30 agents
    assert 0.4 < fig.abandon < 0.6  # about half must leave
    assert fig.p_wait > 0.99
    assert fig.mean_wait == pytest.approx(fig.abandon * 120.0, rel=1e-9)


def test_thousands_of_agents_do_not_overflow() -> None:
    assert 0.0 < erlang_c(3000 / 120, 120.0, 3100) < 0.5
    assert erlang_a(3000 / 120, 120.0, 3000, 300.0).abandon < 0.05


def test_least_agents_finds_the_boundary() -> None:
    rate, s = 2.0, 60.0  # 120 erlangs
    c = least_agents(rate, s, lambda n: erlang_c(rate, s, n) < 0.2)
    assert erlang_c(rate, s, c) < 0.2 <= erlang_c(rate, s, c - 1)


@pytest.mark.parametrize("bad", [(-1.0, 60.0, 3), (1.0, 0.0, 3), (1.0, 60.0, -2)])
def test_bad_arguments_name_the_argument(bad: tuple) -> None:
    with pytest.raises(ValueError, match=r"\(=-?[0-9.]+\) must be"):
        erlang_c(*bad)
