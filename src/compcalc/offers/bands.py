"""Salary bands as of a day: the band of one employee, or the whole table, with plain errors.

Bands are validated with the rule set (``rules/checks.py``: ordered min <= mid <= max, no two
entries for a plan in force on the same day, every combination covered); this module only
looks them up. A role, dimension value or day the rule set does not define is a
:class:`~compcalc.errors.CompcalcError` in words an HR partner reads, naming what exists.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ..errors import CompcalcError
from ..rules.schema import RuleSet, SalaryBands, SalaryRange


class BandRow(BaseModel):
    """One band: the plan (role), the employee's dimension values, min/mid/max, in force when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value) in the rule set's order
    min: Decimal
    mid: Decimal
    max: Decimal
    effective_from: dt.date
    effective_to: dt.date | None
    entry: int  # index of the entry under ``bands:`` in the rule file
    default: bool = False  # served by the entry's default band


def check_offer_keys(rules: RuleSet, role: str, dimensions: Mapping[str, str]) -> None:
    """Refuse a role or dimension value the rule set does not define, naming what it has."""
    if role not in rules.plans:
        raise CompcalcError(
            f"the rules have no plan for role {role!r}. Roles they define: "
            f"{', '.join(sorted(rules.plans))}"
        )
    problems = []
    for name, allowed in rules.dimensions.items():
        value = dimensions.get(name)
        if value is None:
            problems.append(f"give the {name.replace('_', ' ')} (one of {', '.join(allowed)})")
        elif value not in allowed:
            problems.append(
                f"{name.replace('_', ' ')} {value!r} is not one the rules define; "
                f"they define {', '.join(allowed)}"
            )
    unknown = sorted(set(dimensions) - set(rules.dimensions))
    if unknown:
        problems.append(
            f"the rules do not use {', '.join(unknown)}; they use "
            f"{', '.join(rules.dimensions) or 'no dimensions'}"
        )
    if problems:
        raise CompcalcError("; ".join(problems))


def band_for(
    rules: RuleSet, role: str, dimensions: Mapping[str, str], as_of: dt.date
) -> BandRow:
    """The band of an employee of ``role`` with ``dimensions`` in force on ``as_of``.

    >>> band = band_for(rules, "key_account_manager",
    ...                 {"seniority": "senior", "company_size": "large", "region": "metro"},
    ...                 dt.date(2026, 10, 1))                               # doctest: +SKIP
    >>> band.min, band.mid, band.max                                        # doctest: +SKIP
    (Decimal('100000'), Decimal('105500'), Decimal('111000'))
    """
    check_offer_keys(rules, role, dimensions)
    if not rules.bands:
        raise CompcalcError(
            f"rule set {rules.id!r} defines no salary bands, so an offer cannot be checked "
            "against one; add a 'bands:' block (see docs/rule-language.md, Salary bands)"
        )
    for index, bands in enumerate(rules.bands):
        if _covers(bands, role, rules) and bands.in_force(as_of):
            return _row(rules, index, bands, role, dimensions)
    spans = [
        f"{b.from_} to {b.to or 'open-ended'}"
        for b in rules.bands
        if _covers(b, role, rules)
    ]
    where = f"; bands for {role} exist {', '.join(spans)}" if spans else (
        f"; no entry covers {role}"
    )
    raise CompcalcError(f"no salary band for {role} is in force on {as_of}{where}")


def band_rows(
    rules: RuleSet, role: str | None = None, as_of: dt.date | None = None
) -> list[BandRow]:
    """Every band of the rule set (of one role, in force on one day), one row per combination
    of role and declared dimension values, in the rule set's order."""
    if role is not None and role not in rules.plans:
        raise CompcalcError(
            f"the rules have no plan for role {role!r}. Roles they define: "
            f"{', '.join(sorted(rules.plans))}"
        )
    if not rules.bands:
        raise CompcalcError(f"rule set {rules.id!r} defines no salary bands")
    rows = []
    roles = [role] if role is not None else sorted(rules.plans)
    for index, bands in enumerate(rules.bands):
        if as_of is not None and not bands.in_force(as_of):
            continue
        for plan in roles:
            if not _covers(bands, plan, rules):
                continue
            for values in itertools.product(*rules.dimensions.values()):
                dimensions = dict(zip(rules.dimensions, values, strict=True))
                rows.append(_row(rules, index, bands, plan, dimensions))
    if not rows:
        spans = ", ".join(f"{b.from_} to {b.to or 'open-ended'}" for b in rules.bands)
        raise CompcalcError(
            f"no salary band{' for ' + role if role else ''} is in force on {as_of}; "
            f"the rules have bands {spans}"
        )
    return rows


def _covers(bands: SalaryBands, role: str, rules: RuleSet) -> bool:
    roles = bands.roles if bands.roles is not None else list(rules.plans)
    return role in roles


def _row(
    rules: RuleSet, index: int, bands: SalaryBands, role: str, dimensions: Mapping[str, str]
) -> BandRow:
    employee = {"role": role, **dimensions}
    keys = tuple(employee.get(name, "") for name in bands.by)
    cells = dict(bands.entries())
    found: SalaryRange | None = cells.get(keys)
    default = found is None
    found = found if found is not None else bands.default
    if found is None:  # the checks make every combination covered; kept for hand-built rules
        shown = ", ".join(f"{n}={v}" for n, v in zip(bands.by, keys, strict=True))
        have = "; ".join(", ".join(k) for k in cells)
        raise CompcalcError(f"no salary band for {shown}; the bands cover: {have}")
    return BandRow(
        role=role,
        dimensions=tuple((name, dimensions[name]) for name in rules.dimensions),
        min=found.min,
        mid=found.mid,
        max=found.max,
        effective_from=bands.from_,
        effective_to=bands.to,
        entry=index,
        default=default,
    )

