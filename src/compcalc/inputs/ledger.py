"""The ledger: sales and their later events, checked row by row and then across rows.

:func:`read_ledger` checks each row on its own (ids present, ISO date, known event, ISO
currency, exact amount). :func:`check_ledger` then checks rows against each other and the
roster. Both return a :class:`Ledger` whose ``frame`` is sorted canonically, so every result
computed from it is the same whatever order the input rows came in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compcalc.errors import InputError
from compcalc.inputs.amounts import format_minor_units, minor_units_and_reasons
from compcalc.inputs.common import (
    BoolArray,
    IntArray,
    PendingDigest,
    Problems,
    RejectedRow,
    Source,
    all_missing,
    canonical_name,
    category_codes,
    check_currencies,
    currency_digits,
    in_two_threads,
    is_in,
    join_places,
    made_or_pending,
    order_by_keys,
    packed_keys,
    parse_dates,
    place_labels,
    rank_then_ties,
    read_text_table,
    sort_rejected,
    text_categories,
    text_rank,
    to_rejected,
)
from compcalc.inputs.roster import Roster
from compcalc.resources import arrow_pool_returning

Digits = npt.NDArray[np.integer[Any]]  # minor-unit digits per row, -1 where unusable

EVENTS = ("sale", "dispute_opened", "dispute_resolved", "refund")
_SALE, _REFUND = EVENTS.index("sale"), EVENTS.index("refund")  # their _event_ranks
# Canonical order of events on one transaction and day: the sale first, a dispute opened
# before it is resolved, refunds last.
EVENT_RANK = {event: rank for rank, event in enumerate(EVENTS)}
# The frame's event column: the four events as categories in that order (a byte a row)
EVENT_TYPE = pd.CategoricalDtype(list(EVENTS))
REQUIRED_COLUMNS = ("transaction_id", "employee_id", "date", "event", "amount", "currency")
OPTIONAL_COLUMNS = ("margin", "share")
READ_COLUMNS = frozenset((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))  # any other is left unread
MONEY_COLUMNS = ("amount", "margin")
# Columns of few distinct texts that the checks code anyway: a Parquet ledger's come as its
# dictionary's codes, never as ten million texts (see read_text_table)
CODED_COLUMNS = ("employee_id", "date", "event", "currency")
FRAME_COLUMNS = (
    "source", "row", "line", "transaction_id", "employee_id", "date", "event",
    "amount_minor", "margin_minor", "currency",
)  # fmt: skip
# A sale's share of the transaction's credit is a percentage with at most SHARE_DIGITS
# decimals, held as an integer number of 10**-SHARE_DIGITS percent: 100 % is SHARE_WHOLE.
SHARE_DIGITS = 4
SHARE_WHOLE = 100 * 10**SHARE_DIGITS
SHARE_COLUMN = "share"
# Appended to the currency reason by run_period, which can convert when given an FX table.
FX_HINT = "; give an FX table (--fx FILE, or fx= in run_period) to convert it"


@dataclass(frozen=True)
class Ledger:
    """Accepted ledger rows (``frame``), refused rows, and where the data came from.

    ``frame`` columns (0..n-1 index, canonical order): ``source`` (categorical: the file
    each row came from, as named in messages), ``row`` (int64), ``line`` (Int64,
    <NA> unless CSV), ``transaction_id`` (str), ``employee_id`` (categorical, the ids in
    text order), ``date`` (datetime64[s]),
    ``event`` (categorical, :data:`EVENT_TYPE`: the four events in their order),
    ``amount_minor`` (int64; 0 where a dispute event has no amount), ``margin_minor``
    (Int64, <NA> when empty), ``currency`` (categorical, the currencies in text order: a
    byte a row where text would take about ten). When the input has the
    optional ``share`` column, ``frame`` also has ``share`` (Int64 in 1/SHARE_WHOLE parts of
    the transaction: 60 % is 600000; <NA> when empty, i.e. the whole sale, not split).

    ``unread_columns`` names the input's other columns (as written, sorted): compcalc neither
    read nor digested them, so ``sha256`` is of the columns above as the input gave them.
    ``without_margin`` says the input's ``margin`` column was left unread too, as asked
    (:func:`read_ledger` with ``margin=False``, for rules that use no margin): it is then
    among ``unread_columns`` and ``margin_minor`` is missing on every row.

    ``digest`` is ``sha256`` as given, or a :class:`PendingDigest` until ``sha256`` is first
    read: :func:`read_ledger` hands a large ledger over once its frame is checked and
    sorted, before its rows are all hashed (a second or two of ten million rows, in code
    that leaves the interpreter to the caller: on the core a run leaves idle). ``sha256``
    waits for it (and raises its error, if making it failed); a pending digest is pickled and
    copied as its text.
    """

    frame: pd.DataFrame
    rejected: tuple[RejectedRow, ...]
    source: str
    digest: str | PendingDigest
    unread_columns: tuple[str, ...] = ()
    without_margin: bool = False

    @property
    def sha256(self) -> str:
        """SHA-256 of the rows as read (:func:`~compcalc.inputs.common.canonical_digest`)."""
        digest = self.digest  # read once: another thread may put the text in meanwhile
        if isinstance(digest, PendingDigest):
            digest = digest.result()
            object.__setattr__(self, "digest", digest)  # kept as text: the thread is done
        return digest


def resolved(digest: str | PendingDigest) -> str:
    """A digest given, or made by its thread (waiting for it; its error raised)."""
    return digest if isinstance(digest, str) else digest.result()


@arrow_pool_returning()
def read_ledger(
    source: Source | Sequence[Source], *, name: str | None = None, margin: bool = True
) -> Ledger:
    """Read a ledger from a .csv/.parquet path or a DataFrame and check each row on its own.

    A list of sources (say, one file per month of the plan year) is read as one ledger: each
    row keeps its own file, row and line, so rejections and cross-row reasons name the file.
    ``name`` replaces the source name used in messages (default: the path as given, or
    ``<ledger>`` for a DataFrame). Cross-row checks are :func:`check_ledger`'s job.
    A large ledger is handed over while its digest may still be in the making (see
    :class:`Ledger`); an error making it is raised where it is read, not here (one sorting
    the transaction ids, which the read needs, is raised here). Several files' ledger has
    each file's digest made before it is handed over (an error making one raised here).
    ``margin=False`` leaves the ``margin`` column unread (see :class:`Ledger`): for rules that
    use none (:attr:`compcalc.rules.RuleSet.uses_margin`): ~0.6 s of ten million rows' ~4 s.
    """
    if not isinstance(source, str | os.PathLike | pd.DataFrame):
        return _read_several(list(source), margin=margin)
    table = read_text_table(
        source, name=name, default_name="<ledger>", required=REQUIRED_COLUMNS,
        money=MONEY_COLUMNS, key="transaction_id", coded=CODED_COLUMNS,
        columns=READ_COLUMNS if margin else READ_COLUMNS - {"margin"},
    )  # fmt: skip
    cells = table.cells
    problems = Problems(len(cells))
    # Each text column that does not go into the frame leaves ``cells`` once checked, but
    # for the cells its refusals show (``shown``): ten million rows of text are ~150 MB a
    # column, and the next column's checks need room.
    shown: dict[str, pd.Series] = {}
    for column in ("transaction_id", "employee_id"):
        problems.add((cells[column] == "").to_numpy(), column, f"{column} is empty")
    dates, date_reasons = parse_dates(cells["date"], "date")
    problems.add_reasons(date_reasons, "date")
    problems.add((cells["date"] == "").to_numpy(), "date", "date is empty")
    del date_reasons
    _take_out(cells, "date", problems, shown)
    event = cells["event"]
    rank = _event_ranks(event)  # the event as its place in EVENTS, -1 for an unknown one
    unknown = np.flatnonzero(rank < 0)
    problems.add_at(
        unknown,
        "event",
        ("unknown event '" + event.iloc[unknown].astype("str")
         + "': expected sale, dispute_opened, dispute_resolved or refund").to_numpy(dtype=object),
    )  # fmt: skip
    del event
    _take_out(cells, "event", problems, shown)
    # Codes, not text: a handful of currencies over millions of rows (a byte a row), tens of
    # thousands of employees (four bytes)
    employee = text_categories(cells["employee_id"])
    _take_out(cells, "employee_id", problems, shown)
    currency = text_categories(cells["currency"])
    digits, currency_reasons = check_currencies(currency)
    problems.add_reasons(currency_reasons, "currency")
    del currency_reasons
    _take_out(cells, "currency", problems, shown)
    amount = _check_amount(cells, currency, rank, digits, problems)
    _take_out(cells, "amount", problems, shown)
    margins = _check_margin(cells, currency, rank, digits, problems)
    if "margin" in cells.columns:
        _take_out(cells, "margin", problems, shown)
    share = _check_share(cells, rank, problems) if SHARE_COLUMN in cells.columns else None
    frame = pd.DataFrame({
        "source": source_column(table.source, len(cells)), "row": table.row, "line": table.line,
        "transaction_id": cells["transaction_id"],
        "employee_id": employee, "date": dates,
        # an unknown event (its row refused) is missing here
        "event": pd.Categorical.from_codes(rank.astype(np.int8), dtype=EVENT_TYPE),
        "amount_minor": amount, "margin_minor": margins, "currency": currency,
    }, copy=False)  # fmt: skip  # the columns as they are: no 2-D block of the int64 ones
    if share is not None:
        frame[SHARE_COLUMN] = share
    failed = problems.mask()
    findings = problems.frame()
    rows = to_rejected(findings, _cells_shown(cells, shown, findings), table.row, table.line,
                       table.source)  # fmt: skip
    rejected = sort_rejected(rows)
    source, digest, first, unread = table.source, table.digest, table.key_rank, table.unread
    first_order = table.key_order
    del table, cells, shown, findings, rank, dates, amount, margins, share, rows, currency
    if failed.any():  # no copy of the rows when all pass
        frame, first = frame[~failed], None if first is None else first[~failed]
        first_order = None
    # The sorted frame replaces the read one column by column
    frame = canonical_order(frame, consume=True, first=first, first_order=first_order)
    unread = tuple(sorted(unread))
    skipped = not margin and any(canonical_name(n) == "margin" for n in unread)
    return Ledger(frame, rejected, source, made_or_pending(digest), unread, skipped)


def _take_out(
    cells: pd.DataFrame, column: str, problems: Problems, shown: dict[str, pd.Series]
) -> None:
    """``column`` out of ``cells``, but for the cells its problems so far show."""
    shown[column] = cells.pop(column).take(problems.positions(column))


def _cells_shown(
    cells: pd.DataFrame, shown: dict[str, pd.Series], findings: pd.DataFrame
) -> pd.DataFrame:
    """The text of the rows with a problem (``findings``; index: their positions): the
    columns still in ``cells``, and those taken out once checked (``shown``: the cells their
    refusals show)."""
    out = cells.take(np.unique(findings["pos"].to_numpy(dtype=np.int64)))
    for column, text in shown.items():
        out[column] = text.reindex(out.index)
    return out


def source_column(name: str, n: int) -> pd.Categorical:
    """The file name of each of ``n`` rows: one category, a byte of code per row (a name
    repeated as text on ten million rows is 300 MB).

    >>> source_column("a.csv", 3).tolist()
    ['a.csv', 'a.csv', 'a.csv']
    """
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), pd.Index([name], dtype="str"))


def _check_amount(
    cells: pd.DataFrame, currency: pd.Series, rank: IntArray, digits: Digits, problems: Problems
) -> IntArray:
    """Sales and refunds need a positive exact amount; dispute events may leave it empty.

    ``rank`` is each row's event as its place in EVENTS (-1: unknown), as for the checks below.
    """
    text = cells["amount"]
    needed = (rank == _SALE) | (rank == _REFUND)
    given = (text != "").to_numpy()
    units, reasons = minor_units_and_reasons(text, digits, currency=currency, column="amount")
    refused = reasons.notna().to_numpy()
    problems.add(refused & (given | needed), "amount", reasons)  # no copy of the reasons
    del reasons
    parsed = given & ~refused & (digits >= 0)
    for kind, extra in (
        ("sale", ""),
        ("refund", "; write the refunded amount as a positive number"),
    ):
        wrong = parsed & (rank == EVENTS.index(kind)) & (units <= 0)
        problems.add(wrong, "amount", f"a {kind}'s amount must be greater than zero{extra}")
    return units


def _check_margin(
    cells: pd.DataFrame, currency: pd.Series, rank: IntArray, digits: Digits, problems: Problems
) -> pd.Series:
    """Margin is optional, only meaningful on a sale, and exact (zero or negative allowed)."""
    if "margin" not in cells.columns:  # none given (or not read): missing on every row
        return pd.Series(all_missing(len(cells)))
    text = cells["margin"]
    given = (text != "").to_numpy()
    elsewhere = given & (rank > _SALE)
    problems.add(elsewhere, "margin", "margin is only allowed on sale events")
    units, reasons = minor_units_and_reasons(text, digits, currency=currency, column="margin")
    problems.add(reasons.notna().to_numpy() & given & ~elsewhere, "margin", reasons)
    del reasons
    # Missing where not given (parsed as 0 there): the parsed column itself, not a copy
    return pd.Series(pd.arrays.IntegerArray(units, ~given))


def _check_share(cells: pd.DataFrame, rank: IntArray, problems: Problems) -> pd.Series:
    """A sale's share in percent (empty: the whole sale); refunds and disputes have none."""
    text = cells[SHARE_COLUMN]
    given = (text != "").to_numpy()
    elsewhere = given & (rank > _SALE)
    problems.add(
        elsewhere,
        SHARE_COLUMN,
        "share is only allowed on sale events; a refund or dispute applies to every share "
        "of its transaction",
    )
    units, reasons = minor_units_and_reasons(text, SHARE_DIGITS, column=SHARE_COLUMN)
    reasons = reasons.where(given & ~elsewhere, None)
    problems.add_reasons(reasons, SHARE_COLUMN)
    parsed = given & ~elsewhere & reasons.isna().to_numpy()
    problems.add(
        parsed & (units <= 0),
        SHARE_COLUMN,
        "share must be greater than 0: a percentage of the transaction such as 60 or 33.34",
    )
    problems.add(
        parsed & (units > SHARE_WHOLE), SHARE_COLUMN, "share must be at most 100 (a percentage)"
    )
    return pd.Series(pd.array(units, dtype="Int64")).where(given, pd.NA)


