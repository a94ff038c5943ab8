"""The returns keys: the seller's exclusions on SKUs and generated categories, goods not
intact, how the merchant counts its window, and the rule's calendar days and time zone.
Bad values are refused with ``file:line: key.path: expected X; found Y``."""

from __future__ import annotations

import pytest

from simlive.errors import InputFileError
from simlive.rules import DAY, HOUR, rule_params
from simlive.scenario import parse_scenario

MUG = "    - {sku: MUG, price: 20, stock: 50, limit: 2}\n"


def refused(text: str) -> list[str]:
    with pytest.raises(InputFileError) as info:
        parse_scenario(text, "f.yaml")
    return str(info.value).splitlines()


def with_mug(tiny_text: str, extra: str) -> str:
    assert MUG in tiny_text
    return tiny_text.replace(MUG, MUG[:-2] + ", " + extra + "}\n")


def test_an_exclusion_is_read_with_its_confirmation(tiny_text: str) -> None:
    s = parse_scenario(with_mug(tiny_text, "return_excluded: {reason: activated-or-tried, "
                                           "confirmed_at_purchase: 80%}"))
    ex = s.products.skus[0].return_excluded
    assert ex is not None and (ex.reason, ex.confirmed_at_purchase) == ("activated-or-tried",
                                                                        0.8)
    s = parse_scenario(with_mug(tiny_text, "return_excluded: {reason: "
                                           "disclosed-expiry-or-flaw, confirmed_at_purchase: "
                                           "true}"))
    assert s.products.skus[0].return_excluded.confirmed_at_purchase == 1.0  # type: ignore[union-attr]


@pytest.mark.parametrize(("extra", "message"), [
    ("return_excluded: {reason: cosmetics, confirmed_at_purchase: true}",
     "f.yaml:10: products.skus[0].return_excluded.reason: expected one of "
     "unsealed-health-quality, activated-or-tried or disclosed-expiry-or-flaw; found "
     "'cosmetics'"),
    ("return_excluded: {reason: activated-or-tried, confirmed_at_purchase: 120%}",
     "f.yaml:10: products.skus[0].return_excluded.confirmed_at_purchase: expected a number "
     "<= 1; found '120%'"),
    ("return_excluded: {reason: activated-or-tried}",
     "f.yaml:10: products.skus[0].return_excluded.confirmed_at_purchase: expected a value "
     "(this key is required); found nothing"),
    ("return_exempt: made-to-order, return_excluded: {reason: activated-or-tried, "
     "confirmed_at_purchase: true}",
     "f.yaml:10: products.skus[0]: expected return_exempt or return_excluded, not both "
     "(goods the law exempts need no buyer's confirmation); found both"),
])
def test_bad_exclusions_are_refused(tiny_text: str, extra: str, message: str) -> None:
    assert refused(with_mug(tiny_text, extra)) == [message]


def test_goods_not_intact_and_the_count_are_bounded(tiny_text: str) -> None:
    text = tiny_text + "  returns_not_intact: 1.5\n  accept_returns_counted: weeks\n"
    assert refused(text) == [
        "f.yaml:18: aftersales.accept_returns_counted: expected one of calendar or hours; "
        "found 'weeks'",
        "f.yaml:17: aftersales.returns_not_intact: expected a number <= 1; found 1.5"]


def test_the_rules_window_is_whole_days_in_a_time_zone(tiny_text: str) -> None:
    ok = tiny_text + ("compliance:\n  returns.seven-day: {window: 10d, utc_offset: -5h}\n")
    p = rule_params(parse_scenario(ok).rule_overrides())["returns.seven-day"]
    assert (p["window"], p["utc_offset"]) == (10 * DAY, -5 * HOUR)
    bad = tiny_text + ("compliance:\n  returns.seven-day: {window: 7.5d, utc_offset: 15h}\n")
    assert refused(bad) == [
        "f.yaml:18: compliance.returns.seven-day.window: expected whole calendar days, at "
        "least 1 (e.g. 7d); found 7.5d",
        "f.yaml:18: compliance.returns.seven-day.utc_offset: expected a UTC offset like 8h, "
        "+5h30m, -5h (UTC-12 to UTC+14); found '15h'"]
