"""Periodic pay: base salary and allowances, per installment, prorated for hires and leavers.

Installment ``k`` of the ``N`` whose pay date falls in the plan year (12 monthly, 24
semi-monthly, 26 or 27 biweekly) pays ``round(annual*k/N) - round(annual*(k-1)/N)``:
cumulative rounding, so a full year of installments adds up to the annual amount exactly
(``55,000.00 / 12`` pays 4,583.33 or 4,583.34, never losing the 4 cents a year that rounding
each month alone would). An installment only partly employed pays
``installment * days employed / days in installment``, by calendar or working days (Mon-Fri)
as the rule says, rounded once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..money import format_amounts, round_div, safe_ints
from ..periods import (
    Period,
    biweekly_installments,
    employed_days,
    monthly_installments,
    semi_monthly_installments,
)
from ..rules.schema import Allowance, BaseSalary, PayFrequency, Periodic, Proration
from .context import Context, LineDraft, make_lines

Int = npt.NDArray[np.int64]


def installments(component: Periodic, period: Period) -> list[Period]:
    """The component's pay installments whose last day falls inside ``period``."""
    if component.pay_frequency is PayFrequency.SEMI_MONTHLY:
        return semi_monthly_installments(period)
    if component.pay_frequency is PayFrequency.BIWEEKLY:
        assert component.biweekly_anchor is not None
        return biweekly_installments(period, component.biweekly_anchor)
    return monthly_installments(period)


def periodic_lines(
    component: BaseSalary | Allowance, rows: Int, ctx: Context, annual: Int, label: str
) -> list[LineDraft]:
    """Lines of a base salary or allowance for the employees in ``rows``.

    ``annual`` is each employee's annual amount in minor units.
    """
    # Installments in this plan year: 12, 24, or 26 or 27 biweekly pay dates; dividing by the
    # real count keeps a 27-pay-date year at exactly the annual amount.
    per_year = len(installments(component, Period(ctx.year_start, ctx.year_end, "plan year")))
    frame = ctx.employees.iloc[rows]
    hire = frame["hire_date"].to_numpy().astype("datetime64[D]")
    termination = frame["termination_date"].to_numpy().astype("datetime64[D]")
    working = component.proration is Proration.WORKING_DAYS
    unit = "working days" if working else "calendar days"
    drafts: list[LineDraft] = []
    several = len(installments(component, ctx.period)) > 1
    annual_text = format_amounts(annual, ctx.digits)
    row_at = rows.tolist()
    for installment in installments(component, ctx.period):
        k = len(installments(component, Period(ctx.year_start, installment.end, "year to date")))
        big = safe_ints(annual, per_year)
        upto = round_div(big * k, per_year, ctx.rounding)
        before = round_div(big * (k - 1), per_year, ctx.rounding)
        full = np.asarray(upto - before, dtype=np.int64)
        employed, total = employed_days(installment, hire, termination, working)
        prorated = round_div(safe_ints(full, total) * employed, total, ctx.rounding)
        amount = np.where(employed == total, full, prorated).astype(np.int64)
        paying = np.flatnonzero(employed > 0)
        # Each figure formatted once per column, over the employees whose formula shows it:
        # the cumulative rounding where the annual amount does not divide evenly, the
        # prorated amount where the installment was not worked whole
        uneven = np.asarray(annual)[paying] % per_year != 0
        part = employed[paying] != total
        full_text = format_amounts(np.asarray(full)[paying], ctx.digits)
        upto_text, before_text = (
            _spread(format_amounts(np.asarray(c)[paying][uneven], ctx.digits), uneven)
            for c in (upto, before)
        )
        amount_text = _spread(format_amounts(amount[paying][part], ctx.digits), part)
        days = employed[paying].tolist()
        amounts = amount[paying].tolist()
        label_k = f"{label} {installment.label}" if several else label
        suffix = installment.label if several else ""
        paid_at = paying.tolist()
        formulas = []
        for n, i in enumerate(paid_at):
            formula = f"{annual_text[i]} / {per_year} = {full_text[n]}"
            if upto_text[n] is not None:
                formula += (
                    f" (installment {k} of {per_year} in the plan year, rounded cumulatively: "
                    f"{upto_text[n]} to date - {before_text[n]} before)"
                )
            if amount_text[n] is not None:
                formula += f"; x {days[n]}/{total} {unit} employed = {amount_text[n]}"
            formulas.append(formula)
        # The days employed worded once per count (most employees: the whole installment)
        worded = {d: f"{d}/{total} {unit}" for d in set(days)}
        details = {
            "installment": installment.label,
            "days_employed": [worded[d] for d in days],
            "annual": [annual_text[i] for i in paid_at],
        }
        drafts += make_lines(
            ctx, component, "installment", [row_at[i] for i in paid_at], amounts, formulas,
            label_k, details, suffix=suffix,
        )  # fmt: skip
    return drafts


def _spread(texts: list[str], where: npt.NDArray[np.bool_]) -> list[str | None]:
    """``texts`` (one per set flag of ``where``) in their places; None where it is not set."""
    out: list[str | None] = [None] * len(where)
    for at, text in zip(np.flatnonzero(where).tolist(), texts, strict=True):
        out[at] = text
    return out


def allowance_annual(component: Allowance, rows: Int, ctx: Context, path: str) -> Int:
    values = ctx.resolver.values(component.amount, f"{path}.amount", rows)
    minor = ctx.to_minor(values, f"{path}.amount")
    return minor * 12 if component.per == "month" else minor