def percent_text(units: IntArray) -> pd.Series:
    """Shares as percentages without trailing zeros: 600000 -> ``60``, 333400 -> ``33.34``."""
    text = format_minor_units(np.asarray(units, dtype=np.int64), SHARE_DIGITS)
    return text.str.replace(r"\.?0+$", "", regex=True)


def files_digest(digests: Sequence[str]) -> str:
    """The digest of a ledger read from several files: of their digests, sorted (so the
    order the files are given in does not matter)."""
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def part_name(at: int) -> str:
    """The name messages give the ``at``-th DataFrame (from 0) of a list of ledger sources, or
    of a Dask DataFrame's partitions: ``<ledger>[0]``, ``<ledger>[1]``, ..."""
    return f"<ledger>[{at}]"


def _read_several(sources: list[Source], *, margin: bool) -> Ledger:
    if not sources:
        raise InputError("no ledger given: name at least one ledger file")
    named = [part_name(at) if isinstance(one, pd.DataFrame) else None
             for at, one in enumerate(sources)]  # fmt: skip
    if len(sources) == 1:  # one file is its own ledger, listed or not: its own digest
        return read_ledger(sources[0], name=named[0], margin=margin)
    parts = [read_ledger(one, name=name, margin=margin)
             for one, name in zip(sources, named, strict=True)]  # fmt: skip
    labels = [part.source for part in parts]
    if len(set(labels)) != len(labels):
        raise InputError(f"the same ledger is given twice: {', '.join(labels)}")
    # One categorical file name column over all files (pd.concat of categoricals with other
    # categories would make ten million strings of it)
    names = pd.Index(sorted(labels), dtype="str")
    for part in parts:
        part.frame["source"] = part.frame["source"].cat.set_categories(names)
    frame = pd.concat([part.frame for part in parts], ignore_index=True)
    if SHARE_COLUMN in frame.columns:  # files without the column: every sale is whole
        frame[SHARE_COLUMN] = frame[SHARE_COLUMN].astype("Int64")
    rejected = sort_rejected(row for part in parts for row in part.rejected)
    unread = tuple(sorted({name for part in parts for name in part.unread_columns}))
    skipped = any(part.without_margin for part in parts)
    # Independent of the order the files are given in, as each file's digest is of its rows.
    digest = files_digest([part.sha256 for part in parts])
    del parts  # their frames are in ``frame`` now
    frame = canonical_order(frame, consume=True)
    return Ledger(frame, rejected, " + ".join(labels), digest, unread, skipped)


