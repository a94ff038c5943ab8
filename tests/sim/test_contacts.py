"""The day's rhythm of requests after the broadcast (``aftersales.daily_profile``)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from simlive.errors import InputFileError
from simlive.scenario.loader import parse_scenario
from simlive.scenario.schema import DailyProfile
from simlive.sim.contacts import clock_seconds, contact_times
from simlive.sim.engine import run_replication

# closed at night, busiest in the evening
HOURLY = [0] * 8 + [1, 2, 3, 3, 3, 2, 2, 2, 3, 4, 5, 6, 6, 4] + [0, 0]


def test_requests_land_in_the_hours_by_weight_never_before_they_are_ready() -> None:
    profile = DailyProfile(hourly=HOURLY)
    ready = np.random.default_rng(1).uniform(0, 30 * 86400, 200_000)
    contact = contact_times(ready, profile, "20:00", np.random.default_rng(2))
    assert (contact >= ready).all() and (contact - ready < 86400).all()
    hours = ((contact + clock_seconds("20:00")) % 86400 // 3600).astype(int)
    share = np.bincount(hours, minlength=24) / hours.size
    assert np.abs(share - np.asarray(HOURLY) / sum(HOURLY)).max() < 0.005
    again = contact_times(ready, profile, "20:00", np.random.default_rng(2))
    assert np.array_equal(contact, again)


def _scenario(profile: dict | None) -> str:
    data = {
        "name": "rhythm", "seed": 4, "duration": "2h",
        "audience": {"arrivals": [{"at": "0h", "rate": "5/s"}]},
        "products": {"skus": [{"sku": "A", "price": 10, "stock": 10**6}],
                     "schedule": [{"sku": "A", "from": "0m", "to": "2h",
                                   "propensity": "0.05/min"}]},
        "aftersales": {"consultations": {"rate": 0}, "returns": {"fraction": 0.3},
                       "agents": [{"from": "0h", "to": "30d", "agents": 30}]},
    }
    if profile is not None:
        data["start_clock"] = profile.pop("start_clock", "20:00")
        data["aftersales"]["daily_profile"] = profile
    return yaml.safe_dump(data)


def test_a_scenario_with_a_profile_gets_no_request_in_closed_hours() -> None:
    s = parse_scenario(_scenario({"start_clock": "20:00", "hourly": HOURLY}), "r.yaml")
    flat = parse_scenario(_scenario(None), "r.yaml")
    counts = run_replication(s, 0).intervals
    assert counts is not None and counts.offered.sum() > 500
    starts = np.arange(counts.offered.size) * counts.length
    local_hour = (starts + 20 * 3600) % 86400 // 3600
    closed = np.isin(local_hour, [h for h, w in enumerate(HOURLY) if w == 0])
    assert counts.offered[closed].sum() == 0
    plain = run_replication(flat, 0).intervals
    assert plain is not None and plain.offered[closed].sum() > 0  # without: any hour
    # the same customers, only later: as many requests either way (within the horizon)
    assert abs(int(counts.offered.sum()) - int(plain.offered.sum())) < 0.02 * plain.offered.sum()


@pytest.mark.parametrize(("profile", "message"), [
    ({"hourly": [1] * 23}, "aftersales.daily_profile.hourly"),
    ({"hourly": [0] * 24}, "at least one hour"),
    ({"start_clock": "8pm", "hourly": [1] * 24}, "start_clock"),
])
def test_bad_profiles_are_named(profile: dict, message: str) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_scenario(_scenario(profile), "r.yaml")
    assert message in str(caught.value)
