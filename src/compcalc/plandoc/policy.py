"""The rule set's company-wide policy in plain words: who is covered, dates, attributes,
how variable pay is paid, disputes and refunds, the clawback window, rounding, salary bands.

What these sections say is what the engine does (``engine/crediting.py``, ``commission.py``
and ``docs/design.md``); the figures (dates, window days, band amounts) come from the rule set.

>>> sections = policy_sections(rules, words, roles=["key_account_manager"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

from ..periods import plan_year_end
from ..rules.schema import RuleSet, SalaryBands
from .components import label_of
from .model import Block, Section, Table, bullets, code, p, strong
from .words import Words, title_of

ROUNDING_WORDS = {
    "half_up": "half up: a half unit goes away from zero",
    "half_even": "half to even: a half unit goes to the even neighbour (banker's rounding)",
    "down": "down: toward zero, the remainder is dropped",
}


def policy_sections(rules: RuleSet, words: Words, roles: Sequence[str]) -> list[Section]:
    """The sections before the plans, for the plans ``roles``."""
    sections = [
        _covered(rules, roles),
        _dates(rules, words),
    ]
    if rules.dimensions:
        sections.append(_attributes(rules))
    sections += [_to_date(), _disputes(rules), _rounding(rules, words)]
    bands = _bands(rules, words, roles)
    if bands is not None:
        sections.append(bands)
    return sections


def _covered(rules: RuleSet, roles: Sequence[str]) -> Section:
    rows = tuple(
        (
            role,
            title_of(role),
            ", ".join(label_of(c) for c in rules.plans[role].components),
        )
        for role in roles
    )
    return Section(
        "Who this covers",
        "who",
        (
            p(
                "Each plan pays the employees whose roster column ",
                code("role"),
                " equals its role. A roster row whose role has no plan is rejected, with the "
                "reason.",
            ),
            Table("Plans", ("Role", "Plan", "Pays"), rows),
        ),
    )


def _dates(rules: RuleSet, words: Words) -> Section:
    effective = rules.effective
    until = f"to {words.date(effective.to)}" if effective.to else "with no end date"
    start_month = rules.plan_year.start_month
    first = effective.from_.replace(month=start_month, day=1)
    last = plan_year_end(first, start_month)
    return Section(
        "Dates",
        "dates",
        (
            p(f"These rules apply from {words.date(effective.from_)} {until}."),
            p(
                f"The plan year runs from {words.day_of_year(first)} to "
                f"{words.day_of_year(last)}. Everything counted to date (credit, quotas, "
                "commission, bonuses, overrides, draws, installments) restarts with each plan "
                "year, and a pay period may not span two plan years."
            ),
            p(
                "A number that changes by date is taken as in force on the last day of the pay "
                "period being paid."
            ),
        ),
    )


def _attributes(rules: RuleSet) -> Section:
    rows = tuple((name, ", ".join(values)) for name, values in rules.dimensions.items())
    return Section(
        "Employee attributes",
        "attributes",
        (
            p(
                "Tables in this document are looked up by these roster columns. Every roster "
                "row must use one of the values listed; a row that does not is rejected."
            ),
            Table("Attributes", ("Roster column", "Values"), rows),
        ),
    )


def _to_date() -> Section:
    return Section(
        "How variable pay is paid",
        "to-date",
        (
            p(
                "Commission, bonuses paid to date and overrides are worked out again every pay "
                "period for the whole plan year up to the period's end, from the full ledger, "
                "and the period pays the difference from what was paid before. Paying month by "
                "month therefore adds up exactly to paying the year at once."
            ),
            p(
                "A closed period is never rewritten: a late refund, a dispute, a resolved "
                "dispute, a corrected ledger row or a rule changed for a past month is paid in "
                "the next open period as an adjustment line that names the original period."
            ),
        ),
    )


def _disputes(rules: RuleSet) -> Section:
    blocks: list[Block] = [
        p("Only dispute-free sales earn. At the end of each pay period every sale is one of:"),
        bullets(
            p(
                strong("credited"),
                ": sold, no dispute open and not fully refunded; it counts at "
                "its amount less refunds.",
            ),
            p(
                strong("held"),
                ": a dispute is open at the period's end. It earns nothing and is "
                "listed on the statement; if it had been paid, a held-back line takes that "
                "commission back until the dispute is resolved.",
            ),
            p(
                strong("released"),
                ": the dispute was resolved for the company in the period. "
                "The sale earns again and its commission is paid in that period.",
            ),
            p(
                strong("forfeited"),
                ": refunded in full. A partial refund only reduces the "
                "sale. If the sale had been paid, a clawback line takes the commission back, "
                "naming the sale.",
            ),
            p(
                strong("excluded"),
                ": dated before the plan year, before the employee's hire "
                "date or after their termination date. It never earns; the statement says why.",
            ),
        ),
    ]
    clawback = rules.clawback
    if clawback is None:
        blocks.append(
            p(
                strong("Clawback"),
                ": there is no clawback window. A refund or a dispute at any time in the plan "
                "year takes back what the sale was paid.",
            )
        )
    else:
        days = clawback.window_days
        blocks.append(
            p(
                strong("Clawback window"),
                f": {days} days. A refund or a dispute dated more than {days} days after its "
                "sale takes nothing back from a sale that has been paid: the sale keeps its "
                "commission and its credit towards quotas, tiers, bonuses and overrides, and "
                "the statement says so. A sale counts as paid when it was credited at the end "
                "of the month before the refund. A late refund of a sale not yet paid still "
                "reduces it, and a late dispute never holds a sale. Within the window, refunds "
                "and disputes take back what was paid, as above.",
            )
        )
    return Section("Sales, disputes and refunds", "disputes", tuple(blocks))


def _rounding(rules: RuleSet, words: Words) -> Section:
    digits = words.digits
    unit = f"{digits} decimal places" if digits != 1 else "1 decimal place"
    if digits == 0:
        unit = "whole units"
    return Section(
        "Rounding",
        "rounding",
        (
            p(
                f"Amounts are in {rules.currency} and stay exact until a figure is rounded, "
                f"once, to the currency's unit ({unit}), {ROUNDING_WORDS[rules.rounding.value]}."
            ),
            p(
                "The rounded figures are each installment and prorated installment, each "
                "employee's commission and override due to date, and each bonus target (when a "
                "share of base) and payout. Statement lines are differences of rounded figures, "
                "so they add up exactly to the totals. Amounts written in the rule file are "
                "never rounded."
            ),
        ),
    )


def _bands(rules: RuleSet, words: Words, roles: Sequence[str]) -> Section | None:
    if not rules.bands:
        return None
    blocks: list[Block] = [
        p(
            "Salary bands are the pay policy's range of annual base: a minimum, a midpoint and "
            "a maximum. They are used to check offers; the engine never pays from a band."
        )
    ]
    for bands in rules.bands:
        covered = bands.roles if bands.roles is not None else list(rules.plans)
        mine = [role for role in roles if role in covered]
        if not mine:
            continue
        blocks.append(_band_table(bands, words, mine, all(r in mine for r in rules.plans)))
    if len(blocks) == 1:
        return None
    return Section("Salary bands", "bands", tuple(blocks))


def _band_table(bands: SalaryBands, words: Words, roles: list[str], every: bool) -> Table:
    until = f"to {words.date(bands.to)}" if bands.to else "with no end date"
    who = "every plan" if every else ", ".join(roles)
    caption = f"Salary bands from {words.date(bands.from_)} {until}, for {who}"
    header = (
        *(words.dimension(name).capitalize() for name in bands.by),
        "Minimum",
        "Midpoint",
        "Maximum",
    )
    rows = []
    for keys, band in bands.entries():
        named = dict(zip(bands.by, keys, strict=True))
        if "role" in named and named["role"] not in roles:
            continue
        rows.append((*keys, words.money(band.min), words.money(band.mid), words.money(band.max)))
    note = ""
    if bands.default is not None:
        d = bands.default
        note = (
            f"Any other combination: minimum {words.money(d.min)}, midpoint "
            f"{words.money(d.mid)}, maximum {words.money(d.max)}."
        )
    return Table(caption, header, tuple(rows), note)
