"""Inputs that used to end in a traceback are refused like any bad scenario.

Each test is one signature fuzzing found (RecursionError in the loader, MemoryError and
OverflowError in the model, ZeroDivisionError in a distribution, ...): the input is now
refused by validation with ``file:line: key.path: expected X; found Y``, quickly.
"""

from __future__ import annotations

import time

import pytest

from simlive.errors import InputFileError
from simlive.scenario import parse_scenario


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def refused(text: str) -> list[str]:
    with pytest.raises(InputFileError) as info:
        parse_scenario(text, "f.yaml")
    return str(info.value).splitlines()


def no_crash(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output


# --- YAML that would exhaust the stack or the memory of the loader --------------------------

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi",
                                                                 strict=True))


def test_billion_laughs_is_refused_at_once():
    assert len(LAUGHS) < 400
    start = time.perf_counter()
    assert refused(LAUGHS) == [
        "f.yaml:2: (top level): expected aliases that add at most 100,000 nodes when "
        "expanded; found 28 nodes that aliases expand to 4.9e+08"]
    assert time.perf_counter() - start < 1.0


def test_nesting_600_deep_is_refused(tiny_text):
    flow = tiny_text + "extra: " + "[" * 600 + "]" * 600 + "\n"
    assert refused(flow) == ["f.yaml:17: (top level): expected YAML nested at most 64 levels "
                             "deep; found level 65 of nesting"]
    block = tiny_text + "".join("  " * i + f"k{i}:\n" for i in range(600)) + "  " * 600 + "v\n"
    assert refused(block) == ["f.yaml:80: (top level): expected YAML nested at most 64 levels "
                              "deep; found level 65 of nesting"]


def test_aliases_nested_through_each_other_count_as_depth(tiny_text):
    chain = "y0: &b0 [1]\n" + "".join(f"y{i}: &b{i} [*b{i - 1}]\n" for i in range(1, 100))
    assert refused(tiny_text + chain) == [
        "f.yaml:18: (top level): expected YAML nested at most 64 levels deep, aliases "
        "followed; found 102 levels"]


@pytest.mark.parametrize(("text", "line", "alias"), [
    ("extra: &a [*a]\n", 17, "a"),
    ("extra: &m {self: *m}\n", 17, "m"),
])
def test_recursive_alias_is_refused(tiny_text, text, line, alias):
    assert refused(tiny_text + text) == [
        f"f.yaml:{line}: (top level): expected YAML without cyclic aliases; found the alias "
        f"*{alias} inside its own anchor &{alias} (a cycle)"]


def test_an_integer_beyond_pythons_digit_limit_names_its_key(tiny_text):
    assert refused(edit(tiny_text, "seed: 7", "seed: " + "9" * 5000)) == [
        "f.yaml:2: seed: expected a whole number of at most 4300 digits; found one of 5000 "
        "digits"]


def test_a_date_python_cannot_build_is_refused(tiny_text):
    assert refused(edit(tiny_text, "name: tiny", "name: 2024-13-45")) == [
        "f.yaml:1: (top level): expected values YAML can read; found one it cannot (month "
        "must be in 1..12)"]


def test_a_control_character_gives_its_line(tiny_text):
    assert refused(edit(tiny_text, "name: tiny", "name: tiny\n# a\x00b")) == [
        "f.yaml:2: (top level): expected valid YAML; found a syntax error (unacceptable "
        "character #x0000: special characters are not allowed)"]


def test_a_mapping_as_a_key_is_refused(tiny_text):
    assert refused(tiny_text + "? [1, 2]\n: x\n") == [
        "f.yaml:17: (top level): expected keys that are names; found a list as a key"]


