"""Base salary and allowances in words: annual amount, installments, proration.

As ``engine/periodic.py`` pays them: installment k of N pays round(annual x k / N) -
round(annual x (k - 1) / N); a joining or leaving installment is prorated by calendar or
working days, rounded once.

>>> base_salary_words(component, words)                                  # doctest: +SKIP
"""

from __future__ import annotations

from ..rules.schema import Allowance, BaseSalary, PayFrequency, Periodic, Proration
from .model import Block, code, p
from .phrases import label_of, with_tables
from .words import Words


def base_salary_words(component: BaseSalary, words: Words) -> list[Block]:
    if component.annual == "roster":
        first = p(
            "The annual base is each employee's own, from the roster column ",
            code("annual_base"),
            ".",
        )
        blocks: list[Block] = [first]
    else:
        value = words.param(
            component.annual, words.money, f"{label_of(component)}: annual base", "Annual base"
        )
        blocks = with_tables(
            p(
                f"Annual base, set by these rules: {value.text}. The roster's ",
                code("annual_base"),
                " column is not used for it.",
            ),
            value,
        )
    return blocks + _installments(component, words, "the annual base")


def allowance_words(component: Allowance, words: Words) -> list[Block]:
    per = "per month" if component.per == "month" else "a year"
    value = words.param(
        component.amount, words.money, f"{label_of(component)}: amount {per}", f"Amount {per}"
    )
    annual = (
        " The annual amount is 12 times the monthly amount."
        if component.per == "month"
        else " This is the annual amount."
    )
    sentence = p(f"Amount {per}: {value.text}.{annual}")
    return with_tables(sentence, value) + _installments(component, words, "the annual amount")


def _installments(component: Periodic, words: Words, what: str) -> list[Block]:
    frequency = component.pay_frequency
    if frequency is PayFrequency.MONTHLY:
        how = f"{what.capitalize()} is paid in 12 monthly installments, one per calendar month."
        count = "N = 12"
    elif frequency is PayFrequency.SEMI_MONTHLY:
        how = (
            f"{what.capitalize()} is paid in 24 semi-monthly installments: the 1st to the 15th "
            "and the 16th to the end of each month."
        )
        count = "N = 24"
    else:
        assert component.biweekly_anchor is not None
        how = (
            f"{what.capitalize()} is paid every two weeks, in 14-day pay periods counted from "
            f"{words.date(component.biweekly_anchor)}. A plan year has 26 or 27 of them (those "
            "whose last day falls in it), and the annual amount is divided by the actual count."
        )
        count = "N is that count"
    if component.proration is Proration.WORKING_DAYS:
        days = "working days (Monday to Friday; public holidays are not taken into account)"
    else:
        days = "calendar days"
    return [
        p(how),
        p(
            f"Installment k of the N in the plan year ({count}) pays round(annual x k / N) - "
            "round(annual x (k - 1) / N), so a whole year adds up to exactly the annual "
            "amount. A pay run pays every installment whose last day falls inside its period."
        ),
        p(
            "In an installment in which the employee joins or leaves, the pay is prorated by "
            f"{days}: installment x days employed / days in the installment, rounded once. "
            "The hire date and the termination date both count as days employed."
        ),
    ]
