"""Bonuses on quota attainment: fixed, stepped or linear, with a floor and a cap.

Attainment is the dispute-free credited sale amount to date this plan year over the annual
quota, exactly as commission measures it. A ``to_date`` bonus pays what is due to date less
what was paid before, every period; a ``year_end`` bonus pays only in the period holding the
plan year's last day. The target is rounded once to the currency's unit (when it is a share
of base), and the payout once more.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ..money import as_fraction, format_amounts, format_percents_of, format_rate, round_div
from ..rules.resolve import Resolver
from ..rules.schema import Bonus
from .context import Context, LineDraft, make_lines

Int = npt.NDArray[np.int64]


class BonusPlan:
    """A bonus component resolved for one plan group."""

    def __init__(
        self, component: Bonus, path: str, rows: Int, ctx: Context, base: Int, resolver: Resolver
    ) -> None:
        self.component, self.path, self.rows, self.ctx, self.base = component, path, rows, ctx, base
        self.quota = ctx.quota(component, path, rows, resolver)
        target = component.target
        if target.amount is not None:
            self.target = ctx.to_minor(
                resolver.values(target.amount, f"{path}.target.amount", rows),
                f"{path}.target.amount",
            )
            self.target_note = ["" for _ in rows]
        else:
            share = resolver.values(target.percent_of_base, f"{path}.target.percent_of_base", rows)
            self.target = self._share_of(base, share)
            self.target_note = [
                f" ({format_rate(s)} of base {b})"
                for s, b in zip(share, format_amounts(base, ctx.digits), strict=True)
            ]
        self.floor = (
            None
            if component.floor is None
            else resolver.values(component.floor, f"{path}.floor", rows)
        )
        self.cap = (
            None if component.cap is None else resolver.values(component.cap, f"{path}.cap", rows)
        )
        self.steps = [
            (
                s.id,
                resolver.values(s.at, f"{path}.steps[{n}].at", rows),
                resolver.values(s.payout, f"{path}.steps[{n}].payout", rows),
            )
            for n, s in enumerate(component.steps or [])
        ]
        self.own_sales = ctx.group_sales(rows)  # grouped by employee: sums in one pass

    def _share_of(self, amounts: Int, fractions: npt.NDArray[np.object_]) -> Int:
        """round(amount x fraction) per employee, exactly: one division per distinct fraction."""
        out = np.zeros(len(amounts), dtype=np.int64)
        for fraction, where in _by_value(fractions).items():
            numerator, denominator = as_fraction(fraction)
            product = np.array(amounts[where].tolist(), dtype=object) * numerator
            out[where] = round_div(product, denominator, self.ctx.rounding)
        return out

    def reaches(self, measure: Int, fractions: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        """Attainment at or above each employee's fraction."""
        out = np.zeros(len(measure), dtype=bool)
        for fraction, where in _by_value(fractions).items():
            numerator, denominator = as_fraction(fraction)
            attained = np.array(measure[where].tolist(), dtype=object) * denominator
            out[where] = attained >= np.array(self.quota[where].tolist(), dtype=object) * numerator
        return out

    def due(self, measure: Int) -> tuple[Int, list[str]]:
        """Bonus due to date per employee, and how it was reached, in words."""
        method = self.component.method
        passed = (
            np.ones(len(measure), dtype=bool)
            if self.floor is None
            else self.reaches(measure, self.floor)
        )
        if method == "fixed":
            due = np.where(passed, self.target, 0)
            notes = ["fixed target" for _ in measure]
        elif method == "step":
            due, notes = self._step(measure)
        else:
            due, notes = self._linear(measure)
        due = np.where(passed, due, 0)  # the floor holds back every method
        if self.floor is not None:
            notes = [
                n if ok else f"below the {format_rate(f)} floor"
                for n, ok, f in zip(notes, passed, self.floor, strict=True)
            ]
        return np.asarray(due, dtype=np.int64), notes

    def _step(self, measure: Int) -> tuple[Int, list[str]]:
        best: list[tuple[str | None, Decimal | None]] = [(None, None)] * len(measure)
        for step_id, at, share in self.steps:
            hit = self.reaches(measure, at)
            for i in np.flatnonzero(hit).tolist():
                if best[i][1] is None or share[i] >= best[i][1]:
                    best[i] = (
                        f"step {step_id} reached at {format_rate(at[i])}: "
                        f"{format_rate(share[i])} of target",
                        share[i],
                    )
        reached = np.array([r is not None for _, r in best], dtype=bool)
        shares = np.array([r for _, r in best], dtype=object)[reached]
        due = np.zeros(len(measure), dtype=np.int64)
        due[reached] = self._share_of(self.target[reached], shares)
        return due, [note or "no step reached" for note, _ in best]

    def _linear(self, measure: Int) -> tuple[Int, list[str]]:
        counted = measure.astype(object)
        notes = ["target x attainment" for _ in measure]
        denominators = np.array([max(q, 1) for q in self.quota.tolist()], dtype=object)
        numerators = np.array(self.target.tolist(), dtype=object) * counted
        if self.cap is not None:
            for i, cap in enumerate(self.cap.tolist()):
                numerator, denominator = as_fraction(cap)
                if counted[i] * denominator > numerator * self.quota[i]:
                    numerators[i] = int(self.target[i]) * numerator * int(self.quota[i])
                    denominators[i] = denominator * int(self.quota[i])
                    notes[i] = f"attainment capped at {format_rate(cap)}"
        due = round_div(numerators, denominators, self.ctx.rounding)
        return np.asarray(due, dtype=np.int64), notes


