"""``replay.retained`` from a final state: each promise counted from where the law starts
the clock (the broadcast's end, the transaction's completion); a record whose transaction
is still open is counted, not judged. And the replay read back on a shop that lists no
broadcasts: what it could not have failed, it does not pass."""

from __future__ import annotations

from simlive.check.history import FAIL, OK, Op
from simlive.check.service_rules import completed_at, replay_available, retained
from simlive.check.state import FinalState
from simlive.rules import DAY, MINUTE, YEAR, Status, rule_params

T0 = 1_700_000_000.0
P = rule_params()["replay.retained"]
END = T0 + 3600.0
REPLAY = [{"id": 1, "state": "ended", "ended_at": END,
           "replay": {"published_at": END + 30, "retain_until": END + 3 * YEAR}}]


def order(i: int, **times: float | None) -> dict:
    created = times.pop("created_at", T0)
    assert created is not None
    return {"id": i, "state": "paid", "created_at": created, "delivered_at": None,
            "closed_at": None, "retain_until": created + 3 * YEAR, **times}


def judged(orders: list[dict], broadcasts: list[dict] | None = None):
    return retained([], FinalState(orders=orders, receipts=[],
                                   broadcasts=REPLAY if broadcasts is None else broadcasts),
                    P)


def test_completion_is_the_delivery_else_the_closing_and_the_later_of_both() -> None:
    assert completed_at({"delivered_at": 5.0}) == (5.0, "delivery")
    assert completed_at({"closed_at": 7.0}) == (7.0, "closing")
    assert completed_at({"delivered_at": 5.0, "closed_at": 9.0}) == (9.0, "closing")
    assert completed_at({"delivered_at": None, "closed_at": None})[0] is None


def test_a_promise_from_creation_misses_by_the_seconds_to_delivery() -> None:
    """The ``retain-from-creation`` fault in a short load: delivered 0.4 s after creation,
    kept 3 years from creation: 0.4 s short, not rounded away."""
    v = judged([order(1, delivered_at=T0 + 0.4), order(2, closed_at=T0 + 2.0,
                                                       retain_until=T0 + 2.0 + 3 * YEAR)])
    assert v.status is Status.FAIL, v.evidence
    assert v.measured == {"retention_s": 3 * YEAR - 0.4}
    assert v.evidence == ("recording or records kept only 3.0y, 0.4s short of 3y (order 1, "
                          "from its delivery)")


def test_open_orders_are_counted_not_judged() -> None:
    done = order(1, delivered_at=T0 + DAY, retain_until=T0 + DAY + 3 * YEAR)
    v = judged([done, order(2), order(3)])
    assert v.status is Status.PASS, v.evidence
    assert v.measured == {"retention_s": 3 * YEAR, "not_complete": 2}
    assert v.evidence.endswith("; 2 records of transactions not complete when the state was "
                               "read (neither delivered nor closed): their promise cannot be "
                               "judged yet")


def test_with_no_completed_order_the_verdict_is_unknown_unless_the_replay_fails() -> None:
    v = judged([order(1), order(2)])
    assert v.status is Status.UNKNOWN
    assert "no transaction record completed, so only the replay was judged" in v.evidence
    v = judged([order(1)], broadcasts=[])
    assert v.status is Status.UNKNOWN and v.measured is None
    assert "promise of 1 record counts from a completion still to come" in v.evidence
    short = [dict(REPLAY[0], replay={"published_at": END, "retain_until": END + YEAR})]
    assert judged([order(1)], broadcasts=short).status is Status.FAIL


def test_the_replay_counts_from_the_broadcasts_end_not_its_publishing() -> None:
    """Published 9 minutes after the end: a promise a minute short of three years from the
    publishing is still 8 minutes over three years from the end (pass); one a minute short
    of three years from the end fails, though it is 8 minutes over from the publishing."""
    done = order(1, delivered_at=T0 + DAY, retain_until=T0 + DAY + 3 * YEAR)
    late = [dict(REPLAY[0], replay={"published_at": END + 9 * MINUTE,
                                    "retain_until": END + 9 * MINUTE + 3 * YEAR - 60})]
    v = judged([done], broadcasts=late)
    assert v.status is Status.PASS, v.evidence  # 3y + 8 minutes from the end
    early = [dict(REPLAY[0], replay={"published_at": END + 9 * MINUTE,
                                     "retain_until": END + 3 * YEAR - 60})]
    v = judged([done], broadcasts=early)
    assert v.status is Status.FAIL
    assert v.evidence.endswith("1m short of 3y (the replay of broadcast 1, from its end)")


def _ops(*reads: tuple[float, str]) -> list[Op]:
    ops = [Op("setup", "end_broadcast", {"broadcast_id": 1}, OK, {"state": "ended"},
              END - 0.1, END)]
    ops += [Op("v", "read_replay", {"broadcast_id": 1}, kind, {}, END + at, END + at + 0.1)
            for at, kind in reads]
    return ops


def test_without_a_broadcast_listing_the_replay_read_right_after_the_end_earns_nothing(
        ) -> None:
    p = rule_params()["replay.available"]
    state = FinalState.from_history_only()
    v = replay_available(_ops((1.0, OK)), state, p)
    assert v.status is Status.UNKNOWN
    assert v.evidence == ("the replay opened 1.1s after the broadcast ended; the shop lists "
                          "no broadcasts, so only a read 10m after the end could fail the "
                          "rule and this load made none: the rule could not have failed on "
                          "this shop")
    assert replay_available(_ops((1.0, FAIL)), state, p).status is Status.UNKNOWN
    # a read past the 10 minutes decides: it can fail, so it can pass
    assert replay_available(_ops((1.0, FAIL), (11 * MINUTE, FAIL)), state,
                            p).status is Status.FAIL
    assert replay_available(_ops((11 * MINUTE, OK)), state, p).status is Status.PASS
