"""Seven-day returns: only the law's exempt kinds of goods may be refused within the window."""

from __future__ import annotations

import pytest

from simlive.errors import InputFileError
from simlive.rules import RETURN_EXEMPT
from simlive.scenario import parse_scenario
from simlive.sim.engine import run_replication

SHOP = """\
name: returns
seed: 3
duration: 1h
audience:
  arrivals: [{{at: 0m, rate: 60/min}}]
products:
  skus: [{{sku: A, price: 10, stock: 5000, limit: 1, category: {category}{exempt}}}]
  schedule: [{{sku: A, from: 0m, to: 1h, propensity: 0.02/min}}]
aftersales:
  agents: [{{from: 0h, to: 31d, agents: 3}}]
  returns: {{fraction: 1.0, delay: {{dist: fixed, value: 5d}}}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 0}}
  accept_returns_within: 3d
"""


def _refused(category: str, exempt: str | None) -> tuple[int, int]:
    text = SHOP.format(category=category,
                       exempt="" if exempt is None else f", return_exempt: {exempt}")
    m = run_replication(parse_scenario(text), 0).measures
    return m.desk.returns, m.desk.returns_refused_in_window


def test_food_in_general_is_not_exempt() -> None:
    returns, refused = _refused("food", None)
    assert returns > 20 and refused == returns  # asked on day 5, refused by a 3-day window


@pytest.mark.parametrize("kind", sorted(RETURN_EXEMPT))
def test_the_laws_exempt_kinds_may_be_refused(kind: str) -> None:
    returns, refused = _refused("fresh", kind)
    assert returns > 20 and refused == 0


def test_exempt_as_a_yes_no_is_refused_naming_the_kinds() -> None:
    with pytest.raises(InputFileError) as err:
        parse_scenario(SHOP.format(category="food", exempt=", return_exempt: true"))
    assert ("products.skus[0].return_exempt: expected one of made-to-order, fresh-perishable, "
            "digital-opened or newspapers-periodicals; found True") in str(err.value)