_ORDER_KEYS = (
    "transaction_id", "date", "_rank", "amount_minor", "margin_minor", "employee_id", "currency",
)  # fmt: skip


def _order_columns(frame: pd.DataFrame) -> tuple[tuple[str, ...], list[str]]:
    """The columns of the canonical order, and the columns a ledger frame keeps."""
    shared = [SHARE_COLUMN] if SHARE_COLUMN in frame.columns else []
    return (*_ORDER_KEYS, *shared, "source", "row"), [*FRAME_COLUMNS, *shared]


def canonical_order(
    frame: pd.DataFrame,
    *,
    consume: bool = False,
    first: IntArray | None = None,
    first_order: IntArray | None = None,
    ordered: bool | None = None,
) -> pd.DataFrame:
    """Sort ledger rows by content (transaction, date, event rank, amounts ...), row last.

    Rows that tie on every content column are identical apart from their row numbers, so the
    frame's content never depends on the input order. Text columns are sorted through their
    sorted factor codes (same order as sorting the text, far cheaper than comparing strings).
    With ``consume=True`` the sorted frame is built two columns at a time, each taken out of
    ``frame`` and let go once sorted (``frame`` is left without them): for a caller that
    drops its frame anyway, at most two columns are held twice instead of the whole ledger.
    ``first`` is the transaction ids' :func:`text_rank` (or any integers in their order) when
    known, and ``first_order`` its stable argsort when known too. ``ordered=True`` says the
    rows are in canonical order already (a checked ledger's frame): not checked again.
    """
    columns, kept = _order_columns(frame)
    if ordered is None and first is not None and len(first) > 1:
        # out of order by the transactions' ranks alone (a file seldom comes sorted): their
        # ten million texts are not compared pair by pair to say so (0.2 s)
        ordered = None if bool(np.all(first[1:] >= first[:-1])) else False
    if ordered if ordered is not None else is_sorted(frame, columns):
        return frame[kept].reset_index(drop=True)  # a checked ledger and its parts come so
    # The transaction first, for every row; the later columns only where it ties (a sale and
    # its disputes and refunds: a few rows each), so they are never ranked in full.
    if first is None:
        first = packed_keys(_sort_keys(frame["transaction_id"], distinct=True))[0]
        first_order = None

    def key(column: str) -> Callable[[IntArray], list[npt.NDArray[np.int64]]]:
        if column == "_rank":
            return lambda rows: [_event_ranks(frame["event"].take(rows))]
        return lambda rows: _sort_keys(frame[column].take(rows))

    keys = [key(column) for column in columns[1:]]
    order = rank_then_ties(first, lambda rows, ranks: order_by_keys(rows, ranks, keys), first_order)
    del first
    if not consume:
        return frame[kept].take(order).reset_index(drop=True)
    # Each column let go once taken; two taken at a time (NumPy's and Arrow's takes let go
    # of the interpreter, and most of their time is the new columns' first touch)
    held: list[pd.Series | None] = [frame.pop(column) for column in kept]
    out: list[Any] = [None] * len(kept)

    def take(k: int) -> None:
        column, held[k] = held[k], None
        assert column is not None
        out[k] = _taken(column, order)

    in_two_threads(take, len(kept))
    return pd.DataFrame(dict(zip(kept, out, strict=True)), copy=False)


def _taken(column: pd.Series, order: IntArray) -> pd.api.extensions.ExtensionArray:
    """``column``'s values in ``order``; an all-missing Int64 column (the file lines of a
    Parquet ledger) is made anew instead, its zeroed values never written (no memory)."""
    if column.dtype == "Int64" and bool(column.isna().all()):
        return all_missing(len(order))
    taken: pd.api.extensions.ExtensionArray = column.array.take(order)
    return taken


def _event_ranks(events: pd.Series) -> npt.NDArray[np.int64]:
    """Each event's rank in EVENTS (-1 for another text or a missing one)."""
    if len(events) == 0:
        return np.zeros(0, dtype=np.int64)
    # The frame's own column: its codes are the ranks. (Unordered categories compare equal
    # in any order: a column read with the same four texts in another order is not it.)
    if events.dtype == EVENT_TYPE and tuple(events.cat.categories) == EVENTS:
        return np.asarray(events.cat.codes.to_numpy(), dtype=np.int64)
    if isinstance(events.dtype, pd.CategoricalDtype):  # each category ranked once
        categories = pd.Series(events.cat.categories.astype("str"), dtype="str")
        per_category = np.append(_event_ranks(categories), -1)  # code -1 (missing): -1
        ranks: npt.NDArray[np.int64] = per_category[category_codes(events)]
        return ranks
    # In Arrow (a hash of four values), not through Python strings as pd.Categorical does.
    found = pc.index_in(
        pa.array(events, from_pandas=True, type=pa.large_string()), value_set=_EVENT_SET
    )
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


_EVENT_SET = pa.array(EVENTS, type=pa.large_string())


