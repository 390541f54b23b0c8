"""The ledger: sales and their later events, checked row by row and then across rows.

:func:`read_ledger` checks each row on its own (ids present, ISO date, known event, ISO
currency, exact amount). :func:`check_ledger` then checks rows against each other and the
roster. Both return a :class:`Ledger` whose ``frame`` is sorted canonically, so every result
computed from it is the same whatever order the input rows came in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from compcalc.errors import InputError
from compcalc.inputs.amounts import format_minor_units, parse_minor_units
from compcalc.inputs.common import (
    IntArray,
    Problems,
    RejectedRow,
    Source,
    check_currencies,
    is_in,
    join_places,
    parse_dates,
    place_labels,
    read_text_table,
    sort_rejected,
    text_column,
    to_rejected,
)
from compcalc.inputs.roster import Roster

EVENTS = ("sale", "dispute_opened", "dispute_resolved", "refund")
# Canonical order of events on one transaction and day: the sale first, a dispute opened
# before it is resolved, refunds last.
EVENT_RANK = {event: rank for rank, event in enumerate(EVENTS)}
REQUIRED_COLUMNS = ("transaction_id", "employee_id", "date", "event", "amount", "currency")
OPTIONAL_COLUMNS = ("margin",)
MONEY_COLUMNS = ("amount", "margin")
FRAME_COLUMNS = (
    "source", "row", "line", "transaction_id", "employee_id", "date", "event",
    "amount_minor", "margin_minor", "currency",
)  # fmt: skip


@dataclass(frozen=True)
class Ledger:
    """Accepted ledger rows (``frame``), refused rows, and where the data came from.

    ``frame`` columns (0..n-1 index, canonical order): ``row`` (int64), ``line`` (Int64,
    <NA> unless CSV), ``transaction_id``, ``employee_id`` (str), ``date`` (datetime64[s]),
    ``event`` (str), ``amount_minor`` (int64; 0 where a dispute event has no amount),
    ``margin_minor`` (Int64, <NA> when empty), ``currency`` (str).
    """

    frame: pd.DataFrame
    rejected: tuple[RejectedRow, ...]
    source: str
    sha256: str


def read_ledger(source: Source | Sequence[Source], *, name: str | None = None) -> Ledger:
    """Read a ledger from a .csv/.parquet path or a DataFrame and check each row on its own.

    A list of sources (say, one file per month of the plan year) is read as one ledger: each
    row keeps its own file, row and line, so rejections and cross-row reasons name the file.
    ``name`` replaces the source name used in messages (default: the path as given, or
    ``<ledger>`` for a DataFrame). Cross-row checks are :func:`check_ledger`'s job.
    """
    if not isinstance(source, str | os.PathLike | pd.DataFrame):
        return _read_several(list(source))
    table = read_text_table(
        source, name=name, default_name="<ledger>", required=REQUIRED_COLUMNS, money=MONEY_COLUMNS
    )
    cells = table.cells
    problems = Problems(len(cells))
    for column in ("transaction_id", "employee_id"):
        problems.add((cells[column] == "").to_numpy(), column, f"{column} is empty")
    dates, date_reasons = parse_dates(cells["date"], "date")
    problems.add_reasons(date_reasons, "date")
    problems.add((cells["date"] == "").to_numpy(), "date", "date is empty")
    event = cells["event"]
    known = event.isin(EVENTS).to_numpy()
    problems.add(
        ~known,
        "event",
        "unknown event '" + event + "': expected sale, dispute_opened, dispute_resolved or refund",
    )
    digits, currency_reasons = check_currencies(cells["currency"])
    problems.add_reasons(currency_reasons, "currency")
    amount = _check_amount(cells, digits, problems)
    margin = _check_margin(cells, digits, problems)
    frame = pd.DataFrame({
        "source": table.source, "row": table.row, "line": table.line,
        "transaction_id": cells["transaction_id"],
        "employee_id": cells["employee_id"], "date": dates, "event": event,
        "amount_minor": amount, "margin_minor": margin, "currency": cells["currency"],
    })  # fmt: skip
    frame = canonical_order(frame[~problems.mask()])
    rejected = to_rejected(problems.frame(), cells, table.row, table.line, table.source)
    return Ledger(frame, sort_rejected(rejected), table.source, table.sha256)


def _check_amount(cells: pd.DataFrame, digits: IntArray, problems: Problems) -> IntArray:
    """Sales and refunds need a positive exact amount; dispute events may leave it empty."""
    text = cells["amount"]
    event = cells["event"]
    needed = event.isin(("sale", "refund")).to_numpy()
    given = (text != "").to_numpy()
    units, reasons = parse_minor_units(text, digits, currency=cells["currency"], column="amount")
    reasons = reasons.where(given | needed, None)
    problems.add_reasons(reasons, "amount")
    parsed = given & reasons.isna().to_numpy() & (digits >= 0)
    for kind, extra in (
        ("sale", ""),
        ("refund", "; write the refunded amount as a positive number"),
    ):
        wrong = parsed & (event == kind).to_numpy() & (units <= 0)
        problems.add(wrong, "amount", f"a {kind}'s amount must be greater than zero{extra}")
    return units


def _check_margin(cells: pd.DataFrame, digits: IntArray, problems: Problems) -> pd.Series:
    """Margin is optional, only meaningful on a sale, and exact (zero or negative allowed)."""
    text = text_column(cells, "margin")
    given = (text != "").to_numpy()
    elsewhere = given & cells["event"].isin(EVENTS[1:]).to_numpy()
    problems.add(elsewhere, "margin", "margin is only allowed on sale events")
    units, reasons = parse_minor_units(text, digits, currency=cells["currency"], column="margin")
    problems.add_reasons(reasons.where(given & ~elsewhere, None), "margin")
    return pd.Series(pd.array(units, dtype="Int64")).where(given, pd.NA)


def _read_several(sources: list[Source]) -> Ledger:
    if not sources:
        raise InputError("no ledger given: name at least one ledger file")
    parts = [read_ledger(one) for one in sources]
    labels = [part.source for part in parts]
    if len(set(labels)) != len(labels):
        raise InputError(f"the same ledger is given twice: {', '.join(labels)}")
    frame = canonical_order(pd.concat([part.frame for part in parts], ignore_index=True))
    rejected = sort_rejected(row for part in parts for row in part.rejected)
    # Independent of the order the files are given in, as each file's digest is of its rows.
    digest = hashlib.sha256("\n".join(sorted(part.sha256 for part in parts)).encode()).hexdigest()
    return Ledger(frame, rejected, " + ".join(labels), digest)


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort ledger rows by content (transaction, date, event rank, amounts ...), row last.

    Rows that tie on every content column are identical apart from their row numbers, so the
    frame's content never depends on the input order.
    """
    # Categorical codes follow EVENTS, so they are the event ranks.
    keyed = frame.assign(_rank=pd.Categorical(frame["event"], categories=EVENTS).codes)
    keys = [
        "transaction_id", "date", "_rank", "amount_minor", "margin_minor", "employee_id",
        "currency", "source", "row",
    ]  # fmt: skip
    ordered = keyed.sort_values(keys, kind="stable", na_position="last", ignore_index=True)
    return ordered.drop(columns="_rank")[list(FRAME_COLUMNS)]


