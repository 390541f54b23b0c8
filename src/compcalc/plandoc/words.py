"""Numbers of the rule file in a reader's words: money, percentages, dates and tables.

Money is formatted with babel in the rule set's locale and currency, exactly as written (an
amount is never rounded for display). Rates and attainments are exact percentages of their
Decimal values (``0.0275`` is ``2.75%``, ``2,75 %`` in de_DE), and the figures the engine
writes in a statement line's formula are shown in the same locale (``60,750.00`` is
``60.750,00`` in de_DE), so no figure reads one way in a table and another in an example.
A :data:`~compcalc.rules.schema.Param` becomes a :class:`Value`: inline words for a
constant, or a grid for a dimension table (rows by the first dimension, columns by the
second, one sub-table per value of any further dimension), or one entry per effective date.

>>> import compcalc
>>> rules = compcalc.load_rules("rules/account_managers.yaml")          # doctest: +SKIP
>>> Words(rules).money(Decimal("9000"))                                  # doctest: +SKIP
'$9,000.00'
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from ..errors import CompcalcError
from ..money import format_rate, minor_digits
from ..rules.schema import Dated, RuleSet
from ..rules.schema import Table as ParamTable
from ..statements import localise
from .model import Table

Format = Callable[[Decimal], str]
MISSING = "—"


@dataclass(frozen=True)
class Value:
    """A Param in words: ``text`` for a sentence, ``tables`` to show under it."""

    text: str
    tables: tuple[Table, ...] = ()
    constant: bool = True  # one number for everyone, at every date
    dated: bool = False


class Words:
    """Formatting in the rule set's locale and currency (babel), never through a float."""

    def __init__(self, rules: RuleSet) -> None:
        try:
            Locale.parse(rules.locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise CompcalcError(
                [
                    rules.locate(
                        "locale",
                        f"locale {rules.locale!r} is not one babel knows, so "
                        "amounts and dates cannot be written in it; use e.g. en_US",
                    )
                ]
            ) from None
        self.rules = rules
        self.locale = rules.locale
        self.currency = rules.currency
        self.digits = minor_digits(rules.currency)
        self.dimensions = rules.dimension_values()

    # ----------------------------------------------------------------- single figures

    def money(self, amount: Decimal) -> str:
        """``$9,000.00``: the currency's digits, or more if the amount has them."""
        return localise.money(Decimal(amount), self.currency, self.locale)

    def rate(self, value: Decimal) -> str:
        """An exact percentage: ``0.045`` -> ``4.5%`` (``4,5 %`` in de_DE)."""
        return self.figures(format_rate(Decimal(value)))

    def figures(self, text: str) -> str:
        """Engine text (a formula, a to-date figure, a reason) with its figures in the
        rule set's locale; ids, dates and periods stay as written. Unchanged in en_US."""
        return localise.localise_formula(text, self.locale)

    def date(self, day: dt.date) -> str:
        """``October 1, 2026`` in the rule set's locale."""
        return str(format_date(day, format="long", locale=self.locale))

    def day_of_year(self, day: dt.date) -> str:
        """``October 1``: a day and month without the year."""
        return str(format_skeleton("MMMMd", day, locale=self.locale))

    # ----------------------------------------------------------------- parameters

    def param(self, param: Any, fmt: Format, caption: str, heading: str) -> Value:
        """A Param as words, with the grid(s) a table or dated tables need.

        ``caption`` titles its tables, ``heading`` names the value in a one-dimension table.
        """
        if isinstance(param, Dated):
            return self._dated(param, fmt, caption, heading)
        if isinstance(param, ParamTable):
            return Value(
                f"set by {self.by(param.by)} (table below)",
                tuple(self.grid(param, fmt, caption, heading)),
                constant=False,
            )
        return Value(fmt(Decimal(param)))

    def _dated(self, param: Dated, fmt: Format, caption: str, heading: str) -> Value:
        parts: list[str] = []
        tables: list[Table] = []
        entries = param.dated
        for index, entry in enumerate(entries):
            until = ""
            if index + 1 < len(entries):
                last = entries[index + 1].from_ - dt.timedelta(days=1)
                until = f" to {self.date(last)}"
            when = f"from {self.date(entry.from_)}{until}"
            if isinstance(entry.value, ParamTable):
                parts.append(f"{when}: set by {self.by(entry.value.by)} (table below)")
                tables.extend(self.grid(entry.value, fmt, f"{caption}, {when}", heading))
            else:
                parts.append(f"{fmt(entry.value)} {when}")
        first = entries[0].from_
        text = "; ".join(parts)
        bys = {tuple(e.value.by) for e in entries if isinstance(e.value, ParamTable)}
        if len(bys) == 1 and all(isinstance(e.value, ParamTable) for e in entries):
            dates = [self.date(e.from_) for e in entries]
            shown = dates[0] if len(dates) == 1 else ", ".join(dates[:-1]) + " and " + dates[-1]
            text = f"set by {self.by(next(iter(bys)))}, in force from {shown} (tables below)"
        text += (
            f" (no value before {self.date(first)})" if first > self.rules.effective.from_ else ""
        )
        return Value(text, tuple(tables), constant=False, dated=True)

    def by(self, names: Sequence[str]) -> str:
        """``seniority and company size``."""
        words = [self.dimension(name) for name in names]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    @staticmethod
    def dimension(name: str) -> str:
        return name.replace("_", " ")

    def grid(self, table: ParamTable, fmt: Format, caption: str, heading: str) -> list[Table]:
        """The table as one grid (two dimensions), a list (one), or one grid per value of the
        dimensions after the second."""
        cells = dict(table.entries())
        values = [self.dimensions.get(name, []) for name in table.by]
        missing = [False]

        def cell(key: tuple[str, ...]) -> str:
            if key in cells:
                return fmt(cells[key])
            missing[0] = True
            return fmt(table.default) if table.default is not None else MISSING

        grids: list[Table] = []
        if len(table.by) == 1:
            single = tuple((value, cell((value,))) for value in values[0])
            grids.append(
                Table(caption, (self.dimension(table.by[0]).capitalize(), heading), single)
            )
        else:
            corner = f"{self.dimension(table.by[0]).capitalize()} / {self.dimension(table.by[1])}"
            header = (corner, *values[1])
            for extra in itertools.product(*values[2:]):
                rows = tuple(
                    (row, *(cell((row, column, *extra)) for column in values[1]))
                    for row in values[0]
                )
                shown = ", ".join(
                    f"{self.dimension(name)} {value}"
                    for name, value in zip(table.by[2:], extra, strict=True)
                )
                grids.append(Table(f"{caption} ({shown})" if shown else caption, header, rows))
        if missing[0]:
            note = (
                f"Combinations the rule file leaves out take its default, {fmt(table.default)}."
                if table.default is not None
                else f"{MISSING}: the table has no value; a pay run stops if an employee needs one."
            )
            grids = [Table(g.caption, g.header, g.rows, note) for g in grids]
        return grids


def title_of(slug: str) -> str:
    """``key_account_manager`` -> ``Key account manager``."""
    words = slug.replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:]