def is_sorted(frame: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether ``frame`` is sorted by ``columns`` already, missing values last (a stable sort
    would keep it as it is). ``_rank`` stands for the event's rank in EVENTS.

    One pass over neighbouring rows, column by column: a column is compared only on the
    pairs that tied on every column before it (after the transaction and date, very few),
    so an ordered frame costs a few vectorised comparisons instead of a sort.

    >>> rows = pd.DataFrame({"transaction_id": ["T1", "T1", "T2"], "row": [2, 1, 0]})
    >>> is_sorted(rows, ["transaction_id"]), is_sorted(rows, ["transaction_id", "row"])
    (True, False)
    """
    if len(frame) < 2:
        return True
    tied: npt.NDArray[np.int64] | None = None  # pairs that tied so far (None: every pair)
    for column in columns:
        if tied is not None and not len(tied):
            return True
        values = frame["event"] if column == "_rank" else frame[column]
        if tied is None:  # every pair: the column's two shifted views
            before, after = values.iloc[:-1], values.iloc[1:]
        else:
            before, after = values.take(tied), values.take(tied + 1)
        if column == "_rank":
            before, after = pd.Series(_event_ranks(before)), pd.Series(_event_ranks(after))
        compared = _compare(before, after)
        if compared is None:
            return False
        greater, equal = compared
        if greater.any():
            return False
        tied = np.flatnonzero(equal) if tied is None else tied[equal]
    return True


def _compare(before: pd.Series, after: pd.Series) -> tuple[BoolArray, BoolArray] | None:
    """Pairwise ``before > after`` and ``before == after`` in sort order (missing values
    last), or None when that is not cheap to say (text with missing values: sort instead)."""
    if pd.api.types.is_datetime64_dtype(before.dtype) or pd.api.types.is_integer_dtype(
        before.dtype
    ):
        # (missing, value) pairs, as _sort_keys orders them
        first, second = (_missing_and_value(side) for side in (before, after))
        equal_missing = first[0] == second[0]
        greater = (first[0] > second[0]) | (equal_missing & (first[1] > second[1]))
        return greater, equal_missing & (first[1] == second[1])
    if isinstance(before.dtype, pd.CategoricalDtype):  # the file name: compare its text
        if _text_ordered(before.dtype) and not (before.hasnans or after.hasnans):
            before, after = (pd.Series(side.cat.codes.to_numpy()) for side in (before, after))
            return _compare(before, after)
        before, after = before.astype("str"), after.astype("str")
    left = pa.array(before, from_pandas=True)
    right = pa.array(after, from_pandas=True)
    if not pa.types.is_string(left.type) and not pa.types.is_large_string(left.type):
        return None
    if left.null_count or right.null_count:
        return None
    greater_text = pc.greater(left, right).to_numpy(zero_copy_only=False)
    equal_text = pc.equal(left, right).to_numpy(zero_copy_only=False)
    return np.asarray(greater_text, dtype=bool), np.asarray(equal_text, dtype=bool)


def _missing_and_value(values: pd.Series) -> tuple[IntArray, IntArray]:
    keys = _sort_keys(values)
    missing = keys[0] if len(keys) == 2 else np.zeros(len(values), dtype=np.int64)
    return missing, keys[-1]


def _sort_keys(values: pd.Series, *, distinct: bool = False) -> list[npt.NDArray[np.int64]]:
    """Integer keys that sort like ``values`` with missing values last (most significant first).

    ``distinct`` says text values are mostly distinct (transaction ids): they are ranked by
    one sort in Arrow, where a sorted factorization would hash them all first and then sort
    as many uniques (10M transaction ids: 3.5 s against 9 s, or 17 s against 22 s shuffled).
    Text with many repeats (employee ids) is the other way round: hashing finds few uniques.
    """
    missing = values.isna().to_numpy(dtype=bool)
    if isinstance(values.dtype, pd.CategoricalDtype):  # the file name: by its text, as
        if _text_ordered(values.dtype):  # _compare orders it, whatever the categories' order
            values = pd.Series(values.cat.codes.to_numpy(dtype=np.int64))
        else:
            values = values.astype("str")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        numbers = values.to_numpy().view(np.int64)
    elif pd.api.types.is_integer_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.int64, na_value=0)
    elif distinct:
        numbers = text_rank(values)  # missing values ranked as "", then masked below
    else:
        # Codes of sorted uniques order like the values (missing values get code -1).
        numbers = pd.factorize(values, sort=True)[0].astype(np.int64, copy=False)
    if missing.any():
        return [missing.astype(np.int64), np.where(missing, 0, numbers)]
    return [numbers]


def _text_ordered(dtype: pd.CategoricalDtype) -> bool:
    """Whether the categories are in text order, so codes order like the texts (they are as
    read_ledger makes them: one file name, or several sorted)."""
    return bool(dtype.categories.is_monotonic_increasing)


# ---------------------------------------------------------------------------------------------
# Cross-row checks

Stage = Callable[[pd.DataFrame, "_Context"], None]
ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class _Places:
    """How reasons cite rows: ``line N`` (or ``row N``), after the file when there are
    several. Made only for the rows a reason cites, not for the whole ledger up front."""

    row: IntArray
    line: pd.Series
    source: pd.Series | None  # each row's file (categorical); None: one file, not named

    def __call__(self, positions: pd.Index | IntArray) -> ObjectArray:
        """The labels of the rows at frame ``positions``, in their order."""
        where = np.asarray(positions, dtype=np.int64)
        labels = place_labels(self.row[where], self.line.iloc[where].reset_index(drop=True))
        if self.source is not None:
            names = self.source.take(where).astype("str").reset_index(drop=True)
            labels = names + " " + labels
        return labels.to_numpy(dtype=object)


@dataclass(frozen=True)
class _Context:
    """What every stage needs; arrays are indexed by position in the ledger frame."""

    frame: pd.DataFrame  # the whole ledger frame, with "_tid" and "_emp" (factor codes)
    roster: Roster
    labels: _Places  # "line N" / "row N" of any row, made when a reason cites it
    digits: Digits  # minor digits of the row's currency
    problems: Problems
    share: IntArray  # the sale's share in SHARE_WHOLE parts (SHARE_WHOLE where empty)
    share_given: BoolArray  # the share cell was filled in
    employee_ids: pd.Index  # the employee id of each "_emp" code
    currencies: pd.Index  # the currency of each "_cur" code
    convert: bool = False  # an FX table converts other currencies: no currency check
    fx_hint: bool = False  # say how to convert when rejecting another currency
    # The whole frame's sale lookup, shared by the stages while no row has failed
    shared: dict[str, IntArray] = field(default_factory=dict)

    def reject(
        self, positions: pd.Index | IntArray, column: str, reason: pd.Series | ObjectArray
    ) -> None:
        """Reject rows at ``positions`` (frame positions) with per-row reasons."""
        self.problems.add_at(np.asarray(positions), column, np.asarray(reason, dtype=object))

    def sale_lookup(self, rows: pd.DataFrame) -> npt.NDArray[np.signedinteger[Any]]:
        """Frame position of each transaction's sale among ``rows``, indexed by ``_tid``; -1
        where there is none. Index it with the ``_tid`` codes of the rows to look up."""
        # A split has several sale rows: the first in canonical order stands for them all
        # (they share date, amount and currency by now).
        if rows is self.frame and "whole" in self.shared:  # no row failed since
            return self.shared["whole"]
        is_sale = (rows["event"] == "sale").to_numpy(dtype=bool)
        lookup = _leading_sales(rows, is_sale, len(self.frame) + 1)
        if lookup is not None:
            if rows is self.frame:
                lookup.flags.writeable = False
                self.shared["whole"] = lookup
            return lookup
        codes = rows["_tid"].to_numpy(dtype=np.int64)[is_sale]
        index = rows.index
        if isinstance(index, pd.RangeIndex):  # the whole frame: no ledger-long range made
            positions = np.flatnonzero(is_sale) * index.step + index.start
        else:
            positions = index.to_numpy(dtype=np.int64)[is_sale]
        lookup = first_positions(codes, positions, len(self.frame) + 1)
        if rows is self.frame:
            lookup.flags.writeable = False  # read by every stage after
            self.shared["whole"] = lookup
        return lookup


def _leading_sales(
    rows: pd.DataFrame, is_sale: BoolArray, size: int
) -> npt.NDArray[np.signedinteger[Any]] | None:
    """:meth:`_Context.sale_lookup` when it is cheap: rows of a whole frame (a range index)
    whose transactions each begin with a sale row, as a canonical ledger's nearly always do
    (a sale sorts before its later events). Each transaction's first row is its sale then;
    None otherwise (the general way finds each first sale)."""
    index = rows.index
    if not isinstance(index, pd.RangeIndex) or index.start != 0 or index.step != 1:
        return None
    codes = rows["_tid"].to_numpy()
    if not len(codes) or not bool((codes[1:] >= codes[:-1]).all()):
        return None
    starts = np.empty(len(codes), dtype=bool)
    starts[0] = True
    np.not_equal(codes[1:], codes[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    if not bool(is_sale[first].all()):
        return None
    kind = np.int32 if len(codes) < np.iinfo(np.int32).max else np.int64
    lookup: npt.NDArray[np.signedinteger[Any]] = np.full(size, -1, dtype=kind)
    lookup[codes[first]] = first
    return lookup


def first_positions(
    codes: IntArray, positions: IntArray, size: int
) -> npt.NDArray[np.signedinteger[Any]]:
    """For each code ``0 .. size-1``, the smallest of ``positions`` given with it (-1: none).

    ``positions`` rise (rows in frame order). When ``codes`` do not fall either (rows sorted
    by transaction, as a read ledger is) the first of each code is where it starts: no
    scatter with a minimum.

    >>> first_positions(np.array([0, 0, 2]), np.array([3, 5, 9]), 4).tolist()
    [3, -1, 9, -1]
    >>> first_positions(np.array([2, 0, 2]), np.array([3, 5, 9]), 4).tolist()
    [5, -1, 3, -1]
    """
    # Positions in 32 bits when they fit: half the memory to clear for a ledger-long table
    small = not len(positions) or int(positions[-1]) < np.iinfo(np.int32).max
    kind = np.int32 if small else np.int64
    lookup: npt.NDArray[np.signedinteger[Any]] = np.full(size, -1, dtype=kind)
    if len(codes) and bool((codes[1:] >= codes[:-1]).all()):
        starts = np.ones(len(codes), dtype=bool)
        np.not_equal(codes[1:], codes[:-1], out=starts[1:])
        lookup[codes[starts]] = positions[starts]
        return lookup
    none = np.iinfo(kind).max  # above every position: no sale
    lookup[:] = none
    np.minimum.at(lookup, codes, positions)
    lookup[lookup == none] = -1
    return lookup


def check_ledger(
    ledger: Ledger,
    roster: Roster,
    *,
    convert: bool = False,
    fx_hint: bool = False,
    several_sources: bool | None = None,
) -> Ledger:
    """Check the ledger's rows against each other and the roster; move failures to rejected.

    The checks run in stages; each stage sees only the rows the earlier stages kept:
    employee on the roster and currency matching theirs (unless ``convert``: an FX table
    will convert it; ``fx_hint`` adds how to give one to the reason); duplicate sale events
    (identical ones collapse to the first row, conflicting ones reject the whole transaction;
    one row per employee of a split is no conflict when the rows agree on the sale and their
    shares add up to exactly 100 %, else the whole transaction is rejected with its shares);
    events with no sale; events dated before their sale, under an employee who has no share
    of it or in another currency; refunds beyond the sale amount; dispute events out of
    sequence. Reasons name a row's file too when ``several_sources`` (default: when the
    frame has rows of several files; a part of a larger ledger says what the whole has).
    """
    # Rows in canonical order first (a read ledger's are: nothing moves): the checks cite a
    # transaction's first sale row and name a split's sharers in frame order, so a part in
    # any order (a Dask shuffle's) gets the reasons the read ledger gets.
    frame = canonical_order(ledger.frame)
    # Integer codes for transaction ids: grouping on them is far cheaper than on strings, and
    # only group membership (never the codes' order) feeds into any result. In canonical
    # order the ids are sorted (missing ones last): each new id starts the next code, found
    # by one comparison of neighbours (their order was checked or made just now).
    ids = frame["transaction_id"]
    frame["_tid"] = ordered_codes(ids, ordered=True) if not ids.hasnans else _transaction_codes(ids)
    # The employees' and currencies' codes are the read frame's own categories (4 and 1 bytes a
    # row, no copy), not a factorization of their own (8 bytes a row, twice).
    emp_codes, emp_ids = _factor_codes(frame["employee_id"])
    frame["_emp"] = emp_codes
    cur_codes, currencies = _factor_codes(frame["currency"])
    frame["_cur"] = cur_codes
    n = len(frame)
    if SHARE_COLUMN in frame.columns:
        share_given = frame[SHARE_COLUMN].notna().to_numpy(dtype=bool)
        share = frame[SHARE_COLUMN].fillna(SHARE_WHOLE).to_numpy(dtype=np.int64)
    else:
        share_given = np.zeros(n, dtype=bool)
        # every sale whole: one value read for every row (no column as long as the ledger)
        share = np.broadcast_to(np.int64(SHARE_WHOLE), (n,))
    digits = currency_digits(cur_codes, currencies)
    if several_sources is None:
        several_sources = frame["source"].nunique() > 1
    labels = _Places(
        frame["row"].to_numpy(dtype=np.int64),
        frame["line"],
        # several files: "line 7" alone would be ambiguous
        frame["source"] if several_sources else None,
    )
    alive = np.ones(n, dtype=bool)
    findings = []
    lookups: dict[str, IntArray] = {}
    stages: tuple[Stage, ...] = (
        _check_employees, _check_duplicate_sales, _check_orphans, _check_against_sale,
        _check_refund_totals, _check_dispute_sequence,
    )  # fmt: skip
    for stage in stages:
        problems = Problems(n)
        if alive.any():
            ctx = _Context(
                frame, roster, labels, digits, problems, share, share_given, pd.Index(emp_ids),
                pd.Index(currencies),
                convert, fx_hint, lookups,
            )  # fmt: skip
            stage(_alive(frame, alive), ctx)
        alive &= ~problems.mask()
        findings.append(problems.frame())
    found = pd.concat(findings, ignore_index=True)
    needed = np.unique(found["pos"].to_numpy(dtype=np.int64))
    values = _value_text(frame.iloc[needed], digits[needed])
    row = frame["row"].to_numpy(dtype=np.int64)
    new = to_rejected(found, values, row, frame["line"], frame["source"])
    # still in canonical order: some rows out, none moved
    kept = _alive(frame, alive).drop(columns=["_tid", "_emp", "_cur"])
    accepted = canonical_order(kept, ordered=True)
    rejected = sort_rejected([*ledger.rejected, *new])
    return dataclasses.replace(ledger, frame=accepted, rejected=rejected)


def _alive(frame: pd.DataFrame, alive: BoolArray) -> pd.DataFrame:
    """The rows still alive: the frame itself while none has failed (a boolean selection
    copies every column, ten million rows of text included)."""
    return frame if alive.all() else frame[alive]


def _factor_codes(column: pd.Series) -> tuple[npt.NDArray[np.integer[Any]], pd.Index]:
    """``pd.factorize(column)``, but a categorical column's own codes and categories (-1
    where missing, as factorize): no copy of the column, in its smallest integer type.

    >>> codes, ids = _factor_codes(pd.Series(["E2", "E1", "E2"], dtype="category"))
    >>> codes.tolist(), ids.tolist(), codes.dtype
    ([1, 0, 1], ['E1', 'E2'], dtype('int8'))
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return category_codes(column), column.cat.categories
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def _transaction_codes(ids: pd.Series) -> IntArray:
    """Integer codes of the transaction ids, in order of first appearance (as pd.factorize).

    A checked ledger comes sorted by transaction: there each new id starts a new code, found
    by comparing neighbours (no hashing of a million strings).
    """
    codes = _neighbour_codes(ids)
    return codes if codes is not None else pd.factorize(ids)[0].astype(np.int64, copy=False)


