"""Draws and overrides in words.

As ``engine/draw.py`` settles a draw (an advance when commission is below it; a recoverable
balance recovered from commission above it, at most the limit) and ``engine/override.py``
pays a manager's override (a rate on the direct reports' credit above a threshold).

>>> draw_words(component, words, siblings)                               # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..rules.schema import Commission, Draw, Override, Proration
from .model import Block, Table, code, p
from .phrases import label_of, with_tables
from .words import Words


def draw_words(component: Draw, words: Words, siblings: tuple[Any, ...]) -> list[Block]:
    label = label_of(component)
    amount = words.param(
        component.amount, words.money, f"{label}: amount per month", "Draw per month"
    )
    commissions = [c for c in siblings if isinstance(c, Commission)]
    against = [c for c in commissions if component.against is None or c.id in component.against]
    names = ", ".join(label_of(c) for c in against) or "no commission"
    blocks = with_tables(
        p(
            f"Draw per month: {amount.text}, against {names}. In a pay period whose "
            "commission on it is below the draw, the draw pays the difference as an advance. "
            "The commission counted is everything the period pays on it, true-ups, clawbacks "
            "and cap deferrals included, so it can be negative."
        ),
        amount,
    )
    if component.recoverable:
        limit_text = ""
        if component.recovery_limit is not None:
            limit = words.param(
                component.recovery_limit, words.money, f"{label}: recovery limit", "Recovery limit"
            )
            limit_text = f". Recovery limit per pay period: {limit.text}"
            blocks += limit.tables
        blocks.append(
            p(
                "The draw is recoverable: advances are a balance, recovered from later "
                f"commission above the draw{limit_text}. Every statement shows the balance. "
                "A balance still outstanding at the end of the plan year is written off, not "
                "carried into the next one, and a leaver's balance is not taken from base "
                "salary or allowances."
            )
        )
    else:
        blocks.append(p("The draw is not recoverable: advances are forgiven, never taken back."))
    days = "working days" if component.proration is Proration.WORKING_DAYS else "calendar days"
    blocks.append(
        p(
            f"In a month the employee joins or leaves, the draw is prorated by {days} "
            "employed. The draw is monthly: a pay period that holds no month's end has none."
        )
    )
    return blocks


def override_words(component: Override, words: Words) -> list[Block]:
    label = label_of(component)
    rate = words.param(component.rate, words.rate, f"{label}: rate", "Rate")
    credit = "margin" if component.basis == "margin" else "sales"
    if component.threshold is None:
        above = "There is no threshold: the override is due from the first unit of team credit."
        threshold_tables: tuple[Table, ...] = ()
    else:
        threshold = words.param(
            component.threshold, words.money, f"{label}: threshold", "Threshold"
        )
        above = f"Threshold of team credit per plan year, which earns nothing: {threshold.text}."
        threshold_tables = threshold.tables
    over = "" if component.threshold is None else ", above a threshold"
    blocks: list[Block] = [
        p(
            f"A manager earns a rate on the dispute-free {credit} credited this plan year to "
            "their direct reports (roster rows whose ",
            code("manager_id"),
            f" is the manager's employee id){over}. Rate: {rate.text}. {above}",
        ),
        *rate.tables,
        *threshold_tables,
        p(
            "Due to date = rate x (team credited to date - threshold), never below 0, paid to "
            "date like commission. The statement shows one line per team member: the due is "
            "shared in proportion to each member's credit to date."
        ),
        p(
            "The manager's own sales do not count, nor do sales of a report's own reports or "
            "sales dated outside the manager's employment. Employees of this plan with no "
            "team get nothing from it."
        ),
    ]
    return blocks
