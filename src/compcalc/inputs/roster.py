"""The roster: one row per employee, validated column by column, duplicates refused whole.

Required columns: employee_id, name, role, seniority, company_size, region, currency,
annual_base, hire_date. Optional: quota, termination_date, manager_id. Any other column is kept
as a text dimension (the rules may select on it); a ``locale`` column (the employee's locale
for HTML statements, e.g. ``de_DE``; empty: the run's) must name a locale babel knows. A row
with any problem is left out of ``Roster.frame`` and listed in ``Roster.rejected`` with the
reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compcalc.inputs.amounts import parse_minor_units
from compcalc.inputs.common import (
    Problems,
    RejectedRow,
    Source,
    TextTable,
    check_currencies,
    input_error,
    join_places,
    parse_dates,
    place_labels,
    read_text_table,
    sort_rejected,
    text_column,
    to_rejected,
)
from compcalc.statements.localise import canonical_locale

TEXT_COLUMNS = ("employee_id", "name", "role", "seniority", "company_size", "region", "currency")
REQUIRED_COLUMNS = (*TEXT_COLUMNS, "annual_base", "hire_date")
OPTIONAL_COLUMNS = ("quota", "termination_date", "manager_id")
MONEY_COLUMNS = ("annual_base", "quota")
LOCALE_COLUMN = "locale"  # optional; kept as a text column like any other extra column
# Names the typed frame produces; an extra input column may not take them.
_PRODUCED = frozenset({"annual_base_minor", "quota_minor"})


@dataclass(frozen=True)
class Roster:
    """Accepted employees (``frame``), refused rows, and where the data came from.

    ``frame`` columns, sorted by employee_id with a 0..n-1 index: ``row`` (int64), ``line``
    (Int64, <NA> unless CSV), the text columns (str; empty optional text is ""),
    ``annual_base_minor`` and ``quota_minor`` (Int64, <NA> when empty), ``hire_date`` and
    ``termination_date`` (datetime64[s], NaT when empty), ``manager_id`` (str), then any extra
    columns (str) in name order.
    """

    frame: pd.DataFrame
    rejected: tuple[RejectedRow, ...]
    source: str
    sha256: str
    # Employee ids of refused rows -> where and why, so their ledger rows can say so.
    refused: dict[str, str] = field(default_factory=dict)


def read_roster(source: Source, *, name: str | None = None) -> Roster:
    """Read and validate a roster from a .csv/.parquet path or a DataFrame.

    ``name`` replaces the source name used in messages (default: the path as given, or
    ``<roster>`` for a DataFrame). Raises :class:`~compcalc.errors.InputError` when the input
    as a whole is unusable; row problems go to ``Roster.rejected`` instead.
    """
    table = read_text_table(
        source, name=name, default_name="<roster>", required=REQUIRED_COLUMNS, money=MONEY_COLUMNS
    )
    cells = table.cells
    if clash := sorted(_PRODUCED & set(cells.columns)):
        # An input column named like a produced column would be silently overwritten.
        raise input_error(table.source, f"column name(s) {', '.join(clash)} are reserved")
    problems = Problems(len(cells))
    ids = cells["employee_id"]
    problems.add((ids == "").to_numpy(), "employee_id", "employee_id is empty")
    _check_duplicates(table, problems)
    digits, currency_reasons = check_currencies(cells["currency"])
    problems.add_reasons(currency_reasons, "currency")
    base, quota = _check_money(cells, digits, problems)
    hired, left = _check_dates(cells, problems)
    if LOCALE_COLUMN in cells.columns:
        problems.add_reasons(_locale_reasons(cells[LOCALE_COLUMN]), LOCALE_COLUMN)
    bad = problems.mask()
    frame = _typed_frame(table, base, quota, hired, left)[~bad]
    frame = frame.sort_values("employee_id", kind="stable", ignore_index=True)
    rejected = sort_rejected(
        to_rejected(problems.frame(), cells, table.row, table.line, table.source)
    )
    return Roster(frame, rejected, table.source, table.sha256, _refused(cells, rejected))


def _refused(cells: pd.DataFrame, rejected: tuple[RejectedRow, ...]) -> dict[str, str]:
    """Employee id of each refused row (one reason each) for the ledger rows that name it."""
    ids = cells["employee_id"].to_numpy(dtype=object)
    refused: dict[str, str] = {}
    for row in rejected:
        employee = str(ids[row.row - 1])
        if employee and employee not in refused:
            where = f"line {row.line}" if row.line is not None else f"row {row.row}"
            refused[employee] = f"{where}: {row.reason}"
    return refused


def _check_duplicates(table: TextTable, problems: Problems) -> None:
    """Every row of a repeated employee_id is refused: which one is right cannot be known."""
    ids = table.cells["employee_id"]
    repeated = (ids.duplicated(keep=False) & (ids != "")).to_numpy()
    if not repeated.any():
        return
    dup = ids[repeated]
    places = join_places(place_labels(table.row, table.line)[repeated], dup, table.row[repeated])
    reason = (
        "employee_id " + dup + " appears on more than one row ("
        + dup.map(places) + "); all of them are rejected"
    )  # fmt: skip
    problems.add_at(np.flatnonzero(repeated), "employee_id", reason.to_numpy(dtype=object))


def _check_money(
    cells: pd.DataFrame, digits: np.ndarray, problems: Problems
) -> tuple[pd.Series, pd.Series]:
    """annual_base (>= 0) and quota (> 0) in the row's currency; empty cells become <NA>."""
    currency = cells["currency"]
    out = []
    for column, floor_reason, allow_zero in (
        ("annual_base", "annual_base must not be negative", True),
        ("quota", "quota must be greater than zero", False),
    ):
        text = text_column(cells, column)
        given = (text != "").to_numpy()
        units, reasons = parse_minor_units(text, digits, currency=currency, column=column)
        reasons = reasons.where(given, None)
        problems.add_reasons(reasons, column)
        low = (units < 0) if allow_zero else (units <= 0)
        problems.add(given & reasons.isna().to_numpy() & (digits >= 0) & low, column, floor_reason)
        out.append(pd.Series(pd.array(units, dtype="Int64")).where(given, pd.NA))
    return out[0], out[1]


