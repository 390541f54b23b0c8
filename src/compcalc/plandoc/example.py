"""Worked examples computed by the engine: example employees, their sales, a plan year of runs.

For each plan an example employee takes the middle value of every dimension the rules declare
(the first of the two middle ones for an even count), the annual base the rules set (else
the midpoint of their salary band, else 60,000) and ten times that as annual quota. A
component whose ``when`` leaves that profile out gets a second employee who matches it; an
override gets a team of reports with the same profile. Each of them sells a fixed pattern:
one sale on the 15th of every month, 105 % of quota over the year, plus a sale that is
disputed and later resolved, a sale refunded in full within the clawback window and, when
the rules have a window, a partial refund after it.

The plan year is then paid the way finance pays it: :func:`~compcalc.engine.run.run_period`
month by month, each month given what the months before paid. The document quotes the
engine's own lines; nothing here computes pay.

>>> inputs = example_inputs(rules)                                      # doctest: +SKIP
>>> runs = run_examples(rules, inputs)                                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from ..engine.run import run_period
from ..errors import CompcalcError
from ..inputs import read_ledger, read_roster
from ..money import from_minor, minor_digits
from ..offers.bands import band_for
from ..offers.payout import plan_year_of
from ..periods import Period, month_period, plan_year_end, plan_year_start
from ..rules.resolve import Resolver
from ..rules.schema import BaseSalary, Bonus, Commission, Override, RuleSet
from ..statements.model import PeriodResult
from ..store.store import PAID_KINDS

# Percent of quota sold in each month of the plan year (uneven, 105 in all): gates, tiers,
# caps and draws meet both slow and strong months.
MONTHLY_PERCENT = (3, 5, 7, 9, 4, 10, 8, 9, 20, 6, 12, 12)
DISPUTED_PERCENT = 5  # sold in month 2, disputed in month 3, resolved in month 5
REFUNDED_PERCENT = 4  # sold in month 4, refunded in full in month 6 (within the window)
DEFAULT_BASE = Decimal(60000)
QUOTA_TIMES_BASE = 10
TEAM_MIN, TEAM_MAX = 2, 10
CORE_COLUMNS = ("seniority", "company_size", "region")  # the roster always has these


@dataclass(frozen=True)
class Example:
    """One example employee: who they are and why they are in the example."""

    employee_id: str
    role: str
    profile: tuple[tuple[str, str], ...]  # dimension values, in the rule set's order
    base: Decimal
    base_source: str
    quota: Decimal
    purpose: str  # "main", "when" (for components the main one lacks) or "team"
    manager_id: str = ""
    components: tuple[str, ...] = ()  # component ids this employee illustrates


@dataclass(frozen=True)
class ExampleInputs:
    """The synthetic roster and ledger (text cells, as files would hold them) and months."""

    year: Period
    months: tuple[Period, ...]
    employees: tuple[Example, ...]
    roster: pd.DataFrame
    ledger: pd.DataFrame
    note: str = ""  # why the months are fewer than a plan year, if they are


@dataclass(frozen=True)
class ExampleRuns:
    """Each month's result, in order; ``problems`` per role whose example could not run."""

    inputs: ExampleInputs
    results: tuple[PeriodResult, ...] = ()
    problems: dict[str, str] = field(default_factory=dict)

    def lines(self, employee_id: str, component: str) -> list[tuple[str, Any]]:
        """(period, line) of one component on one employee's statements, month by month."""
        out = []
        for result in self.results:
            for statement in result.statements:
                if statement.employee_id != employee_id:
                    continue
                out += [(result.period, ln) for ln in statement.lines if ln.component == component]
        return out

    def to_date(self, employee_id: str, component: str) -> tuple[tuple[str, str], ...]:
        """The last month's to-date figures of one component, as the statement shows them."""
        for result in reversed(self.results):
            for statement in result.statements:
                if statement.employee_id == employee_id:
                    return dict(statement.to_date).get(component, ())
        return ()

    def notes(self, employee_id: str) -> list[tuple[str, Any]]:
        """(period, sale note) of the held, forfeited and not-clawed-back sales, first seen."""
        seen, out = set(), []
        for result in self.results:
            for statement in result.statements:
                if statement.employee_id != employee_id:
                    continue
                for note in (*statement.held, *statement.excluded):
                    key = (note.transaction_id, note.status)
                    if key not in seen:
                        seen.add(key)
                        out.append((result.period, note))
        return out


