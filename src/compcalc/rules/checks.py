"""Checks across the whole rule set that one field alone cannot make.

Tables may only be keyed by declared dimensions (or role) and only by their allowed values;
``when`` conditions likewise. Each problem comes with the path of the YAML node it is about,
so the loader can point at its file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from .schema import Commission, ComponentBase, Draw, Plan, RuleSet, Table, Tiers

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
