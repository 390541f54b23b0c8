"""``run_period``: rules + roster + ledger + period -> statements. A pure function.

No file, clock, randomness or global state in here: the caller reads the inputs, this module
computes, the caller writes. The same inputs give the same result, whatever their row order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import __version__
from ..errors import Diagnostic, InputError, RunError
from ..inputs import Ledger, Roster
from ..inputs.common import PendingDigest
from ..inputs.fx import FxTable
from ..inputs.ledger import (
    REQUIRED_COLUMNS,
    canonical_order,
    check_ledger,
    read_ledger,
    resolved,
)
from ..money import minor_digits
from ..periods import Period, parse_period, plan_year_end, plan_year_start
from ..resources import gc_paused
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
from ..statements.model import Line, PeriodResult, PriorRun, Rejected, SaleNote, Statement
from .bonus import bonus_lines
from .commission import commission_lines
from .context import Context, LineDraft
from .crediting import Money, apply_clawback_window, build_sales
from .draw import Against, draw_lines
from .eligibility import check_roster, matches_when, unknown_managers
from .notes import sale_notes
from .override import MemberCredit, member_credit, merge_credits, override_lines
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

    The run is the three steps a distributed run takes too (:mod:`compcalc.engine.dask`):
    :func:`prepare` (rules, period and roster, once), :func:`evaluate_part` (the employees'
    own lines from their own sales: here one part holding everyone) and :func:`finish`
    (manager overrides from the parts' member credits, then statements and totals).
    """
    if ledger.without_margin and rules.uses_margin:
        raise InputError(
            f"ledger {ledger.source}: its margin column was left unread (read for rules that "
            f"use no margin), but rule set {rules.id} pays on margin: read it again with "
            "these rules (compcalc.read_ledger(source, rules=rules)) or without rules="
        )
    setup = prepare(rules, roster, parse_period_arg(period), paid_to_date, fx, history)
    checked, ledger_rejected = check_part(setup, ledger)
    part = evaluate_part(setup, checked.frame, None, progress, ordered=True)
    return finish(setup, [part], ledger_rejected, ledger.digest, progress)


@dataclass(frozen=True)
class Setup:
    """What every part of a run shares: rules, period, the checked roster, what was paid.

    Small (the roster, not the ledger) and picklable: a distributed run sends it to every
    worker once.
    """

    rules: RuleSet
    period: Period
    roster: Roster  # frame: the accepted rows, sorted by employee_id, RangeIndex
    refused: dict[str, str]  # employee_id -> why their roster row was refused
    rejected: tuple[Rejected, ...]  # roster rows the rules cannot pay
    paid: dict[tuple[str, str], int] | None
    history: tuple[PriorRun, ...]
    fx: FxTable | None
    year_start: dt.date
    year_end: dt.date
    digits: int
    rules_sha256: str

    @property
    def employees(self) -> pd.DataFrame:
        return self.roster.frame


@dataclass
class Part:
    """One group of employees evaluated on their own sales: everything but the roll-ups.

    ``rows`` are the employees' rows in :attr:`Setup.employees`; every other field is keyed
    by those rows. ``credits`` holds, per override component path, the credit the part's
    team members bring to their managers' overrides (see :func:`override.member_credit`).
    """

    rows: Int
    lines: dict[int, list[tuple[int, Line]]]  # row -> (component index, line), plan order
    held: dict[int, list[SaleNote]]
    excluded: dict[int, list[SaleNote]]
    to_date: dict[int, list[tuple[str, tuple[tuple[str, str], ...]]]]
    credits: dict[str, MemberCredit]
    problems: list[Diagnostic]
    future: int  # ledger rows dated after the period's end


