"""The after-sales desk against textbook queues: Erlang C (M/M/c) and Erlang A (M/M/c+M).

Consultations arrive as a Poisson stream at a constant rate during the broadcast, handling
and patience are exponential, c agents are on duty for the whole after-sales horizon and no
ticket follows an order. Under FCFS a ticket's wait depends only on the tickets before it, so
the end of the broadcast does not bias anything; the only bias is the empty desk at t=0, made
small by a broadcast of a week or more. The formulas are computed here, from first
principles, not imported from simlive.
"""

from __future__ import annotations

import math

import pytest
from queueing import erlang_c

from simlive.scenario import parse_scenario
from simlive.sim.replications import simulate

SCENARIO = """\
name: textbook-queue
seed: {seed}
duration: {duration}
audience:
  arrivals: [{{at: 0s, rate: 0}}]
products:
  skus: [{{sku: ONLY, price: 1, stock: 1}}]
aftersales:
  consultations: {{rate: {rate}}}
  returns: {{fraction: 0}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 0}}
  agents: [{{from: 0s, to: 400d, agents: {agents}}}]
  handling:
    consultation: {{dist: exponential, mean: {handling}}}
  patience: {patience}
  horizon: 2d
simulation: {{step: 60, desk_engine: {engine}}}
"""


def erlang_a(lam: float, mu: float, c: int, theta: float, n_max: int = 5000) -> dict[str, float]:
    """M/M/c+M from its birth-death chain: birth lam, death min(n,c) mu + max(n-c,0) theta."""
    weights = [1.0]
    for n in range(1, n_max):
        weights.append(weights[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = math.fsum(weights)
    p = [w / total for w in weights]
    assert p[-1] < 1e-300 or p[-1] < 1e-15 * max(p)  # truncated far out
    queue = math.fsum((n - c) * p[n] for n in range(c, n_max))
    return {"p_delayed": math.fsum(p[c:]), "wait": queue / lam,
            "abandoned": theta * queue / lam}


def test_formulas_on_known_values():
    # M/M/1 with rho 0.5: P(wait) = rho, E[Wq] = rho / (mu - lam)
    mm1 = erlang_c(0.5, 1.0, 1)
    assert mm1["p_delayed"] == pytest.approx(0.5)
    assert mm1["wait"] == pytest.approx(1.0)
    # the classic call-centre example: a = 8 Erlangs on 10 agents, C = 0.409
    assert erlang_c(8.0, 1.0, 10)["p_delayed"] == pytest.approx(0.4092, abs=5e-4)
    # Erlang A tends to Erlang C as patience grows
    a = erlang_a(2.4, 1.0, 3, 1e-9)
    c = erlang_c(2.4, 1.0, 3)
    assert a["p_delayed"] == pytest.approx(c["p_delayed"], rel=1e-5)
    assert a["wait"] == pytest.approx(c["wait"], rel=1e-5)
    # with theta = mu, M/M/c+M is M/M/infinity: Poisson(a), E[Q] = sum (n-c) p_n
    lam, c_ = 3.0, 2
    po = [math.exp(-lam) * lam**n / math.factorial(n) for n in range(80)]
    q = sum((n - c_) * po[n] for n in range(c_, 80))
    got = erlang_a(lam, 1.0, c_, 1.0)
    assert got["wait"] == pytest.approx(q / lam)
    assert got["abandoned"] == pytest.approx(q / lam)


CASES = [
    # id, rate, mean handling, agents, patience, theory, duration, replications
    ("mm1", "0.5/min", "1m", 1, "null", erlang_c(0.5, 1.0, 1), "21d", 12),
    ("mm3-rho0.8", "2.4/min", "1m", 3, "null", erlang_c(2.4, 1.0, 3), "21d", 12),
    ("mm5-rho0.9", "9/min", "30s", 5, "null", erlang_c(9.0, 2.0, 5), "14d", 12),
    ("erlang-a", "2.4/min", "1m", 3, "{dist: exponential, mean: 2m}",
     erlang_a(2.4, 1.0, 3, 0.5), "21d", 12),
    ("erlang-a-overloaded", "5/min", "1m", 3, "{dist: exponential, mean: 1m}",
     erlang_a(5.0, 1.0, 3, 1.0), "14d", 12),
]

KPI = {"wait": ("aftersales.wait.mean_s", 60.0),  # theory in minutes, the KPI in seconds
       "p_delayed": ("aftersales.wait.p_delayed", 1.0),
       "abandoned": ("aftersales.abandoned_fraction", 1.0)}


def check(result, theory: dict[str, float]) -> None:
    for key, (name, scale) in KPI.items():
        kpi = result.kpis[name]
        truth = theory[key] * scale
        lo, hi = kpi["ci95"]
        half = (hi - lo) / 2
        if truth == 0.0:
            assert kpi["mean"] == 0.0, name
            continue
        # the run is long enough to tell a wrong model from a right one...
        assert half < 0.06 * truth, (name, kpi)
        # ...and the textbook value lies in the 95 % CI, widened by 25 % for the empty start
        slack = 0.25 * half
        assert lo - slack <= truth <= hi + slack, (name, truth, kpi)


@pytest.mark.parametrize(("rate", "handling", "agents", "patience", "theory", "duration",
                          "reps"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_desk_matches_textbook_queue(rate, handling, agents, patience, theory, duration, reps):
    s = parse_scenario(SCENARIO.format(seed=2024, duration=duration, rate=rate,
                                       handling=handling, agents=agents, patience=patience,
                                       engine="fast"))
    result = simulate(s, reps)
    assert {r.measures.desk.engine for r in result.replications} == {"fast"}
    assert {r.measures.desk.chats for r in result.replications} == \
        {r.measures.desk.tickets for r in result.replications}  # consultations only
    check(result, theory)


def test_simpy_desk_matches_erlang_a():
    """The same check through the SimPy desk, on a shorter run."""
    s = parse_scenario(SCENARIO.format(seed=7, duration="3d", rate="2/min", handling="1m",
                                       agents=3, patience="{dist: exponential, mean: 1m}",
                                       engine="simpy"))
    result = simulate(s, 10)
    assert result.replications[0].measures.desk.engine == "simpy"
    theory = erlang_a(2.0, 1.0, 3, 1.0)
    for key, (name, scale) in KPI.items():
        lo, hi = result.kpis[name]["ci95"]
        slack = 0.25 * (hi - lo) / 2
        assert lo - slack <= theory[key] * scale <= hi + slack, (name, result.kpis[name])


def test_arrival_rate_is_the_scenario_rate():
    s = parse_scenario(SCENARIO.format(seed=3, duration="7d", rate="2.4/min", handling="1m",
                                       agents=3, patience="null", engine="fast"))
    result = simulate(s, 6)
    expected = 2.4 * 7 * 24 * 60
    lo, hi = result.kpis["aftersales.tickets"]["ci95"]
    assert lo - 0.25 * (hi - lo) <= expected <= hi + 0.25 * (hi - lo)
    # utilisation: offered load / agents, over the broadcast; on-duty time runs to the horizon
    util = result.kpis["aftersales.agent_utilization"]["mean"]
    on_duty = 3 * (7 + 2) * 86400  # agents on shift until the end of the horizon
    assert util == pytest.approx(expected * 60 / on_duty, rel=0.02)


def test_warmup_leaves_early_tickets_out_of_the_desk_kpis_not_out_of_the_rules():
    """simulation.warmup: the desk KPIs count tickets from the warm-up on, and agent time
    from then on (here the busy hour is halved while the idle after-sales days stay); the
    rules still judge every ticket."""
    from simlive.sim.engine import run_replication

    text = SCENARIO.format(seed=3, duration="2h", rate="20/min", handling="1m", agents=25,
                           patience="null", engine="fast")
    cold = parse_scenario(text)
    warm = parse_scenario(text.replace("desk_engine: fast}", "desk_engine: fast, warmup: 1h}"))
    a, b = run_replication(cold, 0), run_replication(warm, 0)
    assert a.measures == b.measures  # the same broadcast, judged alike
    every = a.kpis["aftersales.tickets"]
    late = b.kpis["aftersales.tickets"]
    assert every == b.measures.desk.tickets and 0.4 * every < late < 0.6 * every
    # the agents' busy time before the warm-up is left out too (its duty as well)
    assert b.kpis["aftersales.agent_utilization"] < a.kpis["aftersales.agent_utilization"]
    assert a.kpis["orders.placed"] == b.kpis["orders.placed"]


def test_a_warmup_past_the_horizon_is_refused_naming_the_key():
    from simlive.errors import InputFileError

    text = SCENARIO.format(seed=3, duration="2h", rate="20/min", handling="1m", agents=25,
                           patience="null", engine="fast")
    with pytest.raises(InputFileError) as err:
        parse_scenario(text.replace("desk_engine: fast}", "desk_engine: fast, warmup: 3d}"))
    assert ("simulation.warmup: expected a time before the after-sales horizon ends (2d2h: "
            "no ticket would be left for the desk KPIs); found 3d") in str(err.value)