def ordered_codes(ids: pd.Series, *, ordered: bool = False) -> IntArray:
    """Integer codes ``0 .. n-1`` of text ids (no missing values) that sort like the ids.

    Neighbour comparisons when the ids come sorted (a checked ledger's transaction ids do;
    ``ordered=True``: known to, not checked again), else a sorted factorization.

    >>> ordered_codes(pd.Series(["T2", "T1", "T2", "T3"])).tolist()
    [1, 0, 1, 2]
    """
    codes = _neighbour_codes(ids, ordered=ordered)
    if codes is not None:
        return codes
    return pd.factorize(ids, sort=True)[0].astype(np.int64, copy=False)


def _neighbour_codes(ids: pd.Series, *, ordered: bool = False) -> IntArray | None:
    """Codes of sorted ids (each new id starts the next code), or None when not sorted
    (``ordered``: known to be sorted)."""
    sort = ["transaction_id"]
    if len(ids) > 1 and (ordered or is_sorted(ids.to_frame("transaction_id"), sort)):
        values = pa.array(ids, from_pandas=True)
        new = pc.not_equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
        codes = np.empty(len(ids), dtype=np.int64)
        codes[0] = 0
        # Flags cast into place and summed in place: a cumsum that casts (bool to int64) would
        # first make a cast copy of its whole input.
        codes[1:] = new
        np.cumsum(codes, out=codes)
        return codes
    return None


