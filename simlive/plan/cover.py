"""The least-cost roster covering every interval's requirement: an integer program.

Variables: heads starting on each (template, start) column. Minimise the cost of the heads
subject to, in every interval, the heads on the desk for all of it >= the requirement, and
each template's heads within its min/max. Solved by HiGHS through ``scipy.optimize.milp``
(branch and bound to optimality). The classic second step of workforce planning after
Erlang per interval (Dietz & Vaver); the planner then checks the roster by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.plan.roster_file import Columns, RosterFile


@dataclass(frozen=True)
class Cover:
    heads: np.ndarray  # per column
    cost: float
    uncovered: list[int]  # intervals no column can cover while their requirement is > 0


def solve_cover(requirement: np.ndarray, cols: Columns, roster: RosterFile,
                time_limit: float = 60.0, at_least: np.ndarray | None = None) -> Cover | None:
    """Heads per column at least cost; None when the templates' max heads cannot cover it.

    Intervals that no column covers are left out of the program (reported in ``uncovered``):
    the roster file has no shift there, which the caller reports. ``at_least``: heads per
    column the answer keeps (a roster that only grows).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    req = np.asarray(requirement, dtype=float)
    n = cols.cost.size
    coverable = cols.cover.any(axis=1)
    uncovered = [int(i) for i in np.flatnonzero((req > 0) & ~coverable)]
    rows = np.flatnonzero((req > 0) & coverable)
    constraints = []
    if rows.size:
        constraints.append(LinearConstraint(csr_matrix(cols.cover[rows].astype(float)),
                                            lb=req[rows], ub=np.inf))
    templates = np.asarray(cols.template)
    per_template = np.zeros((len(roster.templates), n))
    per_template[templates, np.arange(n)] = 1.0
    lo = np.array([t.min_heads for t in roster.templates], dtype=float)
    hi = np.array([np.inf if t.max_heads is None else t.max_heads for t in roster.templates])
    constraints.append(LinearConstraint(csr_matrix(per_template), lb=lo, ub=hi))
    # a tiny cost per head-start breaks ties between equally priced rosters toward fewer
    # heads and earlier starts, so the answer does not depend on the solver's path
    tie = 1e-6 * (1 + np.arange(n) / max(n, 1))
    floor = 0 if at_least is None else np.asarray(at_least, dtype=float)
    res = milp(cols.cost + tie, integrality=np.ones(n), bounds=Bounds(floor, np.inf),
               constraints=constraints, options={"time_limit": time_limit, "presolve": True})
    if res.x is None:
        return None
    heads = np.round(res.x).astype(np.int64)
    return Cover(heads, float(cols.cost @ heads), uncovered)