def test_latin1_file_gives_a_line(invoke, write, tiny_text, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(edit(tiny_text, "name: tiny", "name: tiny\n# caf\xe9").encode("latin-1"))
    for args in (("validate", str(path)), ("run", str(path), "-q")):
        result = invoke(*args)
        no_crash(result)
        assert result.exit_code == 2
        assert result.stderr.endswith(
            f"{path}:2: (top level): expected a UTF-8 text file; found byte 0xe9 at column 6, "
            "not UTF-8 (saved as Latin-1 or another encoding?)\n")


# --- numbers: NaN, infinities, and what a 64-bit integer cannot hold -----------------------

@pytest.mark.parametrize(("old", "new", "message"), [
    ("price: 20", "price: .nan",
     "10: products.skus[0].price: expected a finite number; found nan"),
    ("price: 20", "price: .inf",
     "10: products.skus[0].price: expected a finite number; found inf"),
    ("rate: 30/min", "rate: .inf",
     "6: audience.arrivals[0].rate: expected a rate like 1200/min, 20/s, 5/h (a finite "
     "number); found inf"),
    ("rate: 30/min", "rate: -.inf",
     "6: audience.arrivals[0].rate: expected a rate like 1200/min, 20/s, 5/h (a finite "
     "number); found -inf"),
    ("at: 1h, rate", "at: .nan, rate",
     "7: audience.arrivals[1].at: expected a duration like 90s, 15m, 4h, 7d (a finite "
     "number); found nan"),
    ("duration: 1h", "duration: " + "9" * 400,
     "3: duration: expected a duration like 90s, 15m, 4h, 7d (a finite number); found an "
     "integer of 400 digits"),
    ("rate: 30/min", "rate: 1e300/s",
     "6: audience.arrivals[0].rate: expected a rate like 1200/min, 20/s, 5/h (at most 1e9/s);"
     " found '1e300/s'"),
    ("stock: 50", "stock: 9223372036854775807",
     "10: products.skus[0].stock: expected at most 1,000,000,000,000 (a stock ledger sums "
     "every unit in a 64-bit integer); found 9.22e+18"),
    ("limit: 2", "limit: 1000000000000000000000000000000",
     "10: products.skus[0].limit: expected at most 1,000,000 (units in one order); found "
     "1e+30"),
    ("seed: 7", "seed: 9223372036854775808",
     "2: seed: expected a number <= 9223372036854775807; found 9223372036854775808"),
])
def test_numbers_are_finite_and_fit(tiny_text, old, new, message):
    assert refused(edit(tiny_text, old, new)) == ["f.yaml:" + message]


@pytest.mark.parametrize(("extra", "message"), [
    ("orders:\n  units: {100000000000000000000: 1}\n",
     "18: orders.units[100000000000000000000]: expected at most 1,000,000 (units in one "
     "order); found 1e+20"),
    ("orders:\n  units: {1: .nan}\n",
     "18: orders.units[1]: expected a share from 0 to 1, or 0% to 100%; found nan"),
    ("orders:\n  payment_timeout: 1.0e+12\n",
     "18: orders.payment_timeout: expected a duration like 90s, 15m, 4h, 7d (at most 1000y); "
     "found 1000000000000.0"),
    ("orders:\n  payment_timeout: 60d\n",
     "18: orders.payment_timeout: expected at most 30d (an unpaid order holds its stock; the "
     "stock arrays run this long past the broadcast); found 60d"),
    ("  handling:\n    return: {dist: gamma, mean: 1ms, sd: 10d}\n",
     "18: aftersales.handling.return: expected sd at most 1000 x the mean (0.001s); found sd "
     "10d"),
    ("  handling:\n    return: {dist: gamma, mean: 1d, sd: 1ms}\n",
     "18: aftersales.handling.return: expected sd at least the mean (1d) / 1,000,000; for a "
     "constant use dist: fixed; found sd 0.001s"),
    ("  handling:\n    return: {dist: empirical, values: [1m, 2m], weights: [.nan, 1]}\n",
     "18: aftersales.handling.return.weights[0]: expected a finite number; found nan"),
    ("  handling:\n    return: {dist: uniform, low: 32d, high: 1h}\n",
     "18: aftersales.handling.return: expected high >= low (low is 32d); found high 1h"),
])
def test_model_inputs_that_crashed_the_run(tiny_text, extra, message):
    assert refused(tiny_text + extra) == ["f.yaml:" + message]


def test_gamma_with_an_extreme_spread_no_longer_divides_by_zero():
    from simlive.scenario.dists import Gamma

    with pytest.raises(ValueError, match="sd at most 1000 x the mean"):
        Gamma(dist="gamma", mean=1e-200, sd=1.0)


# --- messages name the keyframes' key and say durations as people write them ---------------

def test_keyframes_out_of_order_name_the_arrivals(tiny_text):
    bad = edit(tiny_text, "    - {at: 1h, rate: 10/min}\n",
               "    - {at: 30m, rate: 10/min}\n    - {at: 20m, rate: 1/s}\n")
    assert refused(bad) == ["f.yaml:5: audience.arrivals: expected keyframes in time order; "
                            "found at 0s, 30m, 20m"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("from: 0m, to: 30m", "from: 32d, to: 30m",
     "12: products.schedule[0]: expected to after from; found from 32d to 30m"),
    ("{from: 1h, to: 31d", "{from: 32d, to: 31d",
     "16: aftersales.agents[1]: expected to after from; found from 32d to 31d"),
    ("from: 0m, to: 30m", "from: 2h58m2s, to: 1h",
     "12: products.schedule[0]: expected to after from; found from 2h58m2s to 1h"),
])
def test_durations_are_said_in_units(tiny_text, old, new, message):
    assert refused(edit(tiny_text, old, new)) == ["f.yaml:" + message]


