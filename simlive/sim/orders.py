"""Orders, payment and stock for one SKU, in bulk per time step.

Timing inside a step (one second by default) does not change whether stock holds, so the
orders of a step are drawn together (Poisson from the viewers present and the SKU's
propensity) and accepted first come, first served against the stock left. Payments and
expiries are scheduled into later steps. The SKU's stock ledger is then rebuilt from its
event streams with cumulative sums, which is what the rules are checked against:

- remaining  = initial + restocks - reserved units + released units
- reserved   = accepted units - paid units - expired units
- sold       = paid units

The ``reserve_on: payment`` and ``release: twice`` policies break these on purpose.

Only the steps where something happens cost time: a SKU is on sale for a minute or two of a
twelve-hour broadcast. Between its events (orders, payments, releases, restocks) the ledger
is constant, so it is kept as values at those steps, and the displayed stock is compared
step by step only where it can differ from one step to the next (after an event, for as
long as the display may lag; module ``display``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from simlive.scenario.schema import FlashSale, Orders, Restock, Segment, Sku
from simlive.sim.display import Display


@dataclass
class SkuOutcome:
    """What happened to one SKU: totals, rule measurements and the paid-order timeline."""

    sku: str
    placed: int = 0
    accepted: int = 0
    rejected: int = 0
    paid_orders: int = 0
    paid_units: int = 0
    expired_orders: int = 0
    gmv: float = 0.0
    supply: int = 0
    oversold_units: int = 0
    min_remaining: int = 0
    ledger_max_error: int = 0
    display_mismatch_steps: int = 0
    display_phantom_steps: int = 0
    final_remaining: int = 0
    final_reserved: int = 0
    deposit_orders: int = 0  # presale: orders whose deposit was paid
    forfeited_orders: int = 0  # presale: deposits whose balance was not paid in the window
    sold_out_at: float | None = None
    # creation -> completion, for replay.records_clock (no draws of their own): the longest
    # an order waited from its placing to its last payment (a presale's: the balance), and
    # from its placing to its closing, of the orders never paid (expired, forfeited)
    longest_to_pay: float = 0.0
    longest_to_close: float = 0.0
    pay_bins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pay_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pay_width: int = 1  # steps a pay bin spans (a presale's balances: a minute's worth)
    placed_bins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    placed_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # steps with accepted orders and how many (display.counters-true's sold count)
    accept_bins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    accept_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    remaining: np.ndarray | None = None  # real sellable stock every `stride` steps
    displayed: np.ndarray | None = None  # stock shown to viewers every `stride` steps


BALANCE_BIN = 60.0
"""Seconds a presale's balance payments are counted by (see ``SkuModel._balances``)."""


class _Steps:
    """The steps with accepted orders, in order, and their accepted orders' draws, one
    after another in arrays as long as every order placed (so no step copies its own)."""

    def __init__(self, orders: int) -> None:
        self.bins: list[int] = []
        self.first: list[int] = [0]  # step j's orders are first[j] .. first[j+1]-1
        self.taken: list[int] = []  # units; -1 until worked out
        self.pending = np.zeros(orders, dtype=bool)  # units drawn, not worked out yet
        self.uniform = np.empty(orders)  # the draws picking their units
        self.units = np.empty(orders, dtype=np.int64)
        self.delay = np.empty(orders)
        self.pay_draw = np.empty(orders)
        self.worked = 0  # orders before this (and steps before worked_steps) worked out
        self.worked_steps = 0

    @property
    def size(self) -> int:
        """Orders accepted so far."""
        return self.first[-1]

    def orders(self, j: int) -> slice:
        return slice(self.first[j], self.first[j + 1])


@dataclass
class _Stock:
    """The stock as ``SkuModel.run`` goes from step to step, shared by its kinds of step."""

    rem: int  # units left, as far as the steps are worked out
    by_order: bool  # reserved when ordered (``reserve_on: order``), else taken when paid
    mult: int  # units back per unit expired (``release: twice``: 2)
    most: int  # units one order takes, at the most
    least: int  # and at the least
    paid_at: np.ndarray | None  # by unit: units paid per step, taken as the steps come
    owed: int = 0  # at most this many units of steps not yet worked out (by order)
    cursor: int = -1  # the step the stock is caught up to
    released: int = 0  # steps whose expired units are back in stock (by order)


