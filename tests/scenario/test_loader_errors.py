"""Scenario loading as a library: InputFileError carries file, line, key path and mismatch."""

from __future__ import annotations

import pytest

from simlive.errors import EXIT_BAD_INPUT, FileProblem, InputFileError, SimliveError
from simlive.scenario import Scenario, load_scenario, parse_scenario
from simlive.scenario.loader import format_path


def test_problem_renders_file_line_path():
    p = FileProblem("products.skus[0].stock", "a number >= 0", "-5", 10)
    assert p.render("a.yaml") == "a.yaml:10: products.skus[0].stock: expected a number >= 0; " \
                                 "found -5"
    assert FileProblem("", "x", "y").render("a.yaml") == "a.yaml: (top level): expected x; " \
                                                            "found y"


def test_scenario_error_is_bad_input_and_lists_every_problem():
    err = InputFileError("f.yaml", [FileProblem("a", "x", "y", 1),
                                   FileProblem("b", "z", "w", 2)])
    assert isinstance(err, SimliveError)
    assert err.exit_code == EXIT_BAD_INPUT == 2
    assert str(err) == "f.yaml:1: a: expected x; found y\nf.yaml:2: b: expected z; found w"


@pytest.mark.parametrize(("path", "text"), [
    ((), ""),
    (("a",), "a"),
    (("a", 0, "b"), "a[0].b"),
    (("a", 0, 1), "a[0][1]"),
    (("compliance", "stock.no-oversell", "tolerance"), "compliance.stock.no-oversell.tolerance"),
])
def test_format_path(path, text):
    assert format_path(path) == text


def test_parse_scenario_reports_problems_as_data(tiny_text):
    bad = tiny_text.replace("stock: 50", "stock: -5").replace("seed: 7", "seed: -1")
    with pytest.raises(InputFileError) as info:
        parse_scenario(bad, "mem.yaml")
    got = [(p.path, p.line, p.expected, p.found) for p in info.value.problems]
    assert got == [
        ("seed", 2, "a number >= 0", "-1"),
        ("products.skus[0].stock", 10, "a number >= 0", "-5"),
    ]
    assert info.value.file == "mem.yaml"


def test_cross_checks_run_only_on_a_valid_schema(tiny_text):
    # the unknown SKU is not reported while the schema itself is broken
    bad = tiny_text.replace("{sku: MUG, from", "{sku: NOPE, from").replace("stock: 50",
                                                                         "stock: x")
    with pytest.raises(InputFileError) as info:
        parse_scenario(bad)
    assert [p.path for p in info.value.problems] == ["products.skus[0].stock"]
    assert info.value.problems[0].expected == "a whole number"


def test_every_cross_check_problem_is_listed(tiny_text):
    bad = (tiny_text.replace("{sku: MUG, from", "{sku: MUGG, from")
           .replace("{at: 1h, rate: 10/min}", "{at: 2h, rate: 10/min}"))
    with pytest.raises(InputFileError) as info:
        parse_scenario(bad, "x.yaml")
    assert str(info.value).splitlines() == [
        "x.yaml:12: products.schedule[0].sku: expected a SKU listed under products (did you "
        "mean 'MUG'?); found 'MUGG'",
        "x.yaml:7: audience.arrivals[1].at: expected a time within the broadcast (<= 1h); "
        "found 2h",
    ]


def test_duplicate_sku_ids(tiny_text):
    bad = tiny_text.replace("    - {sku: MUG, price: 20, stock: 50, limit: 2}\n",
                            "    - {sku: MUG, price: 20, stock: 50, limit: 2}\n"
                            "    - {sku: MUG, price: 30, stock: 5}\n")
    with pytest.raises(InputFileError) as info:
        parse_scenario(bad, "x.yaml")
    assert str(info.value) == ("x.yaml:11: products.skus[1].sku: expected a unique SKU id; "
                               "found 'MUG' again")


def test_no_skus_at_all(tiny_text):
    bad = tiny_text.replace("    - {sku: MUG, price: 20, stock: 50, limit: 2}\n", "").replace(
        "  skus:\n", "  skus: []\n").replace(
        "  schedule:\n    - {sku: MUG, from: 0m, to: 30m, propensity: 0.003/min}\n", "")
    with pytest.raises(InputFileError) as info:
        parse_scenario(bad, "x.yaml")
    assert str(info.value) == ("x.yaml:8: products: expected at least one SKU (skus or "
                               "generate); found none")


def test_defaults_are_filled_without_touching_the_input(tiny_text):
    import yaml

    data = yaml.safe_load(tiny_text)
    before = repr(data)
    s = Scenario.model_validate(data)
    assert repr(data) == before
    assert s.duration == 3600.0
    assert s.audience.arrivals[0].rate == 0.5
    assert s.products.schedule[0].propensity == pytest.approx(0.003 / 60)
    assert s.orders.reserve_on == "order" and s.orders.release == "once"
    assert set(s.aftersales.handling) == {"consultation", "return", "replacement", "refund",
                                          "complaint", "price-protection"}
    assert s.aftersales.horizon == 30 * 86400.0


def test_load_scenario_reads_files(write, tiny_text, tmp_path):
    assert load_scenario(write("ok.yaml", tiny_text)).name == "tiny"
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: tiny\nseed: 7\n# caf\xe9\n")
    with pytest.raises(InputFileError) as info:
        load_scenario(bad)
    assert str(info.value) == (f"{bad}:3: (top level): expected a UTF-8 text file; found byte "
                               "0xe9 at column 6, not UTF-8 (saved as Latin-1 or another "
                               "encoding?)")
    with pytest.raises(InputFileError) as info:
        load_scenario(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}: (top level): expected a readable UTF-8 "
                                      "text file; found ")