# --- bounds that say why ----------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "message"), [
    ("duration: 1h", "duration: 50y",
     "3: duration: expected at most 1y (a broadcast runs hours or days; every SKU's stock is "
     "stepped through all of it); found 50y"),
    ("agents: 2}", "agents: 10000000}",
     "15: aftersales.agents[0].agents: expected at most 100,000 (the desk keeps a duty "
     "schedule per agent; 10 million took minutes); found 10,000,000"),
])
def test_upper_bounds_say_why(tiny_text, old, new, message):
    assert refused(edit(tiny_text, old, new)) == ["f.yaml:" + message]


# --- the estimate: what a scenario costs, before it runs -----------------------------------

def test_a_long_broadcast_at_fine_steps_is_refused_naming_duration_and_step(tiny_text):
    bad = edit(edit(tiny_text, "duration: 1h", "duration: 300d"), "to: 31d", "to: 331d")
    assert refused(bad) == [
        "f.yaml:3: duration: expected a simulation that fits the memory budget of 4.0 GiB per "
        "replication; found about 5.0 GiB: 4.8 GiB for 25,920,902 steps (duration 300d / "
        "simulation.step 1s, plus orders.payment_timeout 15m) x 200 B"]
    coarse = bad + "simulation: {step: 1m}\n"
    assert parse_scenario(coarse).duration == 300 * 86400


def test_chats_beyond_memory_name_the_consultations(tiny_text):
    bad = edit(tiny_text, "aftersales:\n", "aftersales:\n  consultations: {rate: 1e9/s}\n")
    assert refused(bad) == [
        "f.yaml:14: aftersales.consultations: expected a simulation that fits the memory "
        "budget of 4.0 GiB per replication; found about 858,307 GiB: 858,307 GiB for "
        "3,600,000,000,002 tickets (3,600,000,000,000 chats (aftersales.consultations) + 1.97 "
        "after 15 paid orders (products, aftersales fractions)) x 256 B"]