# ---------------------------------------------------------------------------------------------
# Cross-row checks

Stage = Callable[[pd.DataFrame, "_Context"], None]


@dataclass(frozen=True)
class _Context:
    """What every stage needs; arrays are indexed by position in the ledger frame."""

    frame: pd.DataFrame  # the whole ledger frame, with "_tid" (transaction factor code)
    roster: Roster
    labels: pd.Series  # "line N" / "row N"
    digits: IntArray  # minor digits of the row's currency
    problems: Problems

    def reject(self, positions: pd.Index | IntArray, column: str, reason: pd.Series) -> None:
        """Reject rows at ``positions`` (frame positions) with per-row reasons."""
        self.problems.add_at(np.asarray(positions), column, reason.to_numpy(dtype=object))

    def sale_lookup(self, rows: pd.DataFrame) -> IntArray:
        """Frame position of each transaction's sale among ``rows``, indexed by ``_tid``; -1
        where there is none. Index it with the ``_tid`` codes of the rows to look up."""
        sales = rows[rows["event"] == "sale"]
        lookup = np.full(len(self.frame) + 1, -1, dtype=np.int64)
        lookup[sales["_tid"].to_numpy()] = sales.index.to_numpy()
        return lookup


def check_ledger(ledger: Ledger, roster: Roster) -> Ledger:
    """Check the ledger's rows against each other and the roster; move failures to rejected.

    The checks run in stages; each stage sees only the rows the earlier stages kept:
    employee on the roster and currency matching theirs; duplicate sale events (identical
    ones collapse to the first row, conflicting ones reject the whole transaction); events
    with no sale; events dated before their sale or under another employee; refunds beyond
    the sale amount; dispute events out of sequence.
    """
    frame = ledger.frame.reset_index(drop=True)
    # Integer codes for transaction ids: grouping on them is far cheaper than on strings, and
    # only group membership (never the codes' order) feeds into any result.
    frame["_tid"] = pd.factorize(frame["transaction_id"])[0]
    n = len(frame)
    digits, _ = check_currencies(frame["currency"])
    labels = place_labels(frame["row"].to_numpy(dtype=np.int64), frame["line"])
    if frame["source"].nunique() > 1:  # several files: "line 7" alone would be ambiguous
        labels = frame["source"].astype(str).reset_index(drop=True) + " " + labels
    alive = np.ones(n, dtype=bool)
    findings = []
    stages: tuple[Stage, ...] = (
        _check_employees, _check_duplicate_sales, _check_orphans, _check_against_sale,
        _check_refund_totals, _check_dispute_sequence,
    )  # fmt: skip
    for stage in stages:
        problems = Problems(n)
        if alive.any():
            stage(frame[alive], _Context(frame, roster, labels, digits, problems))
        alive &= ~problems.mask()
        findings.append(problems.frame())
    found = pd.concat(findings, ignore_index=True)
    needed = np.unique(found["pos"].to_numpy(dtype=np.int64))
    values = _value_text(frame.iloc[needed], digits[needed])
    row = frame["row"].to_numpy(dtype=np.int64)
    new = to_rejected(found, values, row, frame["line"], frame["source"].to_numpy(dtype=object))
    accepted = canonical_order(frame[alive].drop(columns="_tid"))
    return Ledger(accepted, sort_rejected([*ledger.rejected, *new]), ledger.source, ledger.sha256)


