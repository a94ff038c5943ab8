"""Seven-day returns: within the law's calendar window a return may be refused only for
the law's exempt kinds of goods, for goods the seller excludes with the buyer's
confirmation at purchase, or for goods that do not come back intact."""

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
orders:
  delivery: {delivery}
aftersales:
  agents: [{{from: 0h, to: 31d, agents: 3}}]
  returns: {{fraction: 1.0, delay: {{dist: fixed, value: {asked}}}}}
  replacements: {{fraction: 0}}
  refunds: {{fraction: 0}}
  complaints: {{fraction: 0}}
  accept_returns_within: {accept}
{more}"""


def _refused(category: str = "food", exempt: str | None = None, accept: str = "3d",
             asked: str = "5d", delivery: str = "{dist: gamma, mean: 2d, sd: 1d}",
             more: str = "") -> tuple[int, int, int]:
    text = SHOP.format(category=category, accept=accept, asked=asked, delivery=delivery,
                       exempt="" if exempt is None else f", {exempt}", more=more)
    m = run_replication(parse_scenario(text), 0).measures
    return (m.desk.returns, m.desk.returns_refused_in_window,
            m.desk.returns_refused_unconfirmed)


def test_food_in_general_is_not_exempt() -> None:
    returns, refused, _ = _refused()
    assert returns > 20 and refused == returns  # asked on day 5, refused by a 3-day window


@pytest.mark.parametrize("kind", sorted(RETURN_EXEMPT))
def test_the_laws_exempt_kinds_may_be_refused(kind: str) -> None:
    returns, refused, _ = _refused("fresh", f"return_exempt: {kind}")
    assert returns > 20 and refused == 0


def test_exempt_as_a_yes_no_is_refused_naming_the_kinds() -> None:
    with pytest.raises(InputFileError) as err:
        parse_scenario(SHOP.format(category="food", exempt=", return_exempt: true",
                                   accept="3d", asked="5d", delivery="{dist: fixed, "
                                   "value: 1d}", more=""))
    assert ("products.skus[0].return_exempt: expected one of made-to-order, fresh-perishable, "
            "digital-opened or newspapers-periodicals; found True") in str(err.value)


@pytest.mark.parametrize(("confirmed", "lawful"), [("true", True), ("false", False),
                                                   ("60%", None)])
def test_excluded_goods_may_be_refused_only_where_the_buyer_confirmed(
        confirmed: str, lawful: bool | None) -> None:
    """The seller refuses every return of goods it excludes (cosmetics, unsealed), even on
    day 2 with a 7-day window; lawful for the purchases whose buyer confirmed it."""
    returns, refused, unconfirmed = _refused(
        "beauty", "return_excluded: {reason: unsealed-health-quality, confirmed_at_purchase: "
        f"{confirmed}}}", accept="7d", asked="2d")
    assert returns > 20 and unconfirmed == refused
    if lawful is None:  # 40 % unconfirmed
        assert 0.2 * returns < refused < 0.6 * returns
    else:
        assert refused == (0 if lawful else returns)


def test_goods_not_intact_may_be_refused() -> None:
    """Half the goods would come back damaged: refused, lawfully, within the window."""
    returns, refused, _ = _refused(accept="7d", asked="2d",
                                   more="  returns_not_intact: 50%\n")
    assert returns > 20 and refused == 0


@pytest.mark.parametrize(("delivery", "counted", "broken"), [
    ("5h", "hours", True),  # signed 01:00-02:00 local: asked 7.5 d later, day 7 still
    ("5h", "calendar", False),
    ("26h", "hours", False),  # signed 22:00-23:00: 7.5 d later is past day 7's end
    ("26h", "calendar", False),
])
def test_the_window_is_seven_calendar_days_after_signing(delivery: str, counted: str,
                                                          broken: bool) -> None:
    """The broadcast starts at 20:00 local time and sells for an hour; the goods arrive
    ``delivery`` after payment and are returned 7.5 days later. A merchant counting its 7
    days in hours from delivery refuses them all; the law counts to 24:00 of the 7th day
    after the day of signing."""
    returns, refused, _ = _refused(accept="7d", asked="7.5d",
                                   delivery=f"{{dist: fixed, value: {delivery}}}",
                                   more=f"  accept_returns_counted: {counted}\n")
    assert returns > 20 and refused == (returns if broken else 0)
