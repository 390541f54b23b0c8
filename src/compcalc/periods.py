"""Pay periods, pay installments and day counts. Dates are always inputs, never the clock.

A run covers a :class:`Period` (usually a calendar month, ``2026-03``; any date range such as
``2026-03-01..2026-03-15`` works too). Periodic components are paid per *installment* of their
own pay frequency: the installments whose last day falls inside the run period.

>>> parse_period("2026-02")
Period(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28), label='2026-02')
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of days that a run pays for."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(text: str) -> Period:
    """``YYYY-MM`` for a calendar month, or ``YYYY-MM-DD..YYYY-MM-DD`` for any range."""
    text = text.strip()
    month = _MONTH.match(text)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise ValueError(f"period {text!r}: month must be 01 to 12")
        return month_period(year, number)
    span = _RANGE.match(text)
    if span:
        try:
            start, end = (dt.date.fromisoformat(part) for part in span.groups())
        except ValueError as exc:
            raise ValueError(f"period {text!r}: {exc}") from None
        if end < start:
            raise ValueError(f"period {text!r}: ends before it starts")
        return Period(start, end, text)
    raise ValueError(f"period {text!r}: expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD")


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(dt.date(year, month, 1), dt.date(year, month, last), f"{year:04d}-{month:02d}")


def plan_year_start(day: dt.date, start_month: int) -> dt.date:
    """First day of the plan year that contains ``day``."""
    year = day.year if day.month >= start_month else day.year - 1
    return dt.date(year, start_month, 1)


def plan_year_end(day: dt.date, start_month: int) -> dt.date:
    start = plan_year_start(day, start_month)
    return dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)


def earlier_periods(period: Period, start_month: int) -> list[Period]:
    """The periods of the plan year before ``period``: whole months, then any partial month.

    Used to replay what was paid to date when the caller does not give it.
    """
    first = plan_year_start(period.start, start_month)
    out: list[Period] = []
    cursor = first
    while cursor < period.start:
        month = month_period(cursor.year, cursor.month)
        end = min(month.end, period.start - dt.timedelta(days=1))
        label = month.label if end == month.end else f"{cursor.isoformat()}..{end.isoformat()}"
        out.append(Period(cursor, end, label))
        cursor = end + dt.timedelta(days=1)
    return out


def semi_monthly_installments(period: Period) -> list[Period]:
    """Halves (1st-15th, 16th-end) whose last day falls in ``period``."""
    out = []
    year, month = period.start.year, period.start.month
    while dt.date(year, month, 1) <= period.end:
        whole = month_period(year, month)
        for half in (
            Period(whole.start, whole.start.replace(day=15), f"{whole.label}-1"),
            Period(whole.start.replace(day=16), whole.end, f"{whole.label}-2"),
        ):
            if period.start <= half.end <= period.end:
                out.append(half)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def biweekly_installments(period: Period, anchor: dt.date) -> list[Period]:
    """14-day pay periods counted from ``anchor`` whose last day falls in ``period``."""
    offset = (period.start - anchor).days
    first_index = offset // 14 - 1
    out = []
    index = first_index
    while True:
        start = anchor + dt.timedelta(days=14 * index)
        end = start + dt.timedelta(days=13)
        if end > period.end:
            break
        if end >= period.start:
            out.append(Period(start, end, f"{start.isoformat()}..{end.isoformat()}"))
        index += 1
    return out


def monthly_installments(period: Period) -> list[Period]:
    """Calendar months whose last day falls in ``period``."""
    out = []
    year, month = period.start.year, period.start.month
    while dt.date(year, month, 1) <= period.end:
        whole = month_period(year, month)
        if period.start <= whole.end <= period.end:
            out.append(whole)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


DateArray = npt.NDArray[np.datetime64]


def employed_days(
    installment: Period, hire: DateArray, termination: DateArray, working_days: bool
) -> tuple[npt.NDArray[np.int64], int]:
    """Per employee, the days employed inside ``installment``, and the installment's days.

    ``hire``/``termination`` are ``datetime64[D]`` arrays (NaT: no date). Working days are
    Monday to Friday.
    """
    start = np.datetime64(installment.start, "D")
    end_exclusive = np.datetime64(installment.end, "D") + np.timedelta64(1, "D")
    first = np.where(np.isnat(hire), start, np.maximum(hire, start))
    last_exclusive = np.where(
        np.isnat(termination),
        end_exclusive,
        np.minimum(termination + np.timedelta64(1, "D"), end_exclusive),
    )
    last_exclusive = np.maximum(last_exclusive, first)
    if working_days:
        employed = np.busday_count(first, last_exclusive).astype(np.int64)
        total = int(np.busday_count(start, end_exclusive))
    else:
        employed = (last_exclusive - first).astype("timedelta64[D]").astype(np.int64)
        total = installment.days
    return employed, total