def example_inputs(rules: RuleSet, roles: Sequence[str] | None = None) -> ExampleInputs:
    """The example employees of the plans ``roles`` (default: all) and their sales."""
    year, months, note = _months(rules)
    employees: list[Example] = []
    for number, role in enumerate(sorted(roles or rules.plans), start=1):
        employees += _plan_examples(rules, role, f"X{number:02d}", year)
    return ExampleInputs(
        year=year,
        months=tuple(months),
        employees=tuple(employees),
        roster=_roster(rules, employees, year),
        ledger=_ledger(rules, employees, months),
        note=note,
    )


def run_examples(rules: RuleSet, inputs: ExampleInputs) -> ExampleRuns:
    """A plan year of monthly runs; a plan whose example cannot run is set aside, saying why."""
    roles = sorted({e.role for e in inputs.employees})
    try:
        return ExampleRuns(inputs, tuple(_run(rules, inputs, roles)))
    except CompcalcError:
        pass
    results: list[list[PeriodResult]] = []
    problems = {}
    for role in roles:
        try:
            results.append(_run(rules, inputs, [role]))
        except CompcalcError as error:
            problems[role] = " ".join(str(error).split())
    merged = tuple(_merge(parts) for parts in zip(*results, strict=True)) if results else ()
    return ExampleRuns(inputs, merged, problems)


# --------------------------------------------------------------------------- runs


def _run(rules: RuleSet, inputs: ExampleInputs, roles: list[str]) -> list[PeriodResult]:
    ids = {e.employee_id for e in inputs.employees if e.role in roles}
    roster = read_roster(
        inputs.roster[inputs.roster["employee_id"].isin(ids)], name="<example roster>"
    )
    ledger = read_ledger(
        inputs.ledger[inputs.ledger["employee_id"].isin(ids)], name="<example sales>"
    )
    problems = [row.reason for row in (*roster.rejected, *ledger.rejected)]
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    results = []
    for month in inputs.months:
        result = run_period(rules, roster, ledger, month, paid_to_date=dict(paid))
        problems += [row.reason for row in result.rejected]
        if problems:
            raise CompcalcError(f"an example input was rejected: {problems[0]}")
        for statement in result.statements:
            for line in statement.lines:
                if line.kind in PAID_KINDS:
                    paid[(statement.employee_id, line.component)] += line.amount
        results.append(result)
    return results


def _merge(parts: Sequence[PeriodResult]) -> PeriodResult:
    """One month's results of separately run plans as one (statements only are read)."""
    from dataclasses import replace

    statements = tuple(s for part in parts for s in part.statements)
    return replace(parts[0], statements=tuple(sorted(statements, key=lambda s: s.employee_id)))


def _months(rules: RuleSet) -> tuple[Period, list[Period], str]:
    """The first plan year the rules cover in full, else the whole months they do cover."""
    try:
        year = plan_year_of(rules, None)
    except CompcalcError:
        start_month = rules.plan_year.start_month
        first = plan_year_start(rules.effective.from_, start_month)
        year = Period(first, plan_year_end(first, start_month), "plan year")
        months = [
            m
            for m in _calendar(year)
            if m.start >= rules.effective.from_
            and (rules.effective.to is None or m.end <= rules.effective.to)
        ]
        note = (
            "The rules cover only part of a plan year, so the examples run the whole months "
            "they cover."
        )
        return year, months, note
    return year, _calendar(year), ""


def _calendar(year: Period) -> list[Period]:
    months, day = [], year.start
    while day <= year.end:
        months.append(month_period(day.year, day.month))
        day = months[-1].end + dt.timedelta(days=1)
    return months


# --------------------------------------------------------------------------- employees