def prepare(
    rules: RuleSet,
    roster: Roster,
    period: Period,
    paid_to_date: PaidToDate = None,
    fx: FxTable | None = None,
    history: Sequence[PriorRun] = (),
) -> Setup:
    """Check the period against the rules and the roster against both: once per run."""
    year_start, year_end = _plan_year(rules, period)
    digits = minor_digits(rules.currency)
    roster_check = check_roster(rules, roster.frame, roster.source)
    employees = roster_check.accepted
    read_rejects = [_as_rejected(row) for row in roster.rejected]
    rejected = (
        *read_rejects,
        *roster_check.rejected,
        *unknown_managers(rules, employees, roster_check.refused, roster.source),
    )
    return Setup(
        rules=rules,
        period=period,
        roster=dataclasses.replace(roster, frame=employees),
        refused=roster.refused | roster_check.refused,
        rejected=tuple(rejected),
        paid=paid_minor(paid_to_date, rules, set(employees["employee_id"]), digits),
        history=tuple(history),
        fx=fx,
        year_start=year_start,
        year_end=year_end,
        digits=digits,
        rules_sha256=ruleset_digest(rules),
    )


def check_part(
    setup: Setup, ledger: Ledger, *, several_sources: bool | None = None
) -> tuple[Ledger, list[Rejected]]:
    """Check ledger rows against each other and the roster (:func:`check_ledger`).

    The checks compare rows of one transaction, so any part holding whole transactions
    gives the rows and reasons the whole ledger would. ``several_sources`` says whether the
    whole ledger has several files (reasons then name the file); default: this part's.
    With an FX table, rows in another currency than the employee's are converted later
    (see :class:`~compcalc.engine.crediting.Money`); without one they are rejected.
    """
    fx = setup.fx
    checked = check_ledger(
        ledger,
        setup.roster,
        convert=fx is not None,
        fx_hint=fx is None,
        several_sources=several_sources,
    )
    return checked, reword_rejected(checked.rejected, setup.refused)


@gc_paused()
def evaluate_part(
    setup: Setup,
    frame: pd.DataFrame,
    owned: Int | None = None,
    progress: Progress | None = None,
    *,
    sharers: Int | None = None,
    ordered: bool = False,
) -> Part:
    """The lines of the employees at rows ``owned`` (default: all) from their checked sales.

    ``frame`` is checked ledger rows (:func:`check_part`) holding every row of those
    employees and, for a sale split between employees, every row of the transaction (the
    shares are allocated over the whole sale). ``sharers`` are the rows of the employees
    those other rows belong to: they are evaluated alongside (their shares need them) but
    left out of the part. Each employee's lines depend only on their own sales (whole), so
    evaluating the roster in parts gives the lines one part would. ``ordered=True``:
    ``frame`` is a checked ledger's frame as :func:`check_part` gives it (canonical order),
    not checked again.
    """
    size = len(setup.employees)
    rows = np.arange(size) if owned is None else np.asarray(owned, dtype=np.int64)
    ctx_rows = rows if sharers is None else np.union1d(rows, sharers).astype(np.int64)
    employees = setup.employees
    if owned is not None:
        employees = employees.iloc[ctx_rows].reset_index(drop=True)
    keep = np.zeros(size, dtype=bool)
    keep[rows] = True
    ctx = _context(setup, employees, canonical_order(frame, ordered=ordered or None), ordered)
    plans = sorted(setup.rules.plans.items())
    lines: dict[int, list[tuple[int, Line]]] = defaultdict(list)
    credits: dict[str, MemberCredit] = {}
    roster_row = ctx_rows.tolist()  # Python ints: one lookup per line, no numpy scalars
    for done, (role, plan) in enumerate(plans, start=1):
        for index, draft in _plan_lines(role, plan, ctx):
            lines[roster_row[draft.row]].append((index, draft.line))
        for index, component in _overrides(plan):
            path = f"plans.{role}.components[{index}]"
            managers = _rows(setup.employees, role, component)
            credit = member_credit(component, ctx, setup.employees, managers, ctx_rows)
            credits[path] = credit.only(keep[credit.rows])
        if progress is not None:
            progress(done, len(plans) + 1, f"plan {role}")
    ctx.sales.forget_groupings()  # the plans' groupings: the notes below have no use for them
    held, excluded = sale_notes(ctx)

    def own(found: dict[int, Any]) -> dict[int, Any]:
        return {int(ctx_rows[k]): v for k, v in found.items() if keep[ctx_rows[k]]}

    # Rows dated after the period, each counted by the part of the employee it names.
    # Compared in the column's own unit (no ledger-long copy where the run holds the most):
    # on or after the day after the period's end is a later day, whatever the time of day.
    after = np.datetime64(setup.period.end + dt.timedelta(days=1), "D")
    later = frame["date"].to_numpy() >= after
    if owned is not None:  # a part of the roster: only its own employees' rows
        mine = employees["employee_id"].to_numpy()[keep[ctx_rows]]
        later &= frame["employee_id"].isin(mine).to_numpy(dtype=bool)
    return Part(
        rows=rows,
        lines={row: found for row, found in lines.items() if keep[row]},
        held=own(held),
        excluded=own(excluded),
        to_date=own(ctx.to_date),
        credits=credits,
        problems=list(ctx.resolver.problems),
        future=int(later.sum()),
    )


