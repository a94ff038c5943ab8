"""Seven-day no-reason returns: which returns the merchant refuses, and which of those
refusals the law forbids (``returns.seven-day``).

The law counts calendar days in the consumer's local time: a return asked by 24:00 of the
7th day after the day the goods were signed for is owed (``rules.return_deadline``). The
simulator's clock is seconds since the broadcast began at ``start_clock`` local time, so
that is the offset its days are read with. The merchant counts its own window
(``accept_returns_within``) in calendar days as the law does, or in hours from the
delivery (``accept_returns_counted: hours``), and refuses outright the goods the law
exempts, the goods it excludes, and goods that would not come back intact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlive.rules import return_deadline


@dataclass(frozen=True)
class ReturnPolicy:
    """The merchant's window and how it counts it, and the local time of day at time 0."""

    accept_within: float  # seconds (days, counted as ``counted`` says)
    counted: str  # "calendar" or "hours"
    clock: float  # local seconds since midnight at the simulator's time 0


def returns_refused(is_return: np.ndarray, delivered: np.ndarray, asked: np.ndarray,
                    refusable: np.ndarray, lawful: np.ndarray, policy: ReturnPolicy,
                    window: float) -> tuple[np.ndarray, np.ndarray]:
    """(refused, refused against ``returns.seven-day``) per ticket: the merchant refuses a
    return asked past its own deadline, or one it refuses whatever its age
    (``refusable``: exempt, excluded, not intact); the rule forbids refusing one asked by
    the law's deadline (``window`` calendar days) unless the refusal is ``lawful``."""
    if policy.counted == "hours":
        own = delivered + policy.accept_within
    else:
        own = return_deadline(delivered, policy.accept_within, policy.clock)
    refused = is_return & ((asked > own) | refusable)
    law = return_deadline(delivered, window, policy.clock)
    return refused, refused & ~lawful & (asked <= law)