def _value_text(frame: pd.DataFrame, digits: IntArray) -> pd.DataFrame:
    """Typed rows back as text cells (same index), for the ``value`` of rejected rows."""
    margin = frame["margin_minor"]
    margin_text = format_minor_units(margin.fillna(0).to_numpy(dtype=np.int64), digits)
    share = frame[SHARE_COLUMN] if SHARE_COLUMN in frame.columns else pd.Series(pd.NA, frame.index)
    share_text = percent_text(share.fillna(0).to_numpy(dtype=np.int64)).set_axis(frame.index)
    return pd.DataFrame({
        "transaction_id": frame["transaction_id"], "employee_id": frame["employee_id"],
        "date": frame["date"].dt.strftime("%Y-%m-%d"), "event": frame["event"],
        "amount": _money(frame["amount_minor"].to_numpy(dtype=np.int64), digits, frame.index),
        "currency": frame["currency"],
        "margin": margin_text.set_axis(frame.index).where(margin.notna(), ""),
        SHARE_COLUMN: share_text.where(share.notna(), ""),
    })  # fmt: skip


def _money(units: IntArray, digits: IntArray, index: pd.Index) -> pd.Series:
    return format_minor_units(units, digits).set_axis(index)


def _check_employees(rows: pd.DataFrame, ctx: _Context) -> None:
    """The employee must be on the (accepted) roster, and the event in their currency."""
    staff = ctx.roster.frame
    # Once per distinct employee id (an "_emp" code), then read for every row by its code in
    # the codes' own narrow types: no ledger-long 64-bit column.
    emp = rows["_emp"].to_numpy()
    found_by_code = pd.Index(staff["employee_id"]).get_indexer(ctx.employee_ids)
    known_by_code = found_by_code >= 0
    if not known_by_code.all():
        unknown = rows[~known_by_code[emp]]
        ctx.reject(
            unknown.index,
            "employee_id",
            "employee " + unknown["employee_id"].astype("str") + " is not on the roster",
        )
    if ctx.convert:  # another currency is converted with the FX table when the run starts
        return
    # Each employee code's roster currency as a "_cur" code (-1: not among the ledger's, or
    # none); the trailing -1 is what found == -1 (not on the roster: left out below) picks.
    cur = rows["_cur"].to_numpy()
    theirs = np.append(ctx.currencies.get_indexer(pd.Index(staff["currency"])), -1)
    wanted = theirs[found_by_code].astype(cur.dtype)
    differs = (wanted[emp] != cur) & known_by_code[emp]
    other = rows[differs]
    found = found_by_code[emp[differs]]
    named = pd.Series(staff["currency"].to_numpy(dtype=object)[found], index=other.index)
    reason = (
        "currency " + other["currency"].astype("str") + " differs from employee "
        + other["employee_id"].astype("str")
        + "'s currency " + named.astype("str") + (FX_HINT if ctx.fx_hint else "")
    )  # fmt: skip
    ctx.reject(other.index, "currency", reason)


