"""The command line as a user meets it: exact error text, exit codes, help, schema, CSV."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from simlive.rules import RULE_IDS
from simlive.scenario import load_scenario
from simlive.scenario.scope import unmodelled

ROOT = Path(__file__).resolve().parents[1]


def no_crash(result) -> None:
    """CliRunner swallows tracebacks: an exception other than SystemExit is a crash."""
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    assert "Traceback" not in result.output


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# (id, how to break the tiny scenario, line, the message after "file:line: ")
BAD = [
    ("bad-unit",
     lambda t: edit(t, "    - {at: 1h, rate: 10/min}\n",
                    "    - {at: 1h, rate: 10/min}\n  dwell: {dist: exponential, "
                    "mean: 10 minutes}\n"),
     8, "audience.dwell.mean: expected a duration like 90s, 15m, 4h, 7d; found '10 minutes'"),
    ("unknown-key",
     lambda t: edit(t, "seed: 7", "sead: 7"),
     2, "sead: expected a known key (did you mean 'seed'?); found unknown key 'sead'"),
    ("unknown-nested-rule-param",
     lambda t: t + "compliance:\n  stock.no-oversell: {max_violation: 1}\n",
     18, "compliance.stock.no-oversell.max_violation: expected a known key (did you mean "
         "'max_violations'?); found unknown key 'max_violation'"),
    ("unknown-rule-id",
     lambda t: t + "compliance:\n  stock.no-oversel: {max_violations: 1}\n",
     18, "compliance.stock.no-oversel: expected a known key (did you mean "
         "'stock.no-oversell'?); found unknown key 'stock.no-oversel'"),
    ("negative-stock",
     lambda t: edit(t, "stock: 50", "stock: -5"),
     10, "products.skus[0].stock: expected a number >= 0; found -5"),
    ("missing-duration",
     lambda t: edit(t, "duration: 1h\n", ""),
     1, "duration: expected a value (this key is required); found nothing"),
    ("missing-agents",
     lambda t: t.split("aftersales:")[0] + "aftersales:\n  horizon: 30d\n",
     13, "aftersales.agents: expected a value (this key is required); found nothing"),
    ("yaml-syntax",
     lambda t: edit(t, "price: 20", "price: [20"),
     10, "(top level): expected valid YAML; found a syntax error (expected ',' or ']', "
         "but got '}')"),
    ("empty-file",
     lambda t: "",
     1, "(top level): expected a mapping of scenario keys (name, duration, audience, ...); "
        "found an empty file"),
    ("not-a-mapping",
     lambda t: "- name\n- duration\n",
     1, "(top level): expected a mapping of scenario keys (name, duration, audience, ...); "
        "found list"),
    ("duplicate-key",
     lambda t: edit(t, "seed: 7\n", "seed: 7\nseed: 8\n"),
     3, "seed: expected each key once; found a duplicate key"),
    ("unknown-dist",
     lambda t: edit(t, "    - {at: 1h, rate: 10/min}\n",
                    "    - {at: 1h, rate: 10/min}\n  dwell: {dist: poisson, mean: 5m}\n"),
     8, "audience.dwell.dist: expected dist: one of exponential, lognormal, gamma, uniform, "
        "fixed, empirical; found 'poisson'"),
    ("dist-without-name",
     lambda t: edit(t, "    - {at: 1h, rate: 10/min}\n",
                    "    - {at: 1h, rate: 10/min}\n  dwell: {mean: 5m}\n"),
     8, "audience.dwell: expected a 'dist' key (exponential, lognormal, gamma, uniform, "
        "fixed, empirical); found no 'dist' key"),
    ("schedule-unknown-sku",
     lambda t: edit(t, "{sku: MUG, from", "{sku: MUGG, from"),
     12, "products.schedule[0].sku: expected a SKU listed under products (did you mean "
         "'MUG'?); found 'MUGG'"),
    ("segment-to-before-from",
     lambda t: edit(t, "from: 0m, to: 30m", "from: 30m, to: 20m"),
     12, "products.schedule[0]: expected to after from; found from 30m to 20m"),
    ("shift-to-before-from",
     lambda t: edit(t, "{from: 1h, to: 31d", "{from: 1h, to: 50m"),
     16, "aftersales.agents[1]: expected to after from; found from 1h to 50m"),
    ("segment-beyond-broadcast",
     lambda t: edit(t, "to: 30m", "to: 2h"),
     12, "products.schedule[0].to: expected a time within the broadcast (<= 1h); found 2h"),
    ("flash-sale-after-end",
     lambda t: edit(t, "  schedule:\n",
                    "  flash_sales:\n    - {sku: MUG, at: 1h, duration: 5m, price: 9}\n"
                    "  schedule:\n"),
     12, "products.flash_sales[0].at: expected a time before the broadcast ends (1h); "
         "found 1h"),
    ("bad-rate",
     lambda t: edit(t, "rate: 30/min", "rate: 10 per minute"),
     6, "audience.arrivals[0].rate: expected a rate like 1200/min, 20/s, 5/h; "
        "found '10 per minute'"),
    ("keyframes-out-of-order",
     lambda t: edit(t, "{at: 1h, rate: 10/min}", "{at: 0m, rate: 10/min}").replace(
         "{at: 0m, rate: 30/min}", "{at: 30m, rate: 30/min}"),
     5, "audience.arrivals: expected keyframes in time order; found at 30m, 0s"),
    ("probability-above-one",
     lambda t: t + "orders: {pay_probability: 1.5}\n",
     17, "orders.pay_probability: expected a number <= 1; found 1.5"),
    ("bad-literal",
     lambda t: t + "simulation: {desk_engine: turbo}\n",
     17, "simulation.desk_engine: expected one of auto, simpy or fast; found 'turbo'"),
    ("bad-sku-id",
     lambda t: edit(t, "sku: MUG, price", "sku: MUG X, price").replace(
         "{sku: MUG, from", "{sku: MUG X, from"),
     10, "products.skus[0].sku: expected letters, digits, '.', '_' or '-' only; "
         "found 'MUG X'"),
]


@pytest.mark.parametrize(("make", "line", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_scenario_is_reported_with_file_line_and_key(invoke, write, tiny_text, make,
                                                         line, message):
    path = write("bad.yaml", make(tiny_text))
    expected = f"{path}:{line}: {message}"

    result = invoke("validate", str(path))
    no_crash(result)
    assert result.exit_code == 2
    assert result.stderr == expected + "\n"
    assert result.stdout == ""

    result = invoke("run", str(path), "-q")
    no_crash(result)
    assert result.exit_code == 2
    assert result.stderr == f"error: {expected}\n"


def test_missing_file_is_a_bad_input(invoke, tmp_path):
    path = tmp_path / "nope.yaml"
    for args in (("validate", str(path)), ("run", str(path), "-q")):
        result = invoke(*args)
        no_crash(result)
        assert result.exit_code == 2
        assert f"{path}: (top level): expected an existing file; found no such file\n" \
            in result.stderr


def test_every_problem_in_a_file_is_listed(invoke, write, tiny_text):
    text = edit(tiny_text, "price: 20, stock: 50", "prise: 20, stock: -1")
    path = write("two.yaml", text)
    result = invoke("run", str(path), "-q")
    no_crash(result)
    assert result.exit_code == 2
    assert result.stderr == (
        "error:\n"
        f"{path}:10: products.skus[0].price: expected a value (this key is required); "
        "found nothing\n"
        f"{path}:10: products.skus[0].stock: expected a number >= 0; found -1\n"
        f"{path}:10: products.skus[0].prise: expected a known key (did you mean 'price'?); "
        "found unknown key 'prise'\n")


def test_validate_reports_good_and_bad_files_together(invoke, write, tiny_text):
    good = write("good.yaml", tiny_text)
    bad = write("bad.yaml", edit(tiny_text, "stock: 50", "stock: -5"))
    result = invoke("validate", str(good), str(bad))
    no_crash(result)
    assert result.exit_code == 2
    assert result.stdout == f"{good}: ok (tiny, 1 h)\n"
    assert result.stderr == f"{bad}:10: products.skus[0].stock: expected a number >= 0; " \
                            "found -5\n"


def test_validate_ok_exits_zero(invoke, write, tiny_text):
    """It says what it read (the scenario's name and length), and no warning."""
    path = write("good.yaml", tiny_text)
    result = invoke("validate", str(path))
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: ok (tiny, 1 h)\n"
    assert result.stderr == ""


def test_unknown_ticket_kind_in_handling_names_the_key(invoke, write, tiny_text):
    path = write("bad.yaml", tiny_text + "  handling:\n"
                 "    consultaton: {dist: fixed, value: 1m}\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:18: aftersales.handling.consultaton: expected a known key (did you mean "
        "'consultation'?); found unknown key 'consultaton'\n")


def test_partial_handling_block_runs(invoke, write, tiny_text):
    """Kinds left out of ``handling`` keep their defaults (this used to crash ``run``)."""
    path = write("partial.yaml", tiny_text + "  handling:\n"
                 "    consultation: {dist: exponential, mean: 1m}\n")
    assert invoke("validate", str(path)).exit_code == 0
    result = invoke("run", str(path), "-q")
    no_crash(result)
    assert result.exit_code == 4  # one replication: the rules that break by chance undecided
    assert result.stderr.startswith("UNDECIDED: ")


# --- exit codes -----------------------------------------------------------------------------


def not_judged_line(skipped: dict[str, str]) -> str:
    """The summary's line naming the rules the scenario does not model (none: no line)."""
    if not skipped:
        return ""
    ids = [rid for rid in RULE_IDS if rid in skipped]
    return (f"NOT JUDGED: {len(ids)} rule(s) the scenario does not model (see each row for "
            f"what to add): {', '.join(ids)}\n")


def test_boutique_passes_with_exit_zero(until_decided):
    # `simlive run scenarios/boutique.yaml -q --until-decided --json FILE` in a subprocess,
    # shared with the tests that read the same run
    result = until_decided("boutique", 1)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    skipped = unmodelled(load_scenario(ROOT / "scenarios" / "boutique.yaml"))
    first = "every rule judged passes" if skipped else "every rule passes"
    assert result.stderr == (f"PASS: {first} (P(broken) within its risk established)\n"
                             + not_judged_line(skipped))


def test_one_replication_is_undecided_with_exit_four(invoke):
    """One broadcast proves nothing about a rule that breaks by chance: those rules are
    undecided (exit 4), the rules the scenario's policies decide are not."""
    result = invoke("run", str(ROOT / "scenarios" / "boutique.yaml"), "-q", "--json", "-")
    no_crash(result)
    assert result.exit_code == 4
    rules = {r["id"]: r for r in json.loads(result.stdout)["rules"]}
    assert rules["replay.retained"]["status"] == "pass"
    assert rules["replay.retained"]["decided_by"] == "model"
    assert rules["aftersales.first-reply"]["status"] == "undecided"
    assert rules["aftersales.first-reply"]["more_replications"] > 10
    assert result.stderr.startswith("UNDECIDED: 7 rule(s) neither established within nor "
                                    "beyond their risk: pricing.claims-hold, "
                                    "fulfilment.on-time, replay.available, ")
    assert "more replications would likely decide them (--until-decided)" in result.stderr


def test_replications_and_until_decided_exclude_each_other(invoke, write, tiny_text):
    result = invoke("run", str(write("ok.yaml", tiny_text)), "-r", "3", "--until-decided")
    assert result.exit_code == 2
    assert "--replications and --until-decided: choose one" in result.stderr


@pytest.mark.parametrize(("value", "text"), [("7", "expected 0.1% .. 50%; found '7'"),
                                               ("lots", "expected a share such as 5% or 0.05; "
                                                        "found 'lots'")])
def test_bad_risk_exits_two(invoke, write, tiny_text, value, text):
    result = invoke("run", str(write("ok.yaml", tiny_text)), "--risk", value)
    assert result.exit_code == 2
    assert text in result.stderr


def test_broken_rule_exits_one_and_is_named(invoke, write, tiny_text):
    path = write("deletes.yaml", tiny_text + "reviews: {fraction: 1.0, bad_fraction: 1.0, "
                                             "delete_bad: 1.0}\n")
    result = invoke("run", str(path), "-q", "--until-decided")
    no_crash(result)
    assert result.exit_code == 1
    skipped = unmodelled(load_scenario(path))
    assert result.stderr == ("FAIL: 1 rule(s) broken: reviews.not-deleted\n"
                             + not_judged_line(skipped))


def test_broken_rule_shows_in_the_table(invoke, write, tiny_text):
    path = write("deletes.yaml", tiny_text + "reviews: {fraction: 1.0, bad_fraction: 1.0, "
                                             "delete_bad: 1.0}\n")
    result = invoke("run", str(path), "-r", "5")
    no_crash(result)
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if "reviews.not-deleted" in line)
    assert "fail" in row
    for rid in RULE_IDS:
        assert rid in result.stdout


