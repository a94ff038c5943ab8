"""Skewed catalogues (hero SKUs and a long tail) and when each SKU sells out.

The popularity weights come from a generator of their own: a catalogue without them is the
catalogue it always was; with them, a few SKUs take most of the propensity and sell out
early in their slot, which ``run`` reports per SKU (JSON, CSV, HTML, the terminal's first
ten)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from simlive.cli import cli
from simlive.scenario.catalogue import build_catalogue, popularity_weights
from simlive.scenario.loader import parse_scenario

BASE = {
    "name": "skew", "seed": 5, "duration": "2h",
    "audience": {"arrivals": [{"at": "0h", "rate": "50/s"}]},
    "products": {"generate": {"count": 60, "prefix": "S", "segment": "2m",
                              "propensity": "0.01/min",
                              "stock": {"dist": "gamma", "mean": 400, "sd": 200}}},
    "aftersales": {"agents": [{"from": "0h", "to": "30d", "agents": 20}]},
}


def scenario(popularity: dict | None = None, **changes: object):
    data = json.loads(json.dumps(BASE))
    if popularity is not None:
        data["products"]["generate"]["popularity"] = popularity
    data.update(changes)
    return parse_scenario(yaml.safe_dump(data), "skew.yaml")


def test_without_popularity_the_catalogue_is_unchanged_and_with_it_only_propensity_moves(
        ) -> None:
    flat, skewed = build_catalogue(scenario()), build_catalogue(
        scenario({"shape": "zipf", "spread": 1.1}))
    assert flat.skus == skewed.skus  # prices, stocks, names: the same draws
    assert {seg.propensity for seg in flat.schedule} == {0.01 / 60}
    props = np.array([seg.propensity for seg in skewed.schedule])
    assert len(set(props)) == len(props)
    assert [seg.start for seg in flat.schedule] == [seg.start for seg in skewed.schedule]


@pytest.mark.parametrize(("shape", "spread"), [("zipf", 1.1), ("lognormal", 1.5)])
def test_weights_average_one_and_put_most_sales_on_a_few_skus(shape: str,
                                                                spread: float) -> None:
    gen = scenario({"shape": shape, "spread": spread}).products.generate
    assert gen is not None
    w = popularity_weights(gen, 5)
    assert w.mean() == pytest.approx(1.0)
    assert np.array_equal(w, popularity_weights(gen, 5))  # seeded
    assert not np.array_equal(w, popularity_weights(gen, 6))
    top = np.sort(w)[::-1]
    assert top[:6].sum() / w.sum() > 0.4  # the top tenth of SKUs
    if shape == "zipf":  # ranks 1..n in a shuffled order: 1/r^s over its mean
        ranks = np.arange(1, 61, dtype=float) ** -spread
        assert np.allclose(np.sort(w), np.sort(ranks / ranks.mean()))


def test_sold_out_times_are_reported_everywhere(tmp_path: Path) -> None:
    text = yaml.safe_dump({
        "name": "sellout", "seed": 3, "duration": "1h",
        "audience": {"arrivals": [{"at": "0h", "rate": "20/s"}]},
        "products": {"skus": [{"sku": "HOT", "price": 9.9, "stock": 300, "limit": 1},
                              {"sku": "SLOW", "price": 9.9, "stock": 10**6}],
                     "schedule": [{"sku": "HOT", "from": "10m", "to": "20m",
                                   "propensity": "0.5/min"},
                                  {"sku": "SLOW", "from": "20m", "to": "30m",
                                   "propensity": "0.01/min"}]},
        "aftersales": {"agents": [{"from": "0h", "to": "30d", "agents": 10}]},
    })
    path = tmp_path / "sellout.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "-r", "3", "--json",
                                      str(tmp_path / "r.json"), "--csv", str(out), "--html",
                                      str(tmp_path / "r.html")])
    assert result.exit_code in (0, 4), result.output
    assert "SKUs to sell out" in result.output and "HOT" in result.output
    data = json.loads((tmp_path / "r.json").read_text())
    rows = data["sold_out"]
    assert [r["sku"] for r in rows] == ["HOT"]  # SLOW never runs short
    hot = rows[0]
    assert hot["replications"] == 3 and hot["share"] == 1.0
    assert 600 <= hot["at_s"]["mean"] < 1200  # within its slot
    assert hot["into_slot_s"] == pytest.approx(hot["at_s"]["mean"] - 600, abs=1e-6)
    with (out / "sold_out.csv").open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["sku"] for r in table] == ["HOT"]
    assert float(table[0]["at_s_mean"]) == hot["at_s"]["mean"]
    page = (tmp_path / "r.html").read_text()
    assert "id='sold-out'" in page and "Service level per 30m" in page
    levels = data["service_level_by_interval"]
    pairs = [(lv, n) for lv, n in zip(levels["level"], levels["offered"], strict=True)
             if lv is not None]
    pooled = sum(lv * n for lv, n in pairs) / sum(n for _, n in pairs)
    assert pooled == pytest.approx(data["kpis"]["aftersales.service_level(20s)"]["mean"],
                                   abs=0.02)
    assert levels["offered"][-1] > 0 and len(levels["from_s"]) == len(levels["level"])


def test_stock_by_popularity_gives_the_hero_products_their_stock_and_sells_out_less(
        ) -> None:
    """A team sizing stock to demand: each drawn stock scaled by its SKU's weight. The
    same draws otherwise, and fewer buyers refused than with stock blind to popularity."""
    from simlive.sim.replications import simulate

    zipf = {"shape": "zipf", "spread": 1.1}
    blind = scenario(zipf)
    sized_data = json.loads(json.dumps(BASE))
    sized_data["products"]["generate"].update(popularity=zipf, stock_by_popularity=True)
    sized = parse_scenario(yaml.safe_dump(sized_data), "skew.yaml")
    a, b = build_catalogue(blind), build_catalogue(sized)
    gen = sized.products.generate
    assert gen is not None
    w = popularity_weights(gen, sized.seed)
    assert [k.price for k in a.skus] == [k.price for k in b.skus]
    assert a.schedule == b.schedule
    assert [k.stock for k in b.skus] == [int(round(k.stock * x)) for k, x in
                                          zip(a.skus, w, strict=True)]
    hero = int(np.argmax(w))
    assert b.skus[hero].stock == max(k.stock for k in b.skus)

    def refused(sc) -> float:
        return simulate(sc, 3).to_dict()["kpis"]["orders.sold_out_rejections"]["mean"]

    assert refused(sized) < refused(blind)


def test_stock_by_popularity_needs_a_popularity() -> None:
    from simlive.errors import InputFileError

    data = json.loads(json.dumps(BASE))
    data["products"]["generate"]["stock_by_popularity"] = True
    with pytest.raises(InputFileError, match=r"products\.generate: expected a popularity"):
        parse_scenario(yaml.safe_dump(data), "skew.yaml")
