"""When customers get in touch after the broadcast: the day's rhythm (``aftersales.
daily_profile``).

A customer becomes ready to ask at some time (their goods arrived and they want to return
them, they decided on a refund). Each has an hour of the day they get round to such things,
drawn by the profile's hourly weights (a uniform minute within it), and contacts the desk
the next time that hour comes. So requests land in the hours exactly in proportion to the
weights whatever the hours customers became ready at, none is earlier than its readiness,
and none waits more than a day for it. (A contact rate proportional to the weights would
not give that shape: customers ready at night would all call in the first morning hour.)
"""

from __future__ import annotations

import numpy as np

from simlive.scenario.schema import DailyProfile

DAY = 86400.0
HOUR = 3600.0


def clock_seconds(clock: str) -> float:
    """``"20:30"`` -> seconds after midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * HOUR + int(minutes) * 60.0


def contact_times(ready: np.ndarray, profile: DailyProfile, start_clock: str,
                  rng: np.random.Generator) -> np.ndarray:
    """For each time a customer is ready (seconds from the broadcast's start), when they
    contact the desk. Two draws per customer (the hour, the moment in it), in order."""
    weights = np.asarray(profile.hourly, dtype=float)
    hour = rng.choice(24, size=ready.size, p=weights / weights.sum())
    at = (hour + rng.random(ready.size)) * HOUR  # local time of day
    offset = clock_seconds(start_clock)
    local = ready + offset
    contact = np.floor(local / DAY) * DAY + at
    contact = np.where(contact < local, contact + DAY, contact)
    return contact - offset