@gc_paused()
def finish(
    setup: Setup,
    parts: Sequence[Part],
    ledger_rejected: Sequence[Rejected],
    ledger_sha256: str | PendingDigest,
    progress: Progress | None = None,
) -> PeriodResult:
    """Roll the parts up: managers' overrides over their teams, statements, run totals.
    ``ledger_sha256`` may still be in the making (see :class:`Ledger`): waited for once the
    statements are made."""
    rules, period = setup.rules, setup.period
    ctx = _context(setup, setup.employees, None)
    lines: dict[int, list[tuple[int, Line]]] = defaultdict(list)
    for part in parts:
        for row, found in part.lines.items():
            lines[row].extend(found)
    for role, plan in sorted(rules.plans.items()):
        for index, draft in _override_lines(role, plan, ctx, parts):
            lines[draft.row].append((index, draft.line))
    problems = [*ctx.resolver.problems, *(p for part in parts for p in part.problems)]
    if problems:
        raise RunError(sorted({rules.locate(p.field, p.message) for p in problems}))
    statements = _statements(setup, parts, lines, ctx.to_date)
    if progress is not None:
        progress(len(rules.plans) + 1, len(rules.plans) + 1, "statements")
    rejected = tuple(sorted([*setup.rejected, *ledger_rejected], key=_reject_order))
    future = sum(part.future for part in parts)
    return PeriodResult(
        period=period.label,
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        ruleset_id=rules.id,
        ruleset_version=rules.version,
        ruleset_sha256=setup.rules_sha256,
        roster_sha256=setup.roster.sha256,
        ledger_sha256=resolved(ledger_sha256),
        fx_sha256=setup.fx.sha256 if setup.fx is not None else "",
        engine_version=__version__,
        currency=rules.currency,
        statements=statements,
        rejected=rejected,
        summary=_summary(statements, rejected, future, setup.digits),
    )


def parse_period_arg(period: str | Period) -> Period:
    if isinstance(period, Period):
        return period
    try:
        return parse_period(period)
    except ValueError as exc:
        raise RunError(str(exc)) from None


def _context(
    setup: Setup,
    employees: pd.DataFrame,
    frame: pd.DataFrame | None,
    ordered: bool = False,
) -> Context:
    """A run context for ``employees`` over their sales in ``frame`` (None: no sales;
    ``ordered``: in canonical order, see :func:`evaluate_part`)."""
    rules, period = setup.rules, setup.period
    if frame is None:
        frame = no_sales()
    position = pd.Series(np.arange(len(employees)), index=employees["employee_id"].to_numpy())
    hire = employees["hire_date"].to_numpy().astype("datetime64[D]")
    termination = employees["termination_date"].to_numpy().astype("datetime64[D]")
    money = Money(rules.currency, rules.rounding, setup.fx, period.end)
    sales = build_sales(frame, position, hire, termination, setup.year_start, money, ordered)
    ignored = None
    if rules.clawback is not None:
        sales, ignored = apply_clawback_window(sales, rules.clawback.window_days)
    return Context(
        rules=rules,
        employees=employees,
        period=period,
        year_start=setup.year_start,
        year_end=setup.year_end,
        sales=sales,
        resolver=Resolver(employees, period.end, "rules"),
        digits=setup.digits,
        rounding=rules.rounding,
        paid_to_date=setup.paid,
        covered=np.zeros(len(employees), dtype=bool),
        on_margin=np.zeros(len(employees), dtype=bool),
        rules_sha256=setup.rules_sha256,
        ignored=ignored,
        history=setup.history,
    )


