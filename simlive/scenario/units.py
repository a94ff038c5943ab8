"""Parsing the human units a scenario is written in: durations, rates, money.

Durations are ``90s``, ``15m``, ``4h``, ``7d``, ``2w``, ``3y`` (a year is 365 days) or a bare
number of seconds; rates are ``1200/min``, ``20/s``, ``5/h``, ``3/d`` or a bare number per
second. Everything is stored in seconds and per-second rates so the model never converts.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

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


class Mismatch(ValueError):
    """A value of the wrong form: carries what was expected and what was found.

    A ValueError so pydantic reports it at the right key path; the loader reads
    ``expected`` and ``found`` back to print ``expected X; found Y``.
    """

    def __init__(self, expected: str, found: object) -> None:
        self.expected = expected
        self.found = found if isinstance(found, str) and found.startswith("<") else repr(found)
        super().__init__(f"expected {self.expected}; found {self.found}")


def _finite_non_negative(value: float, hint: str, raw: object) -> float:
    if not math.isfinite(value) or value < 0:
        raise Mismatch(f"{hint} (not negative)", raw)
    return value


def parse_duration(raw: object) -> float:
    """Seconds from ``raw``; raises Mismatch for anything else."""
    if isinstance(raw, bool):
        raise Mismatch(_DURATION_HINT, raw)
    if isinstance(raw, int | float):
        return _finite_non_negative(float(raw), _DURATION_HINT, raw)
    if isinstance(raw, str):
        m = _DURATION.match(raw)
        if m and m.group(2) in UNIT_SECONDS:
            return _finite_non_negative(
                float(m.group(1)) * UNIT_SECONDS[m.group(2)], _DURATION_HINT, raw
            )
        if _COMPOUND.match(raw):  # 1h30m, 4h5m30s
            parts = _PART.findall(raw)
            if all(u in UNIT_SECONDS for _, u in parts):
                return sum(float(v) * UNIT_SECONDS[u] for v, u in parts)
    raise Mismatch(_DURATION_HINT, raw)


def parse_rate(raw: object) -> float:
    """Events per second from ``raw`` (``1200/min`` -> 20.0)."""
    if isinstance(raw, bool):
        raise Mismatch(_RATE_HINT, raw)
    if isinstance(raw, int | float):
        return _finite_non_negative(float(raw), _RATE_HINT, raw)
    if isinstance(raw, str):
        m = _RATE.match(raw)
        if m and m.group(2) in UNIT_SECONDS:
            return _finite_non_negative(
                float(m.group(1)) / UNIT_SECONDS[m.group(2)], _RATE_HINT, raw
            )
    raise Mismatch(_RATE_HINT, raw)


# --- the annotated field types the schema uses: parsing plus a JSON Schema for editors -----

_NUMBER = r"[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?"
_UNIT = r"(ms|s|sec|m|min|h|d|w|y)"
DURATION_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "description": "seconds"},
    {"type": "string", "pattern": rf"^\s*({_NUMBER}\s*{_UNIT}\s*)+$",
     "examples": ["90s", "15m", "4h", "7d", "1h30m"]},
]}
RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0, "description": "per second"},
    {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*/\s*{_UNIT}\s*$",
     "examples": ["1200/min", "20/s", "0.003/min"]},
]}
Seconds = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]
PerSecond = Annotated[float, BeforeValidator(parse_rate), WithJsonSchema(RATE_SCHEMA)]
Fraction = Annotated[float, Field(ge=0, le=1)]
