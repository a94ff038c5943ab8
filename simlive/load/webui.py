"""A "Compliance" tab in Locust's web UI, through Locust's own extension points.

The tab is one of the web UI's extended tabs (``extended_tabs`` / ``extended_tables`` in its
template arguments); its rows ride along Locust's ``/stats/requests`` poll as
``extended_stats``. While a swarm runs, the rows are the operations recorded so far per kind
and outcome (workers send their counts with their stats reports) and each rule's provisional
state: what it needs, how much of that has been recorded, or why it will be unknown. When
the swarm stops, the rows are the verdicts with their evidence, the thresholds, and where
the run's report.html is (served at ``/simlive/report``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simlive.check.needs import NEEDS
from simlive.rules import RULE_IDS

TAB = "simlive"
COLUMNS = [{"key": "item", "title": "Rule / operation"}, {"key": "status", "title": "Status"},
           {"key": "detail", "title": "Measured / evidence"}]


class ComplianceTab:
    """The tab's state on the master (or the local runner)."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}  # from workers, added up
        self.worker_counts: dict[str, dict[str, dict[str, int]]] = {}  # each worker's latest
        self.result: Any = None  # the last run's LoadResult
        self.run: Any = None

    def merge(self, counts: dict[str, dict[str, int]]) -> None:
        for f, per in counts.items():
            mine = self.counts.setdefault(f, {})
            for typ, n in per.items():
                mine[typ] = mine.get(typ, 0) + n

    def rows(self, environment: Any) -> list[dict[str, str]]:
        if self.result is not None:
            return self._verdict_rows()
        ctx = getattr(environment, "simlive", None)
        counts = dict(self.counts)
        if ctx is not None:  # the local runner records in this process
            counts = ctx.recorder.counts
        run = getattr(environment, "simlive_current", None) or self.run
        rows = [{"item": f"operation {f}", "status": "recorded",
                 "detail": " · ".join(f"{k} {v}" for k, v in sorted(per.items()))}
                for f, per in sorted(counts.items())]
        unsupported = set(run.target.unsupported) if run is not None else set()
        for rid in RULE_IDS:
            need = NEEDS[rid]
            lacking = [o for o in need.ops if o in unsupported]
            if lacking:
                rows.append({"item": rid, "status": "will be unknown",
                             "detail": f"the target does not support {', '.join(lacking)}"})
                continue
            seen = sum(sum(counts.get(o, {}).values()) for o in need.ops)
            rows.append({"item": rid, "status": "pending",
                         "detail": f"decided when the test stops; {seen} operation(s) of "
                                   f"{', '.join(need.ops) or 'the final state'} recorded"})
        return rows

    def _verdict_rows(self) -> list[dict[str, str]]:
        from simlive.report.tables import compact

        res = self.result
        rows = [{"item": v.rule_id, "status": v.status.value,
                 "detail": f"{compact(v.measured)} — {v.evidence}"} for v in res.verdicts]
        rows += [{"item": f"threshold {t.name}", "status": "pass" if t.passed else "fail",
                  "detail": f"measured {t.measured}, limit {t.limit:g}"}
                 for t in res.thresholds]
        for r in getattr(res, "flash_sales", []):
            s = r.spread_ms
            spread = (f"send spread p50/p99/max {s['p50']:.0f}/{s['p99']:.0f}/{s['max']:.0f} ms"
                      if s else "nothing sent")
            answers = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
            rows.append({"item": f"flash sale {r.index + 1} ({r.sku})",
                         "status": "contended" if r.contended else "not contended",
                         "detail": f"{r.released} of {r.planned} buyers released on "
                                   f"{r.units or 'its'} unit(s); {spread}; {r.max_in_flight} "
                                   f"in flight at once; answers: {answers or '-'}"})
        rows += [{"item": "warning", "status": "generator", "detail": w} for w in res.notes]
        rows.append({"item": "report", "status": f"run {self.run.run_id}",
                     "detail": f"/simlive/report (report.html in {self.run.out})"})
        return rows


def install(environment: Any) -> ComplianceTab:
    """Add the tab, its data and the report route to ``environment.web_ui``."""
    tab = ComplianceTab()
    web_ui = environment.web_ui
    web_ui.template_args["extended_tabs"] = [{"title": "Compliance", "key": TAB}]
    web_ui.template_args["extended_tables"] = [{"key": TAB, "structure": COLUMNS}]

    from flask import Response, request

    @web_ui.app.after_request
    def _rows(response: Any) -> Any:
        if request.path != "/stats/requests" or response.status_code != 200:
            return response
        data = response.get_json(silent=True)
        if isinstance(data, dict):
            data["extended_stats"] = [{"key": TAB, "data": tab.rows(environment)}]
            response.set_data(json.dumps(data))
        return response

    @web_ui.app.route("/simlive/report")
    def _report() -> Any:
        page = Path(tab.run.out) / "report.html" if tab.run is not None else None
        if page is None or not page.exists():
            return Response("no run has finished yet", status=404, mimetype="text/plain")
        return Response(page.read_text(encoding="utf-8"), mimetype="text/html")

    return tab
