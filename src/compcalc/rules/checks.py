"""Checks across the whole rule set that one field alone cannot make.

Tables may only be keyed by declared dimensions (or role) and only by their allowed values;
``when`` conditions likewise. Each problem comes with the path of the YAML node it is about,
so the loader can point at its file, line and column.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..money import minor_digits
from .schema import (
    Commission,
    ComponentBase,
    Draw,
    Plan,
    RuleSet,
    SalaryBands,
    SalaryRange,
    Table,
    Tiers,
)

Path = tuple[str | int, ...]


def walk(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every model, list item and mapping value below ``node`` with its YAML path (aliases)."""
    yield path, node
    if isinstance(node, BaseModel):
        for name, info in type(node).model_fields.items():
            value = getattr(node, name)
            if value is not None:
                yield from walk(value, (*path, info.alias or name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, (*path, index))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from walk(item, (*path, key))


def check_ruleset(rules: RuleSet) -> list[tuple[Path, str]]:
    """Cross-field problems of a rule set, each with the path it belongs to."""
    dimensions = rules.dimension_values()
    problems: list[tuple[Path, str]] = []
    for path, node in walk(rules):
        if isinstance(node, Table):
            problems.extend(_check_table(node, path, dimensions))
        elif isinstance(node, ComponentBase) and node.when:
            problems.extend(_check_when(node.when, (*path, "when"), dimensions))
        elif isinstance(node, Tiers):
            problems.extend(_check_bands(node, path))
        elif isinstance(node, Plan):
            problems.extend(_check_draws(node, path))
    problems.extend(check_salary_bands(rules))
    return problems


def _check_draws(plan: Plan, path: Path) -> list[tuple[Path, str]]:
    """A draw is against commission components of its own plan, each drawn against once."""
    commissions = [c.id for c in plan.components if isinstance(c, Commission)]
    others = {c.id: c.kind for c in plan.components if not isinstance(c, Commission)}
    problems: list[tuple[Path, str]] = []
    drawn: dict[str, str] = {}
    for index, component in enumerate(plan.components):
        if not isinstance(component, Draw):
            continue
        where: Path = (*path, "components", index)
        if not commissions:
            problems.append((where, f"draw {component.id!r} needs a commission in its plan"))
            continue
        targets = component.against or commissions
        for number, target in enumerate(targets):
            spot = (*where, "against", number) if component.against else where
            if target in others:
                problems.append(
                    (spot, f"{target!r} is a {others[target]}, not a commission: a draw is "
                     f"against commission only (commissions: {', '.join(commissions)})")
                )
            elif target not in commissions:
                problems.append(
                    (spot, f"no commission {target!r} in this plan "
                     f"(commissions: {', '.join(commissions)})")
                )
            elif target in drawn:
                problems.append(
                    (spot, f"commission {target!r} is already drawn against by draw "
                     f"{drawn[target]!r}; one draw per commission")
                )
            else:
                drawn[target] = component.id
    return problems


def _check_table(
    table: Table, path: Path, dimensions: dict[str, list[str]]
) -> list[tuple[Path, str]]:
    unknown = [name for name in table.by if name not in dimensions]
    if unknown:
        known = ", ".join(sorted(dimensions))
        return [
            ((*path, "by"), f"unknown dimension {', '.join(map(repr, unknown))}; declared: {known}")
        ]
    problems = []
    for keys, _value in table.entries():
        for level, (name, key) in enumerate(zip(table.by, keys, strict=False)):
            if key not in dimensions[name]:
                where = (*path, "values", *keys[: level + 1])
                allowed = ", ".join(dimensions[name])
                problems.append(
                    (where, f"{name} {key!r} is not one of the declared values: {allowed}")
                )
                break
    return sorted(set(problems), key=str)


def _check_bands(tiers: Tiers, path: Path) -> list[tuple[Path, str]]:
    """Bands written as plain numbers must start at 0 and follow each other without gaps.

    Edges given as tables or dated values are checked per employee when a period runs.
    """
    problems: list[tuple[Path, str]] = []
    bands = tiers.bands
    first = bands[0].from_
    if isinstance(first, Decimal) and first != 0:
        problems.append(
            ((*path, "bands", 0, "from"), f"the first band must start at 0, not {first}")
        )
    for index, band in enumerate(bands):
        start, end = band.from_, band.to
        if isinstance(start, Decimal) and isinstance(end, Decimal) and end <= start:
            problems.append(
                (
                    (*path, "bands", index, "to"),
                    f"band {band.id!r} must end above where it starts ({start})",
                )
            )
        following = bands[index + 1] if index + 1 < len(bands) else None
        if (
            following is not None
            and isinstance(end, Decimal)
            and isinstance(following.from_, Decimal)
            and following.from_ != end
        ):
            problems.append(
                (
                    (*path, "bands", index + 1, "from"),
                    f"band {following.id!r} must start where band {band.id!r} ends ({end}): "
                    "bands leave no gaps and do not overlap",
                )
            )
    return problems


def _check_when(
    when: dict[str, list[str]], path: Path, dimensions: dict[str, list[str]]
) -> list[tuple[Path, str]]:
    problems = []
    for name, values in when.items():
        if name not in dimensions:
            problems.append(
                (
                    (*path, name),
                    f"unknown dimension {name!r}; declared: {', '.join(sorted(dimensions))}",
                )
            )
            continue
        for index, value in enumerate(values):
            if value not in dimensions[name]:
                problems.append(
                    (
                        (*path, name, index),
                        f"{name} {value!r} is not one of the declared values: "
                        f"{', '.join(dimensions[name])}",
                    )
                )
    return problems


# --------------------------------------------------------------------------- salary bands

MISSING_SHOWN = 6  # missing band combinations listed by name; the rest are counted


def check_salary_bands(rules: RuleSet) -> list[tuple[Path, str]]:
    """Salary bands: known roles and dimension values, money in the currency's decimals, no
    two entries for one plan in force on the same day, every combination covered (or a
    default), and every plan banded on the day the rule set takes effect."""
    if not rules.bands:
        return []
    dimensions = rules.dimension_values()
    digits = minor_digits(rules.currency)
    problems: list[tuple[Path, str]] = []
    for index, bands in enumerate(rules.bands):
        path: Path = ("bands", index)
        found = _check_band_keys(bands, path, dimensions)
        found += _check_band_money(bands, path, digits)
        if not found:
            found = _check_band_coverage(bands, path, dimensions)
        problems.extend(found)
    problems.extend(_check_band_overlaps(rules))
    start = rules.effective.from_
    unbanded = [
        role
        for role in sorted(rules.plans)
        if not any(b.in_force(start) and role in _band_roles(b, rules) for b in rules.bands)
    ]
    if unbanded:
        problems.append(
            (("bands",), f"no salary band is in force on {start} (the day the rules take "
             f"effect) for plan(s) {', '.join(unbanded)}; add them to an entry's roles or values")
        )
    return problems


def _band_roles(bands: SalaryBands, rules: RuleSet) -> list[str]:
    """The plans an entry is for: its ``roles``, else every plan (narrowed by a role key)."""
    roles = bands.roles if bands.roles is not None else sorted(rules.plans)
    return [role for role in roles if role in rules.plans]


def _check_band_keys(
    bands: SalaryBands, path: Path, dimensions: dict[str, list[str]]
) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    for number, role in enumerate(bands.roles or ()):
        if role not in dimensions["role"]:
            problems.append(
                ((*path, "roles", number),
                 f"no plan {role!r}; plans: {', '.join(dimensions['role'])}")
            )
    unknown = [name for name in bands.by if name not in dimensions]
    if unknown:
        known = ", ".join(sorted(dimensions))
        return [
            ((*path, "by"), f"unknown dimension {', '.join(map(repr, unknown))}; declared: {known}")
        ]
    for keys, _band in bands.entries():
        for level, (name, key) in enumerate(zip(bands.by, keys, strict=False)):
            if key not in dimensions[name]:
                allowed = ", ".join(dimensions[name])
                problems.append(
                    ((*path, "values", *keys[: level + 1]),
                     f"{name} {key!r} is not one of the declared values: {allowed}")
                )
                break
    return sorted(set(problems), key=str)


def _check_band_money(bands: SalaryBands, path: Path, digits: int) -> list[tuple[Path, str]]:
    ranges: list[tuple[Path, SalaryRange]] = [
        ((*path, "values", *keys), band) for keys, band in bands.entries()
    ]
    if bands.default is not None:
        ranges.append(((*path, "default"), bands.default))
    problems: list[tuple[Path, str]] = []
    for where, band in ranges:
        for name in ("min", "mid", "max"):
            amount: Decimal = getattr(band, name)
            if amount.scaleb(digits) != amount.scaleb(digits).to_integral_value():
                problems.append(
                    ((*where, name), f"{amount} has more than {digits} decimal places")
                )
    return problems


def _check_band_coverage(
    bands: SalaryBands, path: Path, dimensions: dict[str, list[str]]
) -> list[tuple[Path, str]]:
    """Every combination of declared values an employee of the entry's plans can have."""
    if bands.default is not None:
        return []
    roles = bands.roles if bands.roles is not None else dimensions["role"]
    choices = [roles if name == "role" else dimensions[name] for name in bands.by]
    present = {keys for keys, _band in bands.entries()}
    missing = [keys for keys in itertools.product(*choices) if keys not in present]
    if not missing:
        return []
    shown = [", ".join(f"{n}={v}" for n, v in zip(bands.by, keys, strict=True))
             for keys in missing[:MISSING_SHOWN]]  # fmt: skip
    more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
    return [
        ((*path, "values"),
         f"no band for {'; '.join(shown)}{more}: add them, or a 'default' band")
    ]


def _check_band_overlaps(rules: RuleSet) -> list[tuple[Path, str]]:
    assert rules.bands is not None
    problems: list[tuple[Path, str]] = []
    entries = list(enumerate(rules.bands))
    for (i, first), (j, second) in itertools.combinations(entries, 2):
        shared = sorted(set(_band_roles(first, rules)) & set(_band_roles(second, rules)))
        if not shared:
            continue
        if _dates_overlap(first, second):
            until = f"to {first.to}" if first.to is not None else "open-ended"
            problems.append(
                (("bands", j, "from"),
                 f"overlaps bands[{i}] (from {first.from_} {until}) for plan(s) "
                 f"{', '.join(shared)}: only one entry may be in force on a day; end the "
                 "earlier one with 'to' or give them different 'roles'")
            )
    return problems


def _dates_overlap(first: SalaryBands, second: SalaryBands) -> bool:
    ends_first = first.to is None or first.to >= second.from_
    ends_second = second.to is None or second.to >= first.from_
    return ends_first and ends_second