def test_orders_beyond_memory_and_work_name_the_propensity(tiny_text):
    bad = edit(tiny_text, "propensity: 0.003/min", "propensity: 1e9/s")
    assert refused(bad) == [
        "f.yaml:12: products.schedule[0].propensity: expected a simulation that fits the "
        "memory budget of 4.0 GiB per replication; found about 14,534,921 GiB: 14,524,162 "
        "GiB for 324,900,000,000,000 orders of the SKU that sells most (its orders' draws "
        "are kept while its stock is run: viewers present x its propensity over its slots) "
        "x 48 B",
        "f.yaml:12: products.schedule[0].propensity: expected at most 1e+09 orders per "
        "replication (each is drawn and checked against stock); found about 3.25e+14: up to "
        "180 viewers present (audience) ordering at the propensity of their SKU's slot "
        "(products.schedule, products.generate.propensity, flash-sale boosts)"]


def test_many_generated_skus_are_refused_for_their_series(tiny_text):
    bad = edit(tiny_text, "  skus:\n",
               "  generate: {count: 100000, propensity: 0.001/min}\n  skus:\n")
    assert refused(bad) == [
        "f.yaml:9: products.generate.count: expected a simulation that fits the memory "
        "budget of 4.0 GiB per replication; found about 17.0 GiB: 16.8 GiB for 100,001 SKUs "
        "x 1,800 series points (duration / simulation.series_step) x 100 B"]


def test_sku_steps_beyond_the_work_bound_name_duration_step_and_skus(tiny_text):
    bad = edit(edit(edit(tiny_text, "duration: 1h", "duration: 60d"), "to: 31d", "to: 91d"),
               "  skus:\n", "  generate: {count: 500, propensity: 0.001/min}\n  skus:\n")
    assert refused(bad) == [
        "f.yaml:3: duration: expected at most 2e+09 SKU-steps per replication (about 100 ns "
        "each); found 2.6e+09: 5,184,902 steps (duration 60d / simulation.step 1s) x 501 SKUs "
        "(products.generate.count)"]


def test_the_estimate_bounds_what_a_run_takes(tiny_text):
    from simlive.scenario.estimate import estimate
    from simlive.sim.engine import run_replication

    text = edit(edit(tiny_text, "rate: 30/min", "rate: 30/s"), "stock: 50", "stock: 5000")
    s = parse_scenario(text + "  consultations: {per_viewer: 1/h}\n")
    e = estimate(s)
    kpis = run_replication(s, 0).kpis
    # upper bounds in expectation: a draw may exceed them by its noise, not by a factor
    for kpi, bound in (("viewers.peak_concurrent", e.peak_viewers),
                       ("orders.placed", e.orders), ("aftersales.tickets", e.tickets)):
        assert bound / 3 <= kpis[kpi] <= bound + 3 * bound**0.5, kpi
    assert e.steps == 3600 + 900 + 2


def test_refusal_through_the_cli_is_exit_2_without_traceback(invoke, write, tiny_text):
    path = write("big.yaml", edit(edit(tiny_text, "duration: 1h", "duration: 300d"),
                                  "to: 31d", "to: 331d"))
    for args in (("validate", str(path)), ("run", str(path), "-q")):
        result = invoke(*args)
        no_crash(result)
        assert result.exit_code == 2
        assert f"{path}:3: duration: expected a simulation that fits the memory budget of " \
               "4.0 GiB per replication; found about 5.0 GiB" in result.stderr


# --- flash sales lie inside their SKU's slot ------------------------------------------------

def test_a_flash_sale_outside_its_skus_slot_is_refused(tiny_text):
    bad = edit(tiny_text, "aftersales:\n", "  flash_sales:\n"
               "    - {sku: MUG, at: 40m, duration: 5m, price: 10}\naftersales:\n")
    assert refused(bad) == ["f.yaml:14: products.flash_sales[0].at: expected a time inside "
                            "a presentation slot of MUG (slot 0s to 30m); found 40m"]
    assert parse_scenario(edit(bad, "at: 40m", "at: 25m")).products.flash_sales[0].at == 1500