def _value_text(frame: pd.DataFrame, digits: IntArray) -> pd.DataFrame:
    """Typed rows back as text cells (same index), for the ``value`` of rejected rows."""
    margin = frame["margin_minor"]
    margin_text = format_minor_units(margin.fillna(0).to_numpy(dtype=np.int64), digits)
    return pd.DataFrame({
        "transaction_id": frame["transaction_id"], "employee_id": frame["employee_id"],
        "date": frame["date"].dt.strftime("%Y-%m-%d"), "event": frame["event"],
        "amount": _money(frame["amount_minor"].to_numpy(dtype=np.int64), digits, frame.index),
        "currency": frame["currency"],
        "margin": margin_text.set_axis(frame.index).where(margin.notna(), ""),
    })  # fmt: skip


def _money(units: IntArray, digits: IntArray, index: pd.Index) -> pd.Series:
    return format_minor_units(units, digits).set_axis(index)


def _check_employees(rows: pd.DataFrame, ctx: _Context) -> None:
    """The employee must be on the (accepted) roster, and the event in their currency."""
    staff = ctx.roster.frame
    found = pd.Index(staff["employee_id"]).get_indexer(rows["employee_id"])
    unknown = rows[found < 0]
    ctx.reject(
        unknown.index, "employee_id", "employee " + unknown["employee_id"] + " is not on the roster"
    )
    # The trailing None is what found == -1 (not on the roster) picks.
    currencies = np.concatenate([staff["currency"].to_numpy(dtype=object), [None]])
    theirs = pd.Series(currencies[found], index=rows.index)
    other = rows[(found >= 0) & (theirs != rows["currency"]).to_numpy()]
    reason = (
        "currency " + other["currency"] + " differs from employee " + other["employee_id"]
        + "'s currency " + theirs[other.index].astype("str")
    )  # fmt: skip
    ctx.reject(other.index, "currency", reason)


def _check_duplicate_sales(rows: pd.DataFrame, ctx: _Context) -> None:
    """One sale per transaction: identical repeats collapse, differing ones void it all."""
    sales = rows[rows["event"] == "sale"]
    content = ["_tid", "employee_id", "date", "amount_minor", "margin_minor", "currency"]
    variants = np.bincount(sales.drop_duplicates(content)["_tid"], minlength=len(ctx.frame))
    conflict = variants[sales["_tid"].to_numpy()] > 1
    # Identical repeats: keep the lowest row number (any choice gives the same content).
    keep = sales.groupby("_tid")["row"].transform("idxmin").to_numpy()
    repeat = ~conflict & (keep != sales.index.to_numpy())
    reason = "duplicate of " + ctx.labels[keep[repeat]]
    ctx.reject(sales.index[repeat], "transaction_id", reason)
    if not conflict.any():
        return
    clashing = sales[conflict]
    places = join_places(ctx.labels[clashing.index], clashing["_tid"], clashing["row"].to_numpy())
    victims = rows[is_in(rows["_tid"], places.index)]
    reason = (
        "transaction " + victims["transaction_id"] + " has conflicting sale events ("
        + victims["_tid"].map(places) + "); all its events are rejected"
    )  # fmt: skip
    ctx.reject(victims.index, "transaction_id", reason)


