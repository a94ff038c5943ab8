"""The three stock rules, decided from the ledger, the order books and the history.

Units are followed through the ledger's flows: every order takes its units from stock
(``taken = initial + restocked + returned - remaining``) and every expired or cancelled order
gives them back once (``returned == released``). Units ordered but never taken from stock are
oversold (``stock.no-oversell``); units returned more than once, or gone from stock with no
order, unbalance the books (``stock.ledger-balances``). Splitting the imbalance this way is
what lets each fault of the reference service fail exactly its own rule.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Any

from simlive.check.history import FAIL, OK, Op, of
from simlive.check.state import FinalState, epoch, needed
from simlive.judge.measures import DisplayMeasures, LedgerMeasures, OversellMeasures
from simlive.judge.rulebook import verdict
from simlive.rules import Status, Verdict


def _flows(row: dict[str, Any]) -> dict[str, int]:
    supply = int(row["initial"]) + int(row.get("restocked") or 0)
    # a column the target's ledger leaves out counts 0 (as target init and the README say)
    sold, reserved = int(row.get("sold") or 0), int(row.get("reserved") or 0)
    remaining = int(row["remaining"])
    released, returned = int(row.get("released") or 0), int(row.get("returned") or 0)
    taken = supply + returned - remaining
    ordered = sold + reserved + released
    extra_returns = returned - released
    return {"supply": supply, "unbacked": ordered - taken, "extra_returns": extra_returns,
            "oversold": max(0, sold + reserved - supply - max(0, extra_returns)),
            "negative": max(0, -remaining)}


def duplicate_orders(ops: list[Op]) -> int:
    """Extra orders made by retries: acknowledged orders sharing a (buyer, key)."""
    seen: dict[tuple[Any, Any], set[Any]] = defaultdict(set)
    for op in of(ops, "order"):
        if op.type == OK and op.value:
            seen[(op.args.get("buyer"), op.args.get("key"))].add(op.value.get("order_id"))
    return sum(len(ids) - 1 for ids in seen.values())


def declared_stock(ops: list[Op]) -> dict[str, int]:
    """Stock per SKU as declared: created (``create_product`` acknowledged) plus every unit
    a ``restock`` may have added (a flash sale's units; one of unknown outcome counts, as a
    unit that may have been in stock may have been sold)."""
    out: dict[str, int] = {}
    for op in of(ops, "create_product"):
        if op.type == OK and op.args.get("sku") is not None:
            out[op.args["sku"]] = int(op.args.get("stock", 0))
    for sku, units in restocked(ops).items():
        if sku in out:
            out[sku] += units
    return out


def restocked(ops: list[Op], until: float | None = None, surely: bool = False
              ) -> dict[str, int]:
    """Units added by ``restock`` per SKU: every one that may have happened (ok or unknown,
    started by ``until``), or with ``surely`` those acknowledged by ``until``."""
    out: dict[str, int] = defaultdict(int)
    for op in of(ops, "restock"):
        if op.type == FAIL or (surely and op.type != OK):
            continue
        if until is not None and (op.end if surely else op.start) > until:
            continue
        sku: Any = op.args.get("sku")  # as recorded: any JSON value, None if left out
        out[sku] += int(op.args.get("quantity", 0))
    return dict(out)


def acknowledged_units(ops: list[Op]) -> dict[str, int]:
    """Units the shop acknowledged as sold, per SKU, from the history alone: orders
    acknowledged paid when the run pays (else acknowledged orders), less acknowledged
    cancellations; an order id acknowledged twice (a retry) counts once."""
    pays = of(ops, "pay")
    paid = {op.value.get("order_id") for op in pays if op.type == OK and op.value}
    cancelled = {op.args.get("order_id") for op in of(ops, "cancel") if op.type == OK}
    seen: set[Any] = set()
    units: dict[str, int] = defaultdict(int)
    for op in of(ops, "order"):
        if op.type != OK:
            continue
        oid = (op.value or {}).get("order_id")
        if oid is not None:
            if oid in seen or oid in cancelled or (pays and oid not in paid):
                continue
            seen.add(oid)
        elif pays:
            continue
        sku: Any = op.args.get("sku")  # as recorded: any JSON value, None if left out
        units[sku] += int(op.args.get("quantity", 1))
    return units


def booked_units(state: FinalState) -> dict[str, int]:
    """Units of live (not expired or cancelled) orders in the shop's books, per SKU."""
    units: dict[str, int] = defaultdict(int)
    for o in state.orders or ():
        if o.get("state") not in ("expired", "cancelled", "canceled") and o.get("sku"):
            units[o["sku"]] += int(o.get("quantity", 1) or 0)
    return units


