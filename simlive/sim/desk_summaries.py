"""Each desk over the replications: its KPIs with their intervals and its own verdict on
every after-sales rule (``desks`` in the run's JSON).

A desk's verdicts are judged like the whole's (the same judges, over the desk's own
tickets, the same risk): by the exact interval over a fixed number of replications, by
Wald's test under ``--until-decided`` (which runs until every desk's rules are decided too).
They are reported beside the rules, not among them: the run's status is the whole's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simlive.judge.odds import Confidence, rule_verdict
from simlive.judge.rulebook import DESK_RULES, desk_key, desk_measures
from simlive.judge.stats import rounded, summarise_metric
from simlive.rules import overall
from simlive.scenario.desks import route
from simlive.scenario.schema import Scenario
from simlive.sim.engine import KPI_UNITS, ReplicationResult
from simlive.sim.per_desk import DESK_KPIS
from simlive.sim.service_levels import SERVICE_LEVEL


def desk_summaries(s: Scenario, reps: list[ReplicationResult], params: dict[str, dict],
                   conf: Confidence,
                   stops: Mapping[str, tuple[int, str | None]] | None = None
                   ) -> list[dict[str, Any]]:
    if not s.aftersales.desks or not reps or not reps[0].desks:
        return []
    from simlive.scenario.catalogue import build_catalogue
    from simlive.scenario.desks import all_settings

    routing = route(s, build_catalogue(s).skus)
    settings = all_settings(s, routing)
    out = []
    for d, spec in enumerate(settings):
        rows = [r.desks[d] for r in reps]
        names = [*DESK_KPIS, *(k for k in rows[0].kpis if k.startswith(SERVICE_LEVEL))]
        kpis: dict[str, Any] = {}
        for name in names:
            unit = KPI_UNITS.get(name, "fraction")
            mean, ci = summarise_metric([row.kpis.get(name) for row in rows])
            if mean is None or not math.isfinite(mean):
                kpis[name] = {"mean": mean, "unit": unit, "ci95": None}
                continue
            kpis[name] = {"mean": rounded(mean), "unit": unit,
                          "ci95": None if ci is None else [rounded(ci[0]), rounded(ci[1])]}
        ms = [desk_measures(r.measures, d) for r in reps]
        verdicts = [rule_verdict(rid, ms, params[rid], conf, None, None if stops is None
                                 else stops.get(desk_key(d, rid), (len(ms), None)))
                    for rid in DESK_RULES]
        out.append({
            "name": spec.name,
            "skus": routing.sku_counts[d],
            "agents": [{"from_s": sh.start, "to_s": sh.end, "agents": sh.agents}
                       for sh in spec.agents],
            "status": overall(verdicts).value,
            "kpis": kpis,
            "rules": [v.to_dict() for v in verdicts],
        })
    return out