@pytest.mark.parametrize(("option", "value", "text"), [
    ("--replications", "0", "Invalid value for '-r' / '--replications': 0 is not in the "
                            "range 1<=x<=10000."),
    ("--jobs", "0", "Invalid value for '-j' / '--jobs': 0 is not in the range 1<=x<=256."),
    ("--seed", "-1", "Invalid value for '--seed': -1 is not in the range "
                     "0<=x<=9223372036854775807."),
])
def test_bad_option_exits_two(invoke, write, tiny_text, option, value, text):
    result = invoke("run", str(write("ok.yaml", tiny_text)), option, value)
    no_crash(result)
    assert result.exit_code == 2
    assert text in result.stderr


def test_unknown_option_suggests_the_nearest(invoke, write, tiny_text):
    result = invoke("run", str(write("ok.yaml", tiny_text)), "--replication", "2")
    assert result.exit_code == 2
    assert "Error: No such option '--replication'. (Did you mean one of: " \
           "'--max-replications', '--replications'?)" in result.stderr


def test_subprocess_bad_file_has_no_traceback(tmp_path):
    """The installed entry point, not just CliRunner: message, exit 2, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 10 minutes\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "simlive.cli", "run", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"{bad}:2: duration: expected a duration like 90s, 15m, 4h, 7d; " \
           "found '10 minutes'" in proc.stderr


# --- help, version, schema ------------------------------------------------------------------


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("run", "--help"),
                                  ("validate", "--help"), ("schema", "--help")])
def test_help(invoke, args):
    result = invoke(*args)
    no_crash(result)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: simlive")


def test_top_level_help_lists_commands(invoke):
    out = invoke("--help").stdout
    for command in ("run", "validate", "schema"):
        assert f"  {command} " in out


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == "simlive, version 0.1.0\n"


def _refs(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            found.append(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _types(node: dict, defs: dict) -> set[str]:
    """The JSON types a (sub)schema admits, following $ref, anyOf and oneOf."""
    if "$ref" in node:
        return _types(defs[node["$ref"].removeprefix("#/$defs/")], defs)
    out = {node["type"]} if isinstance(node.get("type"), str) else set(node.get("type", []))
    for key in ("anyOf", "oneOf"):
        for sub in node.get(key, []):
            out |= _types(sub, defs)
    return out


def test_schema_is_json_schema_with_the_top_level_keys(invoke):
    result = invoke("schema")
    no_crash(result)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["title"] == "simlive scenario"
    assert doc["type"] == "object"
    assert doc["additionalProperties"] is False
    assert {"name", "seed", "duration", "audience", "products", "orders", "aftersales",
            "replay", "reviews", "simulation", "compliance"} <= set(doc["properties"])
    assert set(doc["required"]) == {"name", "duration", "audience", "products", "aftersales"}
    # every reference resolves inside the document
    refs = _refs(doc, [])
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in doc["$defs"]
    compliance = doc["$defs"]["Compliance"]
    assert set(compliance["properties"]) == set(RULE_IDS) | {"risk", "alpha", "beta",
                                                             "indifference"}
    assert compliance["additionalProperties"] is False
    assert _types(doc["properties"]["name"], doc["$defs"]) == {"string"}
    assert _types(doc["properties"]["aftersales"], doc["$defs"]) == {"object"}


def test_schema_admits_durations_and_rates_in_units(invoke):
    doc = json.loads(invoke("schema").stdout)
    defs = doc["$defs"]
    assert "string" in _types(doc["properties"]["duration"], defs)  # duration: 2h
    assert "string" in _types(defs["Keyframe"]["properties"]["rate"], defs)  # rate: 20/min
    assert "string" in _types(defs["Shift"]["properties"]["from"], defs)  # from: 0h


def test_bundled_scenarios_validate_against_the_schema_and_typos_do_not(invoke):
    """What an editor or a CI linter does with `simlive schema`."""
    import glob

    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads(invoke("schema").stdout))
    files = sorted(glob.glob(str(Path(__file__).resolve().parents[1] / "scenarios" / "*.yaml")))
    assert len(files) >= 4
    for path in files:
        with open(path, encoding="utf-8") as fh:
            errors = list(validator.iter_errors(yaml.safe_load(fh)))
        assert errors == [], (path, [e.message for e in errors[:3]])
    with open(files[0], encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    doc["duration"] = "2 hours"
    doc["audience"]["dwel"] = {"dist": "exponential", "mean": "1m"}
    assert len(list(validator.iter_errors(doc))) == 2


# --- CSV and JSON output -------------------------------------------------------------------


def test_csv_series(invoke, write, tiny_text, tmp_path):
    out = tmp_path / "series"
    result = invoke("run", str(write("ok.yaml", tiny_text)), "-q", "--csv", str(out))
    no_crash(result)
    assert result.exit_code == 4, result.output  # one replication: undecided
    assert sorted(p.name for p in out.iterdir()) == ["backlog.csv", "sold_out.csv", "stock.csv",
                                                     "viewers.csv"]

    def rows(name: str) -> list[list[str]]:
        with (out / name).open(newline="", encoding="utf-8") as f:
            return list(csv.reader(f))

    viewers = rows("viewers.csv")
    assert viewers[0] == ["time_s", "viewers", "arrivals_per_s", "orders_per_s"]
    assert len(viewers) > 100
    times = [float(r[0]) for r in viewers[1:]]
    assert times[0] == 0.0 and times == sorted(times) and times[-1] < 3600
    assert all(float(v) >= 0 for r in viewers[1:] for v in r)
    assert max(float(r[1]) for r in viewers[1:]) > 0

    stock = rows("stock.csv")
    assert stock[0] == ["time_s", "sku", "real", "displayed"]
    assert {r[1] for r in stock[1:]} == {"MUG"}
    assert len(stock) == len(viewers)
    assert float(stock[1][2]) == 50 and float(stock[1][3]) == 50
    assert all(0 <= float(r[2]) <= 50 for r in stock[1:])

    backlog = rows("backlog.csv")
    assert backlog[0] == ["time_s", "open_unanswered", "agents_on_shift"]
    assert len(backlog) == 1002
    assert float(backlog[-1][0]) == 3600 + 30 * 86400
    assert float(backlog[1][2]) == 2.0 and float(backlog[-2][2]) == 1.0
    assert all(int(r[1]) >= 0 for r in backlog[1:])


def test_json_to_stdout(invoke, write, tiny_text):
    result = invoke("run", str(write("ok.yaml", tiny_text)), "--json", "-", "-r", "3")
    no_crash(result)
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["scenario"] == "tiny" and data["seed"] == 7 and data["replications"] == 3
    assert data["status"] == "undecided" and data["compliance"]["mode"] == "fixed"
    assert [r["id"] for r in data["rules"]] == list(RULE_IDS)
    judged = [r for r in data["rules"] if r["status"] != "not judged"]
    assert {r["status"] for r in judged} == {"pass", "undecided"}
    for r in judged:
        assert r["replications"] == 3 and r["risk"] == 0.05 and r["verdict"] == r["status"]
        lo, hi = r["p_broken_ci95"]
        assert lo <= r["p_broken"] == r["broken_in"] / 3 <= hi
        # with 3 replications only the model decides a rule
        assert (r["status"] == "pass") == (r["decided_by"] == "model")
    paid = data["kpis"]["orders.paid"]
    assert paid["n"] == 3 and paid["ci95"][0] <= paid["mean"] <= paid["ci95"][1]
    # every KPI comes from every replication (the peak order rate was replication 0's)
    assert {k["n"] for k in data["kpis"].values() if k["mean"] is not None} == {3}
    # the tables go to stderr when JSON takes stdout, from the first line (no progress
    # bar, no blank line, when stderr is not a terminal)
    assert "Compliance" in result.stderr
    assert result.stderr.startswith("KPIs (tiny: 3 replications (fixed), seed 7)")