def _locale_reasons(text: pd.Series) -> pd.Series:
    """Why a non-empty locale cell is unusable (None where it is fine), one check per value."""
    codes, uniques = pd.factorize(text)
    per_code = [_locale_problem(str(value)) for value in uniques]
    reasons = [per_code[code] if code >= 0 else None for code in codes]
    return pd.Series(reasons, index=text.index, dtype=object)


def _locale_problem(value: str) -> str | None:
    if not value:
        return None  # the run's locale
    try:
        canonical_locale(value)
    except ValueError as error:
        return str(error)
    return None


def _check_dates(cells: pd.DataFrame, problems: Problems) -> tuple[pd.Series, pd.Series]:
    """hire_date required, termination_date optional, and not before the hire date."""
    hired, hire_reasons = parse_dates(cells["hire_date"], "hire_date")
    problems.add_reasons(hire_reasons, "hire_date")
    problems.add((cells["hire_date"] == "").to_numpy(), "hire_date", "hire_date is empty")
    left_text = text_column(cells, "termination_date")
    left, left_reasons = parse_dates(left_text, "termination_date")
    problems.add_reasons(left_reasons, "termination_date")
    early = (left < hired).fillna(False).to_numpy(dtype=bool)
    problems.add(
        early,
        "termination_date",
        "termination_date " + left_text + " is before hire_date " + cells["hire_date"],
    )
    return hired, left


def _typed_frame(
    table: TextTable, base: pd.Series, quota: pd.Series, hired: pd.Series, left: pd.Series
) -> pd.DataFrame:
    cells = table.cells
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    extras = sorted(c for c in cells.columns if c not in known)
    frame = pd.DataFrame({"row": table.row, "line": table.line})
    for column in TEXT_COLUMNS:
        frame[column] = cells[column].astype("str")
    frame["annual_base_minor"] = base.astype("Int64")
    frame["quota_minor"] = quota.astype("Int64")
    frame["hire_date"] = hired.astype("datetime64[s]")
    frame["termination_date"] = left.astype("datetime64[s]")
    frame["manager_id"] = text_column(cells, "manager_id").astype("str")
    for column in extras:
        frame[column] = cells[column].astype("str")
    return frame