def no_sales() -> pd.DataFrame:
    """A checked ledger frame with no rows (the roll-up pass reads no sales)."""
    cells = pd.DataFrame({column: pd.Series([], dtype=str) for column in REQUIRED_COLUMNS})
    return read_ledger(cells).frame


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


def _rows(employees: pd.DataFrame, role: str, component: Any) -> Int:
    """The rows of ``employees`` a component of ``role``'s plan applies to."""
    in_plan = (employees["role"] == role).to_numpy()
    return np.flatnonzero(in_plan & matches_when(employees, component.when))


def _overrides(plan: Plan) -> list[tuple[int, Override]]:
    return [(i, c) for i, c in enumerate(plan.components) if isinstance(c, Override)]


def _plan_lines(role: str, plan: Plan, ctx: Context) -> list[tuple[int, LineDraft]]:
    """An employee's own lines in ``role``'s plan with their component's index (plan order).

    Overrides are left to :func:`finish`: they roll up the credit of a whole team.
    """
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
        if len(rows) == 0 or isinstance(component, Override):
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
    return [(index, draft) for index in sorted(by_component) for draft in by_component[index]]


def _override_lines(
    role: str, plan: Plan, ctx: Context, parts: Sequence[Part]
) -> list[tuple[int, LineDraft]]:
    """Lines of ``role``'s overrides, over the whole roster, from the parts' member credits."""
    out: list[tuple[int, LineDraft]] = []
    for index, component in _overrides(plan):
        path = f"plans.{role}.components[{index}]"
        rows = _rows(ctx.employees, role, component)
        if len(rows) == 0:
            continue
        credit = merge_credits([part.credits[path] for part in parts], len(ctx.employees))
        out.extend((index, draft) for draft in override_lines(component, path, rows, ctx, credit))
    return out


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
    raise TypeError(f"unknown component kind {type(component).__name__}")


def _statements(
    setup: Setup,
    parts: Sequence[Part],
    lines: dict[int, list[tuple[int, Line]]],
    rolled_up: dict[int, list[tuple[str, tuple[tuple[str, str], ...]]]],
) -> tuple[Statement, ...]:
    """One statement per employee active in the period, or with anything to show."""
    held: dict[int, list[SaleNote]] = {}
    excluded: dict[int, list[SaleNote]] = {}
    to_date: dict[int, list[tuple[str, tuple[tuple[str, str], ...]]]] = defaultdict(list)
    for part in parts:
        held.update(part.held)
        excluded.update(part.excluded)
        for row, figures in part.to_date.items():
            to_date[row].extend(figures)
    for row, figures in rolled_up.items():
        to_date[row].extend(figures)
    employees = setup.employees
    # Python lists, not NumPy arrays: one lookup per employee, no NumPy scalars
    active = _active(employees, setup.period).tolist()
    ids, names, roles = (
        employees[c].astype(str).to_numpy().tolist() for c in ("employee_id", "name", "role")
    )
    unit = Decimal(1).scaleb(-setup.digits)
    currency = setup.rules.currency
    statements = []
    by_index = itemgetter(0)
    for row in range(len(employees)):
        # Plan order: by component index; a stable sort keeps each component's own order.
        own = [line for _, line in sorted(lines.get(row, ()), key=by_index)]
        noted = row in held or row in excluded
        if not active[row] and not noted and not any(line.amount for line in own):
            continue
        statements.append(
            Statement(
                employee_id=str(ids[row]),
                name=str(names[row]),
                role=str(roles[row]),
                currency=currency,
                total=sum((line.amount for line in own), Decimal(0)).quantize(unit),
                lines=tuple(own),
                held=tuple(held.get(row, ())),
                excluded=tuple(excluded.get(row, ())),
                # by component id, as the canonical JSON has it (a draw records its figures
                # after the commission it nets, whatever the plan's order)
                to_date=tuple(sorted(to_date.get(row, ()))),
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


def reword_rejected(rejected: tuple[Any, ...], refused: dict[str, str]) -> list[Rejected]:
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


def _reject_order(row: Rejected) -> tuple[str, int, str, str, str]:
    """Place, then content: a total order, so rejects gathered in any order sort alike."""
    return (row.source, row.row or 0, row.column, row.value, row.reason)


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
