"""Parsing the human units a scenario is written in: durations, rates, money; and the bounds
its numbers take.

Durations are ``90s``, ``15m``, ``4h``, ``7d``, ``2w``, ``3y`` (a year is 365 days) or a bare
number of seconds; rates are ``1200/min``, ``20/s``, ``5/h``, ``3/d`` or a bare number per
second. Everything is stored in seconds and per-second rates so the model never converts.
NaN and infinities are refused wherever a number is read; each upper bound says why.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, WithJsonSchema

from simlive.rules import format_duration

UNIT_SECONDS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "y": 365 * 86400.0,
}

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-z]+)\s*$")
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*/\s*([a-z]+)\s*$")
_COMPOUND = re.compile(r"^\s*(?:[0-9]+(?:\.[0-9]+)?[a-z]+)+\s*$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([a-z]+)")
_DURATION_HINT = "a duration like 90s, 15m, 4h, 7d"
_RATE_HINT = "a rate like 1200/min, 20/s, 5/h"

DURATION_MAX = 1000 * UNIT_SECONDS["y"]
"""The longest duration any key takes: above every retention a rule asks for (3 years), and
small enough that sums of times stay finite and exact to the millisecond."""

RATE_MAX = 1e9
"""The highest rate any key takes, per second: ten thousand times the busiest platform's
orders per second (583,000 in 2020), so counts per step stay within what numpy draws."""


class Mismatch(ValueError):
    """A value of the wrong form: carries what was expected and what was found.

    A ValueError so pydantic reports it at the right key path; the loader reads
    ``expected`` and ``found`` back to print ``expected X; found Y``.
    """

    def __init__(self, expected: str, found: object, *, as_is: bool = False) -> None:
        self.expected = expected
        if as_is or isinstance(found, str) and found.startswith("<"):
            self.found = str(found)
        else:
            text = _repr(found)
            self.found = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(f"expected {self.expected}; found {self.found}")


def _repr(value: object) -> str:
    """repr, but a huge integer by its size (repr fails past 4300 digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        digits = int((value.bit_length() - 1) * math.log10(2)) + 1
        while abs(value) >= 10**digits:
            digits += 1
        return f"an integer of {digits} digits"
    return repr(value)


def _float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond 1.8e308
        return math.inf


def _checked(value: float, hint: str, raw: object, limit: float, unit: str) -> float:
    if not math.isfinite(value):
        raise Mismatch(f"{hint} (a finite number)", raw)
    if value < 0:
        raise Mismatch(f"{hint} (not negative)", raw)
    if value > limit:
        raise Mismatch(f"{hint} (at most {unit})", raw)
    return value


def _duration(value: float, raw: object) -> float:
    return _checked(value, _DURATION_HINT, raw, DURATION_MAX, "1000y")


def parse_duration(raw: object) -> float:
    """Seconds from ``raw``; raises Mismatch for anything else."""
    if isinstance(raw, bool):
        raise Mismatch(_DURATION_HINT, raw)
    if isinstance(raw, int | float):
        return _duration(_float(raw), raw)
    if isinstance(raw, str):
        m = _DURATION.match(raw)
        if m and m.group(2) in UNIT_SECONDS:
            return _duration(float(m.group(1)) * UNIT_SECONDS[m.group(2)], raw)
        if _COMPOUND.match(raw):  # 1h30m, 4h5m30s
            parts = _PART.findall(raw)
            if all(u in UNIT_SECONDS for _, u in parts):
                return _duration(sum(float(v) * UNIT_SECONDS[u] for v, u in parts), raw)
    raise Mismatch(_DURATION_HINT, raw)


def parse_request_rate(raw: object) -> float:
    """Requests per second: a plain number is per second, as load tools count (RPS)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _checked(_float(raw), _RATE_HINT, raw, RATE_MAX, "1e9/s")
    return parse_rate(raw)


def parse_rate(raw: object) -> float:
    """Events per second from ``raw`` (``1200/min`` -> 20.0). A plain number other than 0
    is refused: ``per_viewer: 0.02`` meant 2 % of viewers to one user and 72 contacts an
    hour per viewer to the model."""
    if isinstance(raw, bool):
        raise Mismatch(_RATE_HINT, raw)
    if isinstance(raw, int | float):
        value = _checked(_float(raw), _RATE_HINT, raw, RATE_MAX, "1e9/s")
        if value:  # 0 needs no unit; any other plain number would silently be per second
            raise Mismatch(f"{_RATE_HINT} (with its unit: a plain number would be per "
                           f"second, {per_hour(value)})", raw)
        return value
    if isinstance(raw, str):
        m = _RATE.match(raw)
        if m and m.group(2) in UNIT_SECONDS:
            return _checked(float(m.group(1)) / UNIT_SECONDS[m.group(2)], _RATE_HINT, raw,
                            RATE_MAX, "1e9/s")
    raise Mismatch(_RATE_HINT, raw)


def per_hour(rate: float) -> str:
    """A per-second rate as people read it: ``72/h``."""
    return f"{rate:g}/s = {rate * 3600:,.6g}/h"


def count(value: float) -> str:
    """A count as people write it: 1,000,000; a huge one as 1e+30."""
    try:
        v = float(value)
    except OverflowError:
        return _repr(value)
    if abs(v) >= 1e15:
        return f"{v:.3g}"
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.3g}"


def duration_text(seconds: float) -> str:
    """A duration as a scenario writes it: ``32d``, ``1.5h`` (``format_duration``), or
    exactly (``2h58m2s``) where that short form would round the value."""
    short = format_duration(seconds)
    if math.isclose(parse_duration(short), seconds, rel_tol=1e-9, abs_tol=1e-9):
        return short
    rest, out = float(seconds), ""
    for unit in ("d", "h", "m"):
        whole = int(rest // UNIT_SECONDS[unit])
        if whole:
            out += f"{whole}{unit}"
            rest -= whole * UNIT_SECONDS[unit]
    if rest > 1e-9 or not out:
        out += f"{round(rest, 3):g}s"
    return out


def durations(values: list[float]) -> str:
    """Times as a scenario writes them: ``0s, 1h, 30m``."""
    return ", ".join(duration_text(v) for v in values)


def _bound(limit: float, why: str, show: Any, above: bool) -> AfterValidator:
    show = show or duration_text

    def check(value: Any) -> Any:
        if value > limit if above else value < limit:
            raise Mismatch(f"at {'most' if above else 'least'} {show(limit)} ({why})",
                           show(value), as_is=True)
        return value

    return AfterValidator(check)


def at_most(limit: float, why: str, show: Any = None) -> AfterValidator:
    """An upper bound that says why: ``Annotated[Seconds, at_most(365 * 86400, "...")]``
    refuses 400d with ``expected at most 365d (...); found 400d``. ``show`` formats the
    limit and the value (``duration_text`` by default; ``count`` for counts)."""
    return _bound(limit, why, show, above=True)


def at_least(limit: float, why: str, show: Any = None) -> AfterValidator:
    """A lower bound that says why, like ``at_most``."""
    return _bound(limit, why, show, above=False)


STOCK_MAX = 10**12
STOCK_BOUND = at_most(STOCK_MAX, "a stock ledger sums every unit in a 64-bit integer", count)
UNITS_MAX = 10**6
UNITS_BOUND = at_most(UNITS_MAX, "units in one order", count)
PRICE_MAX = 1e9
PRICE_BOUND = at_most(PRICE_MAX, "a price per unit; GMV adds millions of them", count)
BOOST_MAX = 1e6
AGENTS_MAX = 100_000


# --- the annotated field types the schema uses: parsing plus a JSON Schema for editors -----

_NUMBER = r"[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?"
_UNIT = r"(ms|s|sec|m|min|h|d|w|y)"
SIGNED_DURATION_SCHEMA = {"anyOf": [
    {"type": "number", "description": "seconds (negative: before)"},
    {"type": "string", "pattern": rf"^\s*[-+]?\s*({_NUMBER}\s*{_UNIT}\s*)+$",
     "examples": ["-7d", "2d", "-1h30m"]},
]}
"""A time either side of an instant: ``-7d`` a week before it."""
DURATION_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "description": "seconds"},
    {"type": "string", "pattern": rf"^\s*({_NUMBER}\s*{_UNIT}\s*)+$",
     "examples": ["90s", "15m", "4h", "7d", "1h30m"]},
]}
RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 0, "description": "0 (any other rate "
     "carries its unit)"},
    {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*/\s*{_UNIT}\s*$",
     "examples": ["1200/min", "20/s", "0.003/min"]},
]}
REQUEST_RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "description": "per second"},
    RATE_SCHEMA["anyOf"][1],
]}
Seconds = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]


def _whole_days(value: float) -> float:
    if value % UNIT_SECONDS["d"] or value <= 0:
        raise Mismatch("whole calendar days, at least 1 (e.g. 7d)", duration_text(value),
                       as_is=True)
    return value


Days = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_whole_days),
                 WithJsonSchema(DURATION_SCHEMA)]
"""A count of calendar days, as a duration in whole days: ``7d``."""
OFFSET_RANGE = (-12 * 3600.0, 14 * 3600.0)
"""The local times of the world's calendars: UTC-12 to UTC+14."""


def parse_offset(raw: object) -> float:
    """A signed time zone offset from UTC: ``8h``, ``+8h``, ``-5h``, ``5h30m``, or seconds;
    UTC-12 .. UTC+14."""
    text = raw.strip() if isinstance(raw, str) else raw
    sign = -1.0 if isinstance(text, str) and text.startswith("-") else 1.0
    if isinstance(text, str) and text[:1] in "+-" and text[1:2] not in ("", "+", "-"):
        text = text[1:]
    elif isinstance(text, int | float) and not isinstance(text, bool) and text < 0:
        sign, text = -1.0, -text
    hint = "a UTC offset like 8h, +5h30m, -5h (UTC-12 to UTC+14)"
    try:
        value = sign * parse_duration(text)
    except Mismatch:
        raise Mismatch(hint, raw) from None
    if not OFFSET_RANGE[0] <= value <= OFFSET_RANGE[1]:
        raise Mismatch(hint, raw)
    return value


Offset = Annotated[float, BeforeValidator(parse_offset), WithJsonSchema({"anyOf": [
    {"type": "number", "minimum": OFFSET_RANGE[0], "maximum": OFFSET_RANGE[1],
     "description": "seconds east of UTC"},
    {"type": "string", "pattern": rf"^\s*[+-]?({_NUMBER}\s*{_UNIT}\s*)+$",
     "examples": ["8h", "+5h30m", "-5h"]}]})]
"""A time zone's offset from UTC, signed: ``8h`` (China), ``-5h``."""
def _rate_field(raw: object, info: ValidationInfo) -> float:
    """A scenario's rate: with its unit in a file; a plain number (per second) only in a
    scenario simlive stored itself (run.json, a plan's candidate), validated with the
    context ``{"stored": True}``."""
    if info.context and info.context.get("stored"):
        return parse_request_rate(raw)
    return parse_rate(raw)


STORED = {"stored": True}
"""The validation context of a scenario simlive dumped itself (rates as plain per second)."""

PerSecond = Annotated[float, BeforeValidator(_rate_field), WithJsonSchema(RATE_SCHEMA)]
RequestsPerSecond = Annotated[float, BeforeValidator(parse_request_rate),
                              WithJsonSchema(REQUEST_RATE_SCHEMA)]
_SHARE = re.compile(rf"^\s*({_NUMBER})\s*%\s*$")


def parse_share(raw: object) -> object:
    """A share as a fraction or a percentage: ``30%`` -> 0.3; anything else as it is (the
    number's own checks follow)."""
    if isinstance(raw, str):
        m = _SHARE.match(raw)
        if m:
            return float(m.group(1)) / 100
    if isinstance(raw, float) and not math.isfinite(raw):
        raise Mismatch("a share from 0 to 1, or 0% to 100%", raw)
    return raw


SHARE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*%\s*$", "examples": ["30%", "0.5%"]},
]}
Fraction = Annotated[float, BeforeValidator(parse_share), Field(ge=0, le=1),
                     WithJsonSchema(SHARE_SCHEMA)]
"""A share: 0.3 or 30%."""
Number = Annotated[float, Field(allow_inf_nan=False)]
"""A plain number (a price, a weight, a multiplier): NaN and infinities are refused."""