def _check_duplicate_sales(rows: pd.DataFrame, ctx: _Context) -> None:
    """One sale per transaction, or one per employee of a split whose shares make 100 %.

    Identical repeats collapse to the first row. Differing sale rows void the whole
    transaction, unless they are a split: every row has a share, all agree on date, amount,
    margin and currency, and each names another employee. A split (or a lone share) whose
    shares do not add up to exactly 100 % voids the transaction too, its shares in the reason.
    """
    # Positions and codes of the sale rows; frames only of the few rows that need one (a
    # selection of every sale row would copy ten million rows of text).
    is_sale = (rows["event"] == "sale").to_numpy(dtype=bool)
    pos = rows.index.to_numpy(dtype=np.int64)[is_sale]
    content = ["_tid", "employee_id", "date", "amount_minor", "margin_minor", "currency", "_share"]
    size = len(ctx.frame)
    tid = rows["_tid"].to_numpy(dtype=np.int64)[is_sale]
    # Only transactions with several sale rows need the (costly) comparisons of content.
    # Sorted by transaction (a read ledger is), a sale row shares its transaction with a
    # neighbour or with none: no count per transaction when every one has a single sale.
    if len(tid) and bool((tid[1:] >= tid[:-1]).all()):
        repeated = tid[1:] == tid[:-1]
        multi = np.zeros(len(tid), dtype=bool)
        multi[1:] = repeated
        multi[:-1] |= repeated
        counts = None
    else:
        counts = np.bincount(tid, minlength=size)
        multi = counts[tid] > 1
    if not multi.any() and not ctx.share_given[pos].any():
        return  # one sale row per transaction, each whole: no repeat, conflict or split
    if counts is None:
        counts = np.bincount(tid, minlength=size)
    several = ctx.frame.iloc[pos[multi]].assign(_share=ctx.share[pos[multi]])
    first_of_kind = ~several.duplicated(content).to_numpy()
    is_distinct = np.ones(len(pos), dtype=bool)
    is_distinct[multi] = first_of_kind
    pos_d, tid_d = pos[is_distinct], tid[is_distinct]
    variants = np.bincount(tid_d, minlength=size)
    unique = several[first_of_kind]
    sale = ["_tid", "date", "amount_minor", "margin_minor", "currency"]
    kinds = np.bincount(unique.drop_duplicates(sale)["_tid"], minlength=size)
    people = np.bincount(unique.drop_duplicates(["_tid", "employee_id"])["_tid"], minlength=size)
    split = np.zeros(size, dtype=bool)
    split[tid[ctx.share_given[pos]]] = True
    # Shares per transaction: whole sales counted (no ledger-long np.add.at), given shares added
    given = ctx.share_given[pos_d]
    some_given = bool(given.any())
    total = np.bincount(tid_d[~given] if some_given else tid_d, minlength=size) * SHARE_WHOLE
    if some_given:
        np.add.at(total, tid_d[given], ctx.share[pos_d[given]])
    several_by_tid = counts > 1
    conflict_by_tid = (variants > 1) & (~split | (kinds > 1) | (people < variants))
    unbalanced_by_tid = (variants > 0) & ~conflict_by_tid & (total != SHARE_WHOLE)
    conflict, unbalanced = conflict_by_tid[tid], unbalanced_by_tid[tid]
    # Identical repeats: keep the lowest row number (any choice gives the same content).
    keep = pos.copy()
    if several_by_tid.any():
        group = several.groupby(content, dropna=False, sort=False).ngroup().to_numpy()
        keep[multi] = several.groupby(group)["row"].transform("idxmin").to_numpy()
    repeat = ~conflict & ~unbalanced & (keep != pos)
    reason = "duplicate of " + ctx.labels(keep[repeat])
    ctx.reject(pos[repeat], "transaction_id", reason)
    if conflict.any():
        clashing = ctx.frame.iloc[pos[conflict]]
        places = join_places(
            pd.Series(ctx.labels(clashing.index)), clashing["_tid"], clashing["row"].to_numpy()
        )
        victims = rows[is_in(rows["_tid"], places.index)]
        hint = np.where(
            split[victims["_tid"].to_numpy()],
            "; the rows of a split must agree on date, amount, margin and currency, one row "
            "per employee, each with a share",
            "",
        )
        reason = (
            "transaction " + victims["transaction_id"] + " has conflicting sale events ("
            + victims["_tid"].map(places) + ")" + hint + "; all its events are rejected"
        )  # fmt: skip
        ctx.reject(victims.index, "transaction_id", reason)
    if unbalanced.any():
        _reject_unbalanced(rows, pos_d[unbalanced_by_tid[tid_d]], unbalanced_by_tid, total, ctx)


def _reject_unbalanced(
    rows: pd.DataFrame,
    distinct: IntArray,
    unbalanced_by_tid: BoolArray,
    total: IntArray,
    ctx: _Context,
) -> None:
    """Every event of a transaction whose shares miss 100 %, with the shares and their sum.

    ``distinct`` holds the frame positions of those transactions' distinct sale rows.
    """
    parts = ctx.frame.iloc[distinct].assign(_share=ctx.share[distinct])
    shares = percent_text(parts["_share"].to_numpy(dtype=np.int64)).set_axis(parts.index)
    # Rows are in canonical order, so within a transaction by employee id.
    who = parts["employee_id"].astype("str")
    listed = (who + " " + shares + "%, ").groupby(parts["_tid"].to_numpy()).sum()
    listed = listed.astype("str").str.removesuffix(", ")
    victims = rows[unbalanced_by_tid[rows["_tid"].to_numpy()]]
    codes = victims["_tid"].to_numpy()
    reason = (
        "the shares of transaction " + victims["transaction_id"] + " add up to "
        + percent_text(total[codes]).set_axis(victims.index) + "% ("
        + victims["_tid"].map(listed) + "), not 100%; all its events are rejected"
    )  # fmt: skip
    is_sale = (victims["event"] == "sale").to_numpy()
    ctx.reject(victims.index[is_sale], SHARE_COLUMN, reason[is_sale])
    ctx.reject(victims.index[~is_sale], "transaction_id", reason[~is_sale])


def _check_orphans(rows: pd.DataFrame, ctx: _Context) -> None:
    """Every dispute or refund needs its transaction's sale."""
    # A sale row has its own sale: only the other events (a few in a hundred) are looked up
    later = np.flatnonzero((rows["event"] != "sale").to_numpy(dtype=bool))
    tid = rows["_tid"].to_numpy()[later]
    orphans = rows.iloc[later[ctx.sale_lookup(rows)[tid] < 0]]
    reason = "no sale event for transaction " + orphans["transaction_id"]
    ctx.reject(orphans.index, "transaction_id", reason)


def _check_against_sale(rows: pd.DataFrame, ctx: _Context) -> None:
    """Later events may not predate the sale nor belong to another employee."""
    lookup = ctx.sale_lookup(rows)  # every later event has its sale by now (orphans are gone)
    # Only the columns looked at here are taken at the later events (not the ids' text)
    later = rows[_AGAINST_SALE][(rows["event"] != "sale").to_numpy()]
    sale = lookup[later["_tid"].to_numpy()]
    dates = ctx.frame["date"]
    early = later["date"].to_numpy() < dates.to_numpy()[sale]
    hit = later[early]
    reason = (
        hit["event"].astype("str") + " dated " + hit["date"].dt.strftime("%Y-%m-%d")
        + " is before its sale on " + dates.iloc[sale[early]].dt.strftime("%Y-%m-%d").to_numpy()
        + " (" + ctx.labels(sale[early]) + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "date", reason)
    # The event's employee must have a share of the sale (the seller when it is not split).
    later_emp = later["_emp"].to_numpy(dtype=np.int64)
    # With one sale row, the event's employee must be its seller; only a split's events need
    # a look among the sale's rows (few): same outcome as looking every event up. The codes
    # are read at the sales in their own type (no 64-bit copy of the ledger-long column).
    other = later_emp != ctx.frame["_emp"].to_numpy()[sale]
    if not other.any():  # every event under its sale's first employee: nothing to refuse
        _check_currency_against_sale(later, sale, other, ctx)
        return
    is_sale = (rows["event"] == "sale").to_numpy(dtype=bool)
    sale_pos = rows.index.to_numpy(dtype=np.int64)[is_sale]  # no frame of every sale row
    sale_tid = rows["_tid"].to_numpy(dtype=np.int64)[is_sale]
    rows_per_sale = np.bincount(sale_tid, minlength=len(ctx.frame))
    among = np.flatnonzero(other & (rows_per_sale[later["_tid"].to_numpy()] > 1))
    if len(among):
        width = int(ctx.frame["_emp"].max()) + 1
        split_sales = ctx.frame.iloc[sale_pos[rows_per_sale[sale_tid] > 1]]
        sold_tid = split_sales["_tid"].to_numpy(dtype=np.int64)
        sold = sold_tid * width + split_sales["_emp"].to_numpy(dtype=np.int64)
        asked = later["_tid"].to_numpy(dtype=np.int64)[among] * width + later_emp[among]
        other[among] = ~np.isin(asked, sold)
    seller = ctx.frame["employee_id"].iloc[sale[other]].to_numpy(dtype=object)
    hit = later[other]
    reason = (
        "employee " + hit["employee_id"].astype("str") + " differs from the sale's employee "
        + seller
        + " (" + ctx.labels(sale[other]) + ")"
    )  # fmt: skip
    shared = rows_per_sale[hit["_tid"].to_numpy()] > 1
    if shared.any():
        asked = hit[shared]
        sales = ctx.frame.iloc[sale_pos[is_in(pd.Series(sale_tid), asked["_tid"])]]
        reason = reason.where(~shared, _not_a_sharer(asked, sales, ctx))
    ctx.reject(hit.index, "employee_id", reason)
    _check_currency_against_sale(later, sale, other, ctx)


