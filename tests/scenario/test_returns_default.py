"""``aftersales.returns.fraction`` is the rate of SKUs without their own: a catalogue whose
every category has a return rate needs none, and leaving it out keeps the default."""

from __future__ import annotations

from simlive.scenario import parse_scenario


def test_returns_without_a_fraction_keep_the_default(tiny_text) -> None:
    text = tiny_text.replace("aftersales:\n", "aftersales:\n  returns: {delay: {dist: "
                             "exponential, mean: 2d}}\n", 1)
    assert text != tiny_text
    s = parse_scenario(text, "t.yaml")
    assert s.aftersales.returns.fraction == 0.1
    assert s.aftersales.returns.delay.mean_value == 2 * 86400
