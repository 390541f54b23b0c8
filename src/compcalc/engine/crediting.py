"""Dispute-free crediting: what each sale is worth for commission at a given date.

The ledger is a log of events per transaction. At an as-of date a sale is:

* **credited** while dispute-free: sold on or before the date, no dispute open, not fully
  refunded; its credit is the amount less refunds to date (margin is reduced in proportion);
* **held** while a dispute is open (shown on the statement, not paid);
* **forfeited** once fully refunded;
* **excluded** for good when it falls outside the plan year or the employee's employment.

All of it is computed over whole columns: events are mapped to their sale once, and each
as-of date costs a few masked ``np.add.at`` sums, never a loop over rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from ..errors import Diagnostic, RunError
from ..inputs.common import category_codes, currency_digits, in_two_threads, lexsorted
from ..inputs.fx import RATE_SCALE, FxTable
from ..inputs.ledger import SHARE_COLUMN, SHARE_WHOLE, is_sorted, ordered_codes
from ..money import Rounding, minor_digits, round_div, safe_ints
from ..statements.model import Texts

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


def day(value: dt.date) -> np.datetime64:
    return np.datetime64(value, "D")


@dataclass(frozen=True)
class Sales:
    """One entry per sale, plus its later events mapped to it.

    A *sale* here is one employee's share of a ledger transaction: a transaction split
    between several employees has one entry per employee (sorted by transaction id, then
    employee id), each with its share of the amount, margin and refunds in the pay currency.
    """

    transaction_id: Texts  # the ids as Arrow text: read as str only where a line shows one
    # the transaction's number: rises with transaction_id, shared by its shares
    transaction: npt.NDArray[np.signedinteger[Any]]
    employee: npt.NDArray[np.signedinteger[Any]]  # position of the employee in the roster frame
    date: Dates
    amount: Int  # this share of the transaction, in the pay currency's minor units
    margin: Int  # 0 where the ledger gave none
    has_margin: Bool
    excluded_reason: TextCodes  # "" when eligible this plan year
    refund_sale: Int
    refund_date: Dates
    refund_amount: Int  # this share's part of the refund, in the pay currency
    dispute_sale: Int
    dispute_date: Dates
    dispute_opens: Bool  # True: dispute_opened, False: dispute_resolved
    # Where each sale's amount comes from (shown in line formulas):
    share: Int  # the employee's share in SHARE_WHOLE parts (SHARE_WHOLE: the whole sale)
    split: Bool  # the transaction is credited to several employees (or one with a share)
    total: Int  # the whole transaction in the pay currency (before the split)
    sale_currency: TextCodes  # the ledger's currency of the transaction
    sale_total: Int  # the whole transaction in the ledger currency's minor units
    rate: Int  # FX rate times fx.RATE_SCALE; 0 when the sale is in the pay currency
    rate_date: Dates  # the date of that rate (NaT when not converted)
    refund_shown: Int  # the whole refund event in the pay currency (for naming it)

    def __post_init__(self) -> None:
        # Read-only: columns are shared (a sale's amount is its total when credited whole,
        # a plan's figures are views), so an update in place would change them all.
        for value in vars(self).values():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value.flags.writeable = False

    def __len__(self) -> int:
        return len(self.transaction_id)

    @functools.cached_property
    def eligible(self) -> Bool:
        """Sales with no exclusion reason (compared once, not per as-of date)."""
        return self.excluded_reason.equals("")

    @functools.cached_property
    def nonpositive(self) -> Int:
        """Positions of the sales of zero or negative amount (they never earn as sold)."""
        return np.flatnonzero(self.amount <= 0)

    @functools.cached_property
    def sold_day(self) -> npt.NDArray[np.int32]:
        """Each eligible sale's date in days since 1970, the largest int32 for the others:
        ``sold_day <= days(as_of)`` is "sold and eligible by as_of" in one 32-bit comparison
        (the replays ask it for every month end)."""
        date = self.date.astype("datetime64[D]")
        known = self.eligible & ~np.isnat(date)  # a missing date (NaT) is never "by" a day
        # Days since 1970 fit 32 bits for any date of years 1 to 9999; NaT wraps, replaced
        day = date.view(np.int64).astype(np.int32)
        day[~known] = np.iinfo(np.int32).max
        return day

    @functools.cached_property
    def refunds_by_sale(self) -> EventsBySale:
        """The refund events grouped by sale, valued at their amount (grouped once)."""
        return EventsBySale.of(self.refund_sale, self.refund_date, self.refund_amount)

    @functools.cached_property
    def disputes_by_sale(self) -> EventsBySale:
        """The dispute events grouped by sale, an opening valued 1 and a resolution -1."""
        sign = np.where(self.dispute_opens, 1, -1).astype(np.int64)
        return EventsBySale.of(self.dispute_sale, self.dispute_date, sign)

    @functools.cached_property
    def has_origin(self) -> Bool | None:
        """Which sales have an origin a line shows (converted at a rate, or split); None when
        none has (every sale whole in the pay currency: nothing to look up per line)."""
        flags = np.asarray((self.rate != 0) | self.split)
        return flags if flags.any() else None

    @functools.cached_property
    def by_employee(self) -> EmployeeRuns:
        """The sales grouped by employee (found once: every plan's group takes its runs)."""
        return EmployeeRuns.of(self.employee)

    def forget_groupings(self) -> None:
        """Let go of :attr:`by_employee` (two columns as long as the sales), found again if
        asked for: the groups of employees are made while the plans are evaluated."""
        self.__dict__.pop("by_employee", None)

    def sold_by(self, cutoff: np.datetime64) -> Bool:
        """Sales dated on or before ``cutoff`` and eligible this plan year."""
        # A Python int: compared in 32 bits, no 64-bit copy of the column
        return np.asarray(self.sold_day <= int(cutoff.astype("datetime64[D]").astype(np.int64)))


@dataclass(frozen=True)
class Money:
    """How ledger money becomes pay-currency money: the currency, the rounding, the rates.

    ``through`` is the last date the run looks at: a sale after it needs no rate yet.
    """

    currency: str
    rounding: Rounding = Rounding.HALF_UP
    fx: FxTable | None = None
    through: dt.date | None = None


def build_sales(
    ledger: pd.DataFrame,
    employee_position: pd.Series,
    hire: Dates,
    termination: Dates,
    year_start: dt.date,
    money: Money | None = None,
    ordered: bool = False,
) -> Sales:
    """Index the (already validated) ledger by sale: one entry per employee share.

    ``employee_position`` maps employee_id to its row in the roster frame. ``money`` says
    how to convert sales in another currency (without it every row must already be in the
    pay currency). ``ordered=True``: the ledger is known to be in canonical order (a
    checked ledger's frame), not checked again. Order of the exact steps, each rounded once:

    1. convert the whole transaction (and its margin) at the rate in force on the sale date;
    2. split it by the shares, largest remainder first, ties to the lower employee id, so the
       shares add up to the transaction exactly;
    3. refunds: the cumulative refund is converted at the sale's rate, what is left of the
       transaction is split by the shares, and each share's refund is what it lost: so the
       shares' refunds add up to every refund exactly and a full refund zeroes every share.
    """
    # Transactions as integer codes that sort like their ids, found once for every row (by
    # comparing neighbours: the canonical ledger is sorted by transaction); sales, refunds and
    # disputes meet on these codes, never by hashing the id strings.
    ledger = ledger.assign(_code=ordered_codes(ledger["transaction_id"], ordered=ordered))
    # The sale rows in (transaction, employee) order, as positions: the canonical order has
    # them so. Their text columns are taken one at a time as codes or Arrow text, never as a
    # selected frame (ten million rows of text copied whole).
    employees = TextCodes.of(ledger["employee_id"], ordered=True)
    currencies = TextCodes.of(ledger["currency"])
    sale_at = _sale_positions(ledger, employees.codes)
    numbers = [c for c in ("date", "amount_minor", "margin_minor", "_code", SHARE_COLUMN)
               if c in ledger.columns]  # fmt: skip
    sale_rows = _taken_rows(ledger, numbers, sale_at)
    # The ledger's own ids, read at the sale rows (no copy of ten million texts)
    sale_ids = Texts(pa.array(ledger["transaction_id"].array, from_pandas=True), _small(sale_at))
    employee = _positions(employee_position, employees.at(sale_at))
    date = sale_rows["date"].to_numpy().astype("datetime64[D]")
    margin = sale_rows["margin_minor"]
    sale_code = sale_rows["_code"].to_numpy(dtype=np.int64)  # rises with position
    starts = np.ones(len(sale_code), dtype=bool)
    starts[1:] = sale_code[1:] != sale_code[:-1]
    shares = _Shares.of(starts)
    group = shares.group
    transactions = np.full(int(ledger["_code"].max()) + 1 if len(ledger) else 0, -1, group.dtype)
    transactions[sale_code] = group  # code -> the transaction's number (-1: no sale)
    del starts
    share = _shares(sale_rows)
    sale_currency = currencies.at(sale_at)
    rates = _Rates.of(sale_currency, date, money, sale_ids)
    sale_total = sale_rows["amount_minor"].to_numpy(dtype=np.int64)
    total = rates.convert(sale_total, None)
    margin_total = rates.convert(margin.fillna(0).to_numpy(dtype=np.int64), None)
    _check_totals_fit(total, shares.first)
    split = shares.several() | (share != SHARE_WHOLE)
    whole = not split.any()  # every sale credited whole: its amount is its total (shared)
    amount = total if whole else allocate_shares(total, share, group)
    # Refunds and disputes: only the columns read here, and the transaction by its code
    # (codes sort as the ids do: the same order, no text compared or copied)
    is_refund = (ledger["event"] == "refund").to_numpy(dtype=bool)
    refunds = _sorted(
        ledger[["_code", "date", "amount_minor"]][is_refund], ["_code", "date", "amount_minor"]
    )
    r_group = transactions[refunds["_code"].to_numpy(dtype=np.int64)]
    refunds, r_group = refunds[r_group >= 0], r_group[r_group >= 0]
    # Cumulative refund per transaction in the ledger currency, converted at the sale's rate.
    cumulative = refunds.groupby(r_group)["amount_minor"].cumsum().to_numpy(dtype=np.int64)
    converted = rates.convert(cumulative, shares.first_of(r_group))
    shown = converted - _previous(converted, r_group)
    r_event, r_sale = shares.expand(r_group)
    left = total[r_sale] - converted[r_event]
    lost = amount[r_sale] - allocate_shares(left, share[r_sale], r_event)
    # Two comparisons: pandas compares a categorical's codes, where isin hashes every row
    event = ledger["event"]
    is_dispute = ((event == "dispute_opened") | (event == "dispute_resolved")).to_numpy(dtype=bool)
    disputes = ledger[["_code", "date", "event"]][is_dispute]
    d_group = transactions[disputes["_code"].to_numpy(dtype=np.int64)]
    disputes, d_group = disputes[d_group >= 0], d_group[d_group >= 0]
    d_event, d_sale = shares.expand(d_group)
    return Sales(
        transaction_id=sale_ids,
        # 32 bits when they fit (as long as the ledger; the run keeps them to the end)
        transaction=_small(group),
        employee=_small(employee),
        date=date,
        amount=amount,
        margin=margin_total if whole else allocate_shares(margin_total, share, group),
        has_margin=margin.notna().to_numpy(dtype=bool),
        excluded_reason=_exclusions(date, employee, hire, termination, year_start),
        refund_sale=r_sale,
        refund_date=refunds["date"].to_numpy().astype("datetime64[D]")[r_event],
        refund_amount=lost - _previous(lost, r_sale),
        dispute_sale=d_sale,
        dispute_date=disputes["date"].to_numpy().astype("datetime64[D]")[d_event],
        dispute_opens=(disputes["event"] == "dispute_opened").to_numpy(dtype=bool)[d_event],
        share=share,
        split=split,
        total=total,
        sale_currency=sale_currency,
        sale_total=sale_total,
        rate=rates.rate,
        rate_date=rates.date,
        refund_shown=shown[r_event],
    )


def _small(values: Int) -> npt.NDArray[np.signedinteger[Any]]:
    """Non-negative ``values`` (counts, positions) in 32 bits when the largest fits.

    >>> _small(np.array([0, 7])).dtype, _small(np.array([2**31])).dtype
    (dtype('int32'), dtype('int64'))
    """
    if values.dtype == np.int32:  # already (no copy)
        return values
    fits = not len(values) or int(values.max()) <= np.iinfo(np.int32).max
    return values.astype(np.int32) if fits else values


@dataclass(frozen=True)
class TextCodes:
    """A text column factorized once: each row's code (-1: missing) into ``distinct``, in
    the smallest integer type that holds them (a few currencies: one byte a row).

    >>> currency = TextCodes.of(pd.Series(["USD", "EUR", None, "USD"], dtype="str"))
    >>> currency.codes.dtype, currency[1], currency.tolist(), currency.equals("USD").tolist()
    (dtype('int8'), 'EUR', ['USD', 'EUR', None, 'USD'], [True, False, False, True])
    """

    codes: npt.NDArray[np.signedinteger[Any]]
    distinct: npt.NDArray[np.object_]

    @classmethod
    def of(cls, values: pd.Series, *, ordered: bool = False) -> TextCodes:
        """``ordered``: codes that sort like the texts (code point order), missing last.

        A categorical column (the read ledger's ids and currencies) gives its own codes and
        categories, no copy, when they serve (unused categories included); other columns
        are factorized.
        """
        if isinstance(values.dtype, pd.CategoricalDtype) and (
            not ordered or values.cat.categories.is_monotonic_increasing
        ):
            # -1 where missing, in its smallest type
            own = category_codes(values)
            return cls(own, np.asarray(values.cat.categories, dtype=object))
        if ordered and isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("str")  # factorize would sort by the categories' order
        codes, distinct = pd.factorize(values, sort=ordered)
        small = next(t for t in (np.int8, np.int16, np.int32, np.int64)
                     if len(distinct) <= np.iinfo(t).max)  # fmt: skip
        return cls(np.asarray(codes).astype(small), np.asarray(distinct, dtype=object))

    def at(self, positions: Int) -> TextCodes:
        return TextCodes(self.codes[positions], self.distinct)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, row: int) -> str | None:
        code = int(self.codes[row])
        return None if code < 0 else str(self.distinct[code])

    def tolist(self) -> list[str | None]:
        return self.texts().tolist()  # type: ignore[no-any-return]

    def equals(self, text: str) -> Bool:
        """Which rows hold ``text`` (one comparison per distinct text, then the codes)."""
        where = np.flatnonzero(self.distinct == text)
        if not len(where):
            return np.zeros(len(self.codes), dtype=bool)
        return np.asarray(self.codes == int(where[0]), dtype=bool)

    def texts(self) -> npt.NDArray[np.object_]:
        """Each row's text (None where missing), each distinct text one Python object shared
        by its rows: a few currencies over ten million sales, not ten million strings.

        >>> TextCodes.of(pd.Series(["USD", "EUR", "USD"], dtype="str")).texts().tolist()
        ['USD', 'EUR', 'USD']
        """
        texts = np.concatenate([self.distinct, np.array([None], dtype=object)])
        return np.asarray(texts[self.codes], dtype=object)  # code -1: the trailing None


