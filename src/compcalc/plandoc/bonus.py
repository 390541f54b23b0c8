"""Bonuses in words: target, attainment, fixed/step/linear, floor and cap, when paid.

As ``engine/bonus.py`` pays them: attainment is the dispute-free credited amount to date over
the annual quota; a ``to_date`` bonus pays due to date less paid every period, a ``year_end``
one only in the period holding the plan year's last day.

>>> bonus_words(component, words)                                        # doctest: +SKIP
"""

from __future__ import annotations

from ..periods import plan_year_end
from ..rules.schema import Bonus
from .model import Block, Para, Table, p
from .phrases import dated_note, label_of, quota_words, with_tables
from .words import Value, Words


def bonus_words(component: Bonus, words: Words) -> list[Block]:
    label = label_of(component)
    blocks: list[Block] = []
    values: list[Value] = []
    target = component.target
    if target.amount is not None:
        value = words.param(target.amount, words.money, f"{label}: annual target", "Target")
        blocks += with_tables(p(f"Annual target: {value.text}."), value)
    else:
        value = words.param(
            target.percent_of_base, words.rate, f"{label}: target, share of base", "Target"
        )
        blocks += with_tables(
            p(
                "Annual target, as a share of the employee's annual base (rounded once to the "
                f"currency's unit): {value.text}."
            ),
            value,
        )
    values.append(value)
    blocks.append(
        p("The target is annual and is not prorated for someone hired or leaving during the year.")
    )
    quota_blocks, quota = quota_words(component.quota, words, label, "amount")
    blocks.append(
        p(
            "Attainment is the dispute-free credited sale amount from the start of the plan "
            "year to date, divided by the annual quota (never margin)."
        )
    )
    blocks += quota_blocks
    values += quota
    floor = (
        None
        if component.floor is None
        else words.param(component.floor, words.rate, f"{label}: floor", "Floor")
    )
    method_blocks, method_values = _bonus_method(component, words, floor)
    blocks += method_blocks
    values += method_values + ([floor] if floor is not None else [])
    blocks.append(_bonus_pay(component, words))
    return blocks + dated_note(*values)


def _bonus_method(
    component: Bonus, words: Words, floor: Value | None
) -> tuple[list[Block], list[Value]]:
    label = label_of(component)
    tables = list(floor.tables) if floor is not None else []
    if component.method == "fixed":
        text = (
            f"Fixed bonus. Floor (a share of quota): {floor.text}. The whole target is paid "
            "once attainment reaches the floor (at or above counts)."
            if floor is not None
            else "Fixed bonus: the whole target is paid, whatever the attainment."
        )
        return [p(text), *tables], []
    if component.method == "linear":
        cap = (
            None
            if component.cap is None
            else words.param(component.cap, words.rate, f"{label}: attainment cap", "Cap")
        )
        text = "Linear bonus: due to date = target x attainment"
        text += f", with attainment counted at most up to a cap. Cap: {cap.text}." if cap else "."
        if floor is not None:
            text += (
                f" Floor: {floor.text}. Nothing is paid while attainment is below the floor; at "
                "or above it the whole attainment counts (the floor is a threshold, not a "
                "deduction)."
            )
        return [p(text), *tables, *(cap.tables if cap else ())], [cap] if cap else []
    rows, values, extra = [], [], []
    for step in component.steps or []:
        at = words.param(step.at, words.rate, f"{label}: step {step.id}, at", "At")
        payout = words.param(
            step.payout, words.rate, f"{label}: step {step.id}, payout", "Share of target"
        )
        rows.append((step.id, at.text, payout.text))
        values += [at, payout]
        extra += [*at.tables, *payout.tables]
    text = (
        "Step bonus: once attainment reaches a step (at or above counts), the share of the "
        "target of the step reached with the largest payout is paid; steps do not add up. "
        "Below the first step nothing is paid."
    )
    if floor is not None:
        text += f" Floor: {floor.text}. Below the floor nothing is paid, even if a step is reached."
    table = Table(
        f"{label}: steps", ("Step", "Attainment at or above", "Share of target"), tuple(rows)
    )
    return [p(text), table, *extra, *tables], values


def _bonus_pay(component: Bonus, words: Words) -> Para:
    if component.pay == "to_date":
        return p(
            "Paid to date: every pay period pays the bonus due to date less what was paid "
            "before. If refunds or disputes take attainment back, the due falls and the "
            "difference is recovered as a negative line."
        )
    rules = words.rules
    last = plan_year_end(rules.effective.from_, rules.plan_year.start_month)
    return p(
        "Paid at the plan year's end: only the pay period holding the last day of the plan "
        f"year ({words.day_of_year(last)}) pays it; until then each statement shows the bonus "
        "due to date without paying it."
    )