def bonus_lines(component: Bonus, path: str, rows: Int, ctx: Context, base: Int) -> list[LineDraft]:
    """Statement lines of one bonus component for the employees in ``rows``."""
    plan = BonusPlan(component, path, rows, ctx, base, ctx.resolver)
    quota = plan.quota
    now = ctx.state(ctx.period.end)
    measure = ctx.measure(ctx.period.end, "amount", plan.own_sales)
    due, notes = plan.due(measure)
    paid = _paid_before(plan, ctx)
    pays_now = component.pay == "to_date" or ctx.period.end >= ctx.year_end
    # Each figure formatted once per column; the to-date figures and the line share them
    money = [
        format_amounts(column, ctx.digits) for column in (measure, quota, plan.target, due, paid)
    ]
    credited, quota_text, target, due_text, paid_text = money
    attainment = format_percents_of(measure, quota)
    pays = (
        "every period (due to date)"
        if component.pay == "to_date"
        else f"at plan year end ({ctx.year_end})"
    )
    row_at = rows.tolist()
    ctx.record_to_date_all(
        row_at,
        component.id,
        {
            "attainment": attainment,
            "credited_to_date": credited,
            "quota": quota_text,
            "target": target,
            "due_to_date": due_text,
            "paid_before": paid_text,
            "pays": pays,
        },
    )
    if not pays_now:
        return []
    own = plan.own_sales
    ids = own.ids(now.credited[own.positions], ctx.sales.transaction_id)
    amounts = (due - paid).tolist()
    amount_text = format_amounts(due - paid, ctx.digits)
    label = component.label or "Bonus"
    formulas = [
        f"target {target[i]}{plan.target_note[i]}, "
        f"attainment {attainment[i]} "
        f"({credited[i]} credited / quota {quota_text[i]}), "
        f"{component.method}: {notes[i]} -> due to date {due_text[i]}; "
        f"less paid to date {paid_text[i]} = {amount_text[i]}"
        for i in range(len(row_at))
    ]
    details = {
        "method": component.method,
        "attainment": attainment,
        "target": target,
        "due_to_date": due_text,
        "paid_to_date": paid_text,
    }
    return make_lines(ctx, component, "to_date", row_at, amounts, formulas, label, details, ids)


def _by_value(values: npt.NDArray[np.object_]) -> dict[Decimal, Int]:
    """Positions of each distinct value (rates and fractions repeat across employees)."""
    where: dict[Decimal, list[int]] = {}
    for k, value in enumerate(values.tolist()):
        where.setdefault(value, []).append(k)
    return {value: np.array(ks, dtype=np.int64) for value, ks in where.items()}


def _paid_before(plan: BonusPlan, ctx: Context) -> Int:
    if ctx.paid_to_date is not None:
        return ctx.paid(plan.component.id, plan.rows)
    if plan.component.pay == "year_end":
        return np.zeros(len(plan.rows), dtype=np.int64)
    latest = ctx.earlier()
    if not latest:
        return np.zeros(len(plan.rows), dtype=np.int64)
    # to_date bonuses pay due-to-date every period, so what was paid is the due at the last
    # period's end, under the rules in force then.
    end = latest[-1].end
    then = BonusPlan(plan.component, plan.path, plan.rows, ctx, plan.base, ctx.resolver_at(end))
    due, _ = then.due(ctx.measure(end, "amount", then.own_sales))
    return due
