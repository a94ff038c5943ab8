"""Property: whatever a scenario file holds, ``validate`` and ``run`` end with an exit code,
never a traceback.

Scenarios are the bundled ones, mutated: keys deleted, values swapped for other types,
huge, tiny, negative, NaN and infinite numbers, deep nesting, cyclic aliases. A scenario that
validates is run when the estimate says it is small (the full-scale Double 11 never is); a
big one is only built (catalogue, estimate), so every example stays fast.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def _trimmed(doc: Any, keep: int = 12) -> Any:
    """The scenario with every shift list (``agents``) cut to ``keep`` shifts: the
    presale's planned rosters run to thousands of shifts, and copying, mutating and dumping
    them for every example made the property ten times slower while the mutations are
    about keys and values."""
    if isinstance(doc, dict):
        return {k: (v[:keep] if k == "agents" and isinstance(v, list) else _trimmed(v, keep))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_trimmed(v, keep) for v in doc]
    return doc


BUNDLED = {p.stem: _trimmed(yaml.safe_load(p.read_text(encoding="utf-8")))
           for p in sorted((ROOT / "scenarios").glob("*.yaml"))}

NUMBERS = [0, -1, 1, 0.5, -0.5, 1e-300, 5e-324, 1e300, 1.7e308, 2**31, 2**63 - 1, 2**63,
           10**30, 10**400, math.nan, math.inf, -math.inf]
DURATIONS = ["0s", "1ms", "1s", "98s", "15m", "1h30m", "2h58m2s", "12h", "31d", "200d", "365d",
             "50y", "1000y", "1e300s", "1e999s", "-5s", "nan", "10 minutes"]
RATES = ["0/s", "1e-300/s", "0.003/min", "20/s", "1e9/s", "2e9/s", "1e999/s", "-3/s", "5/x"]
OTHERS = [None, True, False, "", "x", "2024-13-45", [], {}, [1, 2], {"a": 1},
          {"dist": "gamma", "mean": "1ms", "sd": "10d"}, {"dist": "empirical", "values": []}]

HAZARDS = [
    "cycle: &c [*c]\n",
    "seed: " + "9" * 5000 + "\n",
    "deep: " + "[" * 600 + "]" * 600 + "\n",
    "name: caf\xe9\n",
    "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n" for p, c in zip("abcde", "bcdef",
                                                                     strict=True)),
]

any_value = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(DURATIONS),
    st.sampled_from(RATES),
    st.sampled_from(OTHERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=8),
)


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same kind as ``value`` (a number for a number, a duration for a
    duration), extreme ones included; any value a quarter of the time (a swapped type)."""
    if isinstance(value, bool) or value is None:
        same = st.sampled_from([True, False, None])
    elif isinstance(value, int | float):
        same = st.one_of(st.sampled_from(NUMBERS), st.integers(-5, 10**6),
                         st.floats(min_value=0, max_value=1),
                         st.floats(allow_nan=True, allow_infinity=True))
    elif isinstance(value, str) and "/" in value:
        same = st.sampled_from(RATES)
    elif isinstance(value, str) and value[:1].isdigit():
        same = st.sampled_from(DURATIONS)
    else:
        same = any_value
    return st.one_of(same, same, same, any_value)


# optional keys the bundled scenarios leave out, set by the "add" mutation
OPTIONAL = [("simulation", "step"), ("simulation", "series_step"),
            ("simulation", "desk_engine"), ("orders", "payment_timeout"),
            ("orders", "display_refresh"), ("aftersales", "horizon"),
            ("aftersales", "consultations", "rate"), ("seed",)]


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if len(path) < 7:
        items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
            if isinstance(doc, list) else []
        for k, v in items:
            out += _paths(v, path + (k,))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for k in path[:-1]:
        doc = doc[k]
    return doc


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """(the base scenario's name, mutated YAML text)."""
    name = draw(st.sampled_from(sorted(BUNDLED)))
    doc = copy.deepcopy(BUNDLED[name])
    for _ in range(draw(st.integers(1, 2))):
        # leaves first: hypothesis leans to the first items, and a leaf changed keeps the
        # rest of the file valid, so the example gets as far as the run
        paths = sorted(_paths(doc), key=lambda p: (
            isinstance(_parent(doc, p)[p[-1]], dict | list), -len(p)))
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        op = draw(st.sampled_from(["value", "value", "value", "add", "delete", "nest",
                                   "repeat"]))
        if op == "add":
            where = draw(st.sampled_from(OPTIONAL))
            parent = doc
            for k in where[:-1]:
                parent = parent.setdefault(k, {}) if isinstance(parent, dict) else {}
            if isinstance(parent, dict):
                parent[where[-1]] = draw(_like(draw(st.sampled_from(["1s", 1, "simpy"]))))
        elif op == "delete":
            del parent[path[-1]]
        elif op == "value":
            parent[path[-1]] = draw(_like(parent[path[-1]]))
        elif op == "nest":
            parent[path[-1]] = _nest(parent[path[-1]], draw(st.sampled_from([3, 70])))
        elif isinstance(parent[path[-1]], list) and parent[path[-1]]:
            parent[path[-1]] = parent[path[-1]] * draw(st.sampled_from([2, 50]))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)
    hazard = ""
    if all(draw(st.booleans()) for _ in range(3)):  # YAML that would exhaust the loader
        hazard = draw(st.sampled_from(HAZARDS))
    return name, text + hazard


def _no_traceback(result: Any, codes: tuple[int, ...]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in codes, result.output


def _small(s: Any) -> bool:
    from simlive.scenario.estimate import estimate

    e = estimate(s)
    return (e.bytes < 600 * 2**20 and e.steps * e.skus < 3e6 and e.orders < 3e5
            and e.tickets < 3e4 and e.viewers < 1e9)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_validate_and_run_end_with_an_exit_code(invoke, tmp_path, case):
    from simlive.errors import InputFileError
    from simlive.scenario import load_scenario
    from simlive.scenario.catalogue import build_catalogue

    _, text = case
    path = tmp_path / "mutated.yaml"
    path.write_bytes(text.encode("latin-1" if "caf\xe9" in text else "utf-8", "replace"))
    result = invoke("validate", str(path))
    _no_traceback(result, (0, 2))
    if result.exit_code == 2:
        assert result.stderr.startswith(f"{path}")
        event("refused by validate")
        return
    try:
        s = load_scenario(path)
    except InputFileError:  # pragma: no cover - validate said ok
        raise AssertionError("validate passed, load_scenario refused") from None
    if _small(s):
        event("valid, run")
        _no_traceback(invoke("run", str(path), "-q"), (0, 1, 2, 4))
    else:
        event("valid, too big to run here: built")
        build_catalogue(s)