def _check_currency_against_sale(
    later: pd.DataFrame, sale: npt.NDArray[np.signedinteger[Any]], other: BoolArray, ctx: _Context
) -> None:
    """Refunds and disputes are in the sale's currency (converted at the sale's rate, if at
    all); ``other``: the events already refused for their employee."""
    currency = ctx.frame["_cur"].to_numpy()[sale]
    wrong = ~other & (later["_cur"].to_numpy() != currency)
    hit = later[wrong]
    theirs = ctx.frame["currency"].iloc[sale[wrong]].to_numpy(dtype=object)
    reason = (
        hit["event"].astype("str") + " in " + hit["currency"].astype("str")
        + " differs from its sale's currency "
        + theirs + " (" + ctx.labels(sale[wrong]) + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "currency", reason)


_AGAINST_SALE = ["_tid", "_emp", "_cur", "date", "event", "employee_id", "currency"]


def _not_a_sharer(hit: pd.DataFrame, shared: pd.DataFrame, ctx: _Context) -> pd.Series:
    """Why an event under an employee without a share of the split sale is refused
    (``shared``: the sale rows of the transactions of ``hit``)."""
    names = (shared["employee_id"].astype("str") + ", ").groupby(shared["_tid"].to_numpy()).sum()
    names = names.astype("str").str.removesuffix(", ")
    places = join_places(
        pd.Series(ctx.labels(shared.index)), shared["_tid"], shared["row"].to_numpy()
    )
    return (
        "employee " + hit["employee_id"].astype("str")
        + " has no share of the sale; its employees are "
        + hit["_tid"].map(names) + " (" + hit["_tid"].map(places) + ")"
    )  # fmt: skip


def _check_refund_totals(rows: pd.DataFrame, ctx: _Context) -> None:
    """Refunds may not add up to more than the sale.

    Refunds count in date order, smaller first on the same day (a content order, so the
    outcome does not depend on the input order). From the first refund that takes the total
    past the sale amount, it and every later refund of that transaction are rejected.
    """
    # Only the columns read here, at the refunds (a few in a hundred rows)
    columns = ["_tid", "date", "amount_minor", "row", "transaction_id"]
    refunds = rows.loc[(rows["event"] == "refund").to_numpy(dtype=bool), columns].sort_values(
        ["_tid", "date", "amount_minor", "row"], kind="stable"
    )
    total = refunds.groupby("_tid")["amount_minor"].cumsum().to_numpy(dtype=np.int64)
    sale = ctx.sale_lookup(rows)[refunds["_tid"].to_numpy()]
    sale_amount = ctx.frame["amount_minor"].to_numpy(dtype=np.int64)[sale]
    over = total > sale_amount
    hit = refunds[over]
    digits = ctx.digits[hit.index.to_numpy()]
    reason = (
        "refunds of transaction " + hit["transaction_id"]
        + " reach " + _money(total[over], digits, hit.index)
        + ", more than the sale amount " + _money(sale_amount[over], digits, hit.index)
        + " (" + ctx.labels(sale[over]) + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "amount", reason)


def _running_in_runs(values: IntArray, starts: BoolArray) -> IntArray:
    """Running sums of ``values`` restarting where ``starts`` is set (the first is set).

    >>> _running_in_runs(np.array([1, -1, 1, 1, 1]), np.array([1, 0, 0, 1, 0], bool)).tolist()
    [1, 0, 1, 1, 2]
    """
    total = np.cumsum(values, dtype=np.int64)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))
    return total - (total - values)[first]  # less the sum before each run's first value


def _check_dispute_sequence(rows: pd.DataFrame, ctx: _Context) -> None:
    """Disputes alternate opened/resolved per transaction (by date, opened first on a day).

    The open-dispute count is a running sum of +1/-1; the first event that takes it below 0
    or above 1 is out of sequence, and it and every later dispute event of the transaction
    are rejected.
    """
    # Only the columns read here, at the dispute events (a few in a hundred rows)
    columns = ["_tid", "date", "event", "amount_minor", "row", "transaction_id"]
    event = rows["event"]  # two comparisons of the codes, where isin hashes every row
    disputes = rows.loc[((event == EVENTS[1]) | (event == EVENTS[2])).to_numpy(dtype=bool), columns]
    # Opened before resolved on the same day ("_rank": the event's rank in EVENTS). A read
    # ledger's canonical order has them so already, unless rows tie up to the amount: then
    # the row number decides here (checked on the neighbours, not sorted again).
    keys = ["_tid", "date", "_rank", "amount_minor", "row"]
    if not is_sorted(disputes, keys):
        ranks = _event_ranks(disputes["event"])
        disputes = disputes.assign(_rank=ranks).sort_values(keys, kind="stable")
    opened = (disputes["event"] == "dispute_opened").to_numpy()
    codes = disputes["_tid"].to_numpy()
    # Each transaction's events are contiguous now: running sums over them all, less each
    # one's sum before its transaction's first event, are the running sums per transaction.
    starts = np.r_[True, codes[1:] != codes[:-1]] if codes.size else np.zeros(0, dtype=bool)
    state = _running_in_runs(np.where(opened, 1, -1), starts)
    bad = ((state < 0) | (state > 1)).astype(np.int64)
    after = _running_in_runs(bad, starts) > 0  # this or an earlier event was out of sequence
    if not after.any():  # every transaction's disputes in sequence, as nearly always
        return
    # A run of "after" starts at its transaction's first bad event.
    first = after & (starts | ~np.r_[False, after[:-1]])
    # The first out-of-sequence event of each transaction, cited by the ones after it.
    first_pos = np.full(len(ctx.frame) + 1, -1, dtype=np.int64)
    first_pos[codes[first]] = disputes.index.to_numpy()[first]
    # Words only for the rejected events (a few), never for every dispute of the ledger.
    cited = ctx.labels(first_pos[codes[after]])
    tid = disputes["transaction_id"].iloc[np.flatnonzero(after)].to_numpy(dtype=object)
    first, opened = first[after], opened[after]
    reason = np.where(
        first & ~opened,
        "dispute_resolved with no open dispute on transaction " + tid,
        np.where(
            first & opened,
            "dispute_opened while a dispute on transaction " + tid + " is already open",
            "follows the out-of-sequence dispute event on " + cited + " of transaction " + tid,
        ),
    )
    ctx.reject(disputes.index[after], "event", pd.Series(reason))