def _taken_rows(frame: pd.DataFrame, columns: list[str], at: Int) -> pd.DataFrame:
    """``frame[columns].take(at)`` with a RangeIndex, a column in each of two threads: NumPy's
    take lets go of the interpreter, and most of its time is the new columns' first touch."""
    taken: list[Any] = [None] * len(columns)

    def take(k: int) -> None:
        taken[k] = frame[columns[k]].array.take(at)

    in_two_threads(take, len(columns))
    return pd.DataFrame(dict(zip(columns, taken, strict=True)), copy=False)


def _sale_positions(
    ledger: pd.DataFrame, employee_codes: npt.NDArray[np.signedinteger[Any]]
) -> Int:
    """Positions of the sale rows, stably in (transaction, employee) order: as they come when
    the ledger is in canonical order (a split's rows are in employee order there)."""
    at = np.flatnonzero((ledger["event"] == "sale").to_numpy(dtype=bool, na_value=False))
    code = ledger["_code"].to_numpy(dtype=np.int64)[at]
    who = employee_codes[at].astype(np.int64)
    who[who < 0] = np.iinfo(np.int64).max  # a missing id last, as sort_values puts it
    later = (code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (who[1:] >= who[:-1]))
    if bool(later.all()):
        return at
    return np.asarray(at[np.lexsort((who, code))], dtype=np.int64)  # lexsort is stable


