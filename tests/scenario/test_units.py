"""The human units scenario files are written in: durations and rates, good and bad."""

from __future__ import annotations

import math

import pytest

from simlive.scenario.units import Mismatch, parse_duration, parse_rate

DURATION_HINT = "a duration like 90s, 15m, 4h, 7d"
RATE_HINT = "a rate like 1200/min, 20/s, 5/h"


@pytest.mark.parametrize(("raw", "seconds"), [
    ("90s", 90.0),
    ("90sec", 90.0),
    ("500ms", 0.5),
    ("15m", 900.0),
    ("15min", 900.0),
    ("4h", 14400.0),
    ("1.5h", 5400.0),
    (".5h", 1800.0),
    ("7d", 604800.0),
    ("2w", 1209600.0),
    ("3y", 3 * 365 * 86400.0),
    ("1e3s", 1000.0),
    ("90 s", 90.0),
    (" 15m ", 900.0),
    ("0s", 0.0),
    ("1h30m", 5400.0),
    ("4h5m30s", 14730.0),
    (0, 0.0),
    (42, 42.0),
    (2.5, 2.5),
])
def test_parse_duration(raw, seconds):
    assert parse_duration(raw) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(("raw", "expected", "found"), [
    ("10 minutes", DURATION_HINT, "'10 minutes'"),
    ("1H", DURATION_HINT, "'1H'"),
    ("5x", DURATION_HINT, "'5x'"),
    ("h", DURATION_HINT, "'h'"),
    ("", DURATION_HINT, "''"),
    ("-5s", DURATION_HINT, "'-5s'"),
    ("1h 30m", DURATION_HINT, "'1h 30m'"),
    ("1h30", DURATION_HINT, "'1h30'"),
    ("20/s", DURATION_HINT, "'20/s'"),
    ("nan", DURATION_HINT, "'nan'"),
    (True, DURATION_HINT, "True"),
    (None, DURATION_HINT, "None"),
    ([1], DURATION_HINT, "[1]"),
    (-1, DURATION_HINT + " (not negative)", "-1"),
    (-0.5, DURATION_HINT + " (not negative)", "-0.5"),
    (math.inf, DURATION_HINT + " (a finite number)", "inf"),
    (math.nan, DURATION_HINT + " (a finite number)", "nan"),
    (-math.inf, DURATION_HINT + " (a finite number)", "-inf"),
    ("1e999s", DURATION_HINT + " (a finite number)", "'1e999s'"),
    ("9" * 400 + "h", DURATION_HINT + " (a finite number)", "'" + "9" * 56 + "..."),
    (10**400, DURATION_HINT + " (a finite number)", "an integer of 401 digits"),
    ("1001y", DURATION_HINT + " (at most 1000y)", "'1001y'"),
])
def test_parse_duration_rejects(raw, expected, found):
    with pytest.raises(Mismatch) as info:
        parse_duration(raw)
    assert info.value.expected == expected
    assert info.value.found == found
    assert str(info.value) == f"expected {expected}; found {found}"
    assert isinstance(info.value, ValueError)  # so pydantic reports it at the key path


@pytest.mark.parametrize(("raw", "per_second"), [
    ("1200/min", 20.0),
    ("20/s", 20.0),
    ("20/sec", 20.0),
    ("20 / s", 20.0),
    ("5/h", 5 / 3600),
    ("0.15/h", 0.15 / 3600),
    ("3/d", 3 / 86400),
    ("1/w", 1 / (7 * 86400)),
    ("20/ms", 20000.0),
    ("1e2/min", 100 / 60),
    ("0/s", 0.0),
    (0, 0.0),
])
def test_parse_rate(raw, per_second):
    assert parse_rate(raw) == pytest.approx(per_second, rel=1e-12)


@pytest.mark.parametrize(("raw", "expected", "found"), [
    ("10 per minute", RATE_HINT, "'10 per minute'"),
    ("20", RATE_HINT, "'20'"),
    ("/s", RATE_HINT, "'/s'"),
    ("20/x", RATE_HINT, "'20/x'"),
    ("20/Min", RATE_HINT, "'20/Min'"),
    ("-3/s", RATE_HINT, "'-3/s'"),
    ("15m", RATE_HINT, "'15m'"),
    (True, RATE_HINT, "True"),
    (None, RATE_HINT, "None"),
    (-1, RATE_HINT + " (not negative)", "-1"),
    (math.inf, RATE_HINT + " (a finite number)", "inf"),
    (math.nan, RATE_HINT + " (a finite number)", "nan"),
    ("1e999/s", RATE_HINT + " (a finite number)", "'1e999/s'"),
    (10**400, RATE_HINT + " (a finite number)", "an integer of 401 digits"),
    ("2e9/s", RATE_HINT + " (at most 1e9/s)", "'2e9/s'"),
    # a plain number other than 0 would silently be per second: refused, the rate it
    # would have meant said
    (0.02, RATE_HINT + " (with its unit: a plain number would be per second, 0.02/s = "
     "72/h)", "0.02"),
    (3, RATE_HINT + " (with its unit: a plain number would be per second, 3/s = 10,800/h)",
     "3"),
])
def test_parse_rate_rejects(raw, expected, found):
    with pytest.raises(Mismatch) as info:
        parse_rate(raw)
    assert info.value.expected == expected
    assert info.value.found == found


def test_mismatch_keeps_placeholder_text_unquoted():
    assert Mismatch("x", "<a file>").found == "<a file>"
    assert Mismatch("x", "a file").found == "'a file'"


def test_a_request_rate_takes_a_plain_number_as_per_second():
    """Load settings count requests per second (RPS), as load tools do."""
    from simlive.scenario.units import parse_request_rate

    assert parse_request_rate(3) == 3.0 and parse_request_rate("120/min") == 2.0
    with pytest.raises(Mismatch):
        parse_request_rate(-1)