def _check_orphans(rows: pd.DataFrame, ctx: _Context) -> None:
    """Every dispute or refund needs its transaction's sale."""
    orphans = rows[ctx.sale_lookup(rows)[rows["_tid"].to_numpy()] < 0]
    reason = "no sale event for transaction " + orphans["transaction_id"]
    ctx.reject(orphans.index, "transaction_id", reason)


def _check_against_sale(rows: pd.DataFrame, ctx: _Context) -> None:
    """Later events may not predate the sale nor belong to another employee."""
    lookup = ctx.sale_lookup(rows)  # every later event has its sale by now (orphans are gone)
    later = rows[rows["event"] != "sale"]
    sale = lookup[later["_tid"].to_numpy()]
    dates = ctx.frame["date"]
    early = later["date"].to_numpy() < dates.to_numpy()[sale]
    hit = later[early]
    reason = (
        hit["event"] + " dated " + hit["date"].dt.strftime("%Y-%m-%d")
        + " is before its sale on " + dates.iloc[sale[early]].dt.strftime("%Y-%m-%d").to_numpy()
        + " (" + ctx.labels.to_numpy(dtype=object)[sale[early]] + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "date", reason)
    seller = ctx.frame["employee_id"].to_numpy(dtype=object)[sale]
    other = later["employee_id"].to_numpy(dtype=object) != seller
    hit = later[other]
    reason = (
        "employee " + hit["employee_id"] + " differs from the sale's employee " + seller[other]
        + " (" + ctx.labels.to_numpy(dtype=object)[sale[other]] + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "employee_id", reason)


def _check_refund_totals(rows: pd.DataFrame, ctx: _Context) -> None:
    """Refunds may not add up to more than the sale.

    Refunds count in date order, smaller first on the same day (a content order, so the
    outcome does not depend on the input order). From the first refund that takes the total
    past the sale amount, it and every later refund of that transaction are rejected.
    """
    refunds = rows[rows["event"] == "refund"].sort_values(
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
        + " (" + ctx.labels.to_numpy(dtype=object)[sale[over]] + ")"
    )  # fmt: skip
    ctx.reject(hit.index, "amount", reason)


def _check_dispute_sequence(rows: pd.DataFrame, ctx: _Context) -> None:
    """Disputes alternate opened/resolved per transaction (by date, opened first on a day).

    The open-dispute count is a running sum of +1/-1; the first event that takes it below 0
    or above 1 is out of sequence, and it and every later dispute event of the transaction
    are rejected.
    """
    disputes = rows[rows["event"].isin(EVENTS[1:3])]
    opened_all = (disputes["event"] == "dispute_opened").to_numpy()
    # Opened (rank 0) before resolved (rank 1) on the same day.
    disputes = disputes.assign(_rank=np.where(opened_all, 0, 1)).sort_values(
        ["_tid", "date", "_rank", "amount_minor", "row"], kind="stable"
    )
    opened = (disputes["_rank"] == 0).to_numpy()
    codes = disputes["_tid"].to_numpy()
    state = pd.Series(np.where(opened, 1, -1)).groupby(codes).cumsum().to_numpy()
    bad = pd.Series(((state < 0) | (state > 1)).astype(np.int64))
    after = bad.groupby(codes).cummax().to_numpy() > 0
    # Groups are contiguous after the sort: a run of "after" starts at its first bad event.
    starts = np.r_[True, codes[1:] != codes[:-1]] if codes.size else np.zeros(0, dtype=bool)
    first = after & (starts | ~np.r_[False, after[:-1]])
    # The first out-of-sequence event of each transaction, cited by the ones after it.
    first_pos = np.full(len(ctx.frame) + 1, -1, dtype=np.int64)
    first_pos[codes[first]] = disputes.index.to_numpy()[first]
    cited = ctx.labels.to_numpy(dtype=object)[first_pos[codes]]
    tid = disputes["transaction_id"].to_numpy(dtype=object)
    reason = np.where(
        first & ~opened,
        "dispute_resolved with no open dispute on transaction " + tid,
        np.where(
            first & opened,
            "dispute_opened while a dispute on transaction " + tid + " is already open",
            "follows the out-of-sequence dispute event on " + cited + " of transaction " + tid,
        ),
    )
    ctx.reject(disputes.index[after], "event", pd.Series(reason[after]))