def _positions(employee_position: pd.Series, employee_ids: TextCodes) -> Int:
    """Each id's roster position (``employee_position``: roster position by employee id)."""
    keys = pd.Index(employee_position.index.to_numpy(dtype=object), dtype=object)
    codes, distinct = employee_ids.codes, employee_ids.distinct
    positions: Int | None = None
    if keys.is_unique and len(distinct):
        found = keys.get_indexer(pd.Index(distinct, dtype=object))  # each distinct id once
        # Each distinct id's roster position (-1: off the roster, or a category no row uses;
        # a missing id's code -1 reads the trailing -1), then one gather per row
        # (found -1 reads the trailing -1 too: no position is read where the roster has none)
        at = np.append(np.append(employee_position.to_numpy(np.int64), -1)[found], -1)
        positions = at[codes]
    elif not len(codes):
        positions = np.zeros(0, dtype=np.int64)
    if positions is None or bool(np.any(positions < 0)):  # refused as reindex does, in its words
        ids = pd.Index(employee_ids.texts(), dtype=object)
        positions = employee_position.reindex(ids).to_numpy(dtype=np.int64)
    return positions


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` stably sorted by ``columns``: as it is when already in that order (the
    canonical ledger order mostly is), else sorted.

    >>> _sorted(pd.DataFrame({"t": ["a", "b", "a"], "e": [2, 1, 1]}), ["t", "e"]).index.tolist()
    [2, 0, 1]
    """
    if is_sorted(frame, columns):  # missing values last, as sort_values puts them
        return frame
    return frame.sort_values(columns, kind="stable")


def _shares(sale_rows: pd.DataFrame) -> Int:
    if SHARE_COLUMN not in sale_rows.columns:
        return _same(np.int64(SHARE_WHOLE), len(sale_rows))
    return sale_rows[SHARE_COLUMN].fillna(SHARE_WHOLE).to_numpy(dtype=np.int64)


def _same(value: Any, n: int) -> npt.NDArray[Any]:
    """``n`` copies of ``value`` as a read-only array that stores it once (a broadcast view).

    >>> same = _same(np.int64(7), 3)
    >>> same.tolist(), same.nbytes > 0, same.strides, same.flags.writeable
    ([7, 7, 7], True, (0,), False)
    """
    return np.broadcast_to(np.asarray(value), (n,))


@dataclass(frozen=True)
class _Shares:
    """The sales (shares) grouped by transaction: each share's transaction number
    (``group``, rising), and where each transaction's shares start and how many it has.

    Nearly every ledger has one sale row per transaction: then transaction ``i`` is sale
    ``i`` and ``first``/``count`` stay None (no ledger-long columns made for the identity).

    >>> shares = _Shares.of(np.array([True, False, True]))
    >>> shares.group.tolist(), shares.several().tolist(), shares.first_of(np.array([1])).tolist()
    ([0, 0, 1], [True, True, False], [2])
    >>> [x.tolist() for x in shares.expand(np.array([0, 1]))]
    [[0, 0, 1], [0, 1, 2]]
    >>> one = _Shares.of(np.array([True, True]))
    >>> one.first is None, one.several().tolist(), [x.tolist() for x in one.expand(np.array([1]))]
    (True, [False, False], [[0], [1]])
    """

    group: npt.NDArray[np.signedinteger[Any]]
    first: Int | None  # each transaction's first share (None: share i is transaction i)
    count: Int | None  # each transaction's number of shares

    @classmethod
    def of(cls, starts: npt.NDArray[np.bool_]) -> _Shares:
        """``starts``: where a share is the first of its transaction (shares in order)."""
        if bool(starts.all()):  # in 32 bits when they fit, as the sales keep them
            small = np.int32 if len(starts) <= np.iinfo(np.int32).max else np.int64
            return cls(np.arange(len(starts), dtype=small), None, None)
        group = starts.astype(np.int64)  # summed in place (a cumsum that casts copies it first)
        np.cumsum(group, out=group)
        group -= 1  # the transaction's number among the sales (in place: no second column)
        first = np.flatnonzero(starts)
        count = np.diff(np.append(first, len(group)))  # a group runs to the next start
        return cls(group, first, count)

    def several(self) -> npt.NDArray[np.bool_]:
        """Per share, whether its transaction has other shares."""
        if self.count is None:
            return np.zeros(len(self.group), dtype=bool)
        return np.asarray(self.count[self.group] > 1)

    def first_of(self, transaction: Int) -> Int:
        """The first share of each of these transactions."""
        return transaction if self.first is None else self.first[transaction]

    def expand(self, transaction: Int) -> tuple[Int, Int]:
        """Each event (of ``transaction``) once per share of its transaction: (event
        position, sale position). Events stay in their order and a transaction's shares in
        theirs (by employee id)."""
        if self.first is None or self.count is None:
            return np.arange(len(transaction), dtype=np.int64), transaction.astype(np.int64)
        times = self.count[transaction]
        event = np.repeat(np.arange(len(transaction), dtype=np.int64), times)
        offset = np.arange(len(event), dtype=np.int64)
        offset -= np.repeat(np.cumsum(times) - times, times)
        return event, (self.first[transaction][event] + offset).astype(np.int64)


def _previous(values: Int, key: Int) -> Int:
    """The value of the entry before each one with the same key (0 for the first).

    Entries of one key must be in order already (they need not be contiguous).
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    before = pd.Series(values).groupby(key).shift(1, fill_value=0)
    return before.to_numpy(dtype=np.int64)


def allocate_shares(total: Int, weight: Int, group: Int) -> Int:
    """Split each group's ``total`` by ``weight`` with no minor unit lost or made up.

    ``total`` is the same on every entry of a group; the result adds up to it exactly. Largest
    remainder: each share gets the floor of its exact part, and the units left over go one
    each to the largest remainders, ties to the earlier entry (callers order a transaction's
    shares by employee id). Negative totals split their magnitude and keep the sign. The
    vectorised form of :func:`compcalc.money.allocate`:

    >>> allocate_shares(np.array([10000] * 3 + [1] * 2), np.array([3333, 3333, 3334, 1, 1]),
    ...                 np.array([0, 0, 0, 1, 1])).tolist()
    [3333, 3333, 3334, 1, 0]
    """
    n = len(total)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    total = np.asarray(total, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    groups = int(group.max()) + 1
    # An entry alone in its group (a sale credited whole to one employee: nearly every one)
    # gets the group's total; only the groups of several entries are divided.
    alone = (np.bincount(group, minlength=groups)[group] == 1) & (weight > 0)
    if alone.all():
        return total.copy()
    if alone.any():
        shares_of = total.copy()
        split = np.flatnonzero(~alone)
        local = np.unique(group[split], return_inverse=True)[1].astype(np.int64)
        shares_of[split] = allocate_shares(total[split], weight[split], local)
        return shares_of
    weight_sum = np.zeros(groups, dtype=np.int64)
    np.add.at(weight_sum, group, weight)
    whole = weight_sum[group]
    magnitude = np.abs(total)
    exact = safe_ints(magnitude, int(weight.max())) * weight
    base = np.asarray(exact // whole).astype(np.int64)  # at most the total: fits
    remainder = np.asarray(exact % whole).astype(np.int64)  # below the weights' sum: fits
    given = np.zeros(groups, dtype=np.int64)
    np.add.at(given, group, base)
    group_total = np.zeros(groups, dtype=np.int64)
    group_total[group] = magnitude
    left = group_total - given
    # Only groups with units left over need their entries ranked (a sale credited whole to
    # one employee, nearly every one, has none): rank those entries alone.
    pending = np.flatnonzero(left[group] > 0)
    shares = base.copy()
    if len(pending):
        g = group[pending]
        order = np.lexsort((pending, -remainder[pending], g))
        ranked = g[order]
        rank = np.empty(len(pending), dtype=np.int64)
        rank[order] = np.arange(len(pending)) - np.searchsorted(ranked, ranked, side="left")
        shares[pending] += rank < left[g]
    return np.where(total < 0, -shares, shares).astype(np.int64)


@dataclass(frozen=True)
class _Rates:
    """Per sale row: the rate used (0 when in the pay currency) and its date, and the scale
    from ledger minor units to pay minor units."""

    rate: Int
    date: Dates
    numerator: Any  # rate * 10**(pay digits - sale digits) where positive (Python ints)
    denominator: Any  # RATE_SCALE * 10**(sale digits - pay digits) where positive
    rounding: Rounding
    converts: bool = True  # whether some sale row has a rate (else every amount stays as is)

    @classmethod
    def of(cls, currency: TextCodes, date: Dates, money: Money | None, ids: Texts) -> _Rates:
        """The rates of sale rows in the currencies ``currency``, dated ``date``, with the
        transaction ids ``ids`` (to name the sales a missing rate leaves unpaid)."""
        n = len(currency.codes)
        # With every sale in the pay currency: read-only views of one value (no memory per
        # sale), as no sale has a rate to hold.
        none = (
            _same(np.int64(0), n),
            _same(np.datetime64("NaT", "D"), n),
            _same(np.array(1, dtype=object), n),
        )
        if money is None:
            return cls(none[0], none[1], none[2], none[2], Rounding.HALF_UP, converts=False)
        # One comparison per distinct currency; a missing one (code -1, last) is foreign
        other = np.array([c != money.currency for c in currency.distinct] + [True], dtype=bool)
        foreign = other[currency.codes]
        if not foreign.any():
            return cls(none[0], none[1], none[2], none[2], money.rounding, converts=False)
        foreign_at = np.flatnonzero(foreign)
        named = currency.at(foreign_at).texts()  # the foreign sales' currencies only
        rate = np.zeros(n, dtype=np.int64)
        rate_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        fx = money.fx
        if fx is None:
            codes = ", ".join(sorted(set(named.tolist())))
            raise RunError(
                f"sales in {codes} need an FX table to be paid in {money.currency} (--fx FILE)"
            )
        found = np.full(n, -1, dtype=np.int64)
        found[foreign_at] = fx.find(named, money.currency, date[foreign_at])
        needed = foreign & (found < 0)
        if money.through is not None:
            needed &= date <= day(money.through)
        if needed.any():
            at = np.flatnonzero(needed)
            base = currency.at(at).texts()
            _missing_rates(ids.take(at), base, date[at], money.currency, fx)
        usable = foreign & (found >= 0)
        rate[usable] = fx.rate[found[usable]]
        rate_date[usable] = fx.date[found[usable]]
        digits = currency_digits(currency.codes, currency.distinct)
        shift = minor_digits(money.currency) - digits
        up = np.power(10, np.maximum(shift, 0).astype(object))
        down = np.power(10, np.maximum(-shift, 0).astype(object))
        # In the pay currency: times 1. After `through` with no rate yet: 0 (never looked at).
        numerator = np.where(usable, rate.astype(object) * up, np.where(foreign, 0, 1))
        denominator = np.where(usable, RATE_SCALE * down, 1)
        return cls(rate, rate_date, numerator, denominator, money.rounding, bool(rate.any()))

    def convert(self, units: Int, row: Int | None) -> Int:
        """Ledger minor units of sale row ``row`` (per entry; None: of every sale row, in
        order) in pay minor units, rounded once."""
        if len(units) == 0 or not self.converts:  # no gather of a rate per sale row
            return np.asarray(units, dtype=np.int64)
        if row is None:
            numerator, denominator = self.numerator, self.denominator
        elif not np.any(self.rate[row]):
            return np.asarray(units, dtype=np.int64)
        else:
            numerator, denominator = self.numerator[row], self.denominator[row]
        exact = np.asarray(units).astype(object) * numerator
        out = round_div(exact, denominator, self.rounding)
        return np.asarray(out).astype(np.int64)


def _missing_rates(
    ids: list[str], base: npt.NDArray[np.object_], dates: Dates, quote: str, fx: FxTable
) -> None:
    """RunError naming each (pair, date) with no rate on or before it, and its transactions
    (``ids``: the transaction of each)."""
    missing = pd.DataFrame({"pair": base + "->" + quote, "date": dates.astype(str), "tid": ids})
    problems = []
    for key, found in missing.groupby(["pair", "date"], sort=True):
        pair, when = (str(part) for part in key)
        ids = sorted(set(found["tid"].tolist()))
        shown = ", ".join(ids[:5]) + (f", … ({len(ids)} in all)" if len(ids) > 5 else "")
        problems.append(
            Diagnostic(
                fx.source,
                None,
                None,
                "",
                f"no {pair} rate on or before {when} (sale date of transaction"
                f"{'s' if len(ids) > 1 else ''} {shown}); add a row {when},"
                f"{pair.replace('->', ',')},RATE",
            )
        )
    raise RunError(problems)


def _check_totals_fit(amount: Int, at: Int | None = None) -> None:
    """Refuse ledgers whose totals could overflow the exact 64-bit integer sums (of
    ``amount`` at ``at``, or all of it).

    Exact either way. Mostly settled without a pass of its own: as many amounts as there
    are, each at most the largest one in size, stay below the limit. Only otherwise are the
    sizes summed, exactly: as 32-bit halves summed apart (neither sum can overflow 64 bits
    for fewer than 2**32 amounts).
    """
    count = len(amount) if at is None else len(at)
    if not count:
        return
    largest = max(abs(int(amount.max())), abs(int(amount.min())))  # read-only passes
    if largest * count < 2**61:
        return
    picked = amount if at is None else amount[at]
    size = np.abs(picked).view(np.uint64)  # -2**63 is its own absolute value: 2**63 unsigned
    high = int(np.sum(size >> np.uint64(32), dtype=np.uint64))
    low = int(np.sum(size & np.uint64(0xFFFFFFFF), dtype=np.uint64))
    total = (high << 32) + low
    if total >= 2**61:
        about = f"{float(total):.3g}"  # float-ok: the size in words, not money
        raise RunError(
            "the ledger's sale amounts add up to more than 64-bit integers hold exactly "
            f"(about {about} minor units); split the run by employee"
        )


def _exclusions(
    date: Dates, employee: Int, hire: Dates, termination: Dates, year_start: dt.date
) -> TextCodes:
    """Why each sale earns nothing this plan year ("", code 0, when it may earn).

    ``hire`` and ``termination`` are per employee (``employee``: each sale's). Only the sales
    of employees hired after the first sale or gone before the last are compared with those
    dates: no ledger-long column of hire or termination dates.
    """
    reasons = np.array(
        [
            "",
            f"sold before this plan year began ({year_start})",
            "sold before the employee's hire date",
            "sold after the employee's termination date",
        ],
        dtype=object,
    )
    code = np.zeros(len(date), dtype=np.int8)
    if len(date):
        hired_late = ~np.isnat(hire) & (hire > date.min())
        at = np.flatnonzero(hired_late[employee])
        code[at[date[at] < hire[employee[at]]]] = 2
        left_early = ~np.isnat(termination) & (termination < date.max())
        at = np.flatnonzero(left_early[employee])
        code[at[date[at] > termination[employee[at]]]] = 3  # over 2, as it always has
    code[date < day(year_start)] = 1  # over both
    return TextCodes(code, reasons)


@dataclass(frozen=True)
class SaleState:
    """Every sale's standing at one as-of date.

    What earns (:meth:`basis`) and the dates open disputes were opened are worked out when
    asked for, and not kept: the run keeps the period end's state to the end, and a column
    of amounts as long as the ledger is eight bytes a sale.
    """

    as_of: dt.date
    sold: Bool  # sale date on or before as_of and eligible this plan year
    refunds: tuple[Int, Int]  # the sales refunded to date (ascending) and how much of each
    disputed: Bool  # a dispute is open at as_of
    sales: Sales = field(repr=False)
    rounding: Rounding = Rounding.HALF_UP
    dispute_cutoff: np.datetime64 = field(default_factory=lambda: np.datetime64("NaT", "D"))

    @property
    def refunded(self) -> Int:
        """Each sale's refunded amount to date (a column made when asked for, not kept: a
        few sales in a hundred have a refund)."""
        refunded = np.zeros(len(self.sold), dtype=np.int64)
        refunded[self.refunds[0]] = self.refunds[1]
        return refunded

    @property
    def credited(self) -> Bool:
        """Sales that earn now: sold, not disputed, and not refunded in full."""
        return self.sold & ~self.disputed & self.left

    def refunded_at(self, at: Int) -> Int:
        """The refunded amount to date of each sale at positions ``at``."""
        refund_at, refund = self.refunds
        out = np.zeros(len(at), dtype=np.int64)
        where, hit = found_in(refund_at, at)
        out[hit] = refund[where[hit]]
        return out

    @property
    def left(self) -> Bool:
        """Sales not refunded in full (with something left after refunds)."""
        left = self.sales.amount > 0
        at, refunded = self.refunds
        left[at] = refunded < self.sales.amount[at]
        return left

    def dispute_since(self, at: Int) -> Dates:
        """The date the open dispute of each sale at positions ``at`` was opened (NaT where
        none is open): only the few held sales a statement names are asked for, so only their
        dispute events are visited (no column as long as the ledger)."""
        sales = self.sales
        since = np.full(len(at), np.datetime64("NaT"), dtype="datetime64[D]")
        events = np.flatnonzero(
            (sales.dispute_date <= self.dispute_cutoff)
            & sales.dispute_opens
            & np.isin(sales.dispute_sale, at)
        )
        if not len(events) or not len(at):
            return since
        # The latest opening per sale: events sorted by sale then date, the last of each run
        order = lexsorted([sales.dispute_sale[events], sales.dispute_date[events]])
        sale, date = sales.dispute_sale[events][order], sales.dispute_date[events][order]
        last = np.append(sale[1:] != sale[:-1], True)
        where, found = found_in(sale[last], at)
        open_now = found & self.disputed[at]
        since[open_now] = date[last][where][open_now]
        return since

    def basis(self, kind: str) -> Int:
        """What each sale earns on now (0 unless credited): the amount left after refunds, or
        the margin shrunk in proportion to it (``kind``: ``amount`` or ``margin``)."""
        return self._basis_at(kind, None)

    def differences(self, kind: str) -> tuple[Int, Int]:
        """The sales (ascending positions) whose :meth:`basis` differs from their full figure
        where sold by now (0 where not), and their basis there.

        Only a refunded, disputed or non-positive sale can differ (any other earns its whole
        amount and margin once sold), so only those few are valued: no column as long as the
        ledger per month end.
        """
        sales = self.sales
        marked = self.disputed.copy()  # marked in a mask: ascending and unique with no sort
        marked[self.refunds[0]] = True
        marked[sales.nonpositive] = True
        maybe = np.flatnonzero(marked)
        del marked
        basis = self._basis_at(kind, maybe)
        figures = (sales.margin if kind == "margin" else sales.amount)[maybe]
        differ = basis != np.where(self.sold[maybe], figures, 0)
        return maybe[differ], basis[differ]

    def _basis_at(self, kind: str, at: Int | None) -> Int:
        """:meth:`basis` of the sales at positions ``at`` (ascending; None: every sale)."""
        sales = self.sales
        if at is None:
            amount, margin, refunded = sales.amount, sales.margin, self.refunded
            sold, disputed = self.sold, self.disputed
        else:
            amount, margin, sold, disputed = (
                sales.amount[at], sales.margin[at], self.sold[at], self.disputed[at]
            )
            refunded = self.refunded_at(at)
        remaining = amount - refunded  # a fresh array: worked on in place from here
        np.maximum(remaining, 0, out=remaining)
        credited = sold & ~disputed & (remaining > 0)
        if kind == "margin":  # a fresh array too
            remaining = _margin_left(amount, margin, refunded, remaining, self.rounding)
        remaining[~credited] = 0
        return remaining


def found_in(ascending: npt.NDArray[np.integer], values: npt.NDArray[np.integer]) -> Any:
    """Where each of ``values`` is in ``ascending`` (a sorted array of distinct values), and
    whether it is there at all: ``(where, hit)``, ``where`` valid only where ``hit``.

    >>> [a.tolist() for a in found_in(np.array([2, 5, 9]), np.array([5, 1, 9, 12]))]
    [[1, 0, 2, 2], [True, False, True, False]]
    """
    if not len(ascending):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    where = np.minimum(np.searchsorted(ascending, values), len(ascending) - 1)
    return where, ascending[where] == values


def state_at(
    sales: Sales, as_of: dt.date, rounding: Rounding, disputes_as_of: dt.date | None = None
) -> SaleState:
    """Standing of every sale at the end of ``as_of``.

    ``disputes_as_of`` takes disputes as they stood at an earlier date (refunds and sales
    still count to ``as_of``): the step between "refunds applied" and "disputes applied" that
    lets a period's change be itemised into clawbacks and holds.
    """
    cutoff = day(as_of)
    dispute_cutoff = cutoff if disputes_as_of is None else day(disputes_as_of)
    sold, refunds, disputed = _standing(sales, cutoff, dispute_cutoff)
    return SaleState(as_of, sold, refunds, disputed, sales, rounding, dispute_cutoff)


def _standing(sales: Sales, cutoff: np.datetime64, dispute_cutoff: np.datetime64) -> Any:
    """Which sales are sold (and eligible) by ``cutoff``, what was refunded by then, and
    which are under a dispute open at ``dispute_cutoff``.

    The refunds and disputes are counted sale by sale over their events grouped by sale
    (:attr:`Sales.refunds_by_sale`, :attr:`Sales.disputes_by_sale`, grouped once per run):
    one masked pass over the events per date, no sort.
    """
    refunds = sales.refunds_by_sale
    by_then = refunds.date <= cutoff
    any_by_then = refunds.any(by_then)
    at = refunds.sale[any_by_then]
    refunded = refunds.sums(np.where(by_then, refunds.values, 0))[any_by_then]
    disputes = sales.disputes_by_sale
    # each opening counts +1, each resolution -1: open where more were opened than resolved
    still_open = disputes.sums(np.where(disputes.date <= dispute_cutoff, disputes.values, 0)) > 0
    disputed = np.zeros(len(sales), dtype=bool)
    disputed[disputes.sale[still_open]] = True
    return sales.sold_by(cutoff), (at, refunded), disputed


@dataclass(frozen=True)
class EmployeeRuns:
    """Sales grouped by employee: ``order`` lists the sale positions employee by employee
    (roster row order; ascending within an employee), the sales of roster row ``e`` at
    ``order[starts[e]:starts[e + 1]]``.

    >>> runs = EmployeeRuns.of(np.array([2, 0, 2, 1]))
    >>> runs.order.tolist(), runs.starts.tolist(), runs.place.tolist()
    ([1, 3, 0, 2], [0, 1, 2, 4], [0, 0, 1, 0])
    """

    order: npt.NDArray[np.signedinteger[Any]]
    starts: Int

    @classmethod
    def of(cls, employee: npt.NDArray[np.signedinteger[Any]]) -> EmployeeRuns:
        size = int(employee.max()) + 1 if len(employee) else 0
        order = stable_order(employee, size)
        small = np.int32 if len(employee) <= np.iinfo(np.int32).max else np.int64
        starts = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(employee, minlength=size), out=starts[1:])
        return cls(order.astype(small), starts)

    def of_rows(self, rows: Int) -> tuple[Int, Int]:
        """Where the run of each of the roster ``rows`` begins in ``order``, and its length
        (0 for a row with no sale)."""
        size = len(self.starts) - 1
        known = rows < size
        at = np.where(known, rows, 0)
        first = np.where(known, self.starts[at], 0) if size else np.zeros(len(rows), np.int64)
        end = np.where(known, self.starts[at + 1], 0) if size else first
        return first, end - first

    @functools.cached_property
    def place(self) -> npt.NDArray[np.signedinteger[Any]]:
        """Each sale's place within its employee's run (0 for the first)."""
        within = np.arange(len(self.order), dtype=self.order.dtype)  # in ``order``'s terms
        within -= np.repeat(self.starts[:-1], np.diff(self.starts)).astype(within.dtype)
        place = np.empty_like(within)
        place[self.order] = within
        return place


def stable_order(keys: npt.NDArray[np.signedinteger[Any]], size: int) -> npt.NDArray[np.intp]:
    """``np.argsort(keys, kind="stable")`` for keys in ``0 .. size-1`` (employee rows).

    Below 2**16 the keys are narrowed to 16 bits, which numpy sorts by radix in linear time.

    >>> stable_order(np.array([2, 0, 2, 1]), 3).tolist()
    [1, 3, 0, 2]
    """
    narrow = keys.astype(np.uint16) if size <= 2**16 else keys
    return np.argsort(narrow, kind="stable")


@dataclass(frozen=True)
class EventsBySale:
    """Later events (refunds or disputes) in the order of the sale they belong to, each
    sale's events together (stably: in their own order within a sale).

    >>> events = EventsBySale.of(np.array([3, 1, 3]), np.array(["2026-01-02"] * 3,
    ...     dtype="datetime64[D]"), np.array([5, 7, 9]))
    >>> events.sale.tolist(), events.values.tolist(), events.sums(events.values).tolist()
    ([1, 3], [7, 5, 9], [7, 14])
    """

    sale: Int  # each run's sale, ascending
    date: Dates  # each event's date, in run order
    values: Int  # each event's value (a refund's amount, +1/-1 for a dispute), in run order
    starts: Int  # where each sale's run begins

    @classmethod
    def of(cls, sale: Int, date: Dates, values: Int) -> EventsBySale:
        order = np.argsort(sale, kind="stable")
        ordered = sale[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(order) else order
        return cls(ordered[starts], date[order], values[order], starts)

    def sums(self, values: Int) -> Int:
        """Per sale, the sum of ``values`` (one per event, in run order)."""
        if not len(self.starts):
            return np.zeros(0, dtype=values.dtype)
        return np.asarray(np.add.reduceat(values, self.starts))

    def any(self, flags: Bool) -> Bool:
        """Per sale, whether any of its events' ``flags`` (in run order) is set."""
        if not len(self.starts):
            return np.zeros(0, dtype=bool)
        return np.asarray(np.logical_or.reduceat(flags, self.starts))


def _margin_left(
    amount: Int, margin_given: Int, refunded: Int, remaining: Int, rounding: Rounding
) -> Any:
    """Each sale's margin shrunk in proportion to what is left after refunds, rounded once.

    ``round(margin * remaining / amount)`` is the margin itself where nothing was refunded
    from a positive amount, so only the refunded (or non-positive) sales are divided.
    """
    safe_amount = np.where(amount > 0, amount, 1)
    peak = int(remaining.max()) if len(remaining) else 0
    margin = safe_ints(margin_given, peak)
    if margin.dtype == object:  # products beyond int64: every sale in Python integers
        return round_div(margin * remaining, safe_amount, rounding)
    shrunk = np.flatnonzero(((refunded != 0) | (amount <= 0)) & (margin != 0))
    part = round_div(margin[shrunk] * remaining[shrunk], safe_amount[shrunk], rounding)
    if np.asarray(part).dtype == object:
        return round_div(margin * remaining, safe_amount, rounding)
    left = np.array(margin, dtype=np.int64)
    left[shrunk] = part
    return left


def refunded_between(sales: Sales, after: dt.date, through: dt.date) -> Bool:
    """Sales with a refund dated in (after, through]."""
    hit = np.zeros(len(sales), dtype=bool)
    mask = (sales.refund_date > day(after)) & (sales.refund_date <= day(through))
    hit[sales.refund_sale[mask]] = True
    return hit


def events_between(sales: Sales, after: dt.date, through: dt.date) -> Bool:
    """Sales with any event (sale, dispute, refund) dated in (after, through]."""
    low, high = day(after), day(through)
    hit = (sales.date > low) & (sales.date <= high)
    for index, dates in (
        (sales.refund_sale, sales.refund_date),
        (sales.dispute_sale, sales.dispute_date),
    ):
        mask = (dates > low) & (dates <= high)
        hit[index[mask]] = True
    return hit


def period_events(sales: Sales, after: dt.date, through: dt.date, digits: int) -> dict[int, str]:
    """Sale position -> its transaction id and its refunds and dispute events dated in
    (after, through], in words: ``T7: refund 2026-11-17 of 40.00, dispute opened ...``.

    Lets a clawback, hold or release line name the ledger events that caused it. Only the
    period's few refund and dispute events are visited.
    """
    from ..money import format_amounts

    low, high = day(after), day(through)
    found: dict[int, list[tuple[str, int, str]]] = {}
    refunds = np.flatnonzero((sales.refund_date > low) & (sales.refund_date <= high))
    # Dates, amounts and ids read for all the period's events at once, not one by one
    dates = np.datetime_as_string(sales.refund_date[refunds], unit="D").tolist()
    shown = format_amounts(sales.refund_shown[refunds], digits)
    for sale, date, amount in zip(sales.refund_sale[refunds].tolist(), dates, shown, strict=True):
        found.setdefault(sale, []).append((date, 2, f"refund {date} of {amount}"))
    disputes = np.flatnonzero((sales.dispute_date > low) & (sales.dispute_date <= high))
    dates = np.datetime_as_string(sales.dispute_date[disputes], unit="D").tolist()
    opening, which = sales.dispute_opens[disputes].tolist(), sales.dispute_sale[disputes].tolist()
    for sale, date, opens in zip(which, dates, opening, strict=True):
        text = f"dispute {'opened' if opens else 'resolved'} {date}"
        found.setdefault(sale, []).append((date, 0 if opens else 1, text))
    # ISO dates sort as the days do: each sale's events by date, then dispute, resolution,
    # refund
    ids = sales.transaction_id.take(np.fromiter(found, dtype=np.int64, count=len(found)))
    return {
        sale: f"{ids[k]}: " + ", ".join(text for *_, text in sorted(events))
        for k, (sale, events) in enumerate(found.items())
    }


@dataclass(frozen=True)
class IgnoredEvents:
    """Refunds and disputes that come too late to claw back a paid sale (see the window)."""

    window_days: int
    sale: Int
    date: Dates
    event: npt.NDArray[np.object_]  # "refund" or "dispute_opened"
    amount: Int  # the refund's amount (0 for a dispute)

    def between(self, after: dt.date, through: dt.date) -> npt.NDArray[np.intp]:
        """Positions of the ignored events dated in (after, through], by sale then date."""
        mask = (self.date > day(after)) & (self.date <= day(through))
        picked = np.flatnonzero(mask)
        return picked[np.lexsort((self.date[picked], self.sale[picked]))]


def _by_sale_date_opened(sale: Int, date: Dates, opens: Bool) -> Int | None:
    """The stable order of dispute events by sale, date and openings first; None when they
    are in that order already (as a read ledger's canonical order gives them, but for a
    split sale's events, one per share)."""
    same_sale = sale[1:] == sale[:-1]
    same_day = same_sale & (date[1:] == date[:-1])
    after = (sale[1:] > sale[:-1]) | (same_sale & (date[1:] > date[:-1]))
    if np.all(after | (same_day & (opens[1:] <= opens[:-1]))):
        return None
    return lexsorted([sale, date, ~opens])


def apply_clawback_window(sales: Sales, window_days: int) -> tuple[Sales, IgnoredEvents]:
    """Drop the events that the clawback window says must not take paid commission back.

    An event is *late* when dated more than ``window_days`` after its sale. A late dispute
    opening never holds the sale (and its resolution is dropped with it); a late refund is
    dropped when the sale had been paid, i.e. it was credited at the end of the month before
    the refund and no dispute (opened inside the window) is open on the refund's date. Late
    refunds of unpaid sales still reduce them. Dispute openings inside the window always count,
    so which events count never depends on another dropped event: one vectorised pass.
    """
    window = np.timedelta64(window_days, "D")
    order = _by_sale_date_opened(sales.dispute_sale, sales.dispute_date, sales.dispute_opens)
    d_sale, d_date, d_open = sales.dispute_sale, sales.dispute_date, sales.dispute_opens
    if order is not None:
        d_sale, d_date, d_open = d_sale[order], d_date[order], d_open[order]
    late_open = d_open & (d_date > sales.date[d_sale] + window)
    # A resolution closes the opening just before it (the ledger checks the alternation).
    after_late = np.zeros(len(d_sale), dtype=bool)
    after_late[1:] = late_open[:-1] & (d_sale[1:] == d_sale[:-1])
    drop = late_open | (~d_open & after_late)
    keep = ~drop
    open_at = _open_disputes(d_sale[keep], d_date[keep], d_open[keep])

    r_sale, r_date = sales.refund_sale, sales.refund_date
    month_start: Dates = r_date.astype("datetime64[M]").astype("datetime64[D]")
    month_before: Dates = month_start - np.timedelta64(1, "D")
    paid_then = (
        (sales.date[r_sale] <= month_before)
        & sales.eligible[r_sale]
        & (open_at(r_sale, month_before) == 0)
    )
    protected = (r_date > sales.date[r_sale] + window) & paid_then & (open_at(r_sale, r_date) == 0)

    windowed = dataclasses.replace(  # the sales as they are; only their events are dropped
        sales,
        refund_sale=r_sale[~protected],
        refund_date=r_date[~protected],
        refund_amount=sales.refund_amount[~protected],
        refund_shown=sales.refund_shown[~protected],
        dispute_sale=d_sale[keep],
        dispute_date=d_date[keep],
        dispute_opens=d_open[keep],
    )
    opened = late_open[drop]
    ignored = IgnoredEvents(
        window_days=window_days,
        sale=np.concatenate([r_sale[protected], d_sale[drop][opened]]),
        date=np.concatenate([r_date[protected], d_date[drop][opened]]),
        event=np.array(
            ["refund"] * int(protected.sum()) + ["dispute_opened"] * int(opened.sum()),
            dtype=object,
        ),
        amount=np.concatenate(
            [sales.refund_amount[protected], np.zeros(int(opened.sum()), dtype=np.int64)]
        ),
    )
    return windowed, ignored


def _open_disputes(sale: Int, date: Dates, opens: Bool) -> Any:
    """A function (sales, dates) -> disputes open on each sale at the end of each date.

    The events are sorted by (sale, date, opening first); a running sum of +1 / -1 per sale
    answers every query with two binary searches, with no loop over events.
    """
    days = date.astype(np.int64)
    low = int(days.min()) if len(days) else 0
    span = (int(days.max()) - low + 2) if len(days) else 2
    keys = sale.astype(np.int64) * span + (days - low)
    running = np.concatenate([[0], np.cumsum(np.where(opens, 1, -1))])

    def count(q_sale: Int, q_date: Dates) -> Int:
        q_days = np.clip(q_date.astype(np.int64) - low, -1, span - 2)
        base = q_sale.astype(np.int64) * span
        upto = np.searchsorted(keys, base + np.maximum(q_days, -1), side="right")
        first = np.searchsorted(keys, base, side="left")
        result: Int = running[upto] - running[first]
        return np.where(q_days < 0, 0, result)

    return count