def _plan_examples(rules: RuleSet, role: str, prefix: str, year: Period) -> list[Example]:
    plan = rules.plans[role]
    main_profile = {
        name: values[(len(values) - 1) // 2] for name, values in rules.dimensions.items()
    }
    profiles: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for component in plan.components:
        matching = _matching(main_profile, component.when or {}, role)
        if matching is not None:
            profiles.setdefault(tuple(matching.items()), []).append(component.id)
    main = tuple(main_profile.items())
    order = [main, *(key for key in profiles if key != main)]
    out: list[Example] = []
    for index, profile in enumerate(order):
        base, source = _base(rules, role, dict(profile), year.start)
        quota = base * QUOTA_TIMES_BASE
        employee = Example(
            employee_id=prefix if index == 0 else f"{prefix}-W{index}",
            role=role,
            profile=profile,
            base=base,
            base_source=source,
            quota=quota,
            purpose="main" if index == 0 else "when",
            components=tuple(profiles.get(profile, ())),
        )
        out.append(employee)
        override = next(
            (c for c in plan.components if isinstance(c, Override) and c.id in employee.components),
            None,
        )
        if override is not None:
            size = _team_size(rules, role, override, employee, year)
            out += [
                Example(
                    f"{employee.employee_id}-T{k}",
                    role,
                    profile,
                    base,
                    source,
                    quota,
                    "team",
                    manager_id=employee.employee_id,
                )
                for k in range(1, size + 1)
            ]
    return out


def _matching(
    profile: dict[str, str], when: dict[str, list[str]], role: str
) -> dict[str, str] | None:
    """The profile changed as little as ``when`` needs (None: the role itself is left out)."""
    out = dict(profile)
    for name, allowed in when.items():
        if name == "role":
            if role not in allowed:
                return None
            continue
        if out.get(name) not in allowed:
            out[name] = allowed[0]
    return out


def _base(rules: RuleSet, role: str, profile: dict[str, str], day: dt.date) -> tuple[Decimal, str]:
    """The example's annual base: the rules' own when they set it, else the band midpoint."""
    for component in rules.plans[role].components:
        if isinstance(component, BaseSalary) and component.annual != "roster":
            value = _resolved(rules, role, profile, component.annual, day)
            if value is not None:
                return value, "set by the rules"
    if rules.bands:
        try:
            band = band_for(rules, role, _band_keys(rules, profile), day)
            return band.mid, "the midpoint of their salary band"
        except CompcalcError:
            pass
    return DEFAULT_BASE, "an example figure (no salary band covers them)"


def _band_keys(rules: RuleSet, profile: dict[str, str]) -> dict[str, str]:
    return {name: profile[name] for name in rules.dimensions}


def _team_size(
    rules: RuleSet, role: str, override: Override, manager: Example, year: Period
) -> int:
    """Enough reports selling 110 % of quota each to pass the threshold (2 to 10)."""
    threshold = override.threshold
    profile = dict(manager.profile)
    value = None if threshold is None else _resolved(rules, role, profile, threshold, year.end)
    if value is None or manager.quota <= 0:
        return TEAM_MIN
    each = manager.quota * Decimal("1.1")
    needed = int(value // each) + 1
    return max(TEAM_MIN, min(TEAM_MAX, needed))


def _resolved(
    rules: RuleSet, role: str, profile: dict[str, str], param: Any, day: dt.date
) -> Decimal | None:
    """The Param's value for an employee of ``role`` and ``profile`` on ``day`` (None when the
    rules have none)."""
    frame = pd.DataFrame([{"role": role, **profile}], dtype=object)
    resolver = Resolver(frame, day)
    value = resolver.values(param, "param", np.array([0], dtype=np.int64))[0]
    return None if resolver.problems else Decimal(value)


def sells(rules: RuleSet, role: str) -> bool:
    """Whether any component of the plan depends on sales (so its examples need some)."""
    return any(isinstance(c, Commission | Bonus | Override) for c in rules.plans[role].components)


def attainment_quota(rules: RuleSet, employee: Example, day: dt.date) -> Decimal:
    """The quota the employee's sales are sized on: that of the plan's first component that
    measures attainment (a gate, tiers in attainment, a bonus), else the roster's."""
    measuring = [c for c in rules.plans[employee.role].components if _measures_attainment(c)]
    if not measuring or measuring[0].quota == "roster":
        return employee.quota
    value = _resolved(rules, employee.role, dict(employee.profile), measuring[0].quota, day)
    return value if value is not None and value > 0 else employee.quota


def _measures_attainment(component: Any) -> TypeGuard[Commission | Bonus]:
    if isinstance(component, Bonus):
        return True
    if not isinstance(component, Commission):
        return False
    tiers = component.tiers
    return component.gate is not None or (tiers is not None and tiers.measure == "attainment")


# --------------------------------------------------------------------------- inputs


def _roster(rules: RuleSet, employees: list[Example], year: Period) -> pd.DataFrame:
    digits = minor_digits(rules.currency)
    hired = year.start.replace(year=year.start.year - 1)
    rows = []
    for e in employees:
        rows.append(
            {
                "employee_id": e.employee_id,
                "name": f"Example {e.employee_id}",
                "role": e.role,
                "currency": rules.currency,
                "annual_base": _text(e.base, digits),
                "quota": _text(e.quota, digits),
                "hire_date": hired.isoformat(),
                "termination_date": "",
                "manager_id": e.manager_id,
                **dict(e.profile),
            }
        )
    columns = [
        "employee_id",
        "name",
        "role",
        "currency",
        "annual_base",
        "quota",
        "hire_date",
        "termination_date",
        "manager_id",
        *CORE_COLUMNS,
    ]
    columns += [name for name in rules.dimensions if name not in columns]
    return pd.DataFrame(rows, columns=columns, dtype=object).fillna("")


LEDGER_COLUMNS = ("transaction_id", "employee_id", "date", "event", "amount", "currency", "margin")


def _ledger(rules: RuleSet, employees: list[Example], months: list[Period]) -> pd.DataFrame:
    digits = minor_digits(rules.currency)
    rows: list[tuple[str, ...]] = []
    for e in employees:
        if not sells(rules, e.role):
            continue
        quota = attainment_quota(rules, e, months[-1].end if months else dt.date.min)
        rows += _sales(rules, e.employee_id, _minor(quota, digits), months, digits)
    return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS), dtype=object)