def _oversell_without_ledger(ops: list[Op], state: FinalState, p: dict[str, float]
                             ) -> Verdict:
    """No stock ledger read: acknowledged (and, if read, booked) units vs declared stock."""
    declared = declared_stock(ops)
    if not declared:
        return Verdict("stock.no-oversell", Status.UNKNOWN, None, p["max_violations"],
                       "no stock was declared at setup (no create_product acknowledged)")
    acked = acknowledged_units(ops)
    booked = booked_units(state)
    worst = {}
    for sku, stock in declared.items():
        over = max(acked.get(sku, 0), booked.get(sku, 0)) - stock
        if over > 0:
            worst[sku] = over
    where = "the history" + (" and the shop's order books" if state.orders is not None else "")
    lines = [f"{s} by {n} ({max(acked.get(s, 0), booked.get(s, 0))} sold of "
             f"{declared[s]} declared)" for s, n in sorted(worst.items())]
    seen = (f"{len(declared)} SKU(s): {sum(acked.values())} acknowledged unit(s) "
            + ("sold" if worst else "within the declared stock") + f" ({where})")
    record = OversellMeasures(sum(worst.values()), tuple(sorted(worst))[:5], None,
                              duplicate_orders(ops), (seen, *lines))
    return verdict("stock.no-oversell", record, p)


