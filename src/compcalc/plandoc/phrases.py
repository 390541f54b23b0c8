"""Phrases every component description shares: labels, tables under a sentence, the quota.

>>> or_words(["mid", "senior"])
'mid or senior'
"""

from __future__ import annotations

from typing import Any

from .model import Block, Para, code, p
from .words import Value, Words

DEFAULT_LABELS = {
    "base_salary": "Base salary",
    "commission": "Commission",
    "bonus": "Bonus",
    "draw": "Draw",
    "override": "Team override",
}


def label_of(component: Any) -> str:
    """The label statements use for the component (the engine's default when none given)."""
    if component.label:
        return str(component.label)
    if component.kind == "allowance":
        return f"{component.id} allowance"
    return DEFAULT_LABELS[component.kind]


def or_words(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def with_tables(para: Para, *values: Value) -> list[Block]:
    return [para, *(table for value in values for table in value.tables)]


def dated_note(*values: Value) -> list[Block]:
    if not any(value.dated for value in values):
        return []
    return [
        p(
            "A dated change applies to the whole plan year to date, not only to later sales: "
            "the next run values all credit of the year at the new figure and pays the "
            "difference from what was paid as a true-up."
        )
    ]


def quota_words(
    quota: Any, words: Words, label: str, basis: str
) -> tuple[list[Block], list[Value]]:
    if quota == "roster":
        return [
            p(
                "Attainment is measured against the employee's annual quota, from the roster "
                "column ",
                code("quota"),
                "; a roster row without a quota above 0 is rejected. "
                "Quotas are annual: they are not prorated for someone hired during the year.",
            )
        ], []
    value = words.param(quota, words.money, f"{label}: annual quota", "Annual quota")
    sentence = p(
        f"Annual quota, set by these rules: {value.text}. Attainment is credited {basis} to "
        "date divided by it; the roster's ",
        code("quota"),
        " column is not used for it.",
    )
    return with_tables(sentence, value), [value]
