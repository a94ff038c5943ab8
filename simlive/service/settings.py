"""The service's settings: one frozen value built by the CLI (or a test) and read by the app.

uvicorn's worker processes cannot be handed a Python object, so settings travel to them as one
JSON environment variable (:data:`ENV_VAR`); :func:`Settings.to_env` and
:func:`Settings.from_env` are the two ends of that pipe. Defaults come from the rule
parameters in :mod:`simlive.rules`, so the service keeps the same limits the checker uses.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from simlive.errors import UsageError
from simlive.rules import DAY, HOUR, RULES
from simlive.service.faults import Fault, parse_faults

ENV_VAR = "SIMLIVE_SERVICE_SETTINGS"
MAX_BUCKETS = 64  # schemas.MAX_BUCKETS: a product's own stock_buckets has the same bound
MAX_LANES = 16
ROLES: tuple[str, ...] = ("buyer", "merchant", "agent", "admin")
OLD_ROLE_NAMES = {"viewer": "buyer"}
"""Role names older versions wrote (token files, ``POST /admin/users``): still read."""


def role_named(name: str) -> str:
    """The role ``name`` stands for: itself, or the current name of an old one."""
    return OLD_ROLE_NAMES.get(name, name)

DEFAULT_RETENTION = RULES["replay.retained"].defaults()["min_retention"]
DEFAULT_RETURN_WINDOW = RULES["returns.seven-day"].defaults()["window"]
DEFAULT_RETURN_UTC_OFFSET = RULES["returns.seven-day"].defaults()["utc_offset"]
DEFAULT_PRICE_WINDOW = RULES["pricing.claims-hold"].defaults()["window"]


@dataclass(frozen=True)
class TokenSpec:
    """A user to make sure exists at start: its bearer token, role and display name."""

    token: str
    role: str
    name: str
    expires: datetime | None = None  # the token stops working then


@dataclass(frozen=True)
class Settings:
    """Everything that changes how the service behaves. Durations are in seconds."""

    db_url: str = "sqlite:///simlive.db"
    faults: frozenset[Fault] = frozenset()
    payment_timeout: float = 900.0
    """An order not paid within this is expired and its stock returned."""
    sweep_interval: float = 1.0
    """How often the background sweeper expires overdue orders (reads also expire them)."""
    retention: float = DEFAULT_RETENTION
    """Records carry ``retain_until``: a replay's is its broadcast's end + retention; an
    order's and its receipt's creation + retention until the order is delivered or closed,
    then that completion + retention (never earlier)."""
    return_window: float = DEFAULT_RETURN_WINDOW
    """No-reason returns are accepted for this many calendar days (whole days, in seconds)
    after the day of delivery, to 24:00 local time of the last (``returns.seven-day``)."""
    return_utc_offset: float = DEFAULT_RETURN_UTC_OFFSET
    """The consumers' local time those days are counted in: seconds east of UTC."""
    price_window: float = DEFAULT_PRICE_WINDOW
    """A product's reference ('was') price is the lowest unit price paid in this window
    before the reading, if below the list price (``pricing.claims-hold``)."""
    stale_display_seconds: float = 5.0
    """``stale-display`` fault: how long the displayed stock is cached."""
    lose_ticket_fraction: float = 0.5
    """``lose-ticket`` fault: the fraction of new tickets silently dropped."""
    fault_gap: float = 0.02
    """Race faults: the pause between reading and writing that lets concurrent requests
    interleave, as a slow network or GC pause would in production."""
    max_body_bytes: int = 64 * 1024
    pool_size: int = 20
    stock_buckets: int = 1
    """Rows a new product's stock is split over unless its request says (1: one row)."""
    write_lanes: int = 1
    """Group-commit writer threads per worker, each with its own connection. Lanes
    taking from different stock buckets commit side by side on PostgreSQL, but each splits
    the batches one lane would merge; SQLite has one writer at a time anyway."""
    create_schema: bool = True
    seed: int = 0
    tokens: tuple[TokenSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("payment_timeout", "sweep_interval", "retention", "return_window"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name}(={getattr(self, name)!r}) must be > 0")
        if self.price_window <= 0:
            raise UsageError(f"price_window(={self.price_window!r}) must be > 0")
        if self.return_window % DAY:
            raise UsageError(f"return_window(={self.return_window!r}) must be whole days "
                             f"(a multiple of {DAY:g} s)")
        if not -14 * HOUR <= self.return_utc_offset <= 14 * HOUR:
            raise UsageError(f"return_utc_offset(={self.return_utc_offset!r}) must be in "
                             f"[-50400, 50400] (UTC-14 .. UTC+14)")
        if not 0.0 <= self.lose_ticket_fraction <= 1.0:
            raise UsageError(
                f"lose_ticket_fraction(={self.lose_ticket_fraction!r}) must be in [0, 1]"
            )
        if not 1 <= self.stock_buckets <= MAX_BUCKETS:
            raise UsageError(f"stock_buckets(={self.stock_buckets!r}) must be in "
                             f"[1, {MAX_BUCKETS}]")
        if not 1 <= self.write_lanes <= MAX_LANES:
            raise UsageError(f"write_lanes(={self.write_lanes!r}) must be in [1, {MAX_LANES}]")
        for spec in self.tokens:
            if spec.role not in ROLES:
                raise UsageError(f"token role(={spec.role!r}) must be one of {', '.join(ROLES)}")

    def has(self, fault: Fault) -> bool:
        return fault in self.faults

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (a frozen dataclass cannot be edited in place)."""
        return replace(self, **changes)

    def to_json(self) -> str:
        data = asdict(self)
        data["faults"] = sorted(f.value for f in self.faults)
        for spec in data["tokens"]:
            spec["expires"] = spec["expires"] and spec["expires"].isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        data["faults"] = parse_faults(data.get("faults", ()))
        data["tokens"] = tuple(
            TokenSpec(**{**t, "expires": t.get("expires") and datetime.fromisoformat(
                t["expires"])}) for t in data.get("tokens", ()))
        return cls(**data)

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: self.to_json()}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        text = env.get(ENV_VAR)
        return cls.from_json(text) if text else cls()