def no_oversell(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    if state.ledger is None:
        return _oversell_without_ledger(ops, state, p)
    if not state.ledger:
        return Verdict("stock.no-oversell", Status.UNKNOWN, None, p["max_violations"],
                       "the service reported no stock ledger, so sales cannot be compared "
                       "with stock")
    supply = {r["sku"]: _flows(r)["supply"] for r in state.ledger}
    # Lower bound from the history alone: units the shop acknowledged as sold.
    acked = acknowledged_units(ops)
    worst: dict[str, int] = {}
    for r in state.ledger:
        fl = _flows(r)
        # each measure sees the same units from another side (orders without stock taken,
        # sales beyond supply, stock below zero): the largest is the oversold count
        bad = max(0, fl["unbacked"], fl["oversold"], fl["negative"])
        # beyond stock by the history alone, less units the books returned twice (those
        # are stock.ledger-balances' finding, and really were in stock again)
        bad = max(bad, acked.get(r["sku"], 0) - supply[r["sku"]]
                  - max(0, fl["extra_returns"]))
        if bad:
            worst[r["sku"]] = bad
    rows = {r["sku"]: r for r in state.ledger}
    lines = [_oversold_line(s, n, rows[s], acked.get(s, 0)) for s, n in sorted(worst.items())]
    if not worst:
        lines = [f"{len(state.ledger)} SKU(s): every sold or reserved unit was taken from "
                 f"stock, {sum(acked.values())} acknowledged sold unit(s) within stock"]
    record = OversellMeasures(sum(worst.values()), tuple(sorted(worst))[:5],
                              min(int(r["remaining"]) for r in state.ledger),
                              duplicate_orders(ops), tuple(lines))
    return verdict("stock.no-oversell", record, p)


def _oversold_line(sku: str, over: int, row: dict[str, Any], acked: int) -> str:
    """One SKU's oversell with each figure and where it came from (the ledger's columns,
    the history's acknowledgements), so the numbers never seem to contradict."""
    fl = _flows(row)
    restocked = int(row.get("restocked") or 0)
    supplied = f"{fl['supply']} supplied" + (
        f" ({int(row['initial'])} initial + {restocked} restocked)" if restocked else "")
    return (f"{sku} by {over} unit(s) (the ledger: {int(row.get('sold') or 0)} sold + "
            f"{int(row.get('reserved') or 0)} reserved of {supplied}, {int(row['remaining'])} "
            f"remaining; the history: {acked} unit(s) acknowledged sold)")


def ledger_balances(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    if not state.ledger:
        return Verdict("stock.ledger-balances", Status.UNKNOWN, None, p["tolerance"],
                       "the service reported no stock ledger")
    off: dict[str, tuple[int, str]] = {}
    for r in state.ledger:
        fl = _flows(r)
        if abs(fl["extra_returns"]) > p["tolerance"]:
            off[r["sku"]] = (abs(fl["extra_returns"]),
                             f"{fl['extra_returns']:+d} unit(s) returned vs released")
        elif -fl["unbacked"] > p["tolerance"]:
            off[r["sku"]] = (-fl["unbacked"], f"{-fl['unbacked']} unit(s) left stock with no "
                             "order")
    in_books = {o["id"]: o for o in needed(state.orders)}
    lost = [op.value["order_id"] for op in of(ops, "order") if op.type == OK
            and op.value and op.value.get("order_id") not in in_books]
    unpaid = [op.value["order_id"] for op in of(ops, "pay") if op.type == OK
              and op.value and in_books.get(op.value.get("order_id"), {}).get("state")
              not in (None, "paid")]
    details = [f"{s}: {why}" for s, (_, why) in sorted(off.items())]
    if lost:
        details.append(f"{len(lost)} acknowledged order(s) missing, e.g. {lost[:3]}")
    if unpaid:
        details.append(f"{len(unpaid)} acknowledged payment(s) not paid in the books, e.g. "
                       f"{unpaid[:3]}")
    beyond = sum(max(0, fl["unbacked"], fl["oversold"], fl["negative"])
                 for fl in map(_flows, state.ledger))
    if not details:
        details.append(f"{len(state.ledger)} SKU(s): released units returned exactly once, "
                       "every acknowledged order in the books")
        if beyond:  # the books do not balance, but by units sold beyond stock
            details.append(f"the {beyond} unit(s) sold beyond stock unbalance the books and "
                           "are stock.no-oversell's finding")
    record = LedgerMeasures(max((n for n, _ in off.values()), default=0),
                            len(lost) + len(unpaid), True, tuple(details))
    return verdict("stock.ledger-balances", record, p)


def _series(ops: list[Op], f: str) -> dict[str, tuple[list[float], list[float], list[int]]]:
    """Per SKU: (starts, ends, values) of ``f`` readings, sorted by start."""
    rows: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for op in of(ops, f):
        if op.type == OK and op.value:
            for sku, v in op.value.items():
                rows[sku].append((op.start, op.end, int(v)))
    out = {}
    for sku, r in rows.items():
        r.sort()
        out[sku] = ([a for a, _, _ in r], [b for _, b, _ in r], [v for _, _, v in r])
    return out


class RangeMinMax:
    """Min and max over any slice in O(1) after an O(n log n) build (a sparse table), so
    judging each displayed figure against a long staleness window stays linear overall."""

    def __init__(self, values: list[int]) -> None:
        self.lo = [values]
        self.hi = [values]
        k = 1
        while 2 * k <= len(values):
            pl, ph = self.lo[-1], self.hi[-1]
            n = len(pl) - k
            self.lo.append(list(map(min, pl[:n], pl[k:k + n])))
            self.hi.append(list(map(max, ph[:n], ph[k:k + n])))
            k *= 2

    def query(self, i: int, j: int) -> tuple[int, int]:
        """(min, max) of values[i:j], j > i."""
        level = (j - i).bit_length() - 1
        k = 1 << level
        lo, hi = self.lo[level], self.hi[level]
        return min(lo[i], lo[j - k]), max(hi[i], hi[j - k])


def _moves(ops: list[Op], state: FinalState) -> tuple[dict, dict]:
    """Per SKU, what can move the real stock between two truth samples: orders in flight
    (ok or info; sorted starts, sorted ends) and returns of expired/cancelled orders (the
    service's ``closed_at``, sorted)."""
    starts: dict[str, list[float]] = defaultdict(list)
    ends: dict[str, list[float]] = defaultdict(list)
    for op in of(ops, "order"):
        if op.type != "fail":
            sku: Any = op.args.get("sku")  # as recorded: any JSON value, None if left out
            starts[sku].append(op.start)
            ends[sku].append(op.end)
    takes = {sku: (sorted(starts[sku]), sorted(ends[sku])) for sku in starts}
    gives: dict[str, list[float]] = defaultdict(list)
    for o in (state.orders or ()) if state is not None else ():
        if o.get("state") in ("expired", "cancelled") and o.get("closed_at") is not None:
            gives[o["sku"]].append(epoch(o["closed_at"]) or 0.0)
    for v in gives.values():
        v.sort()
    return takes, gives


def display_matches(ops: list[Op], state: FinalState, p: dict[str, float]) -> Verdict:
    """Each displayed figure must equal the real stock at some moment in [read - max_lag,
    reply]. The real stock there lies between the truth samples (ledger reads) around that
    window, less the orders in flight in it, plus the units returned in it: only a figure
    outside even those bounds is a mismatch."""
    lag = float(p["max_lag"])
    limit = {"max_lag_s": lag, "max_mismatches": p["max_mismatches"]}
    truth = _series(ops, "true_stock")
    shown = _series(ops, "read_stock")
    takes, gives = _moves(ops, state)
    checked = mismatches = 0
    worst: tuple[int, str, float] | None = None
    for sku, (starts, ends, values) in shown.items():
        if sku not in truth:
            continue
        t_start, t_end, t_val = truth[sku]
        rmq = RangeMinMax(t_val)
        o_start, o_end = takes.get(sku, ([], []))
        back = gives.get(sku, [])
        n = len(t_val)
        for a, b, d in zip(starts, ends, values, strict=True):
            # bracketed on both sides by truth readings (the first is taken when the SKU is
            # created, so a window reaching before it is clipped to it)
            lo = max(0, bisect_left(t_end, a - lag) - 1)
            hi = bisect_left(t_start, b) + 1  # through the first reading after it
            if t_end[0] > a or hi > n:
                continue
            w0, w1 = t_start[lo], t_end[hi - 1]
            checked += 1
            in_flight = bisect_right(o_start, w1) - bisect_left(o_end, w0)
            returned = bisect_right(back, w1 + lag) - bisect_left(back, w0 - lag)
            low, high = rmq.query(lo, hi)
            low, high = low - max(0, in_flight), high + returned
            if not low <= d <= high:
                mismatches += 1
                gap = low - d if d < low else d - high
                if worst is None or gap > worst[0]:
                    worst = (gap, sku, a)
    if checked == 0:
        return Verdict("stock.display-matches", Status.UNKNOWN,
                       {"readings_checked": 0, "mismatches": 0}, limit,
                       "no displayed-stock reading could be compared with a real-stock reading "
                       "taken near it")
    worst_sku, gap = (worst[1], worst[0]) if worst is not None else (None, 0)
    return verdict("stock.display-matches",
                   DisplayMeasures(mismatches, worst_sku, readings=checked, worst_gap=gap), p)