def test_a_flash_sale_of_a_sku_never_presented_is_refused(tiny_text):
    bad = edit(tiny_text, "  schedule:\n", "    - {sku: CUP, price: 9, stock: 5}\n  schedule:\n")
    bad = edit(bad, "aftersales:\n", "  flash_sales:\n"
               "    - {sku: CUP, at: 10m, duration: 5m, price: 1}\naftersales:\n")
    assert refused(bad) == ["f.yaml:15: products.flash_sales[0].at: expected a time inside "
                            "a presentation slot of CUP (it has no slot in products.schedule);"
                            " found 10m"]


def test_a_generated_skus_slot_is_named_exactly(tiny_text):
    bad = edit(tiny_text, "  skus:\n",
               "  generate: {count: 40, segment: 98s, propensity: 0.001/min}\n  skus:\n")
    bad = edit(bad, "aftersales:\n", "  flash_sales:\n"
               "    - {sku: GEN-0002, at: 3h, duration: 1m, price: 1}\naftersales:\n")
    bad = edit(bad, "duration: 1h", "duration: 4h")
    assert refused(bad) == ["f.yaml:15: products.flash_sales[0].at: expected a time inside "
                            "a presentation slot of GEN-0002 (slot 1m38s to 3m16s); found 3h"]


def test_a_display_lag_window_beyond_memory_names_max_lag(tiny_text):
    bad = tiny_text + "compliance:\n  stock.display-matches: {max_lag: 100y}\n"
    assert refused(bad) == [
        "f.yaml:18: compliance.stock.display-matches.max_lag: expected a simulation that fits "
        "the memory budget of 4.0 GiB per replication; found about 141 GiB: 141 GiB for "
        "3,153,600,000 steps of max_lag 100y (simulation.step 1s) x 48 B"]


def test_the_simpy_desk_is_refused_for_millions_of_tickets(tiny_text):
    bad = edit(tiny_text, "aftersales:\n", "aftersales:\n  consultations: {rate: 300/s}\n")
    bad += "simulation: {desk_engine: simpy}\n"
    assert refused(bad) == [
        "f.yaml:18: simulation.desk_engine: expected the fast desk (auto or fast) for more "
        "than 1e+06 tickets (the SimPy desk takes about 100 us each); found simpy for about "
        "1,080,002 tickets"]
    assert parse_scenario(bad.replace("simpy", "auto")).simulation.desk_engine == "auto"


def test_the_old_name_of_buyer_accounts_is_read_and_named_in_errors(tiny_text):
    """``load.viewer_tokens`` (the name before buyers and viewers were told apart) still
    sets ``buyer_accounts``; a bad value under it is refused naming the key as written."""
    s = parse_scenario(tiny_text + "load:\n  viewer_tokens: 7\n")
    assert s.load.buyer_accounts == 7
    lines = refused(tiny_text + "load:\n  viewer_tokens: 0\n")
    assert any("load.viewer_tokens" in line and "f.yaml:" in line for line in lines), lines
    both = refused(tiny_text + "load:\n  viewer_tokens: 7\n  buyer_accounts: 8\n")
    assert any("viewer_tokens" in line for line in both), both


def test_a_scenario_with_every_rules_block_runs_on_two_processes(invoke, write, tiny_text):
    """Each rule's compliance block is a model built at import: a scenario naming one is
    pickled to the processes that run its replications. fulfilment.on-time's was not
    (``Rule_fulfilment_on_time`` could not be found by name) and the presale hung."""
    import pickle

    from simlive.rules import RULES
    from simlive.scenario import parse_scenario

    blocks = "".join(f"  {rid}: {{risk: 0.05}}\n" for rid in RULES)
    sc = parse_scenario(tiny_text + "compliance:\n" + blocks)
    assert pickle.loads(pickle.dumps(sc)).rule_risks() == dict.fromkeys(RULES, 0.05)
    path = write("every.yaml", tiny_text + "compliance:\n" + blocks)
    result = invoke("run", str(path), "-q", "-r", "2", "-j", "2")
    assert result.exit_code in (0, 4), result.stderr
