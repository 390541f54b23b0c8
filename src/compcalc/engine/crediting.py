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

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import RunError
from ..money import Rounding, round_div, safe_ints

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


def day(value: dt.date) -> np.datetime64:
    return np.datetime64(value, "D")


@dataclass(frozen=True)
class Sales:
    """One entry per sale, sorted by transaction id, plus its later events mapped to it."""

    transaction_id: npt.NDArray[np.object_]
    employee: Int  # position of the employee in the roster frame
    date: Dates
    amount: Int
    margin: Int  # 0 where the ledger gave none
    has_margin: Bool
    excluded_reason: npt.NDArray[np.object_]  # "" when eligible this plan year
    refund_sale: Int
    refund_date: Dates
    refund_amount: Int
    dispute_sale: Int
    dispute_date: Dates
    dispute_opens: Bool  # True: dispute_opened, False: dispute_resolved

    def __len__(self) -> int:
        return len(self.transaction_id)


def build_sales(
    ledger: pd.DataFrame,
    employee_position: pd.Series,
    hire: Dates,
    termination: Dates,
    year_start: dt.date,
) -> Sales:
    """Index the (already validated) ledger by sale.

    ``employee_position`` maps employee_id to its row in the roster frame.
    """
    sale_rows = ledger[ledger["event"] == "sale"].sort_values("transaction_id", kind="stable")
    sale_ids = sale_rows["transaction_id"].to_numpy(dtype=object)
    employee = employee_position.reindex(sale_rows["employee_id"]).to_numpy(dtype=np.int64)
    date = sale_rows["date"].to_numpy().astype("datetime64[D]")
    margin = sale_rows["margin_minor"]
    refunds = ledger[ledger["event"] == "refund"]
    disputes = ledger[ledger["event"].isin(["dispute_opened", "dispute_resolved"])]
    position = pd.Index(sale_ids)
    _check_totals_fit(sale_rows["amount_minor"].to_numpy(dtype=np.int64))
    return Sales(
        transaction_id=sale_ids,
        employee=employee,
        date=date,
        amount=sale_rows["amount_minor"].to_numpy(dtype=np.int64),
        margin=margin.fillna(0).to_numpy(dtype=np.int64),
        has_margin=margin.notna().to_numpy(dtype=bool),
        excluded_reason=_exclusions(date, hire[employee], termination[employee], year_start),
        refund_sale=position.get_indexer(refunds["transaction_id"]).astype(np.int64),
        refund_date=refunds["date"].to_numpy().astype("datetime64[D]"),
        refund_amount=refunds["amount_minor"].to_numpy(dtype=np.int64),
        dispute_sale=position.get_indexer(disputes["transaction_id"]).astype(np.int64),
        dispute_date=disputes["date"].to_numpy().astype("datetime64[D]"),
        dispute_opens=(disputes["event"] == "dispute_opened").to_numpy(dtype=bool),
    )


def _check_totals_fit(amount: Int) -> None:
    """Refuse ledgers whose totals could overflow the exact 64-bit integer sums."""
    bound = float(np.abs(amount).sum(dtype=np.float64))  # float-ok: a size bound, not money
    if bound >= 2.0**61:
        raise RunError(
            "the ledger's sale amounts add up to more than 64-bit integers hold exactly "
            f"(about {bound:.3g} minor units); split the run by employee"
        )


def _exclusions(date: Dates, hire: Dates, termination: Dates, year_start: dt.date) -> Any:
    reason = np.full(len(date), "", dtype=object)
    before_year = date < day(year_start)
    reason[before_year] = f"sold before this plan year began ({year_start})"
    before_hire = ~np.isnat(hire) & (date < hire)
    reason[before_hire & ~before_year] = "sold before the employee's hire date"
    after_leaving = ~np.isnat(termination) & (date > termination)
    reason[after_leaving & ~before_year] = "sold after the employee's termination date"
    return reason


@dataclass(frozen=True)
class SaleState:
    """Every sale's standing at one as-of date."""

    as_of: dt.date
    sold: Bool  # sale date on or before as_of and eligible this plan year
    refunded: Int  # refunded amount to date
    disputed: Bool  # a dispute is open at as_of
    dispute_since: Dates  # date the open dispute was opened (NaT if none)
    credited_amount: Int  # amount that earns now (0 unless credited)
    credited_margin: Int

    @property
    def credited(self) -> Bool:
        return self.credited_amount > 0

    def basis(self, kind: str) -> Int:
        return self.credited_margin if kind == "margin" else self.credited_amount


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
    size = len(sales)
    sold = (sales.date <= cutoff) & (sales.excluded_reason == "")
    refunded = np.zeros(size, dtype=np.int64)
    refund_mask = sales.refund_date <= cutoff
    np.add.at(refunded, sales.refund_sale[refund_mask], sales.refund_amount[refund_mask])
    opens = np.zeros(size, dtype=np.int64)
    dispute_mask = sales.dispute_date <= dispute_cutoff
    np.add.at(
        opens, sales.dispute_sale[dispute_mask], np.where(sales.dispute_opens[dispute_mask], 1, -1)
    )
    disputed = opens > 0
    since = np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
    open_mask = dispute_mask & sales.dispute_opens
    last_open = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(
        last_open, sales.dispute_sale[open_mask], sales.dispute_date[open_mask].astype(np.int64)
    )
    since[disputed] = last_open[disputed].astype("datetime64[D]")
    remaining = np.maximum(sales.amount - refunded, 0)
    earns = sold & ~disputed & (remaining > 0)
    credited_amount = np.where(earns, remaining, 0)
    # Margin shrinks in proportion to what is left of the sale after partial refunds.
    safe_amount = np.where(sales.amount > 0, sales.amount, 1)
    peak = int(remaining.max()) if size else 0
    margin_left = round_div(safe_ints(sales.margin, peak) * remaining, safe_amount, rounding)
    credited_margin = np.where(earns, margin_left, 0)
    return SaleState(as_of, sold, refunded, disputed, since, credited_amount, credited_margin)


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


def period_events(sales: Sales, after: dt.date, through: dt.date, digits: int) -> dict[str, str]:
    """Transaction id -> the refunds and dispute events dated in (after, through], in words.

    Lets a clawback, hold or release line name the ledger events that caused it. Only the
    period's few refund and dispute events are visited.
    """
    from ..money import format_amount

    low, high = day(after), day(through)
    found: dict[int, list[tuple[np.datetime64, int, str]]] = {}
    refunds = np.flatnonzero((sales.refund_date > low) & (sales.refund_date <= high))
    for k in refunds.tolist():
        text = (
            f"refund {sales.refund_date[k]} of {format_amount(int(sales.refund_amount[k]), digits)}"
        )
        found.setdefault(int(sales.refund_sale[k]), []).append((sales.refund_date[k], 2, text))
    disputes = np.flatnonzero((sales.dispute_date > low) & (sales.dispute_date <= high))
    for k in disputes.tolist():
        opens = bool(sales.dispute_opens[k])
        text = f"dispute {'opened' if opens else 'resolved'} {sales.dispute_date[k]}"
        found.setdefault(int(sales.dispute_sale[k]), []).append(
            (sales.dispute_date[k], 0 if opens else 1, text)
        )
    return {
        str(sales.transaction_id[sale]): ", ".join(text for *_, text in sorted(events))
        for sale, events in found.items()
    }
