"""Annual pay at given quota attainments, by running the plan through the engine itself.

For each attainment wanted, a synthetic employee (hired on the first day of the plan year,
the offer's base, quota and dimensions) sells exactly ``attainment x quota`` in equal deals
spread over the plan year's months, and the plan year is paid the way finance pays it: one
:func:`~compcalc.engine.run.run_period` per month, each given what the months before paid
(``paid_to_date``). Annual pay is the sum of the twelve statements. Tiers, gates, caps,
accelerators, bonuses, draws and allowances therefore come from the very code that will pay
the person, never from a formula of their own.

All attainments (and several offers) run together as one roster of independent employees,
so a whole curve costs twelve runs, not twelve per point.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from ..engine.run import run_period
from ..errors import CompcalcError
from ..inputs import read_ledger, read_roster
from ..money import from_minor, minor_digits
from ..periods import Period, month_period, plan_year_end, plan_year_start
from ..rules.schema import RuleSet
from ..store.store import PAID_KINDS

ROSTER_COLUMNS = (
    "employee_id", "name", "role", "currency", "annual_base", "quota", "hire_date",
    "termination_date", "manager_id",
)  # fmt: skip
LEDGER_COLUMNS = ("transaction_id", "employee_id", "date", "event", "amount", "currency", "margin")
KIND_GROUP = {"base_salary": "base", "allowance": "allowances"}  # anything else: variable


@dataclass(frozen=True)
class Hire:
    """A synthetic employee: one offer at one attainment of quota."""

    role: str
    dimensions: tuple[tuple[str, str], ...]
    base: Decimal  # annual base in major units
    quota: Decimal  # annual quota in major units (0: no sales)
    attainment: Decimal  # fraction of quota sold over the plan year


@dataclass(frozen=True)
class AnnualPay:
    """What a plan year of monthly runs paid one synthetic employee, exactly."""

    base: Decimal
    variable: Decimal
    allowances: Decimal
    by_component: tuple[tuple[str, Decimal], ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return self.base + self.variable + self.allowances


def plan_year_of(rules: RuleSet, as_of: dt.date | None) -> Period:
    """The plan year containing ``as_of`` (default: the first the rules cover in full)."""
    start_month = rules.plan_year.start_month
    effective = rules.effective
    day = as_of or effective.from_
    start = plan_year_start(day, start_month)
    if as_of is None and start < effective.from_:  # a year that began before the rules
        start = plan_year_end(day, start_month) + dt.timedelta(days=1)
    end = plan_year_end(start, start_month)
    if start < effective.from_ or (effective.to is not None and end > effective.to):
        until = effective.to or "open-ended"
        raise CompcalcError(
            f"the plan year {start} to {end} is not wholly inside the rules' effective dates "
            f"({effective.from_} to {until}), so a year's pay cannot be modelled; give a date "
            "in a plan year the rules cover"
        )
    return Period(start, end, f"{start}..{end}")


def annual_pay(
    rules: RuleSet, hires: Sequence[Hire], year: Period, deals_per_month: int = 1
) -> list[AnnualPay]:
    """Each hire's pay for the plan year ``year``, in the order given (equal hires run once)."""
    unique = list(dict.fromkeys(hires))
    ids = {hire: f"M{number:06d}" for number, hire in enumerate(unique)}
    roster = read_roster(_roster_frame(rules, unique, ids, year.start), name="<offer>")
    if roster.rejected:
        raise CompcalcError(_reason(roster.rejected[0]))
    ledger = read_ledger(
        _ledger_frame(rules, unique, ids, year, deals_per_month), name="<offer sales>"
    )
    totals: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for month in _months(year):
        result = run_period(rules, roster, ledger, month, paid_to_date=dict(paid))
        if result.rejected:
            raise CompcalcError(_reason(result.rejected[0]))
        for statement in result.statements:
            for line in statement.lines:
                group = KIND_GROUP.get(line.kind, "variable")
                totals[statement.employee_id][(group, line.component)] += line.amount
                if line.kind in PAID_KINDS:
                    paid[(statement.employee_id, line.component)] += line.amount
    return [_pay(totals[ids[hire]]) for hire in hires]


def _pay(lines: dict[tuple[str, str], Decimal]) -> AnnualPay:
    group: dict[str, Decimal] = defaultdict(Decimal)
    component: dict[str, Decimal] = defaultdict(Decimal)
    for (kind, name), amount in lines.items():
        group[kind] += amount
        component[name] += amount
    return AnnualPay(
        base=group["base"],
        variable=group["variable"],
        allowances=group["allowances"],
        by_component=tuple(sorted(component.items())),
    )


def _months(year: Period) -> list[Period]:
    months = []
    day = year.start
    while day <= year.end:
        months.append(month_period(day.year, day.month))
        day = months[-1].end + dt.timedelta(days=1)
    return months


def _roster_frame(
    rules: RuleSet, hires: list[Hire], ids: dict[Hire, str], start: dt.date
) -> pd.DataFrame:
    digits = minor_digits(rules.currency)
    rows = []
    for hire in hires:
        rows.append({
            "employee_id": ids[hire], "name": "offer", "role": hire.role,
            "currency": rules.currency, "annual_base": _text(hire.base, digits),
            "quota": _text(hire.quota, digits) if hire.quota else "",
            "hire_date": start.isoformat(), "termination_date": "", "manager_id": "",
            **dict(hire.dimensions),
        })  # fmt: skip
    columns = [*ROSTER_COLUMNS, *rules.dimensions]
    for name in ("seniority", "company_size", "region"):  # the roster always has these
        if name not in columns:
            columns.append(name)
    return pd.DataFrame(rows, columns=columns, dtype=object).fillna("")


def _ledger_frame(
    rules: RuleSet, hires: list[Hire], ids: dict[Hire, str], year: Period, per_month: int
) -> pd.DataFrame:
    """Each hire's sales: ``attainment x quota`` (rounded half up to the minor unit once) in
    ``12 x per_month`` deals, cut with cumulative rounding so they add up exactly."""
    digits = minor_digits(rules.currency)
    months = _months(year)
    deals = len(months) * per_month
    rows = []
    for hire in hires:
        total = int((hire.attainment * hire.quota).scaleb(digits).to_integral_value(ROUND_HALF_UP))
        for k in range(deals):
            amount = total * (k + 1) // deals - total * k // deals
            if amount <= 0:
                continue
            month = months[k // per_month]
            day = 15 if per_month == 1 else 1 + (k % per_month) * 28 // per_month
            rows.append((
                f"{ids[hire]}-{k + 1:04d}", ids[hire], month.start.replace(day=day).isoformat(),
                "sale", f"{from_minor(amount, digits):f}", rules.currency, "",
            ))  # fmt: skip
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS), dtype=object)


def _text(amount: Decimal, digits: int) -> str:
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"


def _reason(row: object) -> str:
    return f"the offer cannot be paid under these rules: {getattr(row, 'reason', row)}"
