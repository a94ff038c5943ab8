"""Each rule says what it rests on and who owes it, in every place a user reads verdicts:
the README's rule table, the JSON, the HTML report and ``--by-party`` tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

from simlive.rules import RULES, Basis, Party

ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_has_a_basis_a_party_and_a_source() -> None:
    for rule in RULES.values():
        assert isinstance(rule.basis, Basis) and isinstance(rule.party, Party), rule.id
        assert len(rule.source) > 20, rule.id
    # the corrections a domain review asked for
    assert "art. 14" in RULES["evidence.receipt"].source
    assert "art. 31" not in RULES["evidence.receipt"].source
    assert "SAIC" in RULES["aftersales.refund-deadline"].source  # 2015: no SAMR yet
    assert "Regulations art. 19" not in RULES["reviews.not-deleted"].source
    assert RULES["replay.available"].basis is Basis.DRAFT
    assert RULES["aftersales.first-reply"].param_basis()["chat_p95"] == "platform norm"
    for rid, name in (("replay.available", "publish_within"),
                      ("aftersales.tracked-to-closure", "close_within"),
                      ("aftersales.tracked-to-closure", "feedback_timeout")):
        assert RULES[rid].param_basis()[name] == "simlive default", (rid, name)


def test_the_readme_table_states_each_rules_basis_and_party() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z-]+\.[a-z-]+)` \|.*$",
                                                         text, re.M)}
    assert set(RULES) <= set(rows)
    for rid, rule in RULES.items():
        cells = [c.strip() for c in rows[rid].strip("|").split(" | ")]
        assert cells[-1] == rule.party.value, rid
        assert cells[-2].startswith(rule.basis.value), rid
        for name, basis in rule.param_basis().items():
            if basis != rule.basis.value:
                assert f"`{name}`: {basis}" in cells[-2], (rid, name)


def test_json_html_and_by_party_tables_carry_it(invoke, tiny_text, write, tmp_path,
                                                 table_rows) -> None:
    path = write("t.yaml", tiny_text)
    html = tmp_path / "r.html"
    result = invoke("run", str(path), "--json", "-", "--html", str(html), "--by-party")
    assert result.exit_code in (0, 4), result.stderr
    data = json.loads(result.stdout)
    for v in data["rules"]:
        rule = RULES[v["id"]]
        assert (v["party"], v["basis"], v["source"]) == (rule.party.value, rule.basis.value,
                                                        rule.source)
        assert v["defaults_basis"] == rule.param_basis()
    page = html.read_text(encoding="utf-8")
    assert "law, owed by the platform: E-Commerce Law art. 39" in page
    # one table per party, each holding that party's rules only
    titles = re.findall(r"Compliance: owed by the ([a-z ]+?)\s*$", result.stderr, re.M)
    assert titles == ["platform", "brand store", "host"], result.stderr
    tables = re.split(r"Compliance: owed by the ", result.stderr)[1:]
    for party, table in zip(titles, tables, strict=True):
        ids = set(table_rows(table))
        want = {rid for rid, r in RULES.items() if r.party.value == party}
        assert want <= ids and not (ids & (set(RULES) - want)), (party, ids)
