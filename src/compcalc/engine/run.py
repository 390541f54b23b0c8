"""``run_period``: rules + roster + ledger + period -> statements. A pure function.

No file, clock, randomness or global state in here: the caller reads the inputs, this module
computes, the caller writes. The same inputs give the same result, whatever their row order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import __version__
from ..errors import RunError
from ..inputs import Ledger, Roster
from ..inputs.fx import FxTable
from ..inputs.ledger import check_ledger
from ..money import minor_digits
from ..periods import Period, parse_period, plan_year_end, plan_year_start
from ..rules.digest import ruleset_digest
from ..rules.resolve import Resolver
from ..rules.schema import (
    Allowance,
    BaseSalary,
    Bonus,
    Commission,
    Draw,
    Override,
    Plan,
    RuleSet,
)
from ..statements.model import PeriodResult, PriorRun, Rejected, Statement
from .bonus import bonus_lines
from .commission import commission_lines
from .context import Context, LineDraft
from .crediting import Money, apply_clawback_window, build_sales
from .draw import Against, draw_lines
from .eligibility import check_roster, matches_when, unknown_managers
from .notes import sale_notes
from .override import override_lines
from .paid import PaidToDate, paid_minor
from .periodic import allowance_annual, periodic_lines

Int = npt.NDArray[np.int64]
Progress = Callable[[int, int, str], None]


def run_period(
    rules: RuleSet,
    roster: Roster,
    ledger: Ledger,
    period: str | Period,
    paid_to_date: PaidToDate = None,
    progress: Progress | None = None,
    history: Sequence[PriorRun] = (),
    fx: FxTable | None = None,
) -> PeriodResult:
    """Evaluate one pay period into statements (see :func:`compcalc.run_period`).

    ``progress(done, total, step)`` is called after each step (one per plan, then the
    statements); it only reports, it never changes the result. ``history`` lists the closed
    runs behind ``paid_to_date`` so a true-up can say whether a rule or the ledger changed.
    """
    period = _parse(period)
    ctx, checked, rejected = _context(rules, roster, ledger, period, paid_to_date, fx)
    ctx.history = tuple(history)
    plans = sorted(rules.plans.items())
    total = len(plans) + 1
    drafts: list[LineDraft] = []
    for done, (role, plan) in enumerate(plans, start=1):
        drafts.extend(_plan_lines(role, plan, ctx))
        if progress is not None:
            progress(done, total, f"plan {role}")
    if ctx.resolver.problems:
        raise RunError(sorted({rules.locate(p.field, p.message) for p in ctx.resolver.problems}))
    dates = checked.frame["date"].to_numpy().astype("datetime64[D]")
    future = int((dates > np.datetime64(period.end, "D")).sum())
    statements = _statements(ctx, drafts)
    if progress is not None:
        progress(total, total, "statements")
    return PeriodResult(
        period=period.label,
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        ruleset_id=rules.id,
        ruleset_version=rules.version,
        ruleset_sha256=ctx.rules_sha256,
        roster_sha256=roster.sha256,
        ledger_sha256=ledger.sha256,
        fx_sha256=fx.sha256 if fx is not None else "",
        engine_version=__version__,
        currency=rules.currency,
        statements=statements,
        rejected=rejected,
        summary=_summary(statements, rejected, future, ctx.digits),
    )


def _parse(period: str | Period) -> Period:
    if isinstance(period, Period):
        return period
    try:
        return parse_period(period)
    except ValueError as exc:
        raise RunError(str(exc)) from None


def _context(
    rules: RuleSet,
    roster: Roster,
    ledger: Ledger,
    period: Period,
    paid_to_date: PaidToDate,
    fx: FxTable | None = None,
) -> tuple[Context, Ledger, tuple[Rejected, ...]]:
    """Check the inputs against the rules and each other; index the sales once.

    With an FX table, ledger rows in another currency than the employee's are converted
    (see :class:`~compcalc.engine.crediting.Money`); without one they are rejected.
    """
    year_start, year_end = _plan_year(rules, period)
    digits = minor_digits(rules.currency)
    roster_check = check_roster(rules, roster.frame, roster.source)
    employees = roster_check.accepted
    checked = check_ledger(
        ledger,
        dataclasses.replace(roster, frame=employees),
        convert=fx is not None,
        fx_hint=fx is None,
    )
    ledger_rejects = _reword_rejected_employees(
        checked.rejected, roster.refused | roster_check.refused
    )
    read_rejects = [_as_rejected(row) for row in roster.rejected]
    rejected = tuple(
        sorted(
            [
                *read_rejects,
                *roster_check.rejected,
                *unknown_managers(rules, employees, roster_check.refused, roster.source),
                *ledger_rejects,
            ],
            key=_reject_order,
        )
    )
    position = pd.Series(np.arange(len(employees)), index=employees["employee_id"].to_numpy())
    hire = employees["hire_date"].to_numpy().astype("datetime64[D]")
    termination = employees["termination_date"].to_numpy().astype("datetime64[D]")
    money = Money(rules.currency, rules.rounding, fx, period.end)
    sales = build_sales(checked.frame, position, hire, termination, year_start, money)
    ignored = None
    if rules.clawback is not None:
        sales, ignored = apply_clawback_window(sales, rules.clawback.window_days)
    ctx = Context(
        rules=rules,
        employees=employees,
        period=period,
        year_start=year_start,
        year_end=year_end,
        sales=sales,
        resolver=Resolver(employees, period.end, "rules"),
        digits=digits,
        rounding=rules.rounding,
        paid_to_date=paid_minor(paid_to_date, rules, set(employees["employee_id"]), digits),
        covered=np.zeros(len(employees), dtype=bool),
        on_margin=np.zeros(len(employees), dtype=bool),
        rules_sha256=ruleset_digest(rules),
        ignored=ignored,
    )
    return ctx, checked, rejected


def _plan_year(rules: RuleSet, period: Period) -> tuple[dt.date, dt.date]:
    effective = rules.effective
    if period.start < effective.from_ or (effective.to is not None and period.end > effective.to):
        until = effective.to.isoformat() if effective.to else "open-ended"
        raise RunError(
            f"period {period.label} is outside rule set '{rules.id}' "
            f"(effective {effective.from_} to {until})"
        )
    start_month = rules.plan_year.start_month
    year_start = plan_year_start(period.end, start_month)
    if period.start < year_start:
        raise RunError(
            f"period {period.label} spans two plan years (a plan year starts {year_start}); "
            "run each part separately"
        )
    return year_start, plan_year_end(period.end, start_month)


def _plan_lines(role: str, plan: Plan, ctx: Context) -> list[LineDraft]:
    employees = ctx.employees
    in_plan = (employees["role"] == role).to_numpy()
    base = employees["annual_base_minor"].fillna(0).to_numpy(dtype=np.int64)
    for index, component in enumerate(plan.components):
        if isinstance(component, BaseSalary) and component.annual != "roster":
            rows = np.flatnonzero(in_plan)
            path = f"plans.{role}.components[{index}].annual"
            base = base.copy()
            base[rows] = ctx.to_minor(ctx.resolver.values(component.annual, path, rows), path)
    by_component: dict[int, list[LineDraft]] = {}
    draws: list[tuple[int, Draw, str, Int]] = []
    for index, component in enumerate(plan.components):
        path = f"plans.{role}.components[{index}]"
        rows = np.flatnonzero(in_plan & matches_when(employees, component.when))
        if len(rows) == 0:
            continue
        if isinstance(component, Commission | Bonus):
            ctx.covered[rows] = True
        if isinstance(component, Commission) and component.basis == "margin":
            ctx.on_margin[rows] = True
        if isinstance(component, Draw):
            draws.append((index, component, path, rows))  # after the commission it nets
            continue
        by_component[index] = _component_lines(component, path, rows, ctx, base)
    for index, draw, path, rows in draws:
        so_far = [draft for drafts in by_component.values() for draft in drafts]
        against = _against(role, plan, draw, in_plan, ctx)
        by_component[index] = draw_lines(draw, path, rows, ctx, against, so_far)
    # Lines in the plan's component order, whatever order they were computed in.
    return [draft for index in sorted(by_component) for draft in by_component[index]]


def _against(
    role: str, plan: Plan, draw: Draw, in_plan: npt.NDArray[np.bool_], ctx: Context
) -> list[Against]:
    """The commission components a draw nets against, with the rows each applies to."""
    wanted = draw.against
    out = []
    for index, component in enumerate(plan.components):
        if isinstance(component, Commission) and (wanted is None or component.id in wanted):
            rows = np.flatnonzero(in_plan & matches_when(ctx.employees, component.when))
            out.append(Against(component, f"plans.{role}.components[{index}]", rows))
    return out


def _component_lines(
    component: Any, path: str, rows: Int, ctx: Context, base: Int
) -> list[LineDraft]:
    if isinstance(component, BaseSalary):
        return periodic_lines(component, rows, ctx, base[rows], component.label or "Base salary")
    if isinstance(component, Allowance):
        annual = allowance_annual(component, rows, ctx, path)
        return periodic_lines(
            component, rows, ctx, annual, component.label or f"{component.id} allowance"
        )
    if isinstance(component, Commission):
        return commission_lines(component, path, rows, ctx)
    if isinstance(component, Bonus):
        return bonus_lines(component, path, rows, ctx, base[rows])
    if isinstance(component, Override):
        return override_lines(component, path, rows, ctx)
    raise TypeError(f"unknown component kind {type(component).__name__}")


def _statements(ctx: Context, drafts: list[LineDraft]) -> tuple[Statement, ...]:
    """One statement per employee active in the period, or with anything to show."""
    by_row: dict[int, list[Any]] = defaultdict(list)
    for draft in drafts:
        by_row[draft.row].append(draft.line)
    held, excluded = sale_notes(ctx)
    employees = ctx.employees
    active = _active(employees, ctx.period)
    ids, names, roles = (
        employees[c].astype(str).to_numpy() for c in ("employee_id", "name", "role")
    )
    unit = Decimal(1).scaleb(-ctx.digits)
    statements = []
    for row in range(len(employees)):
        lines = by_row.get(row, [])
        noted = row in held or row in excluded
        if not active[row] and not noted and not any(line.amount for line in lines):
            continue
        statements.append(
            Statement(
                employee_id=str(ids[row]),
                name=str(names[row]),
                role=str(roles[row]),
                currency=ctx.rules.currency,
                total=sum((line.amount for line in lines), Decimal(0)).quantize(unit),
                lines=tuple(lines),
                held=tuple(held.get(row, ())),
                excluded=tuple(excluded.get(row, ())),
                # by component id, as the canonical JSON has it (a draw records its figures
                # after the commission it nets, whatever the plan's order)
                to_date=tuple(sorted(ctx.to_date.get(row, ()))),
            )
        )
    return tuple(statements)


def _active(employees: pd.DataFrame, period: Period) -> npt.NDArray[np.bool_]:
    hire = employees["hire_date"].to_numpy().astype("datetime64[D]")
    termination = employees["termination_date"].to_numpy().astype("datetime64[D]")
    start, end = np.datetime64(period.start, "D"), np.datetime64(period.end, "D")
    hired = np.isnat(hire) | (hire <= end)
    staying = np.isnat(termination) | (termination >= start)
    return np.asarray(hired & staying)


def _as_rejected(row: Any) -> Rejected:
    return Rejected(row.source, row.row, row.line, row.column, row.value, row.reason)


def _reword_rejected_employees(
    rejected: tuple[Any, ...], refused: dict[str, str]
) -> list[Rejected]:
    """Ledger rows of employees whose roster row was refused say why, not 'not on the roster'."""
    out = []
    for row in rejected:
        reason = row.reason
        if row.column == "employee_id" and row.value in refused:
            reason = (
                f"employee {row.value}'s roster row was rejected, so this row cannot be paid "
                f"(roster {refused[row.value]})"
            )
        out.append(Rejected(row.source, row.row, row.line, row.column, row.value, reason))
    return out


def _reject_order(row: Rejected) -> tuple[str, int, str]:
    return (row.source, row.row or 0, row.column)


def _summary(
    statements: tuple[Statement, ...], rejected: tuple[Rejected, ...], future: int, digits: int
) -> tuple[tuple[str, str], ...]:
    """Run totals as exact decimal strings with the currency's digits ("0.00", never "0")."""
    unit = Decimal(1).scaleb(-digits)

    def money(amounts: Iterable[Decimal]) -> str:
        return f"{sum(amounts, Decimal(0)).quantize(unit):f}"

    by_code: dict[str, list[Decimal]] = defaultdict(list)
    for statement in statements:
        for line in statement.lines:
            by_code[line.pay_code].append(line.amount)
    held = [note for s in statements for note in s.held]
    summary = {
        "employees": str(len(statements)),
        "lines": str(sum(len(s.lines) for s in statements)),
        "total": money(s.total for s in statements),
        "held_sales": str(len(held)),
        "held_amount": money(n.amount for n in held),
        "excluded_sales": str(sum(len(s.excluded) for s in statements)),
        "rejected_rows": str(len(rejected)),
        "events_after_period_end": str(future),
    }
    for code, amounts in by_code.items():
        summary[f"total_{code}"] = money(amounts)
    return tuple(sorted(summary.items()))