class SkuModel:
    """Runs one SKU's stock through the broadcast; one instance per SKU and replication."""

    def __init__(self, sku: Sku, segments: list[Segment], flash: list[FlashSale],
                 restocks: list[Restock], orders: Orders, duration: float, step: float,
                 max_lag: float) -> None:
        self.sku = sku
        self.orders = orders
        self.step = step
        self.bins = int(np.ceil(duration / step))
        self.timeout_bins = max(1, int(np.ceil(orders.payment_timeout / step)))
        self.total_bins = self.bins + self.timeout_bins + 2
        self.display = Display(sku.stock, sku.displayed_stock, orders.display_refresh, step,
                               self.bins, int(np.floor(max_lag / step)))
        prop = np.zeros(self.bins)
        price = np.full(self.bins, sku.price)
        restock: dict[int, int] = {}
        for seg in segments:
            prop[self._bin(seg.start):self._bin_end(seg.end)] += seg.propensity
        for fs in flash:
            lo, hi = self._bin(fs.at), self._bin_end(fs.at + fs.duration)
            prop[lo:hi] *= fs.boost
            price[lo:hi] = fs.price
            if fs.quantity:
                restock[lo] = restock.get(lo, 0) + fs.quantity
        for r in restocks:
            b = self._bin(r.at)
            restock[b] = restock.get(b, 0) + r.quantity
        self.on_sale = np.flatnonzero(prop)
        self.propensity = prop[self.on_sale]
        self.price = price
        self.restock_bins = sorted(restock)
        self.restock_units = np.asarray([restock[b] for b in self.restock_bins],
                                        dtype=np.int64)
        self.restock_upto = np.cumsum(self.restock_units).tolist()  # restocked by each bin
        values = np.asarray(sorted(orders.units), dtype=np.int64)
        probs = np.asarray([orders.units[int(v)] for v in values], dtype=float)
        self.unit_values = np.minimum(values, sku.limit)
        self.unit_cdf = np.cumsum(probs / probs.sum())

    def _bin(self, t: float) -> int:
        return min(int(t // self.step), self.bins)

    def _bin_end(self, t: float) -> int:
        return min(int(np.ceil(t / self.step)), self.bins)

    def _restocked(self, b: int) -> int:
        """Units restocked in bins 0..b."""
        i = bisect.bisect_right(self.restock_bins, b)
        return self.restock_upto[i - 1] if i else 0

    def run(self, concurrent: np.ndarray, rng: np.random.Generator,
            series_stride: int = 0) -> SkuOutcome:
        """The SKU through the broadcast; with ``series_stride``, its real and displayed
        stock every that many steps too.

        Every step with orders draws, in this order, the orders' units, then for the
        accepted ones their payment delays and whether they pay. While the stock left
        surely covers a step's orders, the units drawn are turned into numbers later, all
        at once; where it may not, step by step as it happens.
        """
        lam = concurrent[self.on_sale] * self.propensity * self.step
        live = lam > 0
        active = self.on_sale[live]
        counts = rng.poisson(lam[live]) if active.size else np.zeros(0, dtype=np.int64)
        out = SkuOutcome(self.sku.sku)
        steps = _Steps(int(counts.sum()))
        st = self._stock()
        for b, k in zip(active.tolist(), counts.tolist(), strict=True):
            if k == 0:
                continue
            if b > st.cursor:
                self._catch_up(st, steps, b)
            out.placed += k
            m = self._accept(st, steps, out, b, k, rng)
            if m:
                self._payments(st, steps, b, m, rng)
        if st.owed:
            self._work_out(steps)
        out.placed_bins, out.placed_counts = active, counts
        self._settle(out, steps, st.mult, st.by_order, series_stride, rng)
        return out

    def _stock(self) -> _Stock:
        """The stock before the first step, under the scenario's reservation policy."""
        o = self.orders
        by_order = o.reserve_on == "order"
        return _Stock(self.sku.stock, by_order, 2 if o.release == "twice" else 1,
                      int(self.unit_values.max()), int(self.unit_values.min()),
                      np.zeros(self.total_bins, dtype=np.int64) if not by_order else None)

    def _catch_up(self, st: _Stock, steps: _Steps, b: int) -> None:
        """The stock at step ``b``: what changed it since the last step with orders
        (restocks; expired reservations back, by order; payments, by unit)."""
        if self.restock_bins:
            st.rem += self._restocked(b) - self._restocked(st.cursor)
        if st.by_order:
            while st.released < len(steps.bins) and \
                    steps.bins[st.released] + self.timeout_bins <= b:
                if st.owed:
                    st.rem -= self._work_out(steps)
                    st.owed = 0
                st.rem += st.mult * self._expired_units(steps, st.released)
                st.released += 1
        elif st.paid_at is not None:  # by unit (not by order): always kept
            st.rem -= int(st.paid_at[st.cursor + 1:b + 1].sum())
        st.cursor = b

    def _accept(self, st: _Stock, steps: _Steps, out: SkuOutcome, b: int, k: int,
                rng: np.random.Generator) -> int:
        """Step ``b``'s ``k`` orders against the stock left; returns how many got their
        units. First come, first served only where the stock may run short; where it surely
        covers them, their units are drawn now and worked out later, all at once."""
        at = steps.size
        if st.by_order and st.rem - st.owed >= st.most * k:  # every order gets its units
            rng.random(out=steps.uniform[at:at + k])
            steps.pending[at:at + k] = True
            steps.taken.append(-1)
            st.owed += st.most * k
            return k
        if st.owed:
            st.rem -= self._work_out(steps)
            st.owed = 0
        if st.by_order and st.rem < st.least:  # sold out: no order gets anything
            rng.random(k)
            if out.sold_out_at is None:
                out.sold_out_at = b * self.step
            out.rejected += k
            return 0
        units = self._units(rng.random(k))
        if st.by_order:
            total = int(units.sum())
            if total > st.rem:
                units = units[self._greedy(units, st.rem)]
                total = int(units.sum())
                if out.sold_out_at is None:
                    out.sold_out_at = b * self.step
            st.rem -= total
        else:
            units = units[units <= st.rem]
            total = int(units.sum())
        m = units.size
        out.rejected += k - m
        if m:
            steps.units[at:at + m] = units
            steps.taken.append(total)
        return m

    def _payments(self, st: _Stock, steps: _Steps, b: int, m: int,
                  rng: np.random.Generator) -> None:
        """Step ``b``'s ``m`` accepted orders draw their payments right after their units,
        as the seed's order of draws has it; by unit, the units paid are taken from the
        stock at the step they are paid."""
        at = steps.size
        steps.bins.append(b)
        steps.first.append(at + m)
        steps.delay[at:at + m] = self.orders.pay_delay.sample(rng, m)
        rng.random(out=steps.pay_draw[at:at + m])
        if st.paid_at is not None:
            pays = self._pays(steps, len(steps.bins) - 1)
            np.add.at(st.paid_at, b + 1 + self._steps_in(steps.delay[at:at + m][pays]),
                      steps.units[at:at + m][pays])

    def _units(self, draws: np.ndarray) -> np.ndarray:
        """Units per order from uniform draws: the value whose cumulative probability is
        the first above the draw (``searchsorted(cdf, draws, "right")``, by comparisons)."""
        pick = (draws >= self.unit_cdf[0]).astype(np.intp)
        for edge in self.unit_cdf[1:]:
            pick += draws >= edge
        return self.unit_values[pick]

    def _steps_in(self, delay: np.ndarray) -> np.ndarray:
        """``delay // step`` as integers; by a division and a floor when the step is a power
        of two (then the quotient is exact and both agree), which is many times faster."""
        if math.frexp(self.step)[0] == 0.5:
            return np.floor(delay / self.step).astype(np.int64)
        return (delay // self.step).astype(np.int64)

    def _work_out(self, steps: _Steps) -> int:
        """The units of the steps drawn but not yet worked out; returns how many in all.
        Only the steps since the last call (everything before it is worked out): a long
        broadcast with a few orders a step calls this every step."""
        n, lo, j0 = steps.size, steps.worked, steps.worked_steps
        pending = steps.pending[lo:n]
        steps.units[lo:n][pending] = self._units(steps.uniform[lo:n][pending])
        pending[:] = False
        total = 0
        if j0 < len(steps.taken):
            sums = np.add.reduceat(steps.units[:n], steps.first[j0:-1]).tolist()
            for j in range(j0, len(steps.taken)):
                if steps.taken[j] < 0:
                    steps.taken[j] = int(sums[j - j0])
                    total += steps.taken[j]
        steps.worked, steps.worked_steps = n, len(steps.taken)
        return total

    def _pays(self, steps: _Steps, j: int) -> np.ndarray:
        o = self.orders
        at = steps.orders(j)
        return (steps.pay_draw[at] < o.pay_probability) & \
            (steps.delay[at] < o.payment_timeout)

    def _expired_units(self, steps: _Steps, j: int) -> int:
        return int(steps.units[steps.orders(j)][~self._pays(steps, j)].sum())

    @staticmethod
    def _greedy(units: np.ndarray, rem: int) -> np.ndarray:
        """First come, first served: each order takes its units if they are still there."""
        ok = np.zeros(units.size, dtype=bool)
        cs = np.cumsum(units)
        prefix = int(np.searchsorted(cs, rem, side="right"))
        ok[:prefix] = True
        left = rem - (int(cs[prefix - 1]) if prefix else 0)
        if left > 0:
            for i in range(prefix, units.size):
                if units[i] <= left:
                    ok[i] = True
                    left -= int(units[i])
                    if left == 0:
                        break
        return ok

    def _settle(self, out: SkuOutcome, steps: _Steps, mult: int, by_order: bool,
                stride: int, rng: np.random.Generator | None = None) -> None:
        """Payments, GMV and the ledger from the steps with accepted orders. In a presale
        the payment is the deposit; the balances are drawn here, after every other draw of
        the SKU (a scenario without a presale draws what it always did)."""
        o = self.orders
        n = len(steps.bins)
        bins = np.asarray(steps.bins, dtype=np.int64)
        taken = np.asarray(steps.taken, dtype=np.int64)
        if n:
            units = steps.units[:steps.size]
            delay = steps.delay[:steps.size]
            pays = (steps.pay_draw[:steps.size] < o.pay_probability) & \
                (delay < o.payment_timeout)
            which = np.repeat(np.arange(n), np.diff(steps.first))[pays]
            pay_bin = bins[which] + 1 + self._steps_in(delay[pays])
            paid_units = units[pays]
        else:
            pay_bin = which = paid_units = np.zeros(0, dtype=np.int64)
        paid_by_step = np.bincount(which, paid_units, minlength=n).astype(np.int64)
        # added step by step in bin order, as the bins come
        gmv = paid_by_step * self.price[bins]
        out.gmv = float(np.cumsum(gmv)[-1]) if n else 0.0
        out.accepted = steps.size
        out.accept_bins, out.accept_counts = bins, np.diff(np.asarray(steps.first, np.int64))
        forfeit = None
        if out.accepted > which.size:  # expired unpaid at the payment timeout
            out.longest_to_close = self.timeout_bins * self.step
        if o.presale is not None and rng is not None:
            out.deposit_orders = int(which.size)
            which, pay_bin, paid_units, forfeit = self._balances(which, paid_units, rng)
            if forfeit[2] >= 0:  # closed when the window closes: the earliest waited longest
                out.longest_to_close = max(out.longest_to_close, o.presale.balance_to
                                           - int(bins[forfeit[2]]) * self.step)
            balance = np.bincount(which, paid_units, minlength=n).astype(np.int64)
            out.gmv = float(np.sum(self.price[bins] * (o.presale.deposit * paid_by_step + (
                1 - o.presale.deposit) * balance))) if n else 0.0
            out.forfeited_orders = out.deposit_orders - int(which.size)
            out.pay_width = self._balance_width()
        out.paid_orders = int(which.size)
        out.paid_units = int(paid_units.sum())
        if which.size:
            out.longest_to_pay = float((pay_bin - bins[which]).max()) * self.step
        out.expired_orders = out.accepted - (out.deposit_orders if forfeit is not None
                                             else out.paid_orders)
        first = int(pay_bin.min()) if pay_bin.size else 0  # counted from the first payment
        pay_orders = np.bincount(pay_bin - first)
        at = np.flatnonzero(pay_orders)
        out.pay_bins, out.pay_counts = at + first, pay_orders[at]
        paid_units_at = np.bincount(pay_bin - first, paid_units)[at].astype(np.int64)
        rel_bins, released = bins + self.timeout_bins, taken - paid_by_step
        if forfeit is not None:  # forfeited deposits' units go back when the window closes
            rel_bins = np.append(rel_bins, forfeit[0])
            released = np.append(released, forfeit[1])
        self._ledger(out, bins, taken, out.pay_bins, paid_units_at, rel_bins, released, mult,
                     by_order, stride)

    def _balances(self, which: np.ndarray, units: np.ndarray, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int]]:
        """Presale: of the deposits (their step indices ``which`` and ``units``), those whose
        balance is paid in the window: their step indices, balance bins and units; and the
        forfeits' bin (the window's end), units and first step index (-1: none)."""
        p = self.orders.presale
        assert p is not None
        pays = rng.random(which.size) < p.balance_probability
        at = p.balance_from + p.balance_delay.sample(rng, which.size)
        ok = pays & (at <= p.balance_to)
        # balances days after the broadcast are counted by the minute (BALANCE_BIN): their
        # tickets come days later still, and the second a balance was paid changes nothing
        # but the cost of millions of one-order bins
        width = self._balance_width()
        lost = which[~ok]
        return (which[ok], self._steps_in(at[ok]) // width * width, units[ok],
                (int(p.balance_to // self.step), int(units[~ok].sum()),
                 int(lost.min()) if lost.size else -1))

    def _balance_width(self) -> int:
        """Steps a balance's pay bin spans: a minute's worth (at least one step)."""
        return max(1, int(BALANCE_BIN // self.step))

    def _ledger(self, out: SkuOutcome, acc_bins: np.ndarray, accepted: np.ndarray,
                pay_bins: np.ndarray, paid: np.ndarray, rel_bins: np.ndarray,
                released: np.ndarray, mult: int, by_order: bool, stride: int) -> None:
        """The ledger at the bins where something happens (``at``); constant in between."""
        stock = self.sku.stock
        restock_bins = np.asarray(self.restock_bins, dtype=np.int64)
        # four runs each in order: a stable sort merges them in about linear time
        events = np.sort(np.concatenate([restock_bins, acc_bins, pay_bins, rel_bins]),
                         kind="stable")
        at = events[np.concatenate(([True], events[1:] != events[:-1]))] if events.size \
            else events

        def cum(where: np.ndarray, values: np.ndarray) -> np.ndarray:
            vals = np.zeros(at.size, dtype=np.int64)
            np.add.at(vals, np.searchsorted(at, where), values)  # a bin may come twice
            return np.cumsum(vals)

        supply = stock + cum(restock_bins, self.restock_units)
        sold = cum(pay_bins, paid)
        if by_order:
            acc, rel = cum(acc_bins, accepted), cum(rel_bins, released)
            remaining = supply - acc + mult * rel
            reserved = acc - sold - rel
        else:
            remaining = supply - sold
            reserved = np.zeros_like(sold)
        error = remaining + reserved + sold - supply
        lows = [int(remaining.min())] if at.size else []
        if at.size == 0 or at[0] > 0:  # bins before the first event: the initial ledger
            lows.append(stock)
        out.supply = int(supply[-1]) if at.size else stock
        out.min_remaining = min(lows)
        sold_end = int(sold[-1]) if at.size else 0
        out.oversold_units = max(0, -out.min_remaining, sold_end - out.supply)
        out.ledger_max_error = int(np.abs(error).max()) if at.size else 0
        out.final_remaining = int(remaining[-1]) if at.size else stock
        out.final_reserved = int(reserved[-1]) if at.size else 0
        view = self.display
        out.display_mismatch_steps, out.display_phantom_steps = view.mismatches(at, remaining)
        if stride:
            points = np.arange(0, self.bins, stride)
            out.remaining = view.remaining_at(at, remaining, points)
            out.displayed = view.shown(at, remaining, points)