def _sales(
    rules: RuleSet, employee: str, quota: int, months: list[Period], digits: int
) -> list[tuple[str, ...]]:
    """The sales pattern of one employee (amounts in minor units of ``quota``'s currency)."""
    currency = rules.currency
    rows: list[tuple[str, ...]] = []

    def sale(tid: str, day: dt.date, amount: int) -> None:
        money = from_minor(amount, digits)
        margin = from_minor(amount // 4, digits)  # a quarter of the amount, for margin plans
        rows.append((tid, employee, day.isoformat(), "sale", f"{money:f}", currency, f"{margin:f}"))

    def event(tid: str, day: dt.date, kind: str, amount: int | None = None) -> None:
        shown = "" if amount is None else f"{from_minor(amount, digits):f}"
        rows.append((tid, employee, day.isoformat(), kind, shown, currency, ""))

    done = 0
    for index, month in enumerate(months[: len(MONTHLY_PERCENT)]):
        upto = _share(quota, sum(MONTHLY_PERCENT[: index + 1]))  # cumulative: adds up exactly
        sale(f"{employee}-S{index + 1:02d}", month.start.replace(day=15), upto - done)
        done = upto
    if len(months) >= 5:
        tid = f"{employee}-D"
        sale(tid, months[1].start.replace(day=20), _share(quota, DISPUTED_PERCENT))
        event(tid, months[2].start.replace(day=10), "dispute_opened")
        event(tid, months[4].start.replace(day=10), "dispute_resolved")
    if len(months) >= 6:
        tid, sold = f"{employee}-R", months[3].start.replace(day=20)
        amount = _share(quota, REFUNDED_PERCENT)
        sale(tid, sold, amount)
        window = rules.clawback.window_days if rules.clawback is not None else None
        later = sold + dt.timedelta(days=min(45, window if window is not None else 45))
        event(tid, max(later, sold), "refund", amount)
    window = rules.clawback.window_days if rules.clawback is not None else None
    if window is not None and months:
        first_sale = months[0].start.replace(day=15)
        late = first_sale + dt.timedelta(days=window + 10)
        if late.replace(day=1) > months[0].end and late <= months[-1].end:
            event(f"{employee}-S01", late, "refund", _share(quota, MONTHLY_PERCENT[0]) // 2)
    return rows


def _share(quota: int, percent: int) -> int:
    """``percent`` % of ``quota`` minor units, rounded half up to a whole minor unit."""
    return int((Decimal(quota) * percent / 100).to_integral_value(ROUND_HALF_UP))


def _minor(amount: Decimal, digits: int) -> int:
    return int(amount.scaleb(digits).to_integral_value(ROUND_HALF_UP))


def _text(amount: Decimal, digits: int) -> str:
    return f"{amount.quantize(Decimal(1).scaleb(-digits)):f}"
